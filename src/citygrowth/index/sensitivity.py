"""Uncertainty and sensitivity analysis.

Each uncertain input is a *factor* with a value u in [0, 1):

* ``{"name": "normalisation", "path": "normalise.method", "options": ["minmax", "zscore"]}``
  picks ``options[floor(u · len)]`` and sets the dotted settings path;
* ``{"name": "weights", "kind": "weights", "noise": 0.25}`` multiplies every weight by an
  independent U(1 − noise, 1 + noise) draw made from a generator seeded by u (COINr's
  "noise on weights" as one factor).

:func:`uncertainty` runs Monte Carlo replications of the whole coin (``Coin.regen``) and keeps
every replication's parameters; :func:`sobol_indices` computes first- and total-order
variance-based indices (Saltelli 2010 and Jansen estimators) with bootstrap intervals for any
function of U(0, 1)^k, and :func:`sensitivity` applies it to the coin's index scores.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import qmc

from citygrowth.index.coin import Coin
from citygrowth.index.spec import deep_merge
from citygrowth.index.steps import _setting_error


def _set_path(changes: dict[str, Any], path: str, value: Any) -> None:
    keys = path.split(".")
    d = changes
    for k in keys[:-1]:
        d = d.setdefault(k, {})
    d[keys[-1]] = value


def factor_changes(coin: Coin, factors: Sequence[Mapping[str, Any]], u: Sequence[float]
                   ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Settings changes and the recorded parameters for one point ``u`` of the factor space."""
    changes: dict[str, Any] = {}
    params: dict[str, Any] = {}
    for f, ui in zip(factors, u, strict=True):
        name = f.get("name") or f.get("path") or f.get("kind")
        if f.get("kind") == "weights":
            noise = float(f.get("noise", 0.25))
            rng = np.random.default_rng(int(ui * 2**31))
            values = {c: float(w) * rng.uniform(1 - noise, 1 + noise)
                      for c, w in coin.weights.items()}
            _set_path(changes, "weights.method", "fixed")
            _set_path(changes, "weights.values", values)
            _set_path(changes, "weights.nodes", {})
            params[str(name)] = round(float(ui), 6)
        elif "options" in f and "path" in f:
            options = list(f["options"])
            choice = options[min(int(ui * len(options)), len(options) - 1)]
            _set_path(changes, f["path"], choice)
            params[str(name)] = choice
        else:
            raise _setting_error("A factor needs a path and options, or kind: weights.")
    return changes, params


def _replicate(coin: Coin, changes: Mapping[str, Any]) -> tuple[pd.Series, pd.Series]:
    """The index scores of one replication, and where zeros set or pulled them down."""
    rep = coin.regen(changes)
    scores = rep.results[coin.spec.root]
    hit = rep.zero_affected if rep.zero_affected is not None else pd.Series(
        False, index=scores.index)
    return scores, hit


@dataclass
class Uncertainty:
    ranks: pd.DataFrame        # replication × (unit, period)
    parameters: pd.DataFrame   # replication × factor, and zeros_decide (rows affected)
    summary: pd.DataFrame      # unit, period, nominal, median, q05, q95, zero_share

    @property
    def zero_replications(self) -> int:
        """Replications in which a zero under a geometric or harmonic mean set or pulled
        down some unit's index (their ranks carry that artefact)."""
        return int((self.parameters["zeros_decide"] > 0).sum()) if len(self.parameters) \
            else 0


def uncertainty(coin: Coin, factors: Sequence[Mapping[str, Any]], n: int = 100,
                seed: int = 1, base: Mapping[str, Any] | None = None,
                progress: Callable[[int, int], None] | None = None) -> Uncertainty:
    """Monte Carlo: ``n`` replications with factors drawn uniformly (on top of the settings
    changes ``base``, e.g. a remedy for zeros); per unit and period the nominal rank, the
    median rank, the 5–95 % interval and ``zero_share``, the share of replications in which
    a zero under a geometric or harmonic mean set or pulled down its index.
    ``progress(done, n)`` is told after each replication."""
    rng = np.random.default_rng(seed)
    u = rng.random((n, len(factors)))
    rank_rows, params, hits = [], [], []
    for i, row in enumerate(u, start=1):
        if progress is not None:
            progress(i - 1, n)
        changes, p = factor_changes(coin, factors, row)
        s, hit = _replicate(coin, deep_merge(base or {}, changes))
        rank_rows.append(s.groupby(level=1).rank(ascending=False, method="min"))
        hits.append(hit.reindex(s.index, fill_value=False))
        params.append({**p, "zeros_decide": int(hit.sum())})
    if progress is not None:
        progress(n, n)
    ranks = pd.DataFrame(rank_rows).reset_index(drop=True)
    nominal = coin.ranks()[coin.spec.root]
    summary = pd.DataFrame({
        "nominal": nominal, "median": ranks.median(), "q05": ranks.quantile(0.05),
        "q95": ranks.quantile(0.95),
        "zero_share": pd.DataFrame(hits).astype(float).mean()}).reset_index()
    return Uncertainty(ranks=ranks, parameters=pd.DataFrame(params), summary=summary)


@dataclass
class Sobol:
    first: np.ndarray
    total: np.ndarray
    first_ci: np.ndarray   # (k, 2): 5 % and 95 %
    total_ci: np.ndarray
    samples: np.ndarray    # every evaluated point of U(0, 1)^k


def _estimates(fa: np.ndarray, fb: np.ndarray, fab: np.ndarray) -> tuple[np.ndarray, ...]:
    """fa, fb: (N, m); fab: (N, k, m). Indices per factor, combined over the m outputs as
    the variance-weighted mean (Σ V_j S_ij / Σ V_j)."""
    var = np.var(np.concatenate([fa, fb]), axis=0, ddof=1)
    total_var = var.sum()
    if total_var == 0:
        return np.zeros(fab.shape[1]), np.zeros(fab.shape[1])
    first = np.mean(fb[:, None, :] * (fab - fa[:, None, :]), axis=0).sum(axis=1) / total_var
    total = 0.5 * np.mean((fa[:, None, :] - fab) ** 2, axis=0).sum(axis=1) / total_var
    return first, total


def sobol_design(k: int, n: int, seed: int = 1) -> np.ndarray:
    """The N(k + 2) points of Saltelli's design: A, B and each A with column i from B."""
    base = qmc.Sobol(d=2 * k, scramble=True, seed=seed).random(n)
    a, b = base[:, :k], base[:, k:]
    return np.vstack([a, b, *[np.where(np.arange(k) == i, b, a) for i in range(k)]])


def sobol_analyse(y: np.ndarray, k: int, n: int, seed: int = 1, n_boot: int = 200) -> Sobol:
    """Indices from the outputs ``y`` (N(k + 2) rows, one or several columns) of the design."""
    y = np.asarray(y, dtype=float)
    y = y[:, None] if y.ndim == 1 else y
    fa, fb = y[:n], y[n:2 * n]
    fab = np.stack([y[(2 + i) * n:(3 + i) * n] for i in range(k)], axis=1)
    first, total = _estimates(fa, fb, fab)
    rng = np.random.default_rng(seed)
    boots = [_estimates(fa[idx], fb[idx], fab[idx])
             for idx in (rng.integers(0, n, n) for _ in range(n_boot))]
    bf = np.array([b[0] for b in boots])
    bt = np.array([b[1] for b in boots])
    return Sobol(first, total, np.quantile(bf, [0.05, 0.95], axis=0).T,
                 np.quantile(bt, [0.05, 0.95], axis=0).T, np.empty((0, k)))


def sobol_indices(fn: Callable[[np.ndarray], np.ndarray], k: int, n: int = 1024,
                  seed: int = 1, n_boot: int = 200) -> Sobol:
    """First-order (Saltelli 2010) and total-order (Jansen) indices of ``fn`` (rows of
    U(0, 1)^k → one value, or a row of values whose indices are variance-weighted), from a
    scrambled Sobol' design of N(k + 2) runs; bootstrap 5–95 % intervals by resampling the
    N base rows."""
    points = sobol_design(k, n, seed)
    sob = sobol_analyse(fn(points), k, n, seed, n_boot)
    sob.samples = points
    return sob


def sensitivity(coin: Coin, factors: Sequence[Mapping[str, Any]], n: int = 64, seed: int = 1,
                n_boot: int = 200, base: Mapping[str, Any] | None = None,
                progress: Callable[[int, int], None] | None = None
                ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sobol indices of the units' index ranks with respect to each factor (variance-weighted
    over units and periods), on top of the settings changes ``base``. Returns (indices
    table, parameters of every replication with ``zeros_decide``: the unit-periods whose
    index a zero under a geometric or harmonic mean set or pulled down).
    ``progress(done, total)`` is told after each of the N(k + 2) runs."""
    params: list[dict[str, Any]] = []

    def fn(points: np.ndarray) -> np.ndarray:
        out = []
        for i, row in enumerate(points, start=1):
            if progress is not None:
                progress(i - 1, len(points))
            changes, p = factor_changes(coin, factors, row)
            s, hit = _replicate(coin, deep_merge(base or {}, changes))
            params.append({**p, "zeros_decide": int(hit.sum())})
            out.append(s.groupby(level=1).rank(ascending=False, method="min").to_numpy())
        if progress is not None:
            progress(len(points), len(points))
        return np.array(out)

    sob = sobol_indices(fn, len(factors), n, seed, n_boot)
    names = [str(f.get("name") or f.get("path") or f.get("kind")) for f in factors]
    table = pd.DataFrame({"factor": names, "first": sob.first, "total": sob.total,
                          "first_q05": sob.first_ci[:, 0], "first_q95": sob.first_ci[:, 1],
                          "total_q05": sob.total_ci[:, 0], "total_q95": sob.total_ci[:, 1]})
    return table, pd.DataFrame(params)
