"""Areas: district > street > community > grid cell.

Codes nest by prefix: 6-digit GB/T 2260 district code, then 3 digits street, 3 community and
3 grid (``370203`` → ``370203001`` → ``370203001002`` → ``370203001002003``). Geometry is a
GeoJSON text in lon/lat.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from citygrowth.db import Base, UTCDateTime, utcnow

LEVELS: tuple[str, ...] = ("district", "street", "community", "grid")
CODE_LENGTH: dict[str, int] = {"district": 6, "street": 9, "community": 12, "grid": 15}
LEVEL_OF_LENGTH: dict[int, str] = {v: k for k, v in CODE_LENGTH.items()}


def level_of(code: str) -> str | None:
    """The level an area code denotes by its length, or None when malformed."""
    if not code.isdigit():
        return None
    return LEVEL_OF_LENGTH.get(len(code))


def parent_code(code: str) -> str | None:
    """The code of the enclosing area (None for a district)."""
    return code[:-3] if len(code) > 6 else None


class Area(Base):
    __tablename__ = "areas"

    code: Mapped[str] = mapped_column(String(15), primary_key=True)
    level: Mapped[str] = mapped_column(String(12), index=True)
    parent_code: Mapped[str | None] = mapped_column(
        String(15), ForeignKey("areas.code", ondelete="RESTRICT"), index=True
    )
    name_zh: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(160), default="")
    geometry: Mapped[str | None] = mapped_column(Text)  # GeoJSON geometry object, lon/lat
    population: Mapped[int | None] = mapped_column(Integer)
    area_km2: Mapped[float | None] = mapped_column(Float)
    centroid_lon: Mapped[float | None] = mapped_column(Float)
    centroid_lat: Mapped[float | None] = mapped_column(Float)
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(300), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def area_code(self) -> str:
        """Areas are scoped by their own code (see ``auth.permissions.require``)."""
        return self.code
