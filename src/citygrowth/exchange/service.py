"""The exchange's actions: reading observations for export, under ``exchange.read``.

Catalog metadata (SDMX structures, CKAN packages, DCAT) is public. Observation values need
``exchange.read`` (every signed-in role and machine clients hold it), limited to the areas of
the actor's grants.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
from sqlalchemy.orm import Session

from citygrowth.auth.actor import Actor
from citygrowth.auth.permissions import require, scope_prefixes
from citygrowth.errors import NotFound
from citygrowth.exchange.frictionless import build_package, zip_package
from citygrowth.exchange.sources import publication
from citygrowth.observatory.store import ObservationStore
from citygrowth.periods import Period
from citygrowth.runtime import Runtime
from citygrowth.settings import Settings

READ = "exchange.read"
STORE_COLUMNS = ("indicator", "area_code", "period", "freq", "value", "unit", "load_id",
                 "vintage")


def read_observations(
    session: Session, runtime: Runtime, actor: Actor, *,
    indicators: Iterable[str] | None = None, area_codes: Iterable[str] | None = None,
    start: Period | None = None, end: Period | None = None,
) -> pd.DataFrame:
    """Current observations (latest vintage) the actor may read, as the store returns them."""
    require(actor, READ, None)

    frame = ObservationStore(runtime.settings).query(
        indicators=sorted(indicators) if indicators is not None else None,
        area_codes=sorted(area_codes) if area_codes is not None else None,
        start=start, end=end,
    )
    return within_scope(frame, scope_prefixes(actor, READ))


def within_scope(frame: pd.DataFrame, prefixes: list[str] | None) -> pd.DataFrame:
    """Rows whose area lies within one of ``prefixes`` (None: every row)."""
    if prefixes is None or frame.empty:
        return frame
    if not prefixes:
        return frame.iloc[0:0]
    codes = frame["area_code"].astype(str)
    mask = codes.str.startswith(tuple(prefixes))
    return frame[mask].reset_index(drop=True)


def last_loaded(settings: Settings) -> dict[str, str]:
    """Per indicator, when its newest data arrived (ISO, UTC): catalog metadata, public."""
    summary = ObservationStore(settings).summary()
    out: dict[str, str] = {}
    for rec in summary.to_dict("records"):
        vintage = pd.Timestamp(rec["last_vintage"])
        if not pd.isna(vintage):
            out[str(rec["indicator"])] = vintage.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%S")
    return out


def export_datapackage(session: Session, runtime: Runtime, actor: Actor,
                       indicators: Iterable[str] | None = None) -> bytes:
    """The zipped Frictionless Data Package of the observations the actor may read."""
    require(actor, READ, None)

    pub = publication(session, runtime)
    wanted = set(indicators) if indicators else None
    unknown = sorted((wanted or set()) - {i.code for i in pub.indicators})
    if unknown:
        raise NotFound("No indicator '{code}' in this framework.", code=unknown[0])
    frame = read_observations(session, runtime, actor, indicators=wanted)
    descriptor, files = build_package(pub, frame, wanted)
    return zip_package(descriptor, files)
