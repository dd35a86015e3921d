"""Weights: fixed, equal, expert AHP (with consistency ratio), entropy (熵权法), CRITIC, PCA,
optimised to balance correlations, and the effective weight of each indicator in the index.

Matrices are alternatives (units) in rows and criteria (children of one node) in columns:
the children's normalised scores (``on: normalised``, the default) or their raw decision
matrix (``on: raw``: indicators as they entered normalisation, see
:meth:`Coin.decision_matrix`). Conventions, matching ``pymcdm`` 1.4's ``entropy_weights``
and ``critic_weights`` (which take no criteria types: a cost column counts as it is):

* entropy: p_ij = x_ij / Σ_i x_ij (sum normalisation); e_j = −Σ p ln p / ln m;
  w_j = (1 − e_j) / Σ(1 − e_k). pymcdm refuses values ≤ 0; here zeros count with
  0·ln 0 = 0 and only negative values are refused.
* CRITIC: columns min-max normalised to [0, 1]; C_j = s_j Σ_k (1 − r_jk) with the sample
  standard deviation (ddof = 1) and Pearson r; w_j = C_j / Σ C. A constant column (where
  pymcdm's weights are undefined) gets weight 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize

from citygrowth.i18n import bilingual
from citygrowth.index.names import method_name
from citygrowth.index.spec import IndexSpec
from citygrowth.index.steps import _setting_error

# Saaty's random consistency index RI for n = 1..15 (Saaty 1980; 1–10 as in Saaty & Vargas).
SAATY_RI = (0.0, 0.0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49, 1.51, 1.48, 1.56, 1.57,
            1.59)


def _unit(w: np.ndarray) -> np.ndarray:
    return np.asarray(w / w.sum())


def ahp(matrix: Sequence[Sequence[float]]) -> tuple[np.ndarray, float, float]:
    """Weights (principal eigenvector), λ_max and consistency ratio CR = CI / RI of a
    reciprocal pairwise-comparison matrix; CI = (λ_max − n)/(n − 1). CR ≤ 0.1 is acceptable."""
    a = np.asarray(matrix, dtype=float)
    n = a.shape[0]
    if a.shape != (n, n) or np.any(a <= 0) or not np.allclose(a * a.T, 1.0):
        raise _setting_error("An AHP matrix must be square, positive and reciprocal.")
    vals, vecs = np.linalg.eig(a)
    k = int(np.argmax(vals.real))
    lam = float(vals[k].real)
    w = _unit(np.abs(vecs[:, k].real))
    if n <= 2:
        return w, lam, 0.0
    if n > len(SAATY_RI):
        raise _setting_error("AHP supports at most {n} criteria.", n=len(SAATY_RI))
    ci = (lam - n) / (n - 1)
    return w, lam, float(ci / SAATY_RI[n - 1])


def entropy(matrix: np.ndarray) -> np.ndarray:
    x = np.asarray(matrix, dtype=float)
    if np.any(x < 0):
        raise _setting_error("Entropy weights need values of zero or more.")
    p = x / x.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(p > 0, p * np.log(p), 0.0)
    e = -plogp.sum(axis=0) / np.log(x.shape[0])
    return _unit(1 - e)


def critic(matrix: np.ndarray) -> np.ndarray:
    x = np.asarray(matrix, dtype=float)
    span = x.max(axis=0) - x.min(axis=0)
    n = (x - x.min(axis=0)) / np.where(span == 0, 1, span)
    std = n.std(axis=0, ddof=1)
    varying = std > 0
    r = np.zeros((x.shape[1], x.shape[1]))
    if varying.sum() > 1:
        r[np.ix_(varying, varying)] = np.corrcoef(n[:, varying], rowvar=False)
    c = np.where(varying, std * (1 - r).sum(axis=0), 0.0)
    if not c.any():
        raise _setting_error("CRITIC weights need at least one criterion that varies.")
    return _unit(c)


def pca(matrix: np.ndarray) -> np.ndarray:
    """Weights ∝ squared loadings of the first principal component of the standardised data
    (OECD/JRC Handbook): the share of each criterion in PC1's variance."""
    x = np.asarray(matrix, dtype=float)
    z = (x - x.mean(axis=0)) / x.std(axis=0, ddof=1)
    vals, vecs = np.linalg.eigh(np.cov(z, rowvar=False))
    return _unit(vecs[:, -1] ** 2)


def optimised(matrix: np.ndarray) -> np.ndarray:
    """Weights with which every criterion correlates equally with the weighted mean (COINr
    ``get_opt_weights(optype = "balance")``): minimise the variance of those correlations."""
    x = np.asarray(matrix, dtype=float)
    m = x.shape[1]

    def loss(v: np.ndarray) -> float:
        w = np.abs(v) / np.abs(v).sum()
        y = x @ w
        c = [np.corrcoef(x[:, j], y)[0, 1] for j in range(m)]
        return float(np.var(c))

    res = optimize.minimize(loss, np.full(m, 1.0 / m), method="Nelder-Mead",
                            options={"xatol": 1e-6, "fatol": 1e-10, "maxiter": 2000 * m})
    return _unit(np.abs(res.x))


DATA_DRIVEN = {"entropy": entropy, "critic": critic, "pca": pca, "optimised": optimised}


def node_weights(spec: IndexSpec, node: str, cfg: Mapping[str, Any],
                 children_data: pd.DataFrame | None) -> tuple[dict[str, float], dict[str, Any]]:
    """Weights of ``node``'s children under the settings ``cfg`` (method + parameters)."""
    children = spec.nodes[node].children
    method = cfg.get("method", "fixed")
    if method == "fixed":
        given = cfg.get("values") or {}
        w = np.array([float(given.get(c, spec.nodes[c].weight)) for c in children])
        return dict(zip(children, w, strict=True)), {}
    if method == "equal":
        return dict.fromkeys(children, 1.0 / len(children)), {}
    if method == "ahp":
        w, lam, cr = ahp(cfg["matrix"])
        if len(w) != len(children):
            raise _setting_error("The AHP matrix of {node} must be {n}×{n}.", node=node,
                                 n=len(children))
        return dict(zip(children, w, strict=True)), {"lambda_max": lam, "cr": cr,
                                                     "consistent": cr <= 0.1}
    if method in DATA_DRIVEN:
        return _data_driven(spec, node, method, children_data)
    raise _setting_error("Unknown weighting method {method}.", method=method)


def _data_driven(spec: IndexSpec, node: str, method: str, data: pd.DataFrame | None
                 ) -> tuple[dict[str, float], dict[str, Any]]:
    """Weights of ``node``'s children computed from their values, over the rows where every
    child with any value has one; a child without any value gets weight 0."""
    children = spec.nodes[node].children
    label = bilingual(spec.nodes[node].name_zh, spec.nodes[node].name_en) or node
    if data is None:
        raise _setting_error("Weights by {method} need data.", method=method_name(
            "weighting", method))
    present = [c for c in children if data[c].notna().any()]
    if not present:  # nothing to weigh: the node has no value either
        return dict.fromkeys(children, 0.0), {"rows": 0, "without_values": list(children)}
    x = data[present].dropna().to_numpy(dtype=float)
    if len(x) < 3:
        raise _setting_error("Too few complete rows to compute {method} of {node}.",
                             method=method_name("weighting", method), node=label)
    if method == "entropy" and np.any(x < 0):
        raise _setting_error("Entropy weights of {node} need values of zero or more.",
                             node=label)
    w = dict.fromkeys(children, 0.0)
    w.update(zip(present, DATA_DRIVEN[method](x) if len(present) > 1 else [1.0], strict=True))
    return w, {"rows": len(x), "without_values": [c for c in children if c not in present]}


def effective_weights(spec: IndexSpec, weights: Mapping[str, float]) -> dict[str, float]:
    """Each node's share of the index: the product of its normalised weights up the tree."""
    out = {spec.root: 1.0}

    def down(code: str) -> None:
        kids = spec.nodes[code].children
        total = sum(weights[c] for c in kids)
        for c in kids:
            out[c] = out[code] * weights[c] / total if total else 0.0
            down(c)

    down(spec.root)
    return out
