"""CKA between stores as results rows: self pair, cross pair, time-point checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from cebra_lens_core.analyses.cka import cka_rows
from cebra_lens_core.metrics.cka import cka


def _store(arrays, train):
    data = {
        f"layer_{i:02d}": (("time", f"layer_{i:02d}_unit"), a, {"layer_name": f"l{i}"})
        for i, a in enumerate(arrays)
    }
    return xr.Dataset(
        data,
        coords={"time": np.arange(len(train)), "train": ("time", train)},
        attrs={"dataset_name": "d"},
    )


def test_rows_match_pairwise_cka():
    rng = np.random.default_rng(0)
    T = 300
    train = np.arange(T) < 200
    a = [rng.normal(size=(T, 5)), rng.normal(size=(T, 3))]
    b = [a[0] @ np.linalg.qr(rng.normal(size=(5, 5)))[0], rng.normal(size=(T, 4))]
    rows = cka_rows(
        _store(a, train), _store(b, train), name_a="A", name_b="B", kinds=["linear", "debiased"]
    )
    assert len(rows) == 2 * 2 * 2
    lin = rows[rows["variant"] == "linear"].set_index(["layer", "other_layer"])["value"]
    assert lin[(0, 0)] == pytest.approx(1.0, abs=1e-10)  # rotation of the test rows
    assert lin[(1, 1)] == pytest.approx(cka(a[1][200:], b[1][200:]), abs=1e-12)
    assert set(rows["n"]) == {100}
    assert set(rows["dataset"]) == {"d"} and rows["layer_name"].tolist()[0] == "l0"


def test_self_pair_symmetric_unit_diagonal():
    rng = np.random.default_rng(1)
    train = np.arange(120) < 60
    s = _store(
        [rng.normal(size=(120, 4)), rng.normal(size=(120, 6)), rng.normal(size=(120, 2))], train
    )
    rows = cka_rows(s, s, name_a="A", name_b="A", kinds=["linear"])
    m = np.zeros((3, 3))
    m[rows["layer"].astype(int), rows["other_layer"].astype(int)] = rows["value"]
    np.testing.assert_allclose(m, m.T, atol=1e-14)
    np.testing.assert_allclose(np.diag(m), 1.0, atol=1e-12)


def test_different_time_points_refused():
    rng = np.random.default_rng(2)
    a = _store([rng.normal(size=(100, 3))], np.arange(100) < 50)
    b = _store([rng.normal(size=(90, 3))], np.arange(90) < 50)
    with pytest.raises(ValueError, match="do not cover the same time points"):
        cka_rows(a, b, name_a="A", name_b="B")


def test_grouped_pairs_equal_pair_by_pair():
    """One stacked covariance for several pairs gives the pairwise values (all kinds)."""
    from cebra_lens_core.analyses.cka import cka_rows_for_pairs

    rng = np.random.default_rng(3)
    T = 240
    train = np.arange(T) < 160
    stores = {
        name: _store([rng.normal(size=(T, 4)) + k, rng.normal(size=(T, 3))], train)
        for k, name in enumerate(["A", "B", "C"])
    }
    pairs = [("A", "A"), ("A", "B"), ("C", "B"), ("B", "C")]
    kinds = ["linear", "debiased", "rbf"]
    grouped = cka_rows_for_pairs(stores, pairs, kinds=kinds, rbf_max_samples=50, seed=1)
    single = pd.concat(
        [
            cka_rows(
                stores[a], stores[b], name_a=a, name_b=b, kinds=kinds, rbf_max_samples=50, seed=1
            )
            for a, b in pairs
        ]
    )
    key = ["model", "other_model", "variant", "layer", "other_layer"]
    g = grouped.set_index(key)["value"].sort_index()
    s = single.set_index(key)["value"].sort_index()
    assert len(g) == len(s) == 4 * 3 * 4
    np.testing.assert_allclose(g.to_numpy(), s.to_numpy(), atol=1e-12)
    with pytest.raises(ValueError, match="not given"):
        cka_rows_for_pairs(stores, [("A", "D")])
