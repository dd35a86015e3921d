"""The anomaly checks as they were before vectorising (a frozen copy of the per-row and
per-group code of ``citygrowth.analysis.anomaly``), so tests can prove the fast checks give
exactly the same warnings. Not used by the application."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from citygrowth.analysis.anomaly import (
    HINT_MONEY,
    HINT_PERCENT,
    JUMP_MIN_SCALE,
    JUMP_Z,
    KINDS,
    M_ABOVE,
    M_BELOW,
    M_JUMP,
    M_SEASON,
    M_SLIP,
    MIN_DIFFS,
    SEASON_RATIO,
    SEASON_STRENGTH,
    SLIP_TOLERANCE,
    AnomalyWarning,
    fmt,
)
from citygrowth.analysis.meta import IndicatorInfo, area_infos, catalog_infos
from citygrowth.analysis.series import robust_scale, season_length
from citygrowth.periods import Period


def _params(info: IndicatorInfo, area: str, period: str, value: float) -> dict[str, Any]:
    return {"indicator": info.code, "area": area, "period": period, "value": fmt(value)}


def _normalise(frame: pd.DataFrame) -> pd.DataFrame:
    if frame is None or len(frame) == 0:
        return pd.DataFrame({"indicator": [], "area_code": [], "period": [], "value": []})
    out = frame[["indicator", "area_code", "period", "value"]].copy()
    out["indicator"] = out["indicator"].astype(str)
    out["area_code"] = out["area_code"].astype(str)
    out["period"] = out["period"].map(lambda p: str(Period.parse(str(p))))
    out["value"] = pd.to_numeric(out["value"], errors="coerce").astype("float64")
    return out.dropna(subset=["value"])


def check_impossible(frame: pd.DataFrame, infos: Mapping[str, IndicatorInfo],
                     history: pd.DataFrame) -> list[AnomalyWarning]:
    out: list[AnomalyWarning] = []
    hist_groups = {k: g["value"].to_numpy() for k, g in history.groupby("indicator")}
    for row in frame.itertuples(index=False):
        info = infos.get(row.indicator) or IndicatorInfo(code=row.indicator)
        upper = info.upper
        if upper is None and info.percent:
            past = hist_groups.get(row.indicator, np.array([]))
            if past.size >= 3 and np.nanmax(past) <= 100 and np.nanmin(past) >= 0:
                upper = 100.0
        p = _params(info, row.area_code, row.period, row.value)
        if info.lower is not None and row.value < info.lower:
            out.append(AnomalyWarning("impossible", row.indicator, row.area_code, row.period,
                                      row.value, M_BELOW, {**p, "lower": fmt(info.lower)},
                                      "high"))
        elif upper is not None and row.value > upper:
            out.append(AnomalyWarning("impossible", row.indicator, row.area_code, row.period,
                                      row.value, M_ABOVE, {**p, "upper": fmt(upper)}, "high"))
    return out


def _slip_factor(ratio: float, percent: bool) -> float | None:
    if not (ratio > 0 and np.isfinite(ratio)):
        return None
    lg = np.log10(ratio)
    factors = (4.0, -4.0, 2.0, -2.0) if percent else (4.0, -4.0)
    for f in factors:
        if abs(lg - f) < SLIP_TOLERANCE:
            return f
    return None


def check_unit_slips(frame: pd.DataFrame, history: pd.DataFrame,
                     infos: Mapping[str, IndicatorInfo]) -> list[AnomalyWarning]:
    out: list[AnomalyWarning] = []
    own = history.sort_values("period").groupby(["indicator", "area_code"])["value"]
    refs = own.apply(lambda v: float(np.median(v.to_numpy()[-6:]))).to_dict()
    parents = frame["area_code"].str[:-3]
    peer = frame.assign(parent=parents).groupby(["indicator", "period", "parent"])["value"]
    peer_med = peer.transform("median").to_numpy()
    peer_n = peer.transform("size").to_numpy()
    for i, row in enumerate(frame.itertuples(index=False)):
        info = infos.get(row.indicator) or IndicatorInfo(code=row.indicator)
        ref = refs.get((row.indicator, row.area_code))
        if ref is None and peer_n[i] >= 4:
            ref = float(peer_med[i])
        if ref is None or ref <= 0 or row.value <= 0:
            continue
        f = _slip_factor(row.value / ref, info.percent)
        if f is None:
            continue
        factor = f"{10 ** f:,.0f}" if f > 0 else f"1/{10 ** -f:,.0f}"
        hint = HINT_PERCENT if abs(f) == 2 else HINT_MONEY
        params = {**_params(info, row.area_code, row.period, row.value), "factor": factor,
                  "reference": fmt(ref), "hint": hint}
        out.append(AnomalyWarning("unit_slip", row.indicator, row.area_code, row.period,
                                  row.value, M_SLIP, params, "high", expected=ref))
    return out


def _diffs(values: np.ndarray, lag: int, use_log: bool) -> np.ndarray:
    v: np.ndarray = np.log(values) if use_log else values
    out: np.ndarray = v[lag:] - v[:-lag]
    return out


def _noise_floor(values: np.ndarray, use_log: bool) -> float:
    """The smallest scale of changes: 1 % in logs; for small whole-number counts the
    Poisson noise of a difference of two counts, √(2/level) in logs (√(2·level) otherwise)."""
    level = float(np.median(np.abs(values))) if values.size else 0.0
    counts = values.size > 0 and bool(np.all(np.equal(np.mod(values, 1), 0)))
    if use_log:
        return max(JUMP_MIN_SCALE, float(np.sqrt(2 / max(level, 1.0))) if counts else 0.0)
    return max(1e-9, float(np.sqrt(2 * max(level, 1.0))) if counts else 0.0)


def _jumps_for_series(hist: pd.Series, new: pd.Series, freq: str, skip: set[str],
                      info: IndicatorInfo, area: str) -> list[AnomalyWarning]:
    m = season_length(freq)
    lag = m if m > 1 and hist.size >= 2 * m + MIN_DIFFS // 2 else 1
    combined = pd.concat([hist, new]).groupby(level=0).last().sort_index()
    values = combined.to_numpy(dtype="float64")
    use_log = bool(np.all(values > 0))
    hd = _diffs(hist.to_numpy(dtype="float64"), lag, use_log) if hist.size > lag else np.array([])
    if hd.size < MIN_DIFFS:
        return []
    med, sd = robust_scale(hd)
    sd = max(sd, _noise_floor(hist.to_numpy(dtype="float64"), use_log))
    out: list[AnomalyWarning] = []
    labels = list(combined.index)
    last_flag: tuple[int, float] | None = None
    for i in range(lag, len(labels)):
        label = labels[i]
        if label not in new.index or label in skip:
            continue
        d = _diffs(values[i - lag:i + 1:lag], 1, use_log)[0] if lag > 0 else 0.0
        z = (d - med) / sd
        if abs(z) <= JUMP_Z:
            continue
        if last_flag is not None and last_flag[0] == i - 1 and np.sign(z) != np.sign(last_flag[1]):
            continue  # the return from a spike already reported
        last_flag = (i, z)
        change = f"{np.expm1(d):+.1%}" if use_log else fmt(float(d))
        params = {**_params(info, area, label, values[i]), "change": change,
                  "previous": labels[i - lag], "z": f"{z:.1f}"}
        out.append(AnomalyWarning("jump", info.code, area, label, float(values[i]), M_JUMP,
                                  params, expected=float(values[i - lag])))
    return out


def _position(label: str) -> int:
    p = Period.parse(label)
    if p.freq == "M":
        return p.start.month - 1
    if p.freq == "Q":
        return (p.start.month - 1) // 3
    if p.freq == "W":
        return p.start.isocalendar().week - 1
    return 0


def _seasonality_for_series(hist: pd.Series, new: pd.Series, freq: str, info: IndicatorInfo,
                            area: str) -> list[AnomalyWarning]:
    """Broken seasonality: the history is strongly seasonal, yet the new points fit a flat
    level much better than last year's pattern (medians of absolute log residuals, so one
    spike does not decide)."""
    m = season_length(freq)
    if m <= 1 or hist.size < 2 * m + 1 or new.size < max(4, m // 2):
        return []
    hv = hist.to_numpy(dtype="float64")
    nv = new.to_numpy(dtype="float64")
    if not np.all(hv > 0) or not np.all(nv > 0):
        return []
    hd = np.diff(np.log(hv))
    pos = np.array([_position(p) for p in hist.index[1:]])
    profile = pd.Series(hd).groupby(pos).mean()
    if profile.size < m or np.var(hd) == 0:
        return []
    if float(np.var(profile.reindex(pos).to_numpy()) / np.var(hd)) < SEASON_STRENGTH:
        return []
    lookup = dict(zip(hist.index, np.log(hv), strict=True))
    last_year = [lookup.get(str(Period.parse(p).shift(-m))) for p in new.index]
    if any(v is None for v in last_year):
        return []
    yoy = np.log(nv) - np.array(last_year, dtype="float64")
    seasonal_resid = float(np.median(np.abs(yoy - np.median(yoy))))
    flat_resid = float(np.median(np.abs(np.log(nv) - np.median(np.log(nv)))))
    if seasonal_resid <= SEASON_RATIO * max(flat_resid, _noise_floor(hv, True) / 2):
        return []
    params = {"indicator": info.code, "area": area, "start": str(new.index[0]),
              "end": str(new.index[-1]), "ratio": f"{seasonal_resid / max(flat_resid, 1e-9):.1f}"}
    return [AnomalyWarning("seasonality", info.code, area, str(new.index[-1]),
                           float(new.iloc[-1]), M_SEASON, params)]


def _series_checks(frame: pd.DataFrame, history: pd.DataFrame,
                   infos: Mapping[str, IndicatorInfo],
                   skip: set[tuple[str, str, str]]) -> list[AnomalyWarning]:
    out: list[AnomalyWarning] = []
    hist_groups = {k: g for k, g in history.groupby(["indicator", "area_code"])}
    for (ind, area), g in frame.groupby(["indicator", "area_code"]):
        info = infos.get(str(ind)) or IndicatorInfo(code=str(ind))
        h = hist_groups.get((ind, area))
        if h is None:
            continue
        for freq in sorted({Period.parse(p).freq for p in g["period"]}):
            hs = _series(h, freq)
            ns = _series(g, freq)
            hs = hs[hs.index < ns.index[0]]
            skipped = {p for (i2, a2, p) in skip if i2 == ind and a2 == area}
            season = _seasonality_for_series(hs, ns, freq, info, str(area))
            out += season or _jumps_for_series(hs, ns, freq, skipped, info, str(area))
    return out


def _series(g: pd.DataFrame, freq: str) -> pd.Series:
    sel = g[g["period"].map(lambda p: Period.parse(p).freq == freq)]
    s = pd.Series(sel["value"].to_numpy(dtype="float64"), index=sel["period"].to_numpy())
    return s.groupby(level=0).last().sort_index()


def check_batch(frame: pd.DataFrame, history: pd.DataFrame | None, catalog: Any = None,
                areas: Iterable[Any] | None = None) -> list[AnomalyWarning]:
    from citygrowth.analysis.spatial import check_spatial

    new = _normalise(frame)
    hist = _normalise(history if history is not None else pd.DataFrame())
    if new.empty:
        return []
    infos = catalog_infos(catalog)
    out = check_impossible(new, infos, hist)
    out += check_unit_slips(new, hist, infos)
    flagged = {(w.indicator, w.area_code, w.period) for w in out}
    out += _series_checks(new, hist, infos, flagged)
    flagged |= {(w.indicator, w.area_code, w.period) for w in out}
    out += check_spatial(new, hist, infos, area_infos(areas), flagged)
    order = {k: i for i, k in enumerate(KINDS)}
    return sorted(out, key=lambda w: (w.indicator, w.area_code, w.period, order[w.kind]))


def history_for(settings: Any, frame: pd.DataFrame, as_of: Any) -> pd.DataFrame:
    """``analysis.service._history_for`` as it was: the batch's own series, then every area
    of the batch's levels (for siblings), concatenated and de-duplicated."""
    from citygrowth.areas.models import level_of
    from citygrowth.observatory.store import ObservationStore

    inds = sorted(set(frame["indicator"].astype(str)))
    areas = sorted(set(frame["area_code"].astype(str)))
    parents = sorted({a[:-3] for a in areas if len(a) > 6})
    store = ObservationStore(settings)
    hist = store.query(indicators=inds, area_codes=areas, as_of=as_of)
    levels = sorted({lv for a in areas if (lv := level_of(a))})
    sib = [store.query(indicators=inds, level=lv, as_of=as_of) for lv in levels] \
        if parents else []
    out = pd.concat([hist, *sib], ignore_index=True) if sib else hist
    out = out.assign(period=out["period"].astype(str))
    return out.drop_duplicates(["indicator", "area_code", "period"], keep="last")
