"""The spatial anomaly check: an area whose change is out of line with its neighbours'.

For each indicator and period of a batch, each area's log-change from its previous period is
compared with its peers' log-changes: the areas sharing a boundary with it (shapely) when at
least ``MIN_PEERS`` of them have data, else its siblings under the same parent. It is flagged
when its robust z against the peers exceeds ``SPATIAL_Z`` and it differs from the peers'
median by more than ``SPATIAL_MIN_GAP`` in log terms (about 20 %).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from citygrowth.analysis.anomaly import AnomalyWarning, fmt
from citygrowth.analysis.meta import AreaInfo, IndicatorInfo, neighbours
from citygrowth.i18n import N_
from citygrowth.periods import Period

SPATIAL_Z = 5.0
SPATIAL_MIN_GAP = 0.18
SPATIAL_MIN_SCALE = 0.02
MIN_PEERS = 3

M_SPATIAL = N_("{indicator} in {area} changed by {change} in {period}, while its neighbours "
               "changed by {peer_change} (median of {peers} areas).")


def _changes(new: pd.DataFrame, history: pd.DataFrame) -> pd.DataFrame:
    """Log-change of each new observation from the same series' previous period."""
    both = pd.concat([history.assign(new=False), new.assign(new=True)])
    both = both.drop_duplicates(["indicator", "area_code", "period"], keep="last")
    both["prev"] = both["period"].map(lambda p: str(Period.parse(p).prev()))
    prev = both[["indicator", "area_code", "period", "value"]].rename(
        columns={"period": "prev", "value": "prev_value"})
    merged = both[both["new"]].merge(prev, on=["indicator", "area_code", "prev"], how="inner")
    ok = (merged["value"] > 0) & (merged["prev_value"] > 0)
    merged = merged[ok].copy()
    merged["change"] = np.log(merged["value"] / merged["prev_value"])
    return merged


def _peers(code: str, areas: Mapping[str, AreaInfo], touching: Mapping[str, set[str]],
           have: set[str]) -> list[str]:
    near = [c for c in touching.get(code, ()) if c in have]
    if len(near) >= MIN_PEERS:
        return near
    parent = areas[code].parent_code if code in areas else code[:-3]
    return [c for c in have if c != code and c[:-3] == (parent or "")]


def check_spatial(new: pd.DataFrame, history: pd.DataFrame,
                  infos: Mapping[str, IndicatorInfo], areas: Mapping[str, AreaInfo],
                  skip: set[tuple[str, str, str]]) -> list[AnomalyWarning]:
    if new.empty or history.empty:
        return []
    changes = _changes(new, history)
    if changes.empty:
        return []
    touching = neighbours(areas) if areas else {}
    out: list[AnomalyWarning] = []
    for (ind, period), g in changes.groupby(["indicator", "period"]):
        by_area = dict(zip(g["area_code"], g["change"], strict=True))
        values = dict(zip(g["area_code"], g["value"], strict=True))
        have = set(by_area)
        for code, ch in by_area.items():
            prev = str(Period.parse(str(period)).prev())
            if len(code) <= 6 or (ind, code, period) in skip or (ind, code, prev) in skip:
                continue
            peers = _peers(code, areas, touching, have)
            if len(peers) < MIN_PEERS:
                continue
            pv = np.array([by_area[p] for p in peers])
            med = float(np.median(pv))
            sd = max(float(1.4826 * np.median(np.abs(pv - med))), SPATIAL_MIN_SCALE)
            gap = ch - med
            if abs(gap) / sd <= SPATIAL_Z or abs(gap) <= SPATIAL_MIN_GAP:
                continue
            info = infos.get(str(ind)) or IndicatorInfo(code=str(ind))
            params = {"indicator": info.code, "area": code, "period": str(period),
                      "value": fmt(values[code]), "change": f"{np.expm1(ch):+.1%}",
                      "peer_change": f"{np.expm1(med):+.1%}", "peers": len(peers)}
            out.append(AnomalyWarning("spatial", str(ind), code, str(period),
                                      float(values[code]), M_SPATIAL, params))
    return out
