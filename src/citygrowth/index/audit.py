"""Statistical audit of a coin: descriptive statistics, correlations within and across levels
with flags, Cronbach's α, PCA per group and correlations with denominators.

Flags (COINr ``get_corr_flags`` conventions): ``collinear`` when two children of the same node
correlate above ``high`` (0.9); ``negative`` when below ``low`` (−0.4); ``weak`` when a child
correlates with its own parent below ``weak`` (0.2).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from citygrowth.index.coin import Coin
from citygrowth.index.steps import kurt, skew


def describe(data: pd.DataFrame, t_skew: float = 2.0, t_kurt: float = 3.5) -> pd.DataFrame:
    """Per column: n, missing share, min, max, mean, median, sd, skew, kurtosis, outliers."""
    rows = []
    for col in data.columns:
        x = data[col].to_numpy(dtype=float)
        v = x[~np.isnan(x)]
        sk, kt = (skew(v), kurt(v)) if len(v) else (np.nan, np.nan)
        rows.append({
            "code": col, "n": len(v), "missing": 1 - len(v) / max(len(x), 1),
            "min": v.min() if len(v) else np.nan, "max": v.max() if len(v) else np.nan,
            "mean": v.mean() if len(v) else np.nan,
            "median": np.median(v) if len(v) else np.nan,
            "sd": v.std(ddof=1) if len(v) > 1 else np.nan, "skew": sk, "kurtosis": kt,
            "outliers": bool(abs(sk) > t_skew and kt > t_kurt)})
    return pd.DataFrame(rows)


def correlations(coin: Coin, high: float = 0.9, low: float = -0.4, weak: float = 0.2
                 ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(Pearson correlation matrix of every node in the Aggregated stage, flags table)."""
    res = coin.results
    corr = res.corr()
    flags: list[dict[str, Any]] = []
    for code, node in coin.spec.nodes.items():
        kids = node.children
        for i, a in enumerate(kids):
            r_parent = corr.loc[a, code]
            if r_parent < weak:
                flags.append({"flag": "weak", "a": a, "b": code, "r": float(r_parent)})
            for b in kids[i + 1:]:
                r = corr.loc[a, b]
                if r > high:
                    flags.append({"flag": "collinear", "a": a, "b": b, "r": float(r)})
                elif r < low:
                    flags.append({"flag": "negative", "a": a, "b": b, "r": float(r)})
    return corr, pd.DataFrame(flags, columns=["flag", "a", "b", "r"])


def cronbach_alpha(block: pd.DataFrame) -> float:
    """α = k/(k − 1) · (1 − Σ var_i / var(Σ x_i)) over complete rows."""
    x = block.dropna().to_numpy(dtype=float)
    k = x.shape[1]
    if k < 2 or len(x) < 2:
        return float("nan")
    return float(k / (k - 1) * (1 - x.var(axis=0, ddof=1).sum() / x.sum(axis=1).var(ddof=1)))


def pca_group(block: pd.DataFrame) -> dict[str, Any]:
    """Eigenvalues, share of variance and first-component loadings of a group's
    standardised children."""
    x = block.dropna().to_numpy(dtype=float)
    sd = x.std(axis=0, ddof=1)
    z = (x - x.mean(axis=0)) / np.where(sd == 0, 1, sd)
    vals, vecs = np.linalg.eigh(np.cov(z, rowvar=False))
    order = np.argsort(vals)[::-1]
    vals, vecs = vals[order], vecs[:, order]
    pc1 = vecs[:, 0] * (1 if vecs[:, 0].sum() >= 0 else -1)
    return {"eigenvalues": vals.tolist(), "explained": (vals / vals.sum()).tolist(),
            "loadings": dict(zip(block.columns, pc1.tolist(), strict=True))}


def groups_report(coin: Coin) -> pd.DataFrame:
    """Per aggregate node: number of children, Cronbach's α, PC1's share of variance."""
    res = coin.results
    rows = []
    for code, node in coin.spec.nodes.items():
        if node.is_indicator or len(node.children) < 2:
            continue
        block = res[node.children]
        p = pca_group(block) if len(block.dropna()) > len(node.children) else None
        rows.append({"code": code, "children": len(node.children),
                     "alpha": cronbach_alpha(block),
                     "pc1_share": p["explained"][0] if p else np.nan})
    return pd.DataFrame(rows)


def denominator_correlations(coin: Coin) -> pd.DataFrame:
    """Correlation of each raw indicator with each denominator (size effects)."""
    if coin.denominators is None:
        return pd.DataFrame()
    den = coin.denominators.reindex(coin.raw.index)
    return pd.DataFrame({d: coin.raw.corrwith(den[d]) for d in den.columns})


def audit(coin: Coin) -> dict[str, Any]:
    """Everything above as JSON-ready data."""
    corr, flags = correlations(coin)
    stage = "Treated" if "Treated" in coin.stages else "Raw"
    return {
        "stats": describe(coin.stage(stage)).replace({np.nan: None}).to_dict("records"),
        "flags": flags.to_dict("records"),
        "groups": groups_report(coin).replace({np.nan: None}).to_dict("records"),
        "correlations": corr.round(6).replace({np.nan: None}).to_dict(),
        "denominators": denominator_correlations(coin).round(6).replace(
            {np.nan: None}).to_dict(),
    }
