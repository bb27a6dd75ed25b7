"""dimensionality_analysis: participation ratio per layer on the split, closed forms."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr

from cebra_lens_core.analyses.dimensionality import dimensionality_analysis

T, N_TRAIN = 300, 100


def _store(layers, train):
    data = {
        f"layer_{i:02d}": (("time", f"layer_{i:02d}_unit"), a, {"layer_name": f"l{i}"})
        for i, a in enumerate(layers)
    }
    coords = {"time": np.arange(len(train)), "train": ("time", np.asarray(train, dtype=bool))}
    return xr.Dataset(data, coords=coords, attrs={"dataset_name": "toy"})


def _isotropic(rng, n, d):
    """Centred columns, orthogonal with equal norms: Xcᵀ Xc ∝ I exactly."""
    a = rng.normal(size=(n, d))
    q, _ = np.linalg.qr(a - a.mean(axis=0))
    return 3.0 * q + rng.normal(size=d)


def _pr(X):
    Xc = X - X.mean(axis=0)
    lam = np.linalg.eigvalsh(Xc.T @ Xc)
    return lam.sum() ** 2 / (lam**2).sum()


def _by(rows, metric):
    return rows[rows["metric"] == metric].set_index("layer")["value"]


def test_rank_one_isotropic_and_generic_layers():
    rng = np.random.default_rng(0)
    n_test = T - N_TRAIN
    rank1 = np.outer(rng.normal(size=T), rng.normal(size=7)) + rng.normal(size=7)
    iso = np.vstack([rng.normal(size=(N_TRAIN, 5)) * [1, 10, 1, 1, 1], _isotropic(rng, n_test, 5)])
    generic = rng.normal(size=(T, 6)) * np.arange(1, 7)
    store = _store([rank1, iso, generic], np.arange(T) < N_TRAIN)
    rows = dimensionality_analysis(store, name="m")  # default split: test
    pr = _by(rows, "participation_ratio")
    assert pr[0] == pytest.approx(1.0, abs=1e-9)
    assert pr[1] == pytest.approx(5.0, abs=1e-9)  # exact on the test rows (not on train)
    assert pr[2] == pytest.approx(_pr(generic[N_TRAIN:]), rel=1e-10)
    np.testing.assert_array_equal(_by(rows, "n_units").to_numpy(), [7, 5, 6])
    assert set(rows["n"]) == {n_test} and len(rows) == 6
    assert set(rows["analysis"]) == {"dimensionality"} and set(rows["dataset"]) == {"toy"}
    assert rows[rows["layer"] == 1]["layer_name"].tolist() == ["l1", "l1"]
    # on the training split the stretched unit dominates
    train_pr = _by(dimensionality_analysis(store, name="m", split="train"), "participation_ratio")
    assert train_pr[1] == pytest.approx(_pr(iso[:N_TRAIN]), rel=1e-10)
    assert train_pr[1] < 2.0
    all_pr = _by(dimensionality_analysis(store, name="m", split="all"), "participation_ratio")
    assert all_pr[2] == pytest.approx(_pr(generic), rel=1e-10)


def test_isotropic_gaussian_is_close_to_d():
    rng = np.random.default_rng(1)
    d = 4
    store = _store([rng.normal(size=(4000, d))], np.arange(4000) < 1000)
    pr = _by(dimensionality_analysis(store, name="m"), "participation_ratio")[0]
    assert pr == pytest.approx(d * 3000 / (3000 + d), abs=0.1)


def test_constant_layer_gives_nan_without_warning():
    rng = np.random.default_rng(2)
    store = _store([np.ones((50, 3)), rng.normal(size=(50, 2))], np.arange(50) < 20)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pr = _by(dimensionality_analysis(store, name="m"), "participation_ratio")
    assert np.isnan(pr[0]) and np.isfinite(pr[1])
