"""SDMX REST 2.1 requests: flow references, keys, periods, detail and content negotiation."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from citygrowth.errors import CityGrowthError
from citygrowth.exchange.sdmx.data import DETAILS, DIMENSIONS
from citygrowth.exchange.sdmx.errors import SdmxError, no_results, syntax_error
from citygrowth.exchange.sdmx.model import ID_PATTERN, SERIES_DIMENSIONS, StructureSet
from citygrowth.i18n import N_
from citygrowth.periods import Period

GENERIC = "application/vnd.sdmx.genericdata+xml;version=2.1"
STRUCTURE_SPECIFIC = "application/vnd.sdmx.structurespecificdata+xml;version=2.1"
SDMX_CSV = "application/vnd.sdmx.data+csv;version=2.0.0"
STRUCTURE = "application/vnd.sdmx.structure+xml;version=2.1"

DATA_FORMATS = {
    "genericdata": GENERIC, "generic": GENERIC,
    "structurespecificdata": STRUCTURE_SPECIFIC, "structurespecific": STRUCTURE_SPECIFIC,
    "csv": SDMX_CSV, "sdmx-csv": SDMX_CSV, "csvfile": SDMX_CSV,
}
STRUCTURE_FORMATS = {"structure": STRUCTURE, "sdmx-ml": STRUCTURE, "xml": STRUCTURE}
_DATA_ACCEPT = {
    "application/vnd.sdmx.genericdata+xml": GENERIC,
    "application/vnd.sdmx.structurespecificdata+xml": STRUCTURE_SPECIFIC,
    "application/vnd.sdmx.data+csv": SDMX_CSV,
    "text/csv": SDMX_CSV,
}
_ANY_XML = ("application/xml", "text/xml", "*/*", "application/*", "text/*")
REFERENCES = ("none", "parents", "parentsandsiblings", "children", "descendants", "all")
STRUCTURE_DETAILS = ("full", "allstubs")


def _media_ranges(accept: str) -> list[str]:
    """Media types of an Accept header, best first (by q, then order)."""
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(accept.split(",")):
        bits = [b.strip() for b in part.split(";")]
        if not bits[0]:
            continue
        qv = 1.0
        for b in bits[1:]:
            if b.startswith("q="):
                try:
                    qv = float(b[2:])
                except ValueError:
                    qv = 0.0
        if qv > 0:
            ranked.append((-qv, i, bits[0].lower()))
    return [m for _q, _i, m in sorted(ranked)]


def negotiate(accept: str | None, fmt: str | None, data: bool) -> str:
    """The media type to answer with; ``format=`` wins over ``Accept``."""
    table = DATA_FORMATS if data else STRUCTURE_FORMATS
    if fmt:
        found = table.get(fmt.strip().lower())
        if found is None:
            raise SdmxError(406, N_("The format '{format}' is not available here."), format=fmt)
        return found
    ranges = _media_ranges(accept or "*/*") or ["*/*"]
    for media in ranges:
        if data and media in _DATA_ACCEPT:
            return _DATA_ACCEPT[media]
        if not data and media == "application/vnd.sdmx.structure+xml":
            return STRUCTURE
        if media in _ANY_XML:
            return GENERIC if data else STRUCTURE
    raise SdmxError(406, N_("None of the requested media types can be produced: {accept}."),
                    accept=accept or "")


@dataclass(frozen=True)
class DataQuery:
    key: dict[str, set[str] | None]
    start: Period | None = None
    end: Period | None = None
    dim_at_obs: str = "TIME_PERIOD"
    detail: str = "full"
    first_n: int | None = None
    last_n: int | None = None


def parse_flow(ss: StructureSet, flow: str) -> str:
    """The dataflow id of ``flow`` (``CGI``, ``AGENCY,CGI`` or ``AGENCY,CGI,VERSION``)."""
    parts = [p.strip() for p in flow.split(",")]
    if len(parts) > 3 or not all(ID_PATTERN.match(p) or p in ("latest", "all") or
                                 re.match(r"^\d+(\.\d+)*$", p) for p in parts):
        raise syntax_error(N_("'{flow}' is not a dataflow reference."), flow=flow)
    agency = parts[0] if len(parts) > 1 else "all"
    fid = parts[1] if len(parts) > 1 else parts[0]
    version = parts[2] if len(parts) > 2 else "latest"
    if (agency not in ("all", ss.agency) or version not in ("latest", "all", ss.version)
            or ss.dataflow(fid) is None):
        raise no_results(N_("There is no dataflow '{flow}'."), flow=flow)
    return fid


def parse_key(key: str | None) -> dict[str, set[str] | None]:
    """``M.GDP+RETAIL.370203`` → values per series dimension; empty or ``all`` is a wildcard."""
    if key is None or key.strip() in ("", "all", "ALL"):
        return {d: None for d in SERIES_DIMENSIONS}
    parts = key.split(".")
    if len(parts) != len(SERIES_DIMENSIONS):
        raise syntax_error(
            N_("The key '{key}' has {n} parts; it needs {m} (FREQ.INDICATOR.AREA)."),
            key=key, n=len(parts), m=len(SERIES_DIMENSIONS))
    out: dict[str, set[str] | None] = {}
    for dim, part in zip(SERIES_DIMENSIONS, parts, strict=True):
        if part in ("", "*"):
            out[dim] = None
            continue
        values = set(part.split("+"))
        bad = sorted(v for v in values if not ID_PATTERN.match(v))
        if bad:
            raise syntax_error(N_("'{value}' is not a valid code for {dimension}."),
                               value=bad[0], dimension=dim)
        out[dim] = values
    return out


def parse_period(text: str | None, name: str) -> Period | None:
    if text is None or text == "":
        return None
    try:
        return Period.parse(text)
    except CityGrowthError:
        raise syntax_error(N_("{param} '{value}' is not a period."), param=name,
                           value=text) from None


def _positive(text: str | None, name: str) -> int | None:
    if text is None or text == "":
        return None
    if not text.isdigit() or int(text) < 1:
        raise syntax_error(N_("{param} must be a positive whole number."), param=name)
    return int(text)


def parse_data_query(key: str | None, start: str | None, end: str | None,
                     dim_at_obs: str | None, detail: str | None, first_n: str | None = None,
                     last_n: str | None = None) -> DataQuery:
    dao = dim_at_obs or "TIME_PERIOD"
    if dao not in (*DIMENSIONS, "AllDimensions"):
        raise syntax_error(N_("dimensionAtObservation '{value}' is not a dimension."), value=dao)
    det = (detail or "full").lower()
    if det not in DETAILS:
        raise syntax_error(N_("detail '{value}' is not one of {allowed}."), value=detail,
                           allowed=", ".join(DETAILS))
    if det == "serieskeysonly" and dao == "AllDimensions":
        dao = "TIME_PERIOD"
    q = DataQuery(parse_key(key), parse_period(start, "startPeriod"),
                  parse_period(end, "endPeriod"), dao, det,
                  _positive(first_n, "firstNObservations"), _positive(last_n, "lastNObservations"))
    if q.start and q.end and q.start.start > q.end.end:
        raise SdmxError(150, N_("startPeriod is after endPeriod."))
    return q


def filter_rows(rows: pd.DataFrame, q: DataQuery) -> pd.DataFrame:
    """Apply the key, the periods and the N limits (as the store does: a period is in range
    when its first day lies between startPeriod's first day and endPeriod's last day)."""
    mask = pd.Series(True, index=rows.index)
    for dim, values in q.key.items():
        if values is not None:
            mask &= rows[dim].isin(values)
    if q.start or q.end:
        starts = {p: Period.parse(p).start for p in rows["TIME_PERIOD"].unique()}
        first = rows["TIME_PERIOD"].map(starts)
        if q.start:
            mask &= first >= q.start.start
        if q.end:
            mask &= first <= q.end.end
    out = rows[mask]
    keys = list(SERIES_DIMENSIONS)
    if q.first_n:
        out = out.groupby(keys, sort=False).head(q.first_n)
    if q.last_n:
        out = out.groupby(keys, sort=False).tail(q.last_n)
    return out.reset_index(drop=True)


def check_provider(ss: StructureSet, provider: str | None) -> None:
    if provider and provider not in ("all", "ALL", ss.agency):
        raise no_results(N_("There is no data provider '{provider}'."), provider=provider)
