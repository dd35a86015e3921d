"""The benchmark's three implementations, and the engine's dense path, agree (not timing)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from bench.index import make_long, run_all, spec_for

from citygrowth.index import dense
from citygrowth.index.coin import Coin
from citygrowth.index.spec import spec_from_dict
from tests.index.test_ibis import TREE, small_panel, to_long


def test_bench_implementations_agree() -> None:
    res = run_all(units=40, periods=3, indicators=15, keep=True)
    ref = res["numpy"][2]
    assert ref.shape == (3, 40) and np.isfinite(ref).all()
    for name in ("citygrowth", "pandas"):
        np.testing.assert_allclose(res[name][2], ref, atol=1e-9, err_msg=name)
    for seconds, peak_mb, _ in res.values():
        assert seconds > 0 and peak_mb > 0
    # and the engine's coin gives the same index
    d = make_long(40, 3, 15)
    long = pd.DataFrame({"unit": d["unit"], "period": d["period"],
                         "indicator": d["indicator"].astype(str), "value": d["value"]})
    wide = long.pivot(index=["unit", "period"], columns="indicator", values="value")
    coin = Coin.build(spec_for(15), wide)
    idx = coin.results["IDX"].unstack(0).to_numpy()
    np.testing.assert_allclose(idx, ref, atol=1e-9)


def test_dense_path_equals_the_coin_on_mixed_settings() -> None:
    spec = spec_from_dict(TREE)
    raw = small_panel(9)
    coin = Coin.build(spec, raw)
    long = to_long(raw)
    out = dense.compute(dense.pivot(long["unit"].to_numpy(), long["period"].to_numpy(),
                                    long["indicator"].to_numpy(), long["value"].to_numpy()),
                        spec, coin.weights).long()
    got = out.pivot(index=["unit", "period"], columns="code", values="value")
    exp = coin.results[got.columns].reindex(got.index)
    np.testing.assert_allclose(got.to_numpy(float), exp.to_numpy(float), atol=1e-9)
