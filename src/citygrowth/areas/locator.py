"""Point → grid cell lookup, indexed with a shapely STRtree and cached per process.

``get_locator(session)`` returns a :class:`GridLocator` over the stored grid cells. The
locator is cached per database and rebuilt when the grid changes: each call compares a cheap
signature of the grid rows (their count and newest ``updated_at``) with the cached one, so a
change made by another process is picked up too. ``invalidate_locators()`` drops the cache.

A point on the edge shared by two cells belongs to the one with the smaller code; a point on
the outer boundary belongs to the cell it touches; a point outside every cell gives ``None``.
Coordinates are lon/lat in the datum of the stored boundaries (GCJ-02 for the demo district).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from citygrowth.areas.geo import parse_geometry
from citygrowth.areas.models import Area


@dataclass
class GridLocator:
    """An STRtree over grid cells; ``locate(lon, lat)`` answers the cell's code or None."""

    codes: list[str]
    geometries: list[BaseGeometry]
    signature: tuple[Any, ...] = ()
    _tree: shapely.STRtree = field(init=False, repr=False)

    def __post_init__(self) -> None:
        order: list[int] = sorted(range(len(self.codes)), key=self.codes.__getitem__)
        self.codes = [self.codes[i] for i in order]
        self.geometries = [self.geometries[i] for i in order]
        for g in self.geometries:
            shapely.prepare(g)
        self._tree = shapely.STRtree(self.geometries)

    @classmethod
    def from_areas(cls, areas: Sequence[Area], signature: tuple[Any, ...] = ()) -> GridLocator:
        pairs = [(a.code, parse_geometry(a.geometry)) for a in areas if a.geometry]
        return cls([c for c, _ in pairs], [g for _, g in pairs], signature)

    def __len__(self) -> int:
        return len(self.codes)

    def locate(self, lon: float, lat: float) -> str | None:
        """The code of the grid cell holding (lon, lat), or None when outside every cell."""
        hits = self._tree.query(shapely.Point(lon, lat), predicate="intersects")
        if len(hits) == 0:
            return None
        return self.codes[int(min(hits))]

    def locate_many(self, lons: Sequence[float], lats: Sequence[float]) -> list[str | None]:
        """Vectorised :meth:`locate` for many points at once."""
        points = shapely.points(np.asarray(lons, dtype=float), np.asarray(lats, dtype=float))
        out: list[str | None] = [None] * len(points)
        point_idx, geom_idx = self._tree.query(points, predicate="intersects")
        for p, g in zip(point_idx.tolist(), geom_idx.tolist(), strict=True):
            if out[p] is None or self.codes[g] < str(out[p]):
                out[p] = self.codes[g]
        return out


_cache: dict[str, GridLocator] = {}
_lock = threading.Lock()


_SIGNATURE = select(func.count(Area.code), func.max(Area.updated_at)).where(
    Area.level == "grid")


def grid_signature(session: Session) -> tuple[Any, ...]:
    """(count, newest updated_at) of the grid cells: changes whenever the grid does. (A Core
    statement on the session's connection: this runs before every intake batch.)"""
    row = session.connection().execute(_SIGNATURE).one()
    return (int(row[0]), str(row[1]))


def _cache_key(session: Session) -> str:
    bind = session.get_bind()
    return str(bind.engine.url)


def get_locator(session: Session) -> GridLocator:
    """The process-wide locator for this database, rebuilt when the grid has changed."""
    key = _cache_key(session)
    signature = grid_signature(session)
    cached = _cache.get(key)
    if cached is not None and cached.signature == signature:
        return cached
    rows = session.scalars(select(Area).where(Area.level == "grid")).all()
    locator = GridLocator.from_areas(rows, signature)
    with _lock:
        _cache[key] = locator
    return locator


def invalidate_locators() -> None:
    """Forget every cached locator (the next lookup rebuilds from the store)."""
    with _lock:
        _cache.clear()
