"""Tests for cebra_lens_core.metrics.shape against brute force on the raw T × d rows.

The references below are written from the paper's definition (Williams et al. 2021) and from
netrep's formulas, independently of the module: whitening by a matrix square root of the
covariance, zero padding to a common width, Procrustes by ``scipy.linalg.orthogonal_procrustes``,
and the scores taken on the explicitly transformed rows.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy.linalg import orthogonal_procrustes, sqrtm
from scipy.stats import ortho_group

from cebra_lens_core.metrics.cka import stacked_covariance
from cebra_lens_core.metrics.shape import (
    EIGENVALUE_FLOOR,
    FORMS,
    ShapeFit,
    scatter_about,
    shape_distance,
    shape_distance_matrix,
    shape_distances_from_covariance,
    whitening_matrix,
)

ALPHAS = [0.0, 0.3, 1.0]


# ----------------------------------------------------------------------------- references


def _whiten(xc: np.ndarray, alpha: float) -> np.ndarray:
    """(α I + (1 − α) Xcᵀ Xc / T)^(−1/2) by a matrix square root and an inverse."""
    c = xc.T @ xc / len(xc)
    root = np.real(sqrtm(alpha * np.eye(len(c)) + (1.0 - alpha) * c))
    return np.linalg.inv(root)


def _pad(z: np.ndarray, width: int) -> np.ndarray:
    return np.hstack([z, np.zeros((len(z), width - z.shape[1]))])


def brute(xtr, ytr, xte=None, yte=None, alpha=1.0) -> dict[str, float]:
    """The definition on the rows: centre, whiten, zero-pad, Procrustes on train, score."""
    mx, my = xtr.mean(axis=0), ytr.mean(axis=0)
    wx, wy = _whiten(xtr - mx, alpha), _whiten(ytr - my, alpha)
    width = max(xtr.shape[1], ytr.shape[1])
    a = _pad((xtr - mx) @ wx, width)
    b = _pad((ytr - my) @ wy, width)
    q, _ = orthogonal_procrustes(b, a)  # argmin ||b q − a||_F over orthogonal q
    if xte is None:
        xte, yte = xtr, ytr
    at = _pad((xte - mx) @ wx, width)
    bt = _pad((yte - my) @ wy, width) @ q
    cos = np.sum(at * bt) / (np.linalg.norm(at) * np.linalg.norm(bt))
    return {
        "angular": float(np.arccos(np.clip(cos, -1.0, 1.0))),
        "euclidean": float(np.linalg.norm(at - bt) / math.sqrt(len(at))),
    }


def netrep_fit_score(x: np.ndarray, y: np.ndarray, alpha: float) -> dict[str, float]:
    """netrep's LinearMetric(alpha, center_columns=True, zero_pad=True).fit_score, re-typed
    from its formulas: pad before whitening, ``whiten(..., preserve_variance=True)`` on the
    scatter with an absolute eigenvalue floor 1e-7, SVD alignment, unnormalised scores."""
    width = max(x.shape[1], y.shape[1])
    x, y = _pad(x, width), _pad(y, width)

    def whiten(xc):
        if alpha > 1 - 1e-7:
            return xc
        lam, v = np.linalg.eigh(xc.T @ xc)
        lam = np.maximum(lam, 1e-7)
        d = alpha + (1 - alpha) * lam**-0.5
        new_var = np.sum(alpha**2 * lam + 2 * alpha * (1 - alpha) * lam**0.5 + (1 - alpha) ** 2)
        d *= np.sqrt(np.sum(lam) / new_var)
        return xc @ ((v * d) @ v.T)

    xw, yw = whiten(x - x.mean(axis=0)), whiten(y - y.mean(axis=0))
    u, _, vt = np.linalg.svd(xw.T @ yw)
    tx, ty = xw @ u, yw @ vt.T
    cos = np.sum(tx * ty) / (np.linalg.norm(tx) * np.linalg.norm(ty))
    return {
        "angular": float(np.arccos(np.clip(cos, -1, 1))),
        "euclidean": float(np.linalg.norm(tx - ty)),
    }


def related(rng, t, dx, dy, noise=0.5, shift=0.0):
    """X random with unequal variances; Y a random linear map of X plus noise."""
    x = rng.normal(size=(t, dx)) * rng.uniform(0.5, 2.0, size=dx) + shift
    y = x @ rng.normal(size=(dx, dy)) + noise * rng.normal(size=(t, dy)) - 2.0 * shift
    return x, y


def split(x, y, n_train):
    return x[:n_train], y[:n_train], x[n_train:], y[n_train:]


class LazyRows:
    """A zarr-like layer: ``.shape``, ``.dtype`` and row slices only; records the largest read."""

    def __init__(self, a: np.ndarray):
        self._a = np.asarray(a)
        self.shape = self._a.shape
        self.dtype = self._a.dtype
        self.max_rows = 0

    def __getitem__(self, key):
        if not isinstance(key, slice):
            raise TypeError("LazyRows supports row slices only")
        out = self._a[key]
        self.max_rows = max(self.max_rows, len(out))
        return out.copy()


# ----------------------------------------------------------------------------- brute force

SHAPES = [(60, 5, 5), (80, 3, 7), (90, 8, 4), (40, 1, 3)]


@pytest.mark.parametrize("t,dx,dy", SHAPES)
@pytest.mark.parametrize("alpha", ALPHAS)
@pytest.mark.parametrize("held_out", [False, True])
def test_matches_brute_force(t, dx, dy, alpha, held_out):
    rng = np.random.default_rng(t + 10 * dx + dy)
    x, y = related(rng, t + 30, dx, dy)
    x[t:] += 0.7  # the test rows have other means than the training rows
    xtr, ytr, xte, yte = split(x, y, t)
    if not held_out:
        xte = yte = None
    ref = brute(xtr, ytr, xte, yte, alpha)
    for form in FORMS:
        got = shape_distance(xtr, ytr, xte, yte, alpha=alpha, form=form)
        assert abs(got - ref[form]) < 1e-8, (form, got, ref[form])


@pytest.mark.parametrize("alpha", [0.0, 1.0])
@pytest.mark.parametrize("dx,dy", [(6, 6), (4, 7), (7, 3)])
def test_matches_netrep_conventions(alpha, dx, dy):
    """Angular equals netrep at alpha in {0, 1}; euclidean equals netrep's / sqrt(T) at 1."""
    rng = np.random.default_rng(dx * dy)
    x, y = related(rng, 120, dx, dy, shift=3.0)
    ref = netrep_fit_score(x, y, alpha)
    got = shape_distance_matrix([x], [y], alpha=alpha)
    assert abs(got["angular"][0, 0] - ref["angular"]) < 1e-8
    if alpha == 1.0:
        assert abs(got["euclidean"][0, 0] * math.sqrt(len(x)) - ref["euclidean"]) < 1e-8


@pytest.mark.parametrize("dx,dy", [(3, 7), (7, 3)])
def test_unequal_widths_partial_isometry_equals_zero_padding(dx, dy):
    """The thin SVD of the dx × dy cross-moment is the zero-padded square Procrustes."""
    rng = np.random.default_rng(5)
    x, y = related(rng, 100, dx, dy)
    a, b = x - x.mean(axis=0), y - y.mean(axis=0)
    u, s, vt = np.linalg.svd(a.T @ b, full_matrices=False)  # dx × dy
    width = max(dx, dy)
    q_pad, _ = orthogonal_procrustes(_pad(b, width), _pad(a, width))
    # the padded optimum acts on Y's real columns exactly as the partial isometry V Uᵀ
    np.testing.assert_allclose(_pad(b, width) @ q_pad[:, :dx], b @ (u @ vt).T, atol=1e-9)
    inner = np.sum(_pad(a, width) * (_pad(b, width) @ q_pad))
    np.testing.assert_allclose(inner, s.sum(), rtol=1e-12)
    # the score uses the full norm ||Ỹ|| (= ||Ỹ Q_pad||), not ||Ỹ V Uᵀ||
    theta = math.acos(s.sum() / (np.linalg.norm(a) * np.linalg.norm(b)))
    assert abs(shape_distance(x, y) - theta) < 1e-10
    if dy > dx:
        assert np.linalg.norm(b @ (vt.T @ u.T)) < np.linalg.norm(b) - 1e-3


def test_whitening_matrix_formula():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(200, 5)) * [1.0, 2.0, 0.5, 3.0, 1.5]
    c = np.cov(z, rowvar=False, bias=True)
    np.testing.assert_array_equal(whitening_matrix(c, 1.0), np.eye(5))
    w0 = whitening_matrix(c, 0.0)
    np.testing.assert_allclose(w0 @ c @ w0, np.eye(5), atol=1e-10)
    w = whitening_matrix(c, 0.3)
    np.testing.assert_allclose(np.linalg.inv(w @ w), 0.3 * np.eye(5) + 0.7 * c, atol=1e-10)
    np.testing.assert_allclose(w, w.T, atol=1e-14)


def test_scatter_about_training_means():
    rng = np.random.default_rng(1)
    layers = [rng.normal(size=(50, 3)) + 2.0, rng.normal(size=(50, 2)) - 1.0]
    cov = stacked_covariance(layers)
    centre = rng.normal(size=5)
    z = np.hstack(layers) - centre
    np.testing.assert_allclose(scatter_about(cov, centre), z.T @ z, rtol=1e-12, atol=1e-10)


# ----------------------------------------------------------------------------- closed forms


@pytest.mark.parametrize("alpha", ALPHAS)
def test_identical_inputs_give_zero(alpha):
    rng = np.random.default_rng(2)
    x, _ = related(rng, 150, 6, 6)
    for form in FORMS:
        assert shape_distance(x, x, alpha=alpha, form=form) < 1e-6
        assert shape_distance(x[:100], x[:100], x[100:], x[100:], alpha=alpha, form=form) < 1e-6
    within = shape_distance_matrix([x, x[:, :4]], alpha=alpha)
    for form in FORMS:
        np.testing.assert_array_equal(np.diag(within[form]), 0.0)


@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0])
def test_rotation_and_permutation_of_units_give_zero(alpha):
    rng = np.random.default_rng(3)
    x, _ = related(rng, 200, 6, 6)
    rot = ortho_group.rvs(6, random_state=4)
    perm = np.eye(6)[rng.permutation(6)]
    for y in (x @ rot, x @ perm):
        for form in FORMS:
            assert shape_distance(x, y, alpha=alpha, form=form) < 1e-6
            # the map fitted on the training rows is exact on the test rows as well
            assert shape_distance(x[:120], y[:120], x[120:], y[120:], alpha=alpha, form=form) < 1e-6


def test_invertible_linear_map_gives_zero_only_with_full_whitening():
    rng = np.random.default_rng(5)
    x, _ = related(rng, 200, 5, 5)
    y = x @ (rng.normal(size=(5, 5)) + 2.0 * np.eye(5))
    for form in FORMS:
        assert shape_distance(x, y, alpha=0.0, form=form) < 1e-6
        assert shape_distance(x[:150], y[:150], x[150:], y[150:], alpha=0.0, form=form) < 1e-6
        assert shape_distance(x, y, alpha=1.0, form=form) > 0.05


@pytest.mark.parametrize("alpha", ALPHAS)
def test_unit_permutation_and_rotation_invariance(alpha):
    rng = np.random.default_rng(6)
    x, y = related(rng, 160, 4, 6)
    rot = ortho_group.rvs(6, random_state=7)
    perm = rng.permutation(4)
    base = shape_distance_matrix([x[:100]], [y[:100]], [x[100:]], [y[100:]], alpha=alpha)
    for x2, y2 in ((x[:, perm], y), (x, y @ rot)):
        got = shape_distance_matrix([x2[:100]], [y2[:100]], [x2[100:]], [y2[100:]], alpha=alpha)
        for form in FORMS:
            np.testing.assert_allclose(got[form], base[form], atol=1e-8)


@pytest.mark.parametrize("alpha", ALPHAS)
def test_translation_invariance(alpha):
    rng = np.random.default_rng(8)
    x, y = related(rng, 160, 5, 4)
    base = shape_distance_matrix([x[:100]], [y[:100]], [x[100:]], [y[100:]], alpha=alpha)
    x2, y2 = x + 50.0 * rng.normal(size=5), y - 20.0
    got = shape_distance_matrix([x2[:100]], [y2[:100]], [x2[100:]], [y2[100:]], alpha=alpha)
    for form in FORMS:
        np.testing.assert_allclose(got[form], base[form], atol=1e-8)


def test_isotropic_scaling():
    rng = np.random.default_rng(9)
    x, y = related(rng, 200, 5, 5)
    for alpha in (0.0, 1.0):  # angular: invariant at both ends
        ref = shape_distance(x, y, alpha=alpha)
        assert abs(shape_distance(x, 7.0 * y, alpha=alpha) - ref) < 1e-9
        assert abs(shape_distance(0.1 * x, y, alpha=alpha) - ref) < 1e-9
    # euclidean at alpha = 1 keeps the units of the data; at alpha = 0 it is scale-free
    e1 = shape_distance(x, y, alpha=1.0, form="euclidean")
    assert abs(shape_distance(3.0 * x, 3.0 * y, alpha=1.0, form="euclidean") - 3.0 * e1) < 1e-9
    assert abs(shape_distance(x, 3.0 * y, alpha=1.0, form="euclidean") - e1) > 0.1
    e0 = shape_distance(x, y, alpha=0.0, form="euclidean")
    assert abs(shape_distance(x, 3.0 * y, alpha=0.0, form="euclidean") - e0) < 1e-9
    # documented: with W = (α I + (1 − α) C)^(−1/2) no form is scale-free at 0 < α < 1
    half = shape_distance(x, y, alpha=0.5)
    assert abs(shape_distance(x, 100.0 * y, alpha=0.5) - half) > 1e-3


@pytest.mark.parametrize("alpha", [0.0, 0.4, 1.0])
def test_metric_symmetry_and_triangle_inequality(alpha):
    rng = np.random.default_rng(10)
    base = rng.normal(size=(120, 4))
    layers = [
        base @ rng.normal(size=(4, d)) + s * rng.normal(size=(120, d))
        for d, s in [(4, 0.2), (6, 0.5), (5, 1.0), (3, 0.1), (4, 2.0), (7, 0.3)]
    ]
    out = shape_distance_matrix(layers, alpha=alpha)
    cross = shape_distance_matrix(layers, layers, alpha=alpha)
    for form in FORMS:
        dist = out[form]
        np.testing.assert_allclose(dist, dist.T, atol=1e-12)
        np.testing.assert_allclose(cross[form], dist, atol=1e-7)
        n = len(layers)
        for i in range(n):
            for j in range(n):
                for k in range(n):
                    assert dist[i, k] <= dist[i, j] + dist[j, k] + 1e-9, (form, i, j, k)
    assert (out["angular"] >= 0).all() and (out["angular"] <= math.pi).all()


def test_independent_noise_is_at_chance_and_above_related():
    rng = np.random.default_rng(11)
    t, d = 4000, 16
    x, y = rng.normal(size=(t, d)), rng.normal(size=(t, d))
    # training rows: cos θ ≈ E||XᵀY||_* / (T d) ≈ (8 / 3π) sqrt(d / T) (quarter-circle law)
    chance = math.pi / 2 - math.asin(8.0 / (3.0 * math.pi) * math.sqrt(d / t))
    train = shape_distance(x, y)
    assert abs(train - chance) < 0.01
    assert train < math.pi / 2
    # held-out rows: the fitted Q is unrelated to the test rows, cos θ ≈ 0 ± 1/sqrt(T d)
    held = shape_distance(x[:2000], y[:2000], x[2000:], y[2000:])
    assert abs(held - math.pi / 2) < 5.0 / math.sqrt(2000 * d)
    x2 = rng.normal(size=(t, d))
    y2 = x2 @ ortho_group.rvs(d, random_state=3) + 0.3 * rng.normal(size=(t, d))
    assert shape_distance(x2, y2) < 0.5 * chance
    # euclidean chance on held-out rows at alpha = 1: sqrt(tr C_x + tr C_y)
    e = shape_distance(x[:2000], y[:2000], x[2000:], y[2000:], form="euclidean")
    assert abs(e - math.sqrt(2 * d)) < 0.1


def test_map_fitted_on_train_generalises_and_whitening_overfits_noise():
    rng = np.random.default_rng(12)
    t, d = 400, 10
    x = rng.normal(size=(t, d))
    y = x @ ortho_group.rvs(d, random_state=13) + 0.05 * rng.normal(size=(t, d))
    assert shape_distance(x[:200], y[:200], x[200:], y[200:]) < 0.1
    assert shape_distance(x[:200], y[:200], x[200:], y[200:], alpha=0.0) < 0.1
    # full whitening with few rows per unit fits noise on the training rows, not on held-out rows
    xn, yn = rng.normal(size=(120, 40)), rng.normal(size=(120, 40))
    fit = shape_distance(xn[:60], yn[:60], alpha=0.0)
    held = shape_distance(xn[:60], yn[:60], xn[60:], yn[60:], alpha=0.0)
    assert fit < 1.0 < held


def test_rank_deficient_layer_with_full_whitening_equals_layer_without_redundant_unit():
    rng = np.random.default_rng(14)
    x, y = related(rng, 150, 4, 5)
    redundant = np.hstack([x, x[:, :1] - 2.0 * x[:, 1:2]])  # 5 units, rank 4
    for form in FORMS:
        got = shape_distance(redundant, y, alpha=0.0, form=form)
        ref = shape_distance(x, y, alpha=0.0, form=form)
        assert np.isfinite(got) and abs(got - ref) < 1e-6
    assert EIGENVALUE_FLOOR < 1e-6


# ----------------------------------------------------------------------------- streaming


def test_chunked_lazy_equals_in_memory_and_reads_in_chunks():
    rng = np.random.default_rng(15)
    t = 90
    a = [related(rng, t, d, 1)[0] for d in (3, 5, 2)]
    b = [rng.normal(size=(t, d)) + a[0][:, :1] for d in (4, 6)]
    for alpha in (0.0, 0.5, 1.0):
        ref = shape_distance_matrix(
            [z[:60] for z in a],
            [z[:60] for z in b],
            [z[60:] for z in a],
            [z[60:] for z in b],
            alpha=alpha,
        )
        lz = [LazyRows(z[:60]) for z in a], [LazyRows(z[:60]) for z in b]
        lt = [LazyRows(z[60:]) for z in a], [LazyRows(z[60:]) for z in b]
        got = shape_distance_matrix(*lz, *lt, alpha=alpha, chunk_size=7)
        for form in FORMS:
            assert got[form].shape == (3, 2)
            np.testing.assert_allclose(got[form], ref[form], rtol=1e-10, atol=1e-12)
        assert max(z.max_rows for z in lz[0] + lz[1] + lt[0] + lt[1]) <= 7


def test_from_covariance_reuses_shared_stacked_covariances():
    rng = np.random.default_rng(16)
    layers = [related(rng, 100, d, 1)[0] for d in (3, 4, 6, 2)]
    train = stacked_covariance([z[:70] for z in layers])
    test = stacked_covariance([z[70:] for z in layers])
    out = shape_distances_from_covariance(train, test, rows=[0, 1], cols=[2, 3], alpha=0.3)
    ref = shape_distance_matrix(
        [z[:70] for z in layers[:2]],
        [z[:70] for z in layers[2:]],
        [z[70:] for z in layers[:2]],
        [z[70:] for z in layers[2:]],
        alpha=0.3,
    )
    for form in FORMS:
        np.testing.assert_allclose(out[form], ref[form], rtol=1e-12, atol=1e-12)
        assert (
            abs(
                out[form][1, 0]
                - brute(layers[1][:70], layers[2][:70], layers[1][70:], layers[2][70:], 0.3)[form]
            )
            < 1e-8
        )
    only = shape_distances_from_covariance(train, forms="euclidean")
    assert set(only) == {"euclidean"} and only["euclidean"].shape == (4, 4)


def test_within_model_matrix_equals_pairwise():
    rng = np.random.default_rng(17)
    layers = [related(rng, 80, d, 1)[0] for d in (2, 5, 3)]
    out = shape_distance_matrix(layers, alpha=0.0, forms=("euclidean",))
    assert set(out) == {"euclidean"}
    for i in range(3):
        for j in range(3):
            ref = 0.0 if i == j else brute(layers[i], layers[j], alpha=0.0)["euclidean"]
            assert abs(out["euclidean"][i, j] - ref) < 1e-8


# ----------------------------------------------------------------------------- undefined


def test_constant_layer_gives_nan_with_warning():
    rng = np.random.default_rng(18)
    x = rng.normal(size=(50, 3))
    const = np.full((50, 2), 4.0)
    with pytest.warns(RuntimeWarning, match="zero variance"):
        out = shape_distance_matrix([x, const], alpha=0.0)
    for form in FORMS:
        assert np.isnan(out[form][1]).all() and np.isnan(out[form][:, 1]).all()
        assert out[form][0, 0] == 0.0


def test_no_warning_for_regular_input():
    rng = np.random.default_rng(19)
    x, y = related(rng, 60, 3, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        shape_distance_matrix([x], [y], [x + 1.0], [y])


# ----------------------------------------------------------------------------- errors


def test_error_bad_alpha_and_forms():
    rng = np.random.default_rng(20)
    x, y = rng.normal(size=(20, 3)), rng.normal(size=(20, 2))
    for alpha in (-0.1, 1.5, float("nan"), True, "half"):
        with pytest.raises(ValueError, match=r"alpha must be a number in \[0, 1\]"):
            shape_distance(x, y, alpha=alpha)
    with pytest.raises(ValueError, match="unknown shape distance form 'cosine'.*'angular'"):
        shape_distance(x, y, form="cosine")
    with pytest.raises(ValueError, match="unknown shape distance form 'bogus'"):
        shape_distance_matrix([x], [y], forms=("angular", "bogus"))
    with pytest.raises(ValueError, match="forms is empty"):
        shape_distance_matrix([x], [y], forms=())
    with pytest.raises(ValueError, match="chunk_size"):
        shape_distance_matrix([x], [y], chunk_size=0)


def test_error_shape_mismatches_name_the_layer():
    rng = np.random.default_rng(21)
    x, y = rng.normal(size=(20, 3)), rng.normal(size=(20, 2))
    with pytest.raises(ValueError, match="Y_train has 19 time points.*X_train has 20"):
        shape_distance(x, y[:19])
    with pytest.raises(ValueError, match="X_test has 2 units but X_train has 3"):
        shape_distance(x, y, x[:, :2], y)
    with pytest.raises(ValueError, match="Y_test has 5 time points"):
        shape_distance(x, y, x[:6], y[:5])
    with pytest.raises(ValueError, match="layers_a_test has 1 layers but layers_a_train has 2"):
        shape_distance_matrix([x, x], [y], [x], [y])
    with pytest.raises(ValueError, match="must be 2-D"):
        shape_distance(x[:, 0], y)
    with pytest.raises(ValueError, match="at least 2 time points"):
        shape_distance(x[:1], y[:1])
    with pytest.raises(TypeError, match="sequence"):
        shape_distance_matrix(x, [y])


def test_error_missing_test_partner():
    rng = np.random.default_rng(22)
    x, y = rng.normal(size=(20, 3)), rng.normal(size=(20, 2))
    with pytest.raises(ValueError, match="both X_test and Y_test"):
        shape_distance(x, y, X_test=x)
    with pytest.raises(ValueError, match="both layers_a_test and layers_b_test"):
        shape_distance_matrix([x], [y], [x])
    with pytest.raises(ValueError, match="layers_b_test given without layers_b_train"):
        shape_distance_matrix([x], None, [x], [y])


@pytest.mark.parametrize("lazy", [False, True])
def test_error_non_finite_names_layer_and_time(lazy):
    rng = np.random.default_rng(23)
    x, y = rng.normal(size=(30, 3)), rng.normal(size=(30, 2))
    bad = y.copy()
    bad[17, 1] = np.nan
    wrap = LazyRows if lazy else np.asarray
    with pytest.raises(ValueError, match="Y_test contains NaN or inf.*time index 17"):
        shape_distance(x, y, x, wrap(bad))
    with pytest.raises(ValueError, match=r"layers_b_train\[0\] contains NaN or inf"):
        shape_distance_matrix([x], [wrap(bad)])


def test_error_from_covariance_mismatch():
    rng = np.random.default_rng(24)
    layers = [rng.normal(size=(30, 3)), rng.normal(size=(30, 2))]
    train = stacked_covariance(layers)
    other = stacked_covariance([layers[1], layers[0]])
    with pytest.raises(ValueError, match="layer widths"):
        shape_distances_from_covariance(train, other)
    with pytest.raises(ValueError, match="block index 2 out of range"):
        shape_distances_from_covariance(train, rows=[0, 2])
    with pytest.raises(ValueError, match="square"):
        whitening_matrix(np.ones((2, 3)), 0.5)


@pytest.mark.parametrize("alpha", ALPHAS)
def test_a_kept_fit_scores_other_test_splits_like_a_fresh_one(alpha):
    """One ShapeFit reused across scorings of the same training fit (bootstrap replicates)
    gives what a fresh fit gives for each test split; a fit of another alpha is refused."""
    rng = np.random.default_rng(21)
    layers = [rng.normal(size=(200, d)) @ rng.normal(size=(d, d)) for d in (3, 4, 2)]
    train = stacked_covariance([x[:120] for x in layers])
    fit = ShapeFit(alpha)
    for start in (120, 140, 160):
        test = stacked_covariance([x[start : start + 40] for x in layers])
        kept = shape_distances_from_covariance(train, test, alpha=alpha, fit=fit)
        fresh = shape_distances_from_covariance(train, test, alpha=alpha)
        for form in FORMS:
            np.testing.assert_array_equal(kept[form], fresh[form])
    with pytest.raises(ValueError, match="fit was made with alpha"):
        shape_distances_from_covariance(train, alpha=0.5 if alpha != 0.5 else 0.2, fit=fit)
