"""Pull observations from a remote SDMX 2.1 REST service and load them (all or nothing).

``pull_sdmx`` asks ``{url}/data/{flow}/{key}`` for generic data (structure-specific data and
SDMX-CSV are understood too), maps the remote codes to our indicators and areas with a
mapping file (``docs/exchange.md``), converts units given as UNIT_MEASURE + UNIT_MULT, and
hands the table to ``ingest.service.load_observations``, which validates every row and
stores one batch — or nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import yaml
from sqlalchemy.orm import Session

from citygrowth.auth.actor import Actor
from citygrowth.auth.permissions import require
from citygrowth.errors import Problem, ValidationFailed
from citygrowth.exchange.sdmx.errors import SdmxError, parse_error
from citygrowth.exchange.sdmx.query import GENERIC, SDMX_CSV, STRUCTURE_SPECIFIC, parse_key
from citygrowth.exchange.sdmx.readers import Record, read_records
from citygrowth.exchange.sdmx.units import unit_code
from citygrowth.i18n import N_
from citygrowth.ingest.service import load_observations
from citygrowth.ingest.validate import LoadRejected
from citygrowth.runtime import Runtime

ACCEPT = f"{GENERIC}, {STRUCTURE_SPECIFIC};q=0.9, {SDMX_CSV};q=0.8"
TIMEOUT_SECONDS = 60.0
_BASE_TEXT = {
    "CNY": "元", "USD": "美元", "PCT": "%", "PERMILLE": "‰", "NUMBER": "个",
    "HOUSEHOLD": "户", "PERSON": "人", "PERSON_TIMES": "人次", "M2": "平方米", "KM2": "km²",
    "HA": "公顷", "KM": "公里", "M": "米", "DAY": "天", "HOUR": "小时", "MINUTE": "分钟",
    "POINT": "分", "UG_M3": "μg/m³", "WORKING_DAY": "工作日", "RATIO": "ratio",
    "PER_1000_PERSONS": "个/千人", "PER_10000_PERSONS": "人/万人", "CNY_PER_PERSON": "元/人",
    "M2_PER_PERSON": "平方米/人",
}
_PREFIX = {0: "", 1: "十", 2: "百", 3: "千", 4: "万", 5: "十万", 6: "百万", 7: "千万", 8: "亿"}


@dataclass(frozen=True)
class Mapping:
    """How the remote dataflow's codes become ours (see ``docs/exchange.md``)."""

    indicator_dim: str = "INDICATOR"
    area_dim: str = "AREA"
    time_dim: str = "TIME_PERIOD"
    indicators: dict[str, str] = field(default_factory=dict)
    areas: dict[str, str] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    fixed: dict[str, str] = field(default_factory=dict)
    dataset: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Mapping:
        dims = data.get("dimensions") or {}
        allowed = {"dimensions", "indicators", "areas", "units", "fixed", "dataset"}
        unknown = sorted(set(data) - allowed)
        if unknown or not isinstance(dims, dict):
            raise ValidationFailed("The mapping file has an unknown section '{section}'.",
                                   code="bad_mapping", section=(unknown or ["dimensions"])[0])

        def strs(name: str) -> dict[str, str]:
            value = data.get(name) or {}
            if not isinstance(value, dict):
                raise ValidationFailed("The mapping file's '{section}' must map codes to codes.",
                                       code="bad_mapping", section=name)
            return {str(k): str(v) for k, v in value.items()}

        return cls(
            indicator_dim=str(dims.get("indicator", "INDICATOR")),
            area_dim=str(dims.get("area", "AREA")), time_dim=str(dims.get("time", "TIME_PERIOD")),
            indicators=strs("indicators"), areas=strs("areas"), units=strs("units"),
            fixed=strs("fixed"), dataset=str(data["dataset"]) if data.get("dataset") else None,
        )

    @classmethod
    def read(cls, path: Path | None) -> Mapping:
        if path is None:
            return cls()
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ValidationFailed("Cannot read the mapping file {file}: {detail}",
                                   code="bad_mapping", file=str(path), detail=str(exc)) from None
        if not isinstance(data, dict):
            raise ValidationFailed("The mapping file {file} must be a YAML mapping.",
                                   code="bad_mapping", file=str(path))
        return cls.from_dict(data)


@dataclass(frozen=True)
class PullRequest:
    url: str
    flow: str
    key: str = "all"
    start: str | None = None
    end: str | None = None
    mapping: Mapping = field(default_factory=Mapping)
    api_key: str | None = None

    def data_url(self) -> str:
        return f"{self.url.rstrip('/')}/data/{self.flow}/{self.key or 'all'}"

    def params(self) -> dict[str, str]:
        out = {}
        if self.start:
            out["startPeriod"] = self.start
        if self.end:
            out["endPeriod"] = self.end
        return out


def fetch(req: PullRequest, client: httpx.Client | None = None) -> tuple[bytes, str]:
    """The remote answer's bytes and content type; errors name the service's own reason."""
    headers = {"Accept": ACCEPT}
    if req.api_key:
        headers["X-API-Key"] = req.api_key
    own = client is None
    http = client or httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=True)
    try:
        resp = http.get(req.data_url(), params=req.params(), headers=headers)
    except httpx.HTTPError as exc:
        raise ValidationFailed("Cannot reach the SDMX service at {url}: {detail}",
                               code="sdmx_unreachable", url=req.data_url(),
                               detail=str(exc)) from None
    finally:
        if own:
            http.close()
    if resp.status_code != 200:
        parsed = parse_error(resp.content)
        detail = f"{parsed[0]} {parsed[1]}" if parsed else resp.text[:200]
        raise ValidationFailed("The SDMX service answered {http_status}: {detail}",
                               code="sdmx_remote_error", http_status=resp.status_code,
                               detail=detail.strip())
    return resp.content, resp.headers.get("content-type", "")


def remote_unit(rec: Record, mapping: Mapping) -> str | None:
    """Our unit text for the record's UNIT_MEASURE/UNIT_MULT, or None when it has none."""
    code = rec.get("UNIT_MEASURE", "")
    if not code:
        return None
    mult_text = rec.get("UNIT_MULT", "") or "0"
    mult = int(mult_text) if mult_text.lstrip("-").isdigit() else -1
    if code in mapping.units:
        base = mapping.units[code]
    else:
        base = _BASE_TEXT.get(code, "")
    if not base or mult not in _PREFIX:
        return f"{code}×10^{mult_text}"
    return _PREFIX[mult] + base if mult else base


def unit_for(rec: Record, mapping: Mapping, own_unit: str | None) -> str | None:
    """The record's unit as our unit text; our indicator's own unit when the codes agree or
    the remote gives none."""
    code = rec.get("UNIT_MEASURE", "")
    mult = rec.get("UNIT_MULT") or "0"
    if own_unit is not None and (not code or unit_code(own_unit) == (
            code, int(mult) if mult.isdigit() else -1)):
        return own_unit
    return remote_unit(rec, mapping)


def to_frame(records: list[Record], mapping: Mapping, source: str,
             own_units: dict[str, str] | None = None) -> pd.DataFrame:
    """Our long table (indicator, area_code, period, value, unit); precise problems otherwise."""
    problems: list[Problem] = []
    rows: list[dict[str, Any]] = []
    for n, rec in enumerate(records, start=1):
        rec = {**{k.upper(): v for k, v in mapping.fixed.items()}, **rec}
        for dim, label in ((mapping.indicator_dim, "indicator"), (mapping.area_dim, "area"),
                           (mapping.time_dim, "time")):
            if not rec.get(dim) and not mapping.fixed.get(label):
                problems.append(Problem(
                    N_("The remote observation has no value for dimension {dimension}."),
                    {"dimension": dim}, file=source, row=n, field=dim))
        value = rec.get("OBS_VALUE", "")
        if value in ("", "NaN"):
            continue  # SDMX's missing value: nothing to load
        remote_ind = rec.get(mapping.indicator_dim) or mapping.fixed.get("indicator", "")
        indicator = mapping.indicators.get(remote_ind, remote_ind)
        unit = unit_for(rec, mapping, (own_units or {}).get(indicator))
        remote_area = rec.get(mapping.area_dim) or mapping.fixed.get("area", "")
        rows.append({
            "indicator": indicator, "area_code": mapping.areas.get(remote_area, remote_area),
            "period": rec.get(mapping.time_dim) or mapping.fixed.get("time", ""),
            "value": value, "unit": unit, "_n": n,
        })
    if problems:
        raise ValidationFailed(N_("{file}: {n} problems found; nothing was loaded."),
                               problems=problems[:200], code="load_rejected", file=source,
                               n=len(problems))
    return pd.DataFrame(rows, columns=["indicator", "area_code", "period", "value", "unit", "_n"])


def pull_sdmx(session: Session, runtime: Runtime, actor: Actor, req: PullRequest, *,
              client: httpx.Client | None = None) -> Any:
    """Fetch, map and load; returns the ingest ``LoadResult``. Needs ``data.load``."""
    require(actor, "data.load", None)
    try:
        parse_key(req.key)  # a malformed key is our user's mistake: say so before asking
    except SdmxError as exc:
        raise ValidationFailed(exc.message, code="sdmx_bad_key", **exc.params) from None
    content, ctype = fetch(req, client)
    source = req.data_url()
    own_units = {i.code: i.unit for i in runtime.frameworks.load().indicators}
    frame = to_frame(read_records(content, ctype), req.mapping, source, own_units)
    if frame.empty:
        raise ValidationFailed("The SDMX service returned no observations for {url}.",
                               code="sdmx_no_data", url=source)
    positions = [int(n) for n in frame.pop("_n")]
    if frame["unit"].isna().all():
        frame = frame.drop(columns=["unit"])
    try:
        return load_observations(session, runtime, actor, frame, dataset=req.mapping.dataset,
                                 source=f"sdmx:{source}", file_name=source)
    except LoadRejected as exc:
        # rows are counted in the remote message, missing values included
        exc.problems = [
            replace(p, row=positions[p.row - 1]) if p.row and 0 < p.row <= len(positions)
            else p for p in exc.problems
        ]
        raise
