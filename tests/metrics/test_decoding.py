"""Tests for cebra_lens_core.metrics.decoding: recovery, controls, model selection, errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

from cebra_lens_core.metrics.decoding import (
    DECODERS,
    DecodingResult,
    decode,
    shuffle_training_labels,
)

N_TRAIN = 2000


def reflecting_walk(t: int, step: float, seed: int) -> np.ndarray:
    """Random walk reflected into [0, 1] (like position on a linear track), aperiodic."""
    rng = np.random.default_rng(seed)
    z = np.cumsum(rng.normal(scale=step, size=t)) + 0.5
    z = np.mod(z, 2.0)
    return np.where(z > 1.0, 2.0 - z, z)


def manifold(
    t: int = 3000, d: int = 12, seed: int = 0, noise: float = 0.02
) -> tuple[np.ndarray, np.ndarray]:
    """A smooth non-linear 1-D manifold in d units, parametrised by the walk (the label)."""
    rng = np.random.default_rng(seed)
    z = reflecting_walk(t, 0.08, seed)
    feats = np.c_[np.cos(np.pi * z), np.sin(np.pi * z), np.cos(2 * np.pi * z), z**2]
    x = feats @ rng.normal(size=(4, d)) + noise * rng.normal(size=(t, d))
    return x, z


def split(x: np.ndarray, y: np.ndarray, n: int = N_TRAIN) -> tuple:
    return x[:n], y[:n], x[n:], y[n:]


# ----------------------------------------------------------------------------- continuous


def test_ridge_recovers_linear_label_and_fails_on_control() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3000, 10))
    y = x @ rng.normal(size=10) + 0.1 * rng.normal(size=3000)
    res = decode(*split(x, y), "ridge", label_names=["position"])
    assert isinstance(res, DecodingResult)
    assert res.kind == "continuous" and res.decoder == "ridge" and res.param_name == "alpha"
    assert res.r2[0] > 0.95 and res.mean_r2 == pytest.approx(res.r2[0])
    assert res.param in res.grid
    for method in (True, "permutation", "circular"):
        ctrl = decode(*split(x, y), "ridge", shuffle_labels=method, seed=3)
        assert ctrl.shuffled and ctrl.r2[0] <= 0.1


def test_knn_recovers_smooth_manifold_and_fails_on_control() -> None:
    x, z = manifold()
    res = decode(*split(x, z), "knn")
    assert res.param_name == "k" and isinstance(res.param, int)
    assert res.r2[0] > 0.9
    assert res.median_abs_error[0] < 0.05  # label in [0, 1]
    perm = decode(*split(x, z), "knn", shuffle_labels=True, seed=0)
    assert perm.shuffle == "permutation" and perm.r2[0] <= 0.1
    circ = decode(*split(x, z), "knn", shuffle_labels="circular", seed=0)
    assert circ.shuffle == "circular" and circ.r2[0] <= 0.1
    assert N_TRAIN // 10 <= circ.shuffle_offset <= N_TRAIN - N_TRAIN // 10


def test_ridge_on_nonlinear_manifold_below_knn() -> None:
    x, z = manifold(seed=2)
    knn = decode(*split(x, z), "knn")
    ridge = decode(*split(x, z), "ridge")
    assert knn.r2[0] > 0.9 and ridge.r2[0] > 0.5


def test_multiple_continuous_labels_decoded_jointly_metrics_per_label() -> None:
    x, z = manifold(seed=3)
    noise = np.random.default_rng(3).normal(size=len(z))
    y = np.c_[z, noise]
    for decoder in DECODERS:
        res = decode(*split(x, y), decoder, label_names=("position", "noise"))
        assert res.label_names == ("position", "noise")
        assert res.r2.shape == (2,) and res.median_abs_error.shape == (2,)
        assert res.r2[0] > 0.9 if decoder == "knn" else res.r2[0] > 0.5
        assert res.r2[1] < 0.05
        assert res.mean_r2 == pytest.approx(res.r2.mean())
        assert res.predictions.shape == (len(z) - N_TRAIN, 2)


def test_median_abs_error_and_r2_hand_checked() -> None:
    """k = 1 on distinct directions: each test row copies a training row, so ŷ is known."""
    angles = np.linspace(0.0, np.pi / 2, 10)
    x_train = np.c_[np.cos(angles), np.sin(angles)]
    y_train = np.arange(10.0)  # label of direction i is i
    pick = np.array([1, 3, 5, 7, 8])
    x_test = 2.0 * x_train[pick]  # cosine distance ignores the norm
    errors = np.array([0.0, 1.0, 3.0, -2.0, 10.0])
    y_test = y_train[pick] + errors
    res = decode(x_train, y_train, x_test, y_test, "knn", k_grid=(1,))
    np.testing.assert_allclose(res.predictions, y_train[pick])
    assert res.median_abs_error[0] == pytest.approx(2.0)  # median of 0, 1, 3, 2, 10
    ss_res = np.sum(errors**2)
    ss_tot = np.sum((y_test - y_test.mean()) ** 2)
    assert res.r2[0] == pytest.approx(1.0 - ss_res / ss_tot)
    assert res.predictions.shape == y_test.shape  # 1-D in, 1-D out


# ----------------------------------------------------------------------------- model selection


def _manual_knn_scores(x: np.ndarray, y: np.ndarray, ks: list[int], frac: float) -> np.ndarray:
    n_val = int(np.floor(frac * len(x)))
    n_fit = len(x) - n_val
    var = y.var()
    out = []
    for k in ks:
        pred = KNeighborsRegressor(n_neighbors=k, metric="cosine", algorithm="brute")
        pred = pred.fit(x[:n_fit], y[:n_fit]).predict(x[n_fit:])
        out.append(1.0 - np.mean((y[n_fit:] - pred) ** 2) / var)
    return np.array(out)


def test_k_chosen_on_contiguous_validation_tail() -> None:
    x, z = manifold(seed=4)
    x_tr, y_tr, x_te, y_te = split(x, z)
    ks = (1, 3, 5, 9, 15, 25, 50)
    res = decode(x_tr, y_tr, x_te, y_te, "knn", k_grid=ks, validation_fraction=0.25)
    assert res.n_validation == 500 and res.n_fit == 1500 and res.n_train == 2000
    np.testing.assert_array_equal(res.grid, ks)
    expected = _manual_knn_scores(x_tr, y_tr, list(ks), 0.25)
    np.testing.assert_allclose(res.validation_scores, expected, atol=1e-12)
    assert res.param == ks[int(np.argmax(expected))]
    # deterministic
    again = decode(x_tr, y_tr, x_te, y_te, "knn", k_grid=ks, validation_fraction=0.25)
    assert again.param == res.param
    np.testing.assert_array_equal(again.predictions, res.predictions)


def test_validation_tail_prefers_small_k_clean_and_large_k_noisy() -> None:
    x, z = manifold(seed=5, noise=0.0)  # noise-free: the nearest neighbour is best
    clean = decode(*split(x, z), "knn", k_grid=(1, 50))
    assert clean.param == 1
    noisy_y = z + np.random.default_rng(5).normal(scale=0.5, size=len(z))
    noisy = decode(*split(x, noisy_y), "knn", k_grid=(1, 50))
    assert noisy.param == 50


def test_only_the_tail_is_used_for_selection() -> None:
    """Labels before the tail are clean, labels in the tail pure noise: the tail decides."""
    x, z = manifold(seed=6, noise=0.0)
    x_tr, y_tr, x_te, y_te = split(x, z)
    y_tr = y_tr.copy()
    y_tr[-400:] = np.random.default_rng(6).uniform(size=400)  # tail = last 20 %
    res = decode(x_tr, y_tr, x_te, y_te, "knn", k_grid=(1, 50))
    assert res.param == 50  # noise in the tail rewards heavy smoothing
    clean = decode(x_tr[:-400], z[:1600], x_te, y_te, "knn", k_grid=(1, 50))
    assert clean.param == 1


def test_k_larger_than_fit_rows_skipped() -> None:
    x, z = manifold(t=100, seed=7)
    res = decode(x[:40], z[:40], x[40:], z[40:], "knn", k_grid=(1, 3, 50))
    np.testing.assert_array_equal(res.grid, [1, 3])  # 32 fitting rows
    assert res.param in (1, 3)


def test_ridge_alpha_grid_selection() -> None:
    rng = np.random.default_rng(8)
    x = rng.normal(size=(400, 60))
    y = x[:, 0] + rng.normal(scale=3.0, size=400)  # few samples, many units: shrink
    res = decode(x[:300], y[:300], x[300:], y[300:], "ridge", alphas=[1e-3, 1e3])
    assert res.param == 1e3
    assert res.validation_scores[1] > res.validation_scores[0]


# ----------------------------------------------------------------------------- discrete


def _blocks(t: int = 3000, seed: int = 0, sep: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = (np.arange(t) // 50) % 2  # alternating blocks of 50 samples
    centres = rng.normal(size=(2, 8))
    centres *= sep / np.linalg.norm(centres[0] - centres[1])
    x = centres[labels] + 0.3 * rng.normal(size=(t, 8)) + 5.0  # offset: cosine still works
    return x, labels.astype(np.int64)


@pytest.mark.parametrize("decoder", DECODERS)
def test_discrete_separable_classes_and_control(decoder: str) -> None:
    x, lab = _blocks()
    res = decode(*split(x, lab), decoder)
    assert res.kind == "discrete" and res.r2 is None and res.mean_r2 is None
    assert res.accuracy > 0.98
    assert res.chance_level == pytest.approx(0.5)
    np.testing.assert_array_equal(res.classes, [0, 1])
    ctrl = decode(*split(x, lab), decoder, shuffle_labels=True, seed=1)
    assert ctrl.chance_level == res.chance_level  # shuffling keeps class frequencies
    if decoder == "knn":
        assert abs(ctrl.accuracy - ctrl.chance_level) < 0.1
    else:
        # A linear classifier fitted to permuted labels cuts the two clusters by a random
        # hyperplane: one draw scatters widely (0 to 0.83 here), the mean over draws is chance.
        accs = [
            decode(*split(x, lab), decoder, shuffle_labels=True, seed=s).accuracy for s in range(10)
        ]
        assert abs(np.mean(accs) - 0.5) < 0.1


def test_circular_control_is_not_a_null_for_periodic_labels() -> None:
    """Documented caveat: alternating blocks shifted circularly stay (anti-)aligned."""
    x, lab = _blocks()
    accs = [
        decode(*split(x, lab), "knn", shuffle_labels="circular", seed=s).accuracy for s in range(4)
    ]
    assert max(abs(a - 0.5) for a in accs) > 0.4


def test_discrete_chance_level_and_majority_hand_checked() -> None:
    x, lab = _blocks(t=1000, seed=2)
    y_tr = np.r_[np.zeros(560, int), np.ones(240, int)]  # 70 % class 0
    res = decode(x[:800], y_tr, x[800:], lab[800:], "knn")
    assert res.chance_level == pytest.approx(0.7)
    assert res.majority_accuracy == pytest.approx(np.mean(lab[800:] == 0))


def test_discrete_string_labels_and_explicit_kind() -> None:
    x, lab = _blocks(seed=3)
    names = np.array(["left", "right"])[lab]
    res = decode(*split(x, names), "knn")
    assert res.kind == "discrete" and res.accuracy > 0.98
    assert set(res.predictions) <= {"left", "right"}
    # float codes decoded as classes when told so
    res_f = decode(*split(x, lab.astype(float)), "ridge", kind="discrete")
    assert res_f.kind == "discrete" and res_f.accuracy > 0.98


def test_knn_validation_matches_sklearn_classifier() -> None:
    x, lab = _blocks(seed=4, sep=0.4)  # overlapping classes: k matters
    x_tr, y_tr, x_te, y_te = split(x, lab)
    ks = (1, 3, 5, 9, 15, 25, 50)
    res = decode(x_tr, y_tr, x_te, y_te, "knn", k_grid=ks)
    n_fit = res.n_fit
    manual = [
        np.mean(
            KNeighborsClassifier(n_neighbors=k, metric="cosine", algorithm="brute")
            .fit(x_tr[:n_fit], y_tr[:n_fit])
            .predict(x_tr[n_fit:])
            == y_tr[n_fit:]
        )
        for k in ks
    ]
    np.testing.assert_allclose(res.validation_scores, manual)


def test_unseen_test_classes_warn_and_count_as_errors() -> None:
    x, lab = _blocks(seed=5)
    y_te = lab[N_TRAIN:].copy()
    y_te[:10] = 7
    with pytest.warns(RuntimeWarning, match=r"test classes \[7\] never occur"):
        res = decode(x[:N_TRAIN], lab[:N_TRAIN], x[N_TRAIN:], y_te, "knn")
    assert res.unseen_test_classes == (7,)
    assert res.accuracy <= 1.0 - 10 / len(y_te)


def test_records() -> None:
    x, z = manifold(t=600, seed=9)
    res = decode(x[:400], z[:400], x[400:], z[400:], "knn", label_names=["position"])
    rec = {(r["metric"], r["label"]): r["value"] for r in res.records()}
    assert rec[("r2", "position")] == pytest.approx(res.r2[0])
    assert rec[("mean_r2", "position")] == pytest.approx(res.mean_r2)
    assert rec[("median_abs_error", "position")] == pytest.approx(res.median_abs_error[0])
    assert rec[("k", "position")] == res.param
    assert all(r["n"] == 200 for r in res.records())
    xd, lab = _blocks(t=600)
    dres = decode(xd[:400], lab[:400], xd[400:], lab[400:], "ridge")
    drec = {r["metric"]: r["value"] for r in dres.records()}
    assert set(drec) == {"accuracy", "chance_level", "majority_accuracy", "alpha"}


def test_no_warnings_for_good_data() -> None:
    x, z = manifold(t=600, seed=10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for decoder in DECODERS:
            decode(x[:400], z[:400], x[400:], z[400:], decoder, shuffle_labels=True)


# ----------------------------------------------------------------------------- shuffling


def test_shuffle_training_labels() -> None:
    y = np.arange(100)
    circ, offset = shuffle_training_labels(y, "circular", seed=4)
    assert 10 <= offset <= 90
    np.testing.assert_array_equal(circ, np.roll(y, offset))
    again, offset2 = shuffle_training_labels(y, "circular", seed=4)
    assert offset2 == offset and np.array_equal(again, circ)
    perm, none = shuffle_training_labels(y, "permutation", seed=4)
    assert none is None and not np.array_equal(perm, y)
    np.testing.assert_array_equal(np.sort(perm), y)
    y2 = np.c_[y, -y]
    perm2, _ = shuffle_training_labels(y2, seed=1)
    np.testing.assert_array_equal(perm2[:, 1], -perm2[:, 0])  # rows move together
    with pytest.raises(ValueError, match="valid methods"):
        shuffle_training_labels(y, "reverse")
    with pytest.raises(ValueError, match="at least 2"):
        shuffle_training_labels(y[:1])


def test_control_only_changes_training_labels() -> None:
    x, z = manifold(t=600, seed=11)
    a = decode(x[:400], z[:400], x[400:], z[400:], "knn", shuffle_labels=True, seed=5)
    b = decode(x[:400], z[:400], x[400:], z[400:], "knn", shuffle_labels=True, seed=5)
    c = decode(x[:400], z[:400], x[400:], z[400:], "knn", shuffle_labels=True, seed=6)
    np.testing.assert_array_equal(a.predictions, b.predictions)
    assert not np.array_equal(a.predictions, c.predictions)


# ----------------------------------------------------------------------------- errors


def _ok() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    x, z = manifold(t=100, seed=12)
    return x[:80], z[:80], x[80:], z[80:]


@pytest.mark.parametrize(
    ("change", "kwargs", "match"),
    [
        ({"y_train": np.zeros(79)}, {}, "X_train has 80 rows but y_train has 79"),
        ({"y_test": np.zeros(19)}, {}, "X_test has 20 rows but y_test has 19"),
        ({"X_train": np.full((80, 12), np.nan)}, {}, "X_train contains NaN or inf"),
        ({"X_test": np.full((20, 12), np.inf)}, {}, "X_test contains NaN or inf"),
        ({"y_train": np.full(80, np.nan)}, {}, "y_train contains NaN or inf"),
        ({"y_test": np.full(20, np.inf)}, {}, "y_test contains NaN or inf"),
        (
            {"X_train": np.zeros((0, 12)), "y_train": np.zeros(0)},
            {},
            "training split is empty",
        ),
        ({"X_test": np.zeros((0, 12)), "y_test": np.zeros(0)}, {}, "test split is empty"),
        ({"X_train": np.zeros(80)}, {}, "X_train must be 2-D"),
        ({"X_test": np.zeros((20, 3))}, {}, "X_train has 12 units .* X_test has 3"),
        ({"y_test": np.zeros((20, 2))}, {}, "y_train has 1 label column.* y_test has 2"),
        ({"y_train": np.ones(80)}, {}, r"constant on the training split"),
        ({}, {"decoder": "svm"}, "unknown decoder 'svm'; valid decoders: 'knn', 'ridge'"),
        ({}, {"kind": "ordinal"}, "unknown label kind 'ordinal'"),
        ({}, {"shuffle_labels": "reverse"}, "shuffle_labels must be"),
        ({}, {"validation_fraction": 0.0}, "validation_fraction"),
        ({}, {"validation_fraction": 0.001}, "validation tail is empty"),
        ({}, {"k_grid": ()}, "k_grid is empty"),
        ({}, {"k_grid": (0, 3)}, "positive integers"),
        ({}, {"k_grid": (2.5,)}, "positive integers"),
        ({}, {"k_grid": (500,)}, "exceeds the 64 fitting rows"),
        ({}, {"decoder": "ridge", "alphas": ()}, "alphas is empty"),
        ({}, {"decoder": "ridge", "alphas": (-1.0,)}, "positive finite"),
        ({}, {"label_names": ["a", "b"]}, "2 label_names for 1 label"),
    ],
)
def test_decode_errors(change: dict, kwargs: dict, match: str) -> None:
    x_tr, y_tr, x_te, y_te = _ok()
    args = {"X_train": x_tr, "y_train": y_tr, "X_test": x_te, "y_test": y_te, **change}
    with pytest.raises(ValueError, match=match):
        decode(**args, **kwargs)


def test_discrete_errors() -> None:
    x_tr, _, x_te, _ = _ok()
    with pytest.raises(ValueError, match="single class"):
        decode(x_tr, np.zeros(80, int), x_te, np.r_[np.zeros(10, int), np.ones(10, int)])
    with pytest.raises(ValueError, match="decode each discrete label separately"):
        decode(x_tr, np.zeros((80, 2), int), x_te, np.zeros((20, 2), int))
    with pytest.raises(ValueError, match="continuous labels must be numeric"):
        decode(x_tr, np.array(["a", "b"] * 40), x_te, np.array(["a"] * 20), kind="continuous")


def test_constant_test_label_gives_nan_r2_with_warning() -> None:
    x_tr, y_tr, x_te, _ = _ok()
    with pytest.warns(RuntimeWarning, match="constant on the test split"):
        res = decode(x_tr, y_tr, x_te, np.full(20, 0.5), "ridge")
    assert np.isnan(res.r2[0]) and np.isnan(res.mean_r2)
    assert res.median_abs_error[0] >= 0.0
