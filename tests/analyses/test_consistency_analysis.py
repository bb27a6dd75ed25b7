"""consistency_analysis between runs, layer by layer, against sklearn's LinearRegression."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from sklearn.linear_model import LinearRegression

from cebra_lens_core.analyses.consistency import consistency_analysis

T, N_TRAIN = 300, 100


def _store(layers, train, time=None):
    data = {
        f"layer_{i:02d}": (("time", f"layer_{i:02d}_unit"), a, {"layer_name": f"l{i}"})
        for i, a in enumerate(layers)
    }
    time = np.arange(len(train)) if time is None else time
    coords = {"time": time, "train": ("time", np.asarray(train, dtype=bool))}
    return xr.Dataset(data, coords=coords, attrs={"dataset_name": "toy"})


def _sk_r2(a, b):
    """CEBRA's consistency score: in-sample R² of a linear regression a → b (uniform average)."""
    return LinearRegression().fit(a, b).score(a, b)


@pytest.fixture(scope="module")
def runs():
    rng = np.random.default_rng(0)
    train = np.arange(T) < N_TRAIN
    a = [rng.normal(size=(T, 4)), rng.normal(size=(T, 3))]
    # run B: an invertible linear (affine) map of run A, layer by layer
    maps = [rng.normal(size=(4, 4)) + 3 * np.eye(4), rng.normal(size=(3, 3)) + 3 * np.eye(3)]
    b = [x @ m + rng.normal(size=m.shape[1]) for x, m in zip(a, maps, strict=True)]
    c = [rng.normal(size=(T, 4)), rng.normal(size=(T, 3))]  # independent noise
    return {"A": _store(a, train), "B": _store(b, train), "C": _store(c, train)}, (a, b, c)


def _matrix(rows, layer):
    sub = rows[rows["layer"] == layer]
    return {(r.model, r.other_model): r.value for r in sub.itertuples()}


def test_linear_map_scores_one_both_ways_noise_scores_small(runs):
    stores, (a, b, c) = runs
    rows = consistency_analysis(stores)
    assert len(rows) == 2 * 6  # layers × ordered pairs
    assert set(rows["metric"]) == {"r2"} and set(rows["variant"]) == {"linear"}
    assert set(rows["analysis"]) == {"consistency"} and set(rows["dataset"]) == {"toy"}
    assert set(rows["n"]) == {T - N_TRAIN}
    assert (rows["layer"] == rows["other_layer"]).all()
    for layer in (0, 1):
        m = _matrix(rows, layer)
        assert set(m) == {(x, y) for x in "ABC" for y in "ABC" if x != y}
        assert m[("A", "B")] == pytest.approx(1.0, abs=1e-10)
        assert m[("B", "A")] == pytest.approx(1.0, abs=1e-10)
        for pair in (("A", "C"), ("C", "A"), ("B", "C"), ("C", "B")):
            assert 0.0 <= m[pair] < 0.1
        runs_ = {"A": a, "B": b, "C": c}
        for (x, y), value in m.items():
            ref = _sk_r2(runs_[x][layer][N_TRAIN:], runs_[y][layer][N_TRAIN:])
            assert value == pytest.approx(ref, abs=1e-10)
    assert rows[rows["layer"] == 1]["layer_name"].unique().tolist() == ["l1"]


def test_split_choice(runs):
    stores, (a, _, c) = runs
    rows = consistency_analysis({"A": stores["A"], "C": stores["C"]}, split="train")
    assert set(rows["n"]) == {N_TRAIN}
    m = _matrix(rows, 0)
    assert m[("A", "C")] == pytest.approx(_sk_r2(a[0][:N_TRAIN], c[0][:N_TRAIN]), abs=1e-10)


def test_projection_is_asymmetric():
    rng = np.random.default_rng(1)
    train = np.arange(T) < N_TRAIN
    x = rng.normal(size=(T, 3))
    rows = consistency_analysis({"full": _store([x], train), "proj": _store([x[:, :1]], train)})
    m = _matrix(rows, 0)
    assert m[("full", "proj")] == pytest.approx(1.0, abs=1e-10)
    assert m[("proj", "full")] == pytest.approx(_sk_r2(x[N_TRAIN:, :1], x[N_TRAIN:]), abs=1e-10)
    assert m[("proj", "full")] < 0.5


def test_refusals(runs):
    stores, (a, _, _) = runs
    with pytest.raises(ValueError, match="at least 2 runs"):
        consistency_analysis({"A": stores["A"]})
    with pytest.raises(ValueError, match="at least 2 runs"):
        consistency_analysis({})
    train = np.arange(T) < N_TRAIN
    shifted = _store(a, train, time=np.arange(T) + 1)
    with pytest.raises(ValueError, match="same time points"):
        consistency_analysis({"A": stores["A"], "S": shifted})
    shorter = _store([x[:-10] for x in a], train[:-10])
    with pytest.raises(ValueError, match="same time points"):
        consistency_analysis({"A": stores["A"], "S": shorter})
    one_layer = _store(a[:1], train)
    with pytest.raises(ValueError, match="different layers"):
        consistency_analysis({"A": stores["A"], "L": one_layer})


def test_small_units_are_kept_only_constant_units_dropped_and_logged(caplog):
    """R² does not depend on a unit's scale: a unit 1e-9 of the largest is scored like any
    other (it used to be dropped below 1e-12 of the largest variance); a truly constant unit
    is dropped and the warning naming it reaches the job log."""
    rng = np.random.default_rng(3)
    train = np.ones(T, dtype=bool)
    a = rng.normal(size=(T, 3))
    target = a @ rng.normal(size=(3, 3))
    target[:, 1] = 1e-9 * (a[:, 0] + 0.5 * rng.normal(size=T))  # tiny, partly predictable
    with_constant = np.column_stack([target, np.full(T, 2.5)])
    stores = {"A": _store([a], train), "B": _store([with_constant], train)}
    with caplog.at_level("WARNING", logger="cebra_lens_core"):
        rows = consistency_analysis(stores, split="all")
    value = _matrix(rows, 0)[("A", "B")]
    assert value == pytest.approx(_sk_r2(a, target), rel=1e-6)  # 3 units, the tiny one included
    assert any("constant columns (3)" in r.getMessage() for r in caplog.records)
