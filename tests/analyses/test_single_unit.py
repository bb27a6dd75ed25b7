"""single_unit_analysis and tuning_curves: η² by hand, tuning curves = condition means."""

from __future__ import annotations

import numpy as np
import pytest

from cebra_lens_core.analyses.single_unit import single_unit_analysis, tuning_curves
from tests.analyses.stores import make_store


def _eta2_by_hand(x, codes):
    """One-way ANOVA: SS_between / SS_total of one unit."""
    grand = x.mean()
    ss_between = sum((codes == c).sum() * (x[codes == c].mean() - grand) ** 2 for c in set(codes))
    return ss_between / ((x - grand) ** 2).sum()


def test_eta_squared_tiny_example():
    codes = np.array([0, 0, 1, 1, 2, 2])
    X = np.column_stack(
        [
            np.array([1.0, 1.0, 4.0, 4.0, 9.0, 9.0]),  # a function of the condition
            np.array([1.0, -1.0, 1.0, -1.0, 1.0, -1.0]),  # same mean in every condition
            np.array([0.0, 1.0, 1.0, 2.0, 2.0, 3.0]),
            np.full(6, 5.0),  # constant
        ]
    )
    eta2 = tuning_curves(X, [codes])[0][1]
    assert eta2[0] == pytest.approx(1.0, abs=1e-14)
    assert eta2[1] == pytest.approx(0.0, abs=1e-14)
    # unit 2: means 0.5, 1.5, 2.5 (grand 1.5): between 2·(1 + 0 + 1) = 4; total 17.5 − 13.5 = 5.5
    assert eta2[2] == pytest.approx(4 / 5.5, abs=1e-14)
    assert np.isnan(eta2[3])
    for u in range(3):
        assert eta2[u] == pytest.approx(_eta2_by_hand(X[:, u], codes), abs=1e-14)


def test_eta_squared_random_unit_is_small():
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 4, 1000)
    X = np.column_stack([codes**2 + 0.1 * rng.normal(size=1000), rng.normal(size=1000)])
    eta2 = tuning_curves(X, [codes])[0][1]
    assert eta2[0] > 0.95
    assert eta2[1] < 0.02  # expectation (C − 1)/(T − 1) ≈ 0.003
    assert eta2[1] == pytest.approx(_eta2_by_hand(X[:, 1], codes), rel=1e-10)
    # a single condition explains nothing
    np.testing.assert_allclose(tuning_curves(X, [np.zeros(1000, dtype=int)])[0][1], 0.0, atol=1e-14)


T, N_TRAIN, N_BINS = 300, 100, 5


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(1)
    pos = rng.uniform(0, 2, T)
    side = (pos > 1).astype(np.int64)
    cls = rng.integers(0, 3, T)
    layers = [
        np.column_stack([pos**2, rng.normal(size=T), 3.0 * cls]),
        rng.normal(size=(T, 2)),
    ]
    labels = {
        "pos": (pos, "continuous"),
        "side": (side, "discrete", ["l", "r"]),
        "cls": (cls, "discrete"),
    }
    store = make_store(layers, np.arange(T) < N_TRAIN, labels)
    return store, layers, {"pos": pos, "side": side, "cls": cls}


def test_tuning_curves_are_condition_means(data):
    store, layers, labels = data
    rows, arrays = single_unit_analysis(store, name="m", n_bins=N_BINS, max_timepoints=50)
    test = slice(N_TRAIN, None)  # default split: test
    pos = labels["pos"]
    edges = np.linspace(pos.min(), pos.max(), N_BINS + 1)
    codes = {
        "pos": np.clip(np.digitize(pos[test], edges) - 1, 0, N_BINS - 1),
        "side": labels["side"][test],
        "cls": labels["cls"][test],
    }
    for name, c in codes.items():
        ids = np.unique(c)
        if name == "pos":
            np.testing.assert_allclose(arrays["tuning/pos/x"], 0.5 * (edges[ids] + edges[ids + 1]))
        else:
            np.testing.assert_array_equal(arrays[f"tuning/{name}/x"], ids)
        for i, X in enumerate(layers):
            Xt = X[test]
            curves = np.stack([Xt[c == k].mean(axis=0) for k in ids])
            tuning = arrays[f"tuning/{name}/layer_{i:02d}"]
            assert tuning.dtype == np.float32
            np.testing.assert_allclose(tuning, curves, rtol=1e-6, atol=1e-6)
            eta2 = arrays[f"eta2/{name}/layer_{i:02d}"]
            expected = [_eta2_by_hand(Xt[:, u], c) for u in range(X.shape[1])]
            np.testing.assert_allclose(eta2, expected, rtol=1e-10)
    # activity: the first max_timepoints rows of the split, float32
    for i, X in enumerate(layers):
        act = arrays[f"activity/layer_{i:02d}"]
        assert act.dtype == np.float32 and act.shape == (50, X.shape[1])
        np.testing.assert_allclose(act, X[N_TRAIN : N_TRAIN + 50], rtol=1e-6)


def test_rows(data):
    store, layers, labels = data
    rows, arrays = single_unit_analysis(store, name="m", labels=["cls", "pos"], n_bins=N_BINS)
    assert set(rows["label"]) == {"cls", "pos"}
    assert len(rows) == 2 * 2 * 2  # labels × layers × (mean, max)
    assert set(rows["metric"]) == {"tuning_eta2_mean", "tuning_eta2_max"}
    assert set(rows["analysis"]) == {"single_unit"} and set(rows["dataset"]) == {"toy"}
    n_units = rows.set_index(["label", "layer", "metric"])["n"]
    assert (
        n_units[("cls", 0, "tuning_eta2_mean")] == 3 and n_units[("cls", 1, "tuning_eta2_max")] == 2
    )
    values = rows.set_index(["label", "layer", "metric"])["value"]
    eta2 = arrays["eta2/cls/layer_00"]
    assert eta2[2] == pytest.approx(1.0, abs=1e-12)  # unit 3·cls is a function of cls
    assert eta2[1] < 0.1
    assert values[("cls", 0, "tuning_eta2_max")] == pytest.approx(1.0, abs=1e-12)
    assert values[("cls", 0, "tuning_eta2_mean")] == pytest.approx(np.mean(eta2), abs=1e-14)
    assert values[("cls", 1, "tuning_eta2_max")] < 0.1  # noise layer
    # pos² is nearly (not exactly) a function of the position bin
    assert arrays["eta2/pos/layer_00"][0] > 0.9
    assert "tuning/side/x" not in arrays  # only the requested labels


def test_unknown_label_refused(data):
    store, _, _ = data
    with pytest.raises(ValueError, match=r"available: \['cls', 'pos', 'side'\]"):
        single_unit_analysis(store, name="m", labels=["speed"])
