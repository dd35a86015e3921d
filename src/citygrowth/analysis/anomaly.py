"""Anomaly checks on incoming data, run when a load arrives.

``check_batch(frame, history, catalog, areas)`` looks at a batch of new observations (long
format: ``indicator, area_code, period, value``) against the history already in the store and
returns :class:`AnomalyWarning` s, each with a reason (an English msgid and its parameters,
rendered in zh_CN or en). The loader accepts or sends back each one; nothing is changed here.

Checks (thresholds in module constants, explained in docs/analysis.md):

* **impossible** — below the indicator's lower bound (negative counts, money, persons) or above
  its upper bound (a bounded percentage over 100);
* **unit slip** — about ×10,000 or ×1/10,000 its usual level (元 for 万元), or ×100 / ×1/100 for
  percentages (% for a fraction); the usual level is the area's own recent median, else the
  median of its siblings in the batch;
* **jump** — a change far beyond the series' history: robust z (median/MAD) of the log-change
  (seasonal log-change for seasonal series) above ``JUMP_Z``;
* **seasonality** — a batch spanning part of a year whose period-to-period pattern no longer
  follows the strong seasonal pattern of the history;
* **spatial** — an area whose change is out of line with its neighbours' (shared boundary) or,
  without geometry, its siblings' under the same parent (see :mod:`.spatial`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from citygrowth.analysis.meta import AreaInfo, IndicatorInfo, area_infos, catalog_infos, neighbours
from citygrowth.analysis.series import season_length
from citygrowth.i18n import N_, translate
from citygrowth.periods import Period

JUMP_Z = 5.0
JUMP_MIN_SCALE = 0.01  # log-change scale floor: 1 %
MIN_DIFFS = 8
SLIP_TOLERANCE = 0.35  # in log10 units around the slip factor
SEASON_STRENGTH = 0.5
SEASON_RATIO = 3.0

KINDS = ("impossible", "unit_slip", "jump", "seasonality", "spatial")
KIND_NAMES = {
    "impossible": N_("Impossible value"),
    "unit_slip": N_("Probable unit slip"),
    "jump": N_("Jump beyond history"),
    "seasonality": N_("Broken seasonality"),
    "spatial": N_("Out of line with neighbours"),
}

M_BELOW = N_("{indicator} in {area} for {period} is {value}, below its lowest possible value "
             "{lower}.")
M_ABOVE = N_("{indicator} in {area} for {period} is {value}, above its highest possible value "
             "{upper}.")
M_SLIP = N_("{indicator} in {area} for {period} is {value}, about {factor} times its usual "
            "level of {reference}: probably entered in the wrong unit ({hint}).")
HINT_MONEY = N_("yuan and 10,000 yuan differ by 10,000")
HINT_PERCENT = N_("a percentage and a fraction differ by 100")
M_JUMP = N_("{indicator} in {area} changed by {change} from {previous} to {period}, far beyond "
            "its usual changes (robust z = {z}).")
M_SEASON = N_("{indicator} in {area} from {start} to {end} does not follow its usual seasonal "
              "pattern (it fits a flat level {ratio} times as closely as last year's pattern).")


@dataclass(frozen=True)
class AnomalyWarning:
    """One suspicious observation and why. ``message`` is an English msgid; ``params`` fill it."""

    kind: str
    indicator: str
    area_code: str
    period: str
    value: float
    message: str
    params: dict[str, Any] = field(default_factory=dict)
    severity: str = "warning"  # "warning" or "high"
    expected: float | None = None

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.indicator}:{self.area_code}:{self.period}"

    def render(self, locale: str | None = None) -> str:
        params = dict(self.params)
        hint = params.get("hint")
        if hint:
            params["hint"] = translate(hint, locale)
        return translate(self.message, locale).format(**params)

    def to_dict(self, locale: str | None = None) -> dict[str, Any]:
        out = asdict(self)
        out["key"] = self.key
        out["kind_name"] = translate(KIND_NAMES[self.kind], locale)
        out["text"] = self.render(locale)
        return out


def fmt(x: float) -> str:
    """A number as people read it: thousands separators, at most 4 significant decimals."""
    if not np.isfinite(x):
        return "–"
    if abs(x) >= 1000 or float(x).is_integer():
        return f"{x:,.0f}" if abs(x) >= 100 or float(x).is_integer() else f"{x:,.2f}"
    return f"{x:,.4g}"


def _params(info: IndicatorInfo, area: str, period: str, value: float) -> dict[str, Any]:
    return {"indicator": info.code, "area": area, "period": period, "value": fmt(value)}


# --- preparation: codes instead of strings, each distinct period parsed once -----------------

_FREQS = ("A", "Q", "M", "W", "D")


@dataclass
class _Labels:
    """The distinct canonical period labels of a batch and its history."""

    text: list[str]
    freq: np.ndarray  # index into _FREQS
    step: np.ndarray  # consecutive integers within a frequency
    position: np.ndarray  # position in the season (month, quarter, ISO week − 1; else 0)
    rank: np.ndarray  # rank of the label as text (the order the checks sort periods in)
    lookup: dict[tuple[int, int], int]  # (freq, step) → label id

    def shifted(self, ids: np.ndarray, by: np.ndarray | int) -> np.ndarray:
        """Label id of each label shifted by ``by`` periods (−1 when not a known label)."""
        out = np.full(ids.shape, -1, dtype=np.int64)
        steps = self.step[ids] + by
        for i, (f, st) in enumerate(zip(self.freq[ids].tolist(), steps.tolist(), strict=True)):
            out[i] = self.lookup.get((f, st), -1)
        return out


def _label_info(p: Period) -> tuple[int, int, int]:
    d = p.start
    if p.freq == "A":
        return 0, d.year, 0
    if p.freq == "Q":
        return 1, (d.year * 12 + d.month - 1) // 3, (d.month - 1) // 3
    if p.freq == "M":
        return 2, d.year * 12 + d.month - 1, d.month - 1
    if p.freq == "W":
        return 3, (d.toordinal() - 1) // 7, d.isocalendar().week - 1
    return 4, d.toordinal(), 0


@dataclass
class _Obs:
    """Observations as arrays: indicator and area codes, label ids, values, original row."""

    ind: np.ndarray
    area: np.ndarray
    label: np.ndarray
    value: np.ndarray
    row: np.ndarray

    def __len__(self) -> int:
        return int(self.value.size)

    def take(self, idx: np.ndarray) -> _Obs:
        return _Obs(self.ind[idx], self.area[idx], self.label[idx], self.value[idx],
                    self.row[idx])


@dataclass
class _Prepared:
    new: _Obs
    hist: _Obs
    labels: _Labels
    inds: list[str]
    areas: list[str]

    def pair(self, obs: _Obs) -> np.ndarray:
        out: np.ndarray = obs.ind.astype(np.int64) * len(self.areas) + obs.area
        return out

    def key(self, obs: _Obs) -> np.ndarray:
        """One integer per (indicator, area, period)."""
        out: np.ndarray = self.pair(obs) * len(self.labels.text) + obs.label
        return out


def _raw(frame: pd.DataFrame | None) -> tuple[pd.Series, pd.Series, pd.Series, np.ndarray]:
    if frame is None or len(frame) == 0:
        empty = pd.Series([], dtype=object)
        return empty, empty, empty, np.array([], dtype="float64")
    value = pd.to_numeric(frame["value"], errors="coerce").astype("float64").to_numpy()
    return (_text(frame["indicator"]), _text(frame["area_code"]), frame["period"], value)


def _text(s: pd.Series) -> pd.Series:
    """Codes as Python strings without a conversion per cell where they are categories
    (the store's bulk reads) or strings already."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        cats = np.array([str(c) for c in s.cat.categories] + [""], dtype=object)
        return pd.Series(cats[s.cat.codes.to_numpy()], index=s.index, dtype=object)
    if s.dtype == object and pd.api.types.infer_dtype(s, skipna=False) == "string":
        return s
    return s.astype(str)


def _prepare(frame: pd.DataFrame | None, history: pd.DataFrame | None) -> _Prepared:
    """Factorise both frames with shared codes; parse each distinct period once (the checks
    see canonical labels, as if every row had gone through ``Period.parse``)."""
    parts = [_raw(frame), _raw(history)]
    texts: list[str] = []
    text_id: dict[str, int] = {}
    label_codes = []
    for _i, _a, period, _v in parts:
        codes, uniques = pd.factorize(period, use_na_sentinel=False)
        ids = np.empty(len(uniques), dtype=np.int64)
        for j, u in enumerate(uniques):
            t = str(Period.parse(str(u)))
            ids[j] = text_id.setdefault(t, len(text_id))
            if ids[j] == len(texts):
                texts.append(t)
        label_codes.append(ids[codes] if len(codes) else np.array([], dtype=np.int64))
    info = [_label_info(Period.parse(t)) for t in texts]
    freq = np.array([i[0] for i in info], dtype=np.int64)
    step = np.array([i[1] for i in info], dtype=np.int64)
    position = np.array([i[2] for i in info], dtype=np.int64)
    rank = np.empty(len(texts), dtype=np.int64)
    rank[np.argsort(np.array(texts, dtype=object), kind="stable")] = np.arange(len(texts))
    labels = _Labels(texts, freq, step, position, rank,
                     {(int(f), int(s)): i for i, (f, s) in enumerate(zip(freq, step,
                                                                         strict=True))})
    n_new = len(parts[0][3])
    ind_codes, inds = pd.factorize(pd.concat([parts[0][0], parts[1][0]], ignore_index=True))
    area_codes, areas = pd.factorize(pd.concat([parts[0][1], parts[1][1]], ignore_index=True))
    obs = []
    for k, (_i, _a, _p, value) in enumerate(parts):
        sl = slice(0, n_new) if k == 0 else slice(n_new, None)
        o = _Obs(ind_codes[sl].astype(np.int64), area_codes[sl].astype(np.int64),
                 label_codes[k], value, np.arange(len(value)))
        obs.append(o.take(np.flatnonzero(~np.isnan(value))))
    return _Prepared(obs[0], obs[1], labels, [str(x) for x in inds], [str(x) for x in areas])


def _normalise(frame: pd.DataFrame | None) -> pd.DataFrame:
    """A long frame with canonical periods and float values, rows without a value dropped."""
    prep = _prepare(frame, None)
    o = prep.new
    return pd.DataFrame({
        "indicator": np.array(prep.inds, dtype=object)[o.ind] if len(o) else [],
        "area_code": np.array(prep.areas, dtype=object)[o.area] if len(o) else [],
        "period": np.array(prep.labels.text, dtype=object)[o.label] if len(o) else [],
        "value": o.value,
    })


def _info(infos: Mapping[str, IndicatorInfo], code: str) -> IndicatorInfo:
    return infos.get(code) or IndicatorInfo(code=code)


def _group_starts(sorted_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and size of each run of equal keys in a sorted array."""
    if sorted_keys.size == 0:
        return np.array([], dtype=np.int64), np.array([], dtype=np.int64)
    change = np.flatnonzero(sorted_keys[1:] != sorted_keys[:-1]) + 1
    starts = np.concatenate([[0], change]).astype(np.int64)
    sizes = np.diff(np.concatenate([starts, [sorted_keys.size]])).astype(np.int64)
    return starts, sizes


def _group_median(values: np.ndarray, groups: np.ndarray, n: int) -> np.ndarray:
    """Median of ``values`` per group id 0…n−1 (NaN for empty groups; NaNs skipped), equal
    to ``np.median`` of each group."""
    out = np.full(n, np.nan)
    if values.size:
        med = pd.Series(values).groupby(groups).median()
        out[med.index.to_numpy()] = med.to_numpy()
    return out


# --- impossible values ------------------------------------------------------------------------

def _impossible(prep: _Prepared, infos: Mapping[str, IndicatorInfo]) -> list[AnomalyWarning]:
    new, hist = prep.new, prep.hist
    n_ind = len(prep.inds)
    lower = np.full(n_ind, np.nan)
    upper = np.full(n_ind, np.nan)
    has_lower = np.zeros(n_ind, dtype=bool)
    has_upper = np.zeros(n_ind, dtype=bool)
    count = np.bincount(hist.ind, minlength=n_ind)
    hmin = np.full(n_ind, np.inf)
    hmax = np.full(n_ind, -np.inf)
    if len(hist):
        g = pd.Series(hist.value).groupby(hist.ind)
        mn, mx = g.min(), g.max()
        hmin[mn.index.to_numpy()] = mn.to_numpy()
        hmax[mx.index.to_numpy()] = mx.to_numpy()
    used = np.unique(new.ind)
    uppers: dict[int, float] = {}
    for k in used.tolist():
        info = _info(infos, prep.inds[k])
        up = info.upper
        if up is None and info.percent and count[k] >= 3 and hmax[k] <= 100 and hmin[k] >= 0:
            up = 100.0
        if info.lower is not None:
            has_lower[k], lower[k] = True, info.lower
        if up is not None:
            has_upper[k], upper[k] = True, up
            uppers[k] = up
    below = has_lower[new.ind] & (new.value < lower[new.ind])
    above = ~below & has_upper[new.ind] & (new.value > upper[new.ind])
    out: list[AnomalyWarning] = []
    for i in np.flatnonzero(below | above).tolist():
        ind, area = prep.inds[new.ind[i]], prep.areas[new.area[i]]
        period, value = prep.labels.text[new.label[i]], float(new.value[i])
        info = _info(infos, ind)
        p = _params(info, area, period, value)
        if below[i]:
            out.append(AnomalyWarning("impossible", ind, area, period, value, M_BELOW,
                                      {**p, "lower": fmt(info.lower)}, "high"))  # type: ignore[arg-type]
        else:
            out.append(AnomalyWarning("impossible", ind, area, period, value, M_ABOVE,
                                      {**p, "upper": fmt(uppers[int(new.ind[i])])}, "high"))
    return out


def check_impossible(frame: pd.DataFrame, infos: Mapping[str, IndicatorInfo],
                     history: pd.DataFrame) -> list[AnomalyWarning]:
    """Values below the indicator's lower bound or above its upper bound."""
    return _impossible(_prepare(frame, history), infos)


# --- unit slips -------------------------------------------------------------------------------

def _own_levels(prep: _Prepared) -> tuple[np.ndarray, np.ndarray]:
    """(sorted pair keys, median of each series' last 6 values in period order)."""
    hist = prep.hist
    if not len(hist):
        return np.array([], dtype=np.int64), np.array([])
    pair = prep.pair(hist)
    order = np.lexsort((prep.labels.rank[hist.label], pair))
    sp = pair[order]
    starts, sizes = _group_starts(sp)
    ends = np.repeat(starts + sizes, sizes)
    keep = (ends - np.arange(sp.size)) <= 6
    vals, grp = hist.value[order][keep], np.repeat(np.arange(starts.size), sizes)[keep]
    o2 = np.lexsort((vals, grp))
    vals = vals[o2]
    s2, c2 = _group_starts(grp[o2])
    med = (vals[s2 + (c2 - 1) // 2] + vals[s2 + c2 // 2]) / 2
    return sp[starts], med


def _unit_slips(prep: _Prepared, infos: Mapping[str, IndicatorInfo]) -> list[AnomalyWarning]:
    new = prep.new
    if not len(new):
        return []
    keys, levels = _own_levels(prep)
    pair = prep.pair(new)
    at = np.searchsorted(keys, pair)
    at_ok = at < keys.size
    own = at_ok & (keys[np.minimum(at, max(keys.size - 1, 0))] == pair) if keys.size else \
        np.zeros(len(new), dtype=bool)
    ref = np.full(len(new), np.nan)
    ref[own] = levels[at[own]]
    parents, parent_of_area = np.unique(
        np.array([a[:-3] for a in prep.areas], dtype=object), return_inverse=True)
    peer_key = ((new.ind * len(prep.labels.text) + new.label) * max(len(parents), 1)
                + parent_of_area[new.area])
    peer_groups, peer_inv = np.unique(peer_key, return_inverse=True)
    peer_n = np.bincount(peer_inv)[peer_inv]
    peer_med = _group_median(new.value, peer_inv, peer_groups.size)[peer_inv]
    use_peer = ~own & (peer_n >= 4)
    ref[use_peer] = peer_med[use_peer]
    has_ref = own | use_peer
    ok = has_ref & (ref > 0) & (new.value > 0)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        lg = np.log10(np.where(ok, new.value / np.where(ok, ref, 1.0), 1.0))
    percent = np.array([_info(infos, c).percent for c in prep.inds], dtype=bool)[new.ind]
    factor = np.full(len(new), np.nan)
    for f, only_percent in ((4.0, False), (-4.0, False), (2.0, True), (-2.0, True)):
        hit = ok & np.isnan(factor) & np.isfinite(lg) & (np.abs(lg - f) < SLIP_TOLERANCE)
        if only_percent:
            hit &= percent
        factor[hit] = f
    out: list[AnomalyWarning] = []
    for i in np.flatnonzero(~np.isnan(factor)).tolist():
        ind, area = prep.inds[new.ind[i]], prep.areas[new.area[i]]
        period, value, r, f = (prep.labels.text[new.label[i]], float(new.value[i]),
                               float(ref[i]), float(factor[i]))
        info = _info(infos, ind)
        text = f"{10 ** f:,.0f}" if f > 0 else f"1/{10 ** -f:,.0f}"
        hint = HINT_PERCENT if abs(f) == 2 else HINT_MONEY
        params = {**_params(info, area, period, value), "factor": text,
                  "reference": fmt(r), "hint": hint}
        out.append(AnomalyWarning("unit_slip", ind, area, period, value, M_SLIP, params,
                                  "high", expected=r))
    return out


def check_unit_slips(frame: pd.DataFrame, history: pd.DataFrame,
                     infos: Mapping[str, IndicatorInfo]) -> list[AnomalyWarning]:
    """Values about ×10,000 / ×1/10,000 (×100 / ×1/100 for percentages) their usual level."""
    return _unit_slips(_prepare(frame, history), infos)


# --- jumps and broken seasonality -------------------------------------------------------------

def _noise_floor(values: np.ndarray, use_log: bool) -> float:
    """The smallest scale of changes: 1 % in logs; for small whole-number counts the
    Poisson noise of a difference of two counts, √(2/level) in logs (√(2·level) otherwise)."""
    level = float(np.median(np.abs(values))) if values.size else 0.0
    counts = values.size > 0 and bool(np.all(np.equal(np.mod(values, 1), 0)))
    if use_log:
        return max(JUMP_MIN_SCALE, float(np.sqrt(2 / max(level, 1.0))) if counts else 0.0)
    return max(1e-9, float(np.sqrt(2 * max(level, 1.0))) if counts else 0.0)


@dataclass
class _Panel:
    """Every (indicator, area, frequency) series of the batch that has history, sorted: the
    history before the batch's first period (de-duplicated), then the batch's points."""

    key: np.ndarray  # per row: pair key
    label: np.ndarray
    value: np.ndarray
    new: np.ndarray  # bool
    group: np.ndarray  # per row: series id
    starts: np.ndarray
    sizes: np.ndarray
    n_hist: np.ndarray
    n_new: np.ndarray
    freq: np.ndarray  # per series


def _last_per_key(keys: np.ndarray, row: np.ndarray) -> np.ndarray:
    """Indices of the last row (in original order) of each distinct key."""
    order = np.lexsort((row, keys))
    sk = keys[order]
    last = np.ones(sk.size, dtype=bool)
    last[:-1] = sk[1:] != sk[:-1]
    return np.asarray(order[last])


def _panel(prep: _Prepared) -> _Panel | None:
    new, hist, labels = prep.new, prep.hist, prep.labels
    n_lab = len(labels.text)
    npair, hpair = prep.pair(new), prep.pair(hist)
    has_hist = np.isin(npair, np.unique(hpair))
    if not has_hist.any():
        return None
    new = new.take(np.flatnonzero(has_hist))
    npair = npair[has_hist]
    nser = npair * len(_FREQS) + labels.freq[new.label]
    hser = hpair * len(_FREQS) + labels.freq[hist.label]
    # each series' points: the last row of each period wins
    nk = _last_per_key(nser * n_lab + new.label, new.row)
    hk = _last_per_key(hser * n_lab + hist.label, hist.row)
    nser, new_lab, new_val = nser[nk], new.label[nk], new.value[nk]
    hser, hist_lab, hist_val = hser[hk], hist.label[hk], hist.value[hk]
    # history before the batch's first period of the series
    series, first_inv = np.unique(nser, return_inverse=True)
    first = np.full(series.size, np.iinfo(np.int64).max)
    np.minimum.at(first, first_inv, labels.rank[new_lab])
    at = np.searchsorted(series, hser)
    found = (at < series.size) & (series[np.minimum(at, series.size - 1)] == hser)
    keep = found.copy()
    keep[found] = labels.rank[hist_lab[found]] < first[at[found]]
    ser = np.concatenate([hser[keep], nser])
    lab = np.concatenate([hist_lab[keep], new_lab])
    val = np.concatenate([hist_val[keep], new_val])
    is_new = np.concatenate([np.zeros(int(keep.sum()), dtype=bool),
                             np.ones(nser.size, dtype=bool)])
    order = np.lexsort((labels.rank[lab], ser))
    ser, lab, val, is_new = ser[order], lab[order], val[order], is_new[order]
    starts, sizes = _group_starts(ser)
    group = np.repeat(np.arange(starts.size), sizes)
    n_new = np.bincount(group, weights=is_new, minlength=starts.size).astype(np.int64)
    return _Panel(ser // len(_FREQS), lab, val, is_new, group, starts, sizes, sizes - n_new,
                  n_new, ser[starts] % len(_FREQS))


def _season_lengths(freq: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.array([season_length(f) for f in _FREQS], dtype=np.int64)[freq]
    return out


def _seasonality(prep: _Prepared, panel: _Panel, infos: Mapping[str, IndicatorInfo],
                 all_positive: np.ndarray) -> tuple[list[AnomalyWarning], np.ndarray]:
    """Broken seasonality: the history is strongly seasonal, yet the new points fit a flat
    level much better than last year's pattern (medians of absolute log residuals, so one
    spike does not decide). Returns the warnings and which series got one."""
    labels = prep.labels
    m = _season_lengths(panel.freq)
    cand = np.flatnonzero((m > 1) & (panel.n_hist >= 2 * m + 1)
                          & (panel.n_new >= np.maximum(4, m // 2)) & all_positive)
    flagged = np.zeros(panel.starts.size, dtype=bool)
    out: list[AnomalyWarning] = []
    for g in cand.tolist():
        s, nh, nn, mg = int(panel.starts[g]), int(panel.n_hist[g]), int(panel.n_new[g]), int(m[g])
        hv, nv = panel.value[s:s + nh], panel.value[s + nh:s + nh + nn]
        hl, nl = panel.label[s:s + nh], panel.label[s + nh:s + nh + nn]
        hd = np.diff(np.log(hv))
        pos = labels.position[hl[1:]]
        profile = pd.Series(hd).groupby(pos).mean()
        if profile.size < mg or np.var(hd) == 0:
            continue
        if float(np.var(profile.reindex(pos).to_numpy()) / np.var(hd)) < SEASON_STRENGTH:
            continue
        back = labels.shifted(nl, -mg)
        where = {int(x): i for i, x in enumerate(hl.tolist())}
        idx = [where.get(int(b), -1) if b >= 0 else -1 for b in back.tolist()]
        if any(i < 0 for i in idx):
            continue
        last_year = np.log(hv)[np.array(idx)]
        yoy = np.log(nv) - last_year
        seasonal_resid = float(np.median(np.abs(yoy - np.median(yoy))))
        flat_resid = float(np.median(np.abs(np.log(nv) - np.median(np.log(nv)))))
        if seasonal_resid <= SEASON_RATIO * max(flat_resid, _noise_floor(hv, True) / 2):
            continue
        ind, area = prep.inds[int(panel.key[s]) // len(prep.areas)], \
            prep.areas[int(panel.key[s]) % len(prep.areas)]
        info = _info(infos, ind)
        start, end = labels.text[nl[0]], labels.text[nl[-1]]
        params = {"indicator": info.code, "area": area, "start": start, "end": end,
                  "ratio": f"{seasonal_resid / max(flat_resid, 1e-9):.1f}"}
        out.append(AnomalyWarning("seasonality", info.code, area, end, float(nv[-1]),
                                  M_SEASON, params))
        flagged[g] = True
    return out, flagged


def _series_checks(prep: _Prepared, infos: Mapping[str, IndicatorInfo],
                   skip: np.ndarray) -> list[AnomalyWarning]:
    """Seasonality, else jumps, for every series of the batch with history. ``skip``: sorted
    (indicator, area, period) keys already flagged (no jump reported there)."""
    panel = _panel(prep)
    if panel is None:
        return []
    labels = prep.labels
    n_groups = panel.starts.size
    group, value = panel.group, panel.value
    all_positive = np.minimum.reduceat(value, panel.starts) > 0
    out, seasonal = _seasonality(prep, panel, infos, all_positive)
    m = _season_lengths(panel.freq)
    lag = np.where((m > 1) & (panel.n_hist >= 2 * m + MIN_DIFFS // 2), m, 1)
    n_diffs = np.maximum(panel.n_hist - lag, 0)
    eligible = (n_diffs >= MIN_DIFFS) & ~seasonal
    k = np.arange(value.size) - panel.starts[group]
    lag_r = lag[group]
    use_log = all_positive[group]
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.where(use_log, np.log(np.where(value > 0, value, 1.0)), value)
    has_prev = k >= lag_r
    prev_i = np.where(has_prev, np.arange(value.size) - lag_r, 0)
    d = np.where(has_prev, v - v[prev_i], np.nan)
    # the history's changes: median and MAD (finite values only)
    in_hd = ~panel.new & has_prev & eligible[group]
    hd, hg = d[in_hd], group[in_hd]
    fin = np.isfinite(hd)
    med = _group_median(hd[fin], hg[fin], n_groups)
    mad = _group_median(np.abs(hd[fin] - med[hg[fin]]), hg[fin], n_groups)
    sd = 1.4826 * mad
    hist_rows = ~panel.new & eligible[group]
    level = _group_median(np.abs(value[hist_rows]), group[hist_rows], n_groups)
    whole = np.ones(n_groups, dtype=bool)
    not_whole = hist_rows & ~np.equal(np.mod(value, 1), 0)
    whole[np.unique(group[not_whole])] = False
    with np.errstate(divide="ignore", invalid="ignore"):
        floor = np.where(
            all_positive,
            np.maximum(JUMP_MIN_SCALE, np.where(whole, np.sqrt(2 / np.maximum(level, 1.0)), 0.0)),
            np.maximum(1e-9, np.where(whole, np.sqrt(2 * np.maximum(level, 1.0)), 0.0)))
    sd = np.where(floor > sd, floor, sd)
    cand = np.flatnonzero(panel.new & has_prev & eligible[group])
    if cand.size and skip.size:
        keys = panel.key[cand] * len(labels.text) + panel.label[cand]
        cand = cand[~np.isin(keys, skip)]
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (d[cand] - med[group[cand]]) / sd[group[cand]]
    hit = ~(np.abs(z) <= JUMP_Z)
    last: dict[int, tuple[int, float]] = {}
    for i, zi in zip(cand[hit].tolist(), z[hit].tolist(), strict=True):
        g = int(group[i])
        pos = i - int(panel.starts[g])
        prev_flag = last.get(g)
        if prev_flag is not None and prev_flag[0] == pos - 1 \
                and np.sign(zi) != np.sign(prev_flag[1]):
            continue  # the return from a spike already reported
        last[g] = (pos, zi)
        ind = prep.inds[int(panel.key[i]) // len(prep.areas)]
        area = prep.areas[int(panel.key[i]) % len(prep.areas)]
        info = _info(infos, ind)
        di, j = float(d[i]), i - int(lag_r[i])
        change = f"{np.expm1(di):+.1%}" if use_log[i] else fmt(di)
        label = labels.text[panel.label[i]]
        params = {**_params(info, area, label, value[i]), "change": change,
                  "previous": labels.text[panel.label[j]], "z": f"{zi:.1f}"}
        out.append(AnomalyWarning("jump", info.code, area, label, float(value[i]), M_JUMP,
                                  params, expected=float(value[j])))
    return out


# --- the batch --------------------------------------------------------------------------------

def _keys_of(prep: _Prepared, warnings: list[AnomalyWarning]) -> set[tuple[str, str, str]]:
    return {(w.indicator, w.area_code, w.period) for w in warnings}


def _skip_keys(prep: _Prepared, flagged: set[tuple[str, str, str]]) -> np.ndarray:
    ind = {c: i for i, c in enumerate(prep.inds)}
    area = {c: i for i, c in enumerate(prep.areas)}
    lab = {c: i for i, c in enumerate(prep.labels.text)}
    out = [((ind[i] * len(prep.areas) + area[a]) * len(prep.labels.text) + lab[p])
           for i, a, p in flagged if i in ind and a in area and p in lab]
    return np.unique(np.array(out, dtype=np.int64))


def check_batch(frame: pd.DataFrame, history: pd.DataFrame | None, catalog: Any = None,
                areas: Iterable[Any] | None = None) -> list[AnomalyWarning]:
    """Every anomaly warning for a batch of new observations.

    ``frame`` and ``history``: long frames with ``indicator, area_code, period, value`` (extra
    columns ignored; ``history`` is what the store held before this batch). ``catalog``: the
    indicator framework (or a mapping/iterable of indicators) giving units and bounds;
    ``areas``: Area rows (or dicts with ``code``, ``parent_code``, ``geometry``) for the
    spatial check.
    """
    prep = _prepare(frame, history)
    if not len(prep.new):
        return []
    infos = catalog_infos(catalog)
    out = _impossible(prep, infos)
    out += _unit_slips(prep, infos)
    flagged = _keys_of(prep, out)
    out += _series_checks(prep, infos, _skip_keys(prep, flagged))
    flagged |= _keys_of(prep, out)
    out += _spatial(prep, infos, area_infos(areas), _skip_keys(prep, flagged))
    order = {k: i for i, k in enumerate(KINDS)}
    return sorted(out, key=lambda w: (w.indicator, w.area_code, w.period, order[w.kind]))


# --- out of line with the neighbours ----------------------------------------------------------

def _spatial(prep: _Prepared, infos: Mapping[str, IndicatorInfo], areas: Mapping[str, AreaInfo],
             skip: np.ndarray) -> list[AnomalyWarning]:
    """An area whose log-change from its previous period is out of line with its peers':
    the areas sharing a boundary with it when at least ``MIN_PEERS`` of them have data, else
    its siblings (rules and constants in :mod:`.spatial`)."""
    from citygrowth.analysis.spatial import (  # lazy: cycle (spatial builds on our warnings)
        M_SPATIAL,
        MIN_PEERS,
        SPATIAL_MIN_GAP,
        SPATIAL_MIN_SCALE,
        SPATIAL_Z,
    )

    new, hist, labels = prep.new, prep.hist, prep.labels
    if not len(new) or not len(hist):
        return []
    n_lab, n_area = len(labels.text), len(prep.areas)
    # the latest row of each (indicator, area, period), history first, then the batch
    keys = np.concatenate([prep.key(hist), prep.key(new)])
    vals = np.concatenate([hist.value, new.value])
    is_new = np.concatenate([np.zeros(len(hist), dtype=bool), np.ones(len(new), dtype=bool)])
    last = _last_per_key(keys, np.arange(keys.size))
    last.sort()
    keys, vals, is_new = keys[last], vals[last], is_new[last]
    order = np.argsort(keys, kind="stable")
    skeys, svals = keys[order], vals[order]
    cur = np.flatnonzero(is_new)
    ck = keys[cur]
    lab = ck % n_lab
    prev_lab = labels.shifted(lab, -1)
    pk = (ck // n_lab) * n_lab + prev_lab
    at = np.minimum(np.searchsorted(skeys, pk), skeys.size - 1)
    found = (prev_lab >= 0) & (skeys[at] == pk)
    value, prev_value = vals[cur], np.where(found, svals[at], np.nan)
    ok = found & (value > 0) & (prev_value > 0)
    cur, ck, lab, prev_lab, value = cur[ok], ck[ok], lab[ok], prev_lab[ok], value[ok]
    if not cur.size:
        return []
    change = np.log(value / prev_value[ok])
    pair = ck // n_lab
    ind, area = pair // n_area, pair % n_area
    cell = ind * n_lab + lab  # one (indicator, period) group
    codes = prep.areas
    touching = neighbours(areas) if areas else {}
    # siblings: areas of the same cell whose code minus 3 digits is the area's parent
    parent_text = [((areas[c].parent_code if c in areas else c[:-3]) or "") for c in codes]
    prefix_text = [c[:-3] for c in codes]
    both, both_inv = np.unique(np.array(parent_text + prefix_text, dtype=object),
                               return_inverse=True)
    parent_of, prefix_of = both_inv[:n_area], both_inv[n_area:]
    bucket_key = cell * both.size + prefix_of[area]
    border = np.lexsort((change, bucket_key))
    bsorted, csorted = bucket_key[border], change[border]
    bstart, bsize = _group_starts(bsorted)
    rank_in = np.empty(cur.size, dtype=np.int64)
    bid = np.repeat(np.arange(bstart.size), bsize)
    rank_in[border] = np.arange(cur.size) - bstart[bid]
    own_bucket = np.empty(cur.size, dtype=np.int64)
    own_bucket[border] = bid
    want = cell * both.size + parent_of[area]
    wb = np.minimum(np.searchsorted(bsorted[bstart], want), bstart.size - 1)
    wfound = bsorted[bstart][wb] == want
    self_in = wfound & (parent_of[area] == prefix_of[area])
    n_peers = np.where(wfound, bsize[wb] - self_in, 0)
    # neighbours with data in the same cell
    near: dict[int, np.ndarray] = {}
    if touching:
        row_of = {(int(c), int(a)): i for i, (c, a) in enumerate(zip(cell.tolist(),
                                                                         area.tolist(),
                                                                         strict=True))}
        area_id = {c: i for i, c in enumerate(codes)}
        for i, (c, a) in enumerate(zip(cell.tolist(), area.tolist(), strict=True)):
            rows = [row_of[(c, area_id[t])] for t in touching.get(codes[a], ())
                    if t in area_id and (c, area_id[t]) in row_of]
            if len(rows) >= MIN_PEERS:
                near[i] = np.array(rows, dtype=np.int64)
    # the peers' median: leave-one-out from the sorted sibling bucket
    med = np.full(cur.size, np.nan)
    n = n_peers
    lo, hi = (n - 1) // 2, n // 2
    base = bstart[wb]
    r = np.where(self_in, rank_in, np.iinfo(np.int64).max)
    lo_i = base + lo + (lo >= r)
    hi_i = base + hi + (hi >= r)
    has = n >= 1
    med[has] = (csorted[np.minimum(lo_i[has], cur.size - 1)]
                + csorted[np.minimum(hi_i[has], cur.size - 1)]) / 2
    if near:
        idx = np.array(sorted(near), dtype=np.int64)
        n[idx] = [near[i].size for i in idx.tolist()]
        for i in idx.tolist():
            med[i] = float(np.median(change[near[i]]))
    long_code = np.array([len(c) > 6 for c in codes], dtype=bool)[area]
    cand = long_code & (n >= MIN_PEERS) & (np.abs(change - med) > SPATIAL_MIN_GAP)
    if skip.size:
        cand &= ~np.isin(ck, skip)
        prev_key = pair * n_lab + prev_lab
        cand &= ~np.isin(prev_key, skip)
    idx = np.flatnonzero(cand)
    mad = np.full(cur.size, np.nan)
    sib = np.array([i for i in idx.tolist() if i not in near], dtype=np.int64)
    for i in idx.tolist():
        if i in near:
            pv = change[near[i]]
            mad[i] = float(np.median(np.abs(pv - med[i])))
    width = int(bsize[wb[sib]].max()) if sib.size else 0
    chunk = max(1, 4_000_000 // max(width, 1))
    for c0 in range(0, sib.size, chunk):
        part = sib[c0:c0 + chunk]
        j = np.arange(width)
        size = bsize[wb[part]]
        at_j = bstart[wb[part]][:, None] + np.minimum(j[None, :], size[:, None] - 1)
        dev = np.abs(csorted[at_j] - med[part][:, None])
        drop = (j[None, :] >= size[:, None]) | (self_in[part][:, None]
                                                & (j[None, :] == rank_in[part][:, None]))
        dev = np.sort(np.where(drop, np.inf, dev), axis=1)
        k = n[part]
        r_ = np.arange(part.size)
        mad[part] = (dev[r_, (k - 1) // 2] + dev[r_, k // 2]) / 2
    out: list[AnomalyWarning] = []
    for i in idx.tolist():
        m = float(med[i])
        sd = max(float(1.4826 * mad[i]), SPATIAL_MIN_SCALE)
        gap = float(change[i]) - m
        if abs(gap) / sd <= SPATIAL_Z or abs(gap) <= SPATIAL_MIN_GAP:
            continue
        pv_size = int(n[i])
        ind_code, code = prep.inds[int(ind[i])], codes[int(area[i])]
        period = labels.text[int(lab[i])]
        info = _info(infos, ind_code)
        params = {"indicator": info.code, "area": code, "period": period,
                  "value": fmt(float(value[i])), "change": f"{np.expm1(change[i]):+.1%}",
                  "peer_change": f"{np.expm1(m):+.1%}", "peers": pv_size}
        out.append(AnomalyWarning("spatial", ind_code, code, period, float(value[i]),
                                  M_SPATIAL, params))
    return out
