"""Index benchmark: a full recompute (normalise, weight, aggregate to 5 pillars and the index)
from long-format values, three ways, each in a child process of its own:

* ``numpy``: a hand-written dense numpy reference — pivot from long by index arithmetic,
  min-max per period and indicator, weighted arithmetic means with weights renormalised over
  the values present (the baseline);
* ``citygrowth``: the engine's in-memory path (``citygrowth.index.dense``: pivot + compute
  driven by an :class:`IndexSpec`);
* ``pandas``: a plain pandas version (group-by transforms, merges, group-by sums).

    python -m bench.index [--units 5000 --periods 120 --indicators 60] [--quick]

Prints each time and peak resident memory (``resource.getrusage`` of the child, which counts
native memory), and the ratios: citygrowth / numpy time (goal ≤ 1.5), pandas / citygrowth
time (goal ≥ 8), citygrowth / numpy memory (goal ≤ 2). :func:`run_all` returns the three
results so a test can check that they agree.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import time
from typing import Any

import numpy as np
import pandas as pd

PILLARS = 5


def make_long(units: int, periods: int, indicators: int, seed: int = 1,
              missing: float = 0.02) -> dict[str, np.ndarray]:
    """Long arrays: unit (int32), period (int16), indicator (int16), value (float64)."""
    rng = np.random.default_rng(seed)
    n = units * periods * indicators
    idx = np.arange(n, dtype=np.int64)
    unit = (idx // (periods * indicators)).astype(np.int32)
    period = ((idx // indicators) % periods).astype(np.int16)
    indicator = (idx % indicators).astype(np.int16)
    value = rng.uniform(0.0, 100.0, n)
    keep = rng.random(n) >= missing
    return {"unit": unit[keep], "period": period[keep], "indicator": indicator[keep],
            "value": value[keep]}


def tree(indicators: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pillar of each indicator, indicator weights (1, 2, 3 cycling), pillar weights."""
    pillar = np.arange(indicators) % PILLARS
    w_ind = (np.arange(indicators) % 3 + 1).astype(float)
    w_pil = np.arange(1, PILLARS + 1, dtype=float)
    return pillar, w_ind, w_pil


def spec_for(indicators: int) -> Any:
    from citygrowth.index.spec import spec_from_dict

    pillar, w_ind, w_pil = tree(indicators)
    pillars = [{"code": f"P{p}", "weight": float(w_pil[p]), "children": [
        {"code": str(i), "weight": float(w_ind[i])} for i in range(indicators)
        if pillar[i] == p]} for p in range(PILLARS)]
    return spec_from_dict({"code": "BENCH", "tree": [{"code": "IDX", "children": pillars}],
                           "index": {"normalise": {"method": "minmax", "range": [0, 100]},
                                     "aggregate": {"method": "arithmetic"}}})


def run_numpy(d: dict[str, np.ndarray], units: int, periods: int, indicators: int
              ) -> np.ndarray:
    cube = np.full((periods, units, indicators), np.nan)
    cube[d["period"], d["unit"], d["indicator"]] = d["value"]
    mn = np.nanmin(cube, axis=1, keepdims=True)
    mx = np.nanmax(cube, axis=1, keepdims=True)
    norm = (cube - mn) / (mx - mn) * 100.0
    pillar, w_ind, w_pil = tree(indicators)
    ok = ~np.isnan(norm)
    filled = np.where(ok, norm, 0.0)
    pil = np.empty((periods, units, PILLARS))
    for p in range(PILLARS):
        sel = pillar == p
        pil[:, :, p] = (filled[:, :, sel] @ w_ind[sel]) / (ok[:, :, sel] @ w_ind[sel])
    return np.asarray((pil @ w_pil) / w_pil.sum())


def run_citygrowth(d: dict[str, np.ndarray], units: int, periods: int, indicators: int
                   ) -> np.ndarray:
    from citygrowth.index import dense

    spec = spec_for(indicators)
    cube = dense.pivot(d["unit"], d["period"], d["indicator"], d["value"],
                       [str(i) for i in range(indicators)])
    out = dense.compute(cube, spec)
    return np.asarray(out.node("IDX"))


def run_pandas(d: dict[str, np.ndarray], units: int, periods: int, indicators: int
               ) -> np.ndarray:
    df = pd.DataFrame(d)
    g = df.groupby(["period", "indicator"])["value"]
    df["norm"] = (df["value"] - g.transform("min")) / (g.transform("max") - g.transform("min"))
    df["norm"] *= 100.0
    pillar, w_ind, w_pil = tree(indicators)
    meta = pd.DataFrame({"indicator": np.arange(indicators, dtype=np.int16),
                         "pillar": pillar, "w": w_ind})
    df = df.merge(meta, on="indicator")
    df["wx"] = df["norm"] * df["w"]
    pil = df.groupby(["unit", "period", "pillar"])[["wx", "w"]].sum()
    pil["score"] = pil["wx"] / pil["w"]
    pil = pil.reset_index()
    pil["wp"] = w_pil[pil["pillar"].to_numpy()]
    pil["ws"] = pil["score"] * pil["wp"]
    idx = pil.groupby(["unit", "period"])[["ws", "wp"]].sum()
    idx["index"] = idx["ws"] / w_pil.sum()
    out = np.full((periods, units), np.nan)
    u = idx.index.get_level_values(0).to_numpy()
    p = idx.index.get_level_values(1).to_numpy()
    out[p, u] = idx["index"].to_numpy()
    return out


RUNNERS = {"numpy": run_numpy, "citygrowth": run_citygrowth, "pandas": run_pandas}


def _child(name: str, sizes: tuple[int, int, int], queue: Any, keep: bool) -> None:
    d = make_long(*sizes)
    if name == "citygrowth":  # imports are a one-time cost, not part of a recompute
        import citygrowth.index.dense  # noqa: F401
    start = time.perf_counter()
    result = RUNNERS[name](d, *sizes)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put((name, seconds, peak_mb, result if keep else None))


def run_all(units: int, periods: int, indicators: int, keep: bool = False
            ) -> dict[str, tuple[float, float, Any]]:
    """Each runner in a fresh child process: name → (seconds, peak MB, result or None)."""
    ctx = mp.get_context("spawn")
    out = {}
    for name in RUNNERS:
        queue = ctx.Queue()
        proc = ctx.Process(target=_child, args=(name, (units, periods, indicators), queue,
                                                keep))
        proc.start()
        got = queue.get()
        proc.join()
        out[name] = (got[1], got[2], got[3])
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.index")
    ap.add_argument("--units", type=int, default=5000)
    ap.add_argument("--periods", type=int, default=120)
    ap.add_argument("--indicators", type=int, default=60)
    ap.add_argument("--quick", action="store_true", help="500 units × 24 periods × 60.")
    a = ap.parse_args(argv)
    if a.quick:
        a.units, a.periods = 500, 24
    n = a.units * a.periods * a.indicators
    print(f"{a.units} units × {a.periods} periods × {a.indicators} indicators = {n:,} values")
    res = run_all(a.units, a.periods, a.indicators)
    for name, (sec, mb, _) in res.items():
        print(f"  {name:<11} {sec:8.2f} s   peak {mb:8.0f} MB")
    (tn, mn, _), (tc, mc, _), (tp, _mp, _) = res["numpy"], res["citygrowth"], res["pandas"]
    print(f"citygrowth / numpy time   {tc / tn:5.2f}  (goal ≤ 1.5)")
    print(f"pandas / citygrowth time  {tp / tc:5.2f}  (goal ≥ 8)")
    print(f"citygrowth / numpy memory {mc / mn:5.2f}  (goal ≤ 2)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
