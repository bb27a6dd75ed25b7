"""Tests for cebra_lens_core.metrics.decoding: recovery, controls, model selection, errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.linear_model import Ridge, RidgeClassifier
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from cebra_lens_core.metrics.decoding import (
    DECODERS,
    DEFAULT_ALPHAS,
    DEFAULT_K_GRID,
    DecodingResult,
    blocked_folds,
    decode,
    knn_subsample,
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


def _reference_folds(n: int, k: int) -> list[tuple[int, int]]:
    """Fold bounds by the documented formula ``[floor(f n / K), floor((f + 1) n / K))``."""
    edges = [f * n // k for f in range(k + 1)]
    return list(zip(edges[:-1], edges[1:], strict=True))


@pytest.mark.parametrize(("n", "k"), [(10, 2), (11, 3), (2000, 5), (7, 7), (103, 5)])
def test_blocked_folds_are_contiguous_and_cover_each_row_once(n: int, k: int) -> None:
    folds = blocked_folds(n, k)
    assert len(folds) == k and folds[0][0] == 0 and folds[-1][1] == n
    assert all(a[1] == b[0] for a, b in zip(folds[:-1], folds[1:], strict=True))  # in order
    covered = np.concatenate([np.arange(lo, hi) for lo, hi in folds])
    np.testing.assert_array_equal(covered, np.arange(n))  # every row exactly once
    sizes = [hi - lo for lo, hi in folds]
    assert min(sizes) >= 1 and max(sizes) - min(sizes) <= 1
    assert folds == _reference_folds(n, k)


def test_blocked_folds_errors() -> None:
    for bad in (1, 0, True, 2.5):
        with pytest.raises(ValueError, match="n_folds must be an integer >= 2"):
            blocked_folds(10, bad)
    with pytest.raises(ValueError, match="fewer than n_folds=5"):
        blocked_folds(4, 5)


def _brute_cv(
    x: np.ndarray, y: np.ndarray, grid, make, discrete: bool, n_folds: int = 5
) -> np.ndarray:
    """Fold scores by brute force: a fresh sklearn model per (fold, candidate), fitted on
    the other folds' rows. Continuous: ``mean_l (1 − MSE_l / Var_train,l)``."""
    var = y.reshape(len(y), -1).var(axis=0)
    out = np.empty((n_folds, len(grid)))
    for f, (lo, hi) in enumerate(_reference_folds(len(x), n_folds)):
        fit = np.r_[0:lo, hi : len(x)]
        for j, c in enumerate(grid):
            pred = make(c).fit(x[fit], y[fit]).predict(x[lo:hi])
            if discrete:
                out[f, j] = np.mean(pred == y[lo:hi])
            else:
                err = (y[lo:hi] - pred).reshape(hi - lo, -1)
                out[f, j] = np.mean(1.0 - np.mean(err**2, axis=0) / var)
    return out


def _knn(k: int, discrete: bool):
    cls = KNeighborsClassifier if discrete else KNeighborsRegressor
    return cls(n_neighbors=int(k), metric="cosine", algorithm="brute")


def _ridge(alpha: float, discrete: bool):
    est = RidgeClassifier(alpha=alpha) if discrete else Ridge(alpha=alpha)
    return make_pipeline(StandardScaler(), est)


def _cv_data(discrete: bool, seed: int = 0) -> tuple:
    """Small non-linear data (300 training rows) where the hyperparameter matters."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(400, 6))
    if discrete:  # three overlapping classes
        y = (x[:, 0] + 0.5 * x[:, 1] + 0.7 * rng.normal(size=400) > 0).astype(int)
        y = y + (x[:, 2] > 1)
    else:  # two labels decoded jointly
        y = np.c_[
            np.sin(x[:, 0]) + 0.3 * rng.normal(size=400),
            x[:, 1] * x[:, 2] + 0.2 * rng.normal(size=400),
        ]
    return x[:300], y[:300], x[300:], y[300:]


@pytest.mark.parametrize("discrete", [False, True])
@pytest.mark.parametrize("decoder", DECODERS)
def test_cv_choice_equals_brute_force_sklearn_loop(decoder: str, discrete: bool) -> None:
    x_tr, y_tr, x_te, y_te = _cv_data(discrete)
    if decoder == "knn":
        grid, make = (1, 2, 3, 5, 8, 12, 20, 30, 50, 80, 120, 200, 300), _knn
    else:
        grid, make = (1e-3, 0.1, 1.0, 10.0, 100.0, 1e3, 1e4), _ridge
    res = decode(x_tr, y_tr, x_te, y_te, decoder, k_grid=grid, alphas=grid)
    if decoder == "knn":  # 5 folds of 60 rows: a fit has 240 rows, k = 300 is skipped
        np.testing.assert_array_equal(res.grid, grid[:-1])
    else:
        np.testing.assert_array_equal(res.grid, grid)
    assert res.folds == tuple(_reference_folds(300, 5)) and res.n_folds == 5
    expected = _brute_cv(x_tr, y_tr, res.grid, lambda c: make(c, discrete), discrete)
    np.testing.assert_allclose(res.fold_scores, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(res.validation_scores, expected.mean(axis=0), atol=1e-12)
    assert res.param == res.grid[int(np.argmax(expected.mean(axis=0)))]
    assert np.ptp(expected.mean(axis=0)) > 0.01  # the candidates differ: a real choice
    # refit with the chosen value on the whole training split
    final = make(res.param, discrete).fit(x_tr, y_tr).predict(x_te)
    if discrete:
        np.testing.assert_array_equal(res.predictions, final)
    else:
        np.testing.assert_allclose(res.predictions, final, rtol=1e-9, atol=1e-10)
    # chunked reading (the analysis') runs the same selection, with its controls alongside
    streamed = decode(
        x_tr, y_tr, x_te, y_te, decoder, k_grid=grid, alphas=grid, shuffle_seeds=[3], chunk_size=70
    )
    controls = streamed.controls
    np.testing.assert_allclose(streamed.fold_scores, res.fold_scores, rtol=1e-10, atol=1e-12)
    assert streamed.param == res.param
    ctrl = decode(
        x_tr, y_tr, x_te, y_te, decoder, k_grid=grid, alphas=grid, shuffle_labels=True, seed=3
    )
    np.testing.assert_allclose(controls[0].fold_scores, ctrl.fold_scores, rtol=1e-10, atol=1e-12)
    assert controls[0].param == ctrl.param


def test_knn_cap_subsample_is_stratified_by_fold_and_cv_matches_brute_force() -> None:
    x_tr, y_tr, x_te, y_te = _cv_data(False, seed=1)
    rows = knn_subsample(300, 100, seed=4)
    assert len(rows) == 100 and np.array_equal(rows, np.sort(rows))
    for lo, hi in _reference_folds(300, 5):  # 20 rows from every fold
        assert np.sum((rows >= lo) & (rows < hi)) == 20
    np.testing.assert_array_equal(knn_subsample(300, 100, seed=4), rows)
    assert not np.array_equal(knn_subsample(300, 100, seed=5), rows)
    np.testing.assert_array_equal(knn_subsample(300, 300), np.arange(300))
    np.testing.assert_array_equal(knn_subsample(300, None), np.arange(300))
    ks = (1, 3, 5, 9, 15, 25, 50)
    res = decode(x_tr, y_tr, x_te, y_te, "knn", k_grid=ks, knn_max_samples=100, knn_seed=4)
    assert res.n_reference == 100 and res.n_train == 300
    # brute force on the subsample: queries of fold f among the subsample rows of other folds
    fold_of = rows // 60
    var = y_tr.var(axis=0)
    for f in range(5):
        q, r = rows[fold_of == f], rows[fold_of != f]
        for j, k in enumerate(ks):
            pred = _knn(k, False).fit(x_tr[r], y_tr[r]).predict(x_tr[q])
            score = np.mean(1.0 - np.mean((y_tr[q] - pred) ** 2, axis=0) / var)
            assert res.fold_scores[f, j] == pytest.approx(score, abs=1e-12)
    final = _knn(res.param, False).fit(x_tr[rows], y_tr[rows]).predict(x_te)
    np.testing.assert_allclose(res.predictions, final, atol=1e-12)
    with pytest.raises(ValueError, match="knn_max_samples must be an integer >= 5"):
        knn_subsample(300, 4)


@pytest.mark.parametrize("discrete", [False, True])
def test_knn_on_thousands_of_references_equals_sklearn_with_its_controls(discrete: bool) -> None:
    """Enough reference rows for the float32 screen of metrics.neighbours (float32
    activations, as a store holds): fold scores, choice and predictions as sklearn's
    brute force, for the decoding and a shuffled control from the same searches."""
    rng = np.random.default_rng(11)
    n = 7000
    z = rng.uniform(-1, 1, size=(n, 2))
    x = (np.tanh(z @ rng.normal(size=(2, 12))) + 0.3 * rng.normal(size=(n, 12))).astype(np.float32)
    y = (z[:, 0] > 0).astype(int) + (z[:, 1] > 0.5) if discrete else z
    x_tr, y_tr, x_te, y_te = x[:6000], y[:6000], x[6000:], y[6000:]
    ks = (1, 4, 16, 64, 256)
    res = decode(x_tr, y_tr, x_te, y_te, "knn", k_grid=ks, shuffle_seeds=[2])
    expected = _brute_cv(x_tr.astype(np.float64), y_tr, ks, lambda c: _knn(c, discrete), discrete)
    np.testing.assert_allclose(res.fold_scores, expected, rtol=1e-10, atol=1e-12)
    final = _knn(res.param, discrete).fit(x_tr.astype(np.float64), y_tr).predict(x_te)
    control = res.controls[0]
    shuffled = shuffle_training_labels(y_tr, "permutation", seed=2)[0]
    final_control = _knn(control.param, discrete).fit(x_tr.astype(np.float64), shuffled)
    if discrete:
        np.testing.assert_array_equal(res.predictions, final)
        np.testing.assert_array_equal(control.predictions, final_control.predict(x_te))
    else:
        np.testing.assert_allclose(res.predictions, final, atol=1e-12)
        np.testing.assert_allclose(control.predictions, final_control.predict(x_te), atol=1e-12)


def test_cv_prefers_small_k_clean_and_large_k_noisy() -> None:
    x, z = manifold(seed=5, noise=0.0)  # noise-free: the nearest neighbour is best
    clean = decode(*split(x, z), "knn", k_grid=(1, 50))
    assert clean.param == 1
    noisy_y = z + np.random.default_rng(5).normal(scale=0.5, size=len(z))
    noisy = decode(*split(x, noisy_y), "knn", k_grid=(1, 50))
    assert noisy.param == 50


def test_k_larger_than_fit_rows_skipped() -> None:
    x, z = manifold(t=100, seed=7)
    res = decode(x[:40], z[:40], x[40:], z[40:], "knn", k_grid=(1, 3, 50))
    np.testing.assert_array_equal(res.grid, [1, 3])  # 5 folds of 8: a fit has 32 rows
    assert res.param in (1, 3)


def test_ridge_alpha_grid_selection() -> None:
    rng = np.random.default_rng(8)
    x = rng.normal(size=(400, 60))
    y = x[:, 0] + rng.normal(scale=3.0, size=400)  # few samples, many units: shrink
    res = decode(x[:300], y[:300], x[300:], y[300:], "ridge", alphas=[1e-3, 1e3])
    assert res.param == 1e3
    assert res.validation_scores[1] > res.validation_scores[0]


def test_default_grids_are_wide_and_geometric() -> None:
    ks = np.array(DEFAULT_K_GRID)
    assert ks[0] == 1 and ks[-1] >= 300 and np.all(np.diff(ks) > 0)
    assert np.all(ks[1:] / ks[:-1] <= 2.0)
    al = np.array(DEFAULT_ALPHAS)
    assert al[0] <= 1e-6 and al[-1] >= 1e6
    np.testing.assert_allclose(np.diff(np.log10(al)), 1.0)


# ----------------------------------------------------------------------------- grid edges


def _edge_rows(res: DecodingResult) -> dict[str, float]:
    return {name: res.grid_edge for name in res.label_names}


def test_grid_edge_low_for_noiseless_linear_labels() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 8))
    y = x @ rng.normal(size=(8, 2))  # exactly linear: the least penalty fits best
    res = decode(x[:400], y[:400], x[400:], y[400:], "ridge", alphas=(1e-3, 1.0, 1e3))
    assert res.param == 1e-3 and res.validation_scores[0] > res.validation_scores[1]
    assert res.grid_edge == -1
    assert _edge_rows(res) == {"label_0": -1.0, "label_1": -1.0}
    xm, z = manifold(seed=5, noise=0.0)
    clean = decode(*split(xm, z), "knn", k_grid=(1, 50))
    assert clean.param == 1 and clean.grid_edge == -1


def test_grid_edge_high_for_pure_noise_labels() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 8))
    y = rng.normal(size=500)  # nothing to decode: the most shrinkage / smoothing wins
    ridge = decode(x[:400], y[:400], x[400:], y[400:], "ridge", alphas=(1e-3, 1.0, 1e3))
    assert ridge.param == 1e3 and ridge.grid_edge == 1
    knn = decode(x[:400], y[:400], x[400:], y[400:], "knn", k_grid=(1, 5, 25))
    assert knn.param == 25 and knn.grid_edge == 1 and _edge_rows(knn) == {"label_0": 1.0}
    # the edge is relative to the candidates evaluated: 50 > 32 fitting rows is skipped
    small = decode(x[:40], y[:40], x[40:], y[40:], "knn", k_grid=(1, 3, 30, 50))
    np.testing.assert_array_equal(small.grid, [1, 3, 30])
    assert small.param == 30 and small.grid_edge == 1


def test_no_grid_edge_inside_the_grid_on_plateaus_and_single_values() -> None:
    x, z = manifold(t=600, seed=5, noise=0.0)
    zn = z + np.random.default_rng(5).normal(scale=0.1, size=len(z))
    knn = decode(x[:400], zn[:400], x[400:], zn[400:], "knn")
    assert knn.param not in (knn.grid[0], knn.grid[-1]) and knn.grid_edge == 0
    assert _edge_rows(knn) == {"label_0": 0.0}
    rng = np.random.default_rng(8)
    x2 = rng.normal(size=(400, 60))
    y2 = x2[:, 0] + rng.normal(scale=3.0, size=400)
    ridge = decode(x2[:300], y2[:300], x2[300:], y2[300:], "ridge")
    assert ridge.param not in (ridge.grid[0], ridge.grid[-1]) and ridge.grid_edge == 0
    # separable classes: accuracy 1 for every small alpha, the smallest is chosen (ties go
    # to the first candidate) but the plateau reaches into the grid: not an edge
    xb, lab = _blocks(t=600)
    plateau = decode(xb[:400], lab[:400], xb[400:], lab[400:], "ridge")
    assert plateau.param == plateau.grid[0]
    assert plateau.validation_scores[0] == plateau.validation_scores[1] == 1.0
    assert plateau.grid_edge == 0
    single = decode(x[:400], zn[:400], x[400:], zn[400:], "knn", k_grid=(5,))
    assert single.grid_edge == 0


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


def test_unseen_test_classes_warn_and_count_as_errors() -> None:
    x, lab = _blocks(seed=5)
    y_te = lab[N_TRAIN:].copy()
    y_te[:10] = 7
    with pytest.warns(RuntimeWarning, match=r"test classes \[7\] never occur"):
        res = decode(x[:N_TRAIN], lab[:N_TRAIN], x[N_TRAIN:], y_te, "knn")
    assert res.unseen_test_classes == (7,)
    assert res.accuracy <= 1.0 - 10 / len(y_te)


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
        ({}, {"n_folds": 1}, "n_folds must be an integer >= 2"),
        ({}, {"n_folds": 81}, "80 rows, fewer than n_folds=81"),
        ({}, {"knn_max_samples": 4}, "knn_max_samples must be an integer >= 5"),
        ({}, {"k_grid": ()}, "k_grid is empty"),
        ({}, {"k_grid": (0, 3)}, "positive integers"),
        ({}, {"k_grid": (2.5,)}, "positive integers"),
        ({}, {"k_grid": (500,)}, "exceeds the 64 reference rows"),
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
