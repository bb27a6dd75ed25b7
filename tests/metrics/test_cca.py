"""Tests for cebra_lens_core.metrics.cca against brute-force CCA on the raw T × d arrays."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from cebra_lens_core.metrics.cca import (
    DEFAULT_MEASURES,
    MEASURES,
    canonical_correlations,
    canonical_correlations_from_covariance,
    cca_from_covariance,
    cca_matrix_from_covariance,
    cca_similarity_matrix,
    principal_basis,
    pwcca,
    pwcca_symmetric,
    svcca,
    whitening_basis,
)
from cebra_lens_core.metrics.cka import stacked_covariance

SHAPES = [(80, 3, 5), (300, 8, 8), (200, 12, 4), (500, 1, 6), (60, 20, 25)]


# ----------------------------------------------------------------------------- references
# Written from the papers' definitions on the raw arrays (QR / SVD of the centred data), not
# from covariances.


def _centre(a: np.ndarray) -> np.ndarray:
    return a - a.mean(axis=0)


def _orth(a: np.ndarray) -> np.ndarray:
    """Orthonormal basis of the centred columns (full column rank assumed)."""
    q, _ = np.linalg.qr(_centre(a))
    return q


def brute_cc(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Canonical correlations = cosines of the principal angles between the centred spans."""
    return np.linalg.svd(_orth(x).T @ _orth(y), compute_uv=False)


def brute_reduce(x: np.ndarray, f: float) -> np.ndarray:
    """SVCCA's first step (Raghu et al.): top singular directions of Xc explaining f of s²."""
    u, s, _ = np.linalg.svd(_centre(x), full_matrices=False)
    explained = np.cumsum(s**2) / np.cumsum(s**2)[-1]
    k = int(np.argmax(explained >= f)) + 1
    return u[:, :k] * s[:k]


def brute_svcca(x: np.ndarray, y: np.ndarray, f: float) -> float:
    return float(brute_cc(brute_reduce(x, f), brute_reduce(y, f)).mean())


def brute_pwcca(x: np.ndarray, y: np.ndarray) -> float:
    """Morcos et al. (2018): α_i ∝ Σ_j |<h_i, x_j>|, h_i the canonical variates of X."""
    qx, qy = _orth(x), _orth(y)
    u, rho, _ = np.linalg.svd(qx.T @ qy, full_matrices=False)
    h = qx @ u  # T × m, orthonormal canonical variates of X
    alpha = np.abs(h.T @ _centre(x)).sum(axis=1)
    return float((alpha / alpha.sum()) @ rho)


def _pair(rng: np.random.Generator, t: int, p: int, q: int) -> tuple[np.ndarray, np.ndarray]:
    """Two layers sharing a 2-D latent, with decaying unit scales and offsets."""
    z = rng.standard_normal((t, 2))
    x = z @ rng.standard_normal((2, p)) + 0.7 * rng.standard_normal((t, p))
    y = z @ rng.standard_normal((2, q)) + 0.9 * rng.standard_normal((t, q))
    x = x * np.geomspace(1.0, 0.05, p) + 3.0
    y = y * np.geomspace(2.0, 0.1, q) - 1.0
    return x, y


def _orthogonal(rng: np.random.Generator, d: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    return q * np.sign(np.diag(r))


class _Lazy:
    """A layer readable only by row slices; records the largest read."""

    def __init__(self, a: np.ndarray, forbid: bool = False):
        self._a, self.shape, self.dtype = a, a.shape, a.dtype
        self.forbid, self.max_rows = forbid, 0

    def __getitem__(self, key):
        assert isinstance(key, slice), key
        if self.forbid:
            raise AssertionError("data read although the input was invalid")
        out = self._a[key]
        self.max_rows = max(self.max_rows, len(out))
        return out.copy()


# ----------------------------------------------------------------------------- exactness


@pytest.mark.parametrize("t,p,q", SHAPES)
def test_matches_brute_force(t: int, p: int, q: int) -> None:
    x, y = _pair(np.random.default_rng(t + p + q), t, p, q)
    rho = canonical_correlations(x, y)
    assert rho.shape == (min(p, q),)
    np.testing.assert_allclose(rho, brute_cc(x, y), atol=1e-8)
    for f in (0.99, 0.9):
        assert svcca(x, y, variance_fraction=f) == pytest.approx(brute_svcca(x, y, f), abs=1e-8)
    assert pwcca(x, y) == pytest.approx(brute_pwcca(x, y), abs=1e-8)
    assert pwcca(y, x) == pytest.approx(brute_pwcca(y, x), abs=1e-8)
    sym = 0.5 * (brute_pwcca(x, y) + brute_pwcca(y, x))
    assert pwcca_symmetric(x, y) == pytest.approx(sym, abs=1e-8)
    m = cca_similarity_matrix([x], [y], measures=MEASURES)
    assert m["cca_mean"][0, 0] == pytest.approx(brute_cc(x, y).mean(), abs=1e-8)
    assert m["svcca"][0, 0] == pytest.approx(brute_svcca(x, y, 0.99), abs=1e-8)


def test_svcca_truncation_is_exercised_and_counted_like_the_svd() -> None:
    x, _ = _pair(np.random.default_rng(1), 400, 10, 3)
    for f in (0.5, 0.9, 0.99, 1.0):
        k = principal_basis(_centre(x).T @ _centre(x), f).shape[1]
        assert k == brute_reduce(x, f).shape[1]
    assert principal_basis(_centre(x).T @ _centre(x), 0.9).shape[1] < 10  # PCA really cuts
    assert principal_basis(_centre(x).T @ _centre(x), 1.0).shape[1] == 10


def test_exact_correlations_and_pwcca_closed_form() -> None:
    """Data built with sample canonical correlations (0.9, 0.3) exactly, rank-2 layers."""
    rng = np.random.default_rng(2)
    q_, _ = np.linalg.qr(_centre(rng.standard_normal((150, 4))))  # orthonormal, ⟂ 1
    c = np.array([0.9, 0.3])
    a, b = rng.standard_normal((2, 5)), rng.standard_normal((2, 3))
    x = q_[:, :2] @ a  # 5 units, rank 2
    y = (q_[:, :2] * c + q_[:, 2:] * np.sqrt(1 - c**2)) @ b  # 3 units, rank 2
    x, y = x + 7.0, y - 2.0
    np.testing.assert_allclose(canonical_correlations(x, y), c, atol=1e-8)
    pw_xy = (np.abs(a).sum(axis=1) @ c) / np.abs(a).sum()
    pw_yx = (np.abs(b).sum(axis=1) @ c) / np.abs(b).sum()
    assert pwcca(x, y) == pytest.approx(pw_xy, abs=1e-8)
    assert pwcca(y, x) == pytest.approx(pw_yx, abs=1e-8)
    assert pwcca_symmetric(x, y) == pytest.approx((pw_xy + pw_yx) / 2, abs=1e-8)
    assert svcca(x, y, variance_fraction=1.0) == pytest.approx(0.6, abs=1e-8)
    assert abs(pw_xy - pw_yx) > 1e-3  # asymmetric indeed


# ----------------------------------------------------------------------------- closed forms


def test_identical_and_invertible_linear_map_give_one() -> None:
    rng = np.random.default_rng(3)
    x, _ = _pair(rng, 200, 6, 2)
    for y in (x, x @ rng.standard_normal((6, 6)) + 4.0):  # identical; invertible map
        np.testing.assert_allclose(canonical_correlations(x, y), 1.0, atol=1e-8)
        m = cca_similarity_matrix([x], [y], measures=("pwcca", "pwcca_symmetric", "cca_mean"))
        for values in m.values():
            assert values[0, 0] == pytest.approx(1.0, abs=1e-8)
    assert svcca(x, x) == pytest.approx(1.0, abs=1e-8)
    assert svcca(x, 3.0 * x @ _orthogonal(rng, 6) - 5.0) == pytest.approx(1.0, abs=1e-8)
    assert pwcca(x, x[:, :2]) == pytest.approx(1.0, abs=1e-8)  # span(Y) ⊆ span(X)
    assert pwcca(x[:, :2], x) == pytest.approx(1.0, abs=1e-8)


def _all(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    m = cca_similarity_matrix([x], [y], measures=MEASURES)
    return {k: float(v[0, 0]) for k, v in m.items()}


def test_invariances_and_non_invariances() -> None:
    rng = np.random.default_rng(4)
    x, y = _pair(rng, 300, 6, 5)
    ref = _all(x, y)
    perm_x, perm_y, time = rng.permutation(6), rng.permutation(5), rng.permutation(300)
    signs = np.where(rng.random(6) < 0.5, -1.0, 1.0)
    same_for_all = {
        "translation": (x - 40.0, y + 1e3),
        "isotropic scaling": (2.5 * x, 1e-3 * y),
        "permutation of units": (x[:, perm_x], y[:, perm_y]),
        "sign flips of units": (x * signs, -y),
        "joint time shuffle": (x[time], y[time]),
    }
    for case, (xt, yt) in same_for_all.items():
        got = _all(xt, yt)
        for k in MEASURES:
            assert got[k] == pytest.approx(ref[k], abs=1e-9), (case, k)
    # rotations: SVCCA and mean CCA of both sides; PWCCA only of Y (the weighting side is X)
    rot = _all(x @ _orthogonal(rng, 6), y @ _orthogonal(rng, 5))
    for k in ("svcca", "cca_mean"):
        assert rot[k] == pytest.approx(ref[k], abs=1e-9)
    assert pwcca(x, y @ _orthogonal(rng, 5)) == pytest.approx(ref["pwcca"], abs=1e-9)
    assert abs(pwcca(x @ _orthogonal(rng, 6), y) - ref["pwcca"]) > 1e-3
    # general invertible maps: CCA and PWCCA's Y side; not SVCCA (its PCA step changes)
    a, b = rng.standard_normal((6, 6)), rng.standard_normal((5, 5))
    lin = _all(x @ a, y @ b)
    assert lin["cca_mean"] == pytest.approx(ref["cca_mean"], abs=1e-9)
    assert pwcca(x, y @ b) == pytest.approx(ref["pwcca"], abs=1e-9)
    assert abs(lin["svcca"] - ref["svcca"]) > 1e-3
    assert abs(pwcca(x * np.geomspace(1, 30, 6), y) - ref["pwcca"]) > 1e-3  # unit scales


def test_independent_noise_bias_matches_closed_form() -> None:
    """X Gaussian ⟂ Y: E[Σ ρ²] = p q / (T − 1) exactly; mean ρ ~ sqrt(max(p, q) / T)."""
    rng = np.random.default_rng(5)
    t, p, q, reps = 100, 3, 4, 400
    y = rng.standard_normal((t, q)) ** 3  # any fixed Y
    total = np.mean(
        [np.sum(canonical_correlations(rng.standard_normal((t, p)), y) ** 2) for _ in range(reps)]
    )
    assert total == pytest.approx(p * q / (t - 1), abs=0.015)  # ≈ 5 Monte-Carlo SE

    t, d = 20_000, 8
    x, y = rng.standard_normal((t, d)), rng.standard_normal((t, d))
    bound = np.sqrt(d / (t - 1))  # Jensen bound on the expected mean ρ
    rho = canonical_correlations(x, y)
    assert 0.5 < np.mean(rho**2) / (d / (t - 1)) < 1.5
    for value in (svcca(x, y), pwcca(x, y), pwcca_symmetric(x, y)):
        assert 0 < value < 2 * bound
    related = x @ _orthogonal(rng, d) + 0.3 * rng.standard_normal((t, d))  # every ρ ≈ 0.96
    assert svcca(x, related) > 0.8
    shuffled = related[rng.permutation(t)]  # time shuffle of one side destroys the relation
    assert svcca(x, shuffled) < 2 * bound and pwcca(x, shuffled) < 2 * bound


def test_rank_deficiency_and_unit_scales() -> None:
    """Duplicated, constant and badly scaled units leave the correlations of the span."""
    rng = np.random.default_rng(6)
    x, y = _pair(rng, 120, 4, 3)
    ugly = np.column_stack([x[:, 0] * 1e-6, x, 2 * x[:, 1], np.full(120, 5.0), x[:, 3] * 1e6])
    np.testing.assert_allclose(canonical_correlations(ugly, y), brute_cc(x, y), atol=1e-8)
    np.testing.assert_allclose(canonical_correlations(y, ugly), brute_cc(x, y), atol=1e-8)
    g = _centre(ugly).T @ _centre(ugly)
    w = whitening_basis(g)
    assert w.shape == (8, 4)
    np.testing.assert_allclose(w.T @ g @ w, np.eye(4), atol=1e-8)


def test_more_dimensions_than_time_points_warns_and_gives_nan() -> None:
    rng = np.random.default_rng(7)
    t = 20
    x, y, z = (rng.standard_normal((t, d)) for d in (12, 10, 3))
    with pytest.warns(RuntimeWarning, match=r"at least 3 of the canonical correlations equal 1"):
        rho = canonical_correlations(x, y)  # 12 + 10 − 19 = 3 forced
    np.testing.assert_allclose(rho[:3], 1.0, atol=1e-8)
    assert rho[3] < 1 - 1e-6  # generically exactly 3
    for fn in (pwcca, pwcca_symmetric):
        with pytest.warns(RuntimeWarning, match=r"k_x \+ k_y >= T = 20.*X vs Y: CCA 12 \+ 10"):
            assert np.isnan(fn(x, y))
    with pytest.warns(RuntimeWarning, match="SVCCA"):
        assert np.isnan(svcca(x, y, variance_fraction=1.0))
    with warnings.catch_warnings():  # few PCs kept: defined again
        warnings.simplefilter("error")
        assert np.isfinite(svcca(x, y, variance_fraction=0.3))
        assert np.isfinite(pwcca(x, z)) and np.isfinite(pwcca(z, y))
    with pytest.warns(RuntimeWarning, match=r"3 CCA score\(s\)"):
        m = cca_similarity_matrix([x, y, z], measures=("pwcca", "cca_mean"))
    bad = np.array([[1, 1, 0], [1, 1, 0], [0, 0, 0]], dtype=bool)
    for values in m.values():
        np.testing.assert_array_equal(np.isnan(values), bad)


def test_constant_layer_gives_nan_with_warning() -> None:
    rng = np.random.default_rng(8)
    x, const = rng.standard_normal((30, 3)), np.full((30, 2), 4.2, dtype=np.float32)
    with pytest.warns(RuntimeWarning, match="Y has zero variance"):
        assert canonical_correlations(x, const).size == 0
    with pytest.warns(RuntimeWarning, match="Y has zero variance"):
        assert np.isnan(svcca(x, const)) and np.isnan(pwcca(x, const))
    with pytest.warns(RuntimeWarning, match=r"layers_a\[1\] has zero variance"):
        m = cca_similarity_matrix([x, const, x[:, :2]], measures=MEASURES)
    for values in m.values():
        assert np.isnan(values[1]).all() and np.isnan(values[:, 1]).all()
        assert np.isfinite(values[[0, 2]][:, [0, 2]]).all()


def test_no_warning_for_regular_input() -> None:
    x, y = _pair(np.random.default_rng(9), 50, 4, 6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        canonical_correlations(x, y)
        cca_similarity_matrix([x, y], measures=MEASURES)


# ----------------------------------------------------------------------------- streaming, API


def test_chunked_lazy_equals_in_memory() -> None:
    rng = np.random.default_rng(10)
    x, y = _pair(rng, 157, 5, 4)
    z = (rng.standard_normal((157, 3)) + 100.0).astype(np.float32)
    layers = [x, y, z]
    ref = cca_similarity_matrix(layers, measures=MEASURES)
    lazy = [_Lazy(a) for a in layers]
    got = cca_similarity_matrix(lazy, measures=MEASURES, chunk_size=7)
    assert max(a.max_rows for a in lazy) <= 7
    for k in MEASURES:
        np.testing.assert_allclose(got[k], ref[k], atol=1e-10)
    lx, ly = _Lazy(x), _Lazy(y)
    np.testing.assert_allclose(
        canonical_correlations(lx, ly, chunk_size=10), canonical_correlations(x, y), atol=1e-10
    )
    assert svcca(lx, ly, chunk_size=3) == pytest.approx(svcca(x, y), abs=1e-10)
    assert pwcca(lx, ly, chunk_size=3) == pytest.approx(pwcca(x, y), abs=1e-10)


def test_matrix_entries_equal_pairwise_functions() -> None:
    rng = np.random.default_rng(11)
    la = [_pair(rng, 90, d, 2)[0] for d in (3, 5, 4)]
    lb = [rng.standard_normal((90, 2)) + la[0][:, :2], rng.standard_normal((90, 6))]
    within = cca_similarity_matrix(la, measures=MEASURES, variance_fraction=0.95)
    assert list(within) == list(MEASURES)
    cross = cca_similarity_matrix(la, lb, measures=("pwcca", "svcca"), variance_fraction=0.95)
    assert list(cross) == ["pwcca", "svcca"] and cross["pwcca"].shape == (3, 2)
    for i, a in enumerate(la):
        for j, b in enumerate(la):
            assert within["pwcca"][i, j] == pytest.approx(pwcca(a, b), abs=1e-10)
            assert within["svcca"][i, j] == pytest.approx(
                svcca(a, b, variance_fraction=0.95), abs=1e-10
            )
        for j, b in enumerate(lb):
            assert cross["pwcca"][i, j] == pytest.approx(pwcca(a, b), abs=1e-10)
    for k in ("svcca", "cca_mean", "pwcca_symmetric"):
        np.testing.assert_allclose(within[k], within[k].T, atol=1e-12)
        np.testing.assert_allclose(np.diag(within[k]), 1.0, atol=1e-8)
    sym = 0.5 * (within["pwcca"] + within["pwcca"].T)
    np.testing.assert_allclose(within["pwcca_symmetric"], sym, atol=1e-12)
    assert np.abs(within["pwcca"] - within["pwcca"].T).max() > 1e-3
    assert list(cca_similarity_matrix(la)) == list(DEFAULT_MEASURES)


def test_from_covariance_reuses_a_stacked_covariance() -> None:
    rng = np.random.default_rng(12)
    x, y = _pair(rng, 200, 7, 5)
    cov = stacked_covariance([y, rng.standard_normal((200, 2)), x])
    got = cca_from_covariance(cov, 2, 0, measures=MEASURES)
    assert list(got) == list(MEASURES)
    assert got["svcca"] == pytest.approx(brute_svcca(x, y, 0.99), abs=1e-8)
    assert got["pwcca"] == pytest.approx(brute_pwcca(x, y), abs=1e-8)
    assert cca_from_covariance(cov, 0, 2)["pwcca"] == pytest.approx(brute_pwcca(y, x), abs=1e-8)
    np.testing.assert_allclose(
        canonical_correlations_from_covariance(cov, 2, 0), brute_cc(x, y), atol=1e-8
    )
    np.testing.assert_allclose(
        canonical_correlations_from_covariance(cov, 2, 0, variance_fraction=0.9),
        brute_cc(brute_reduce(x, 0.9), brute_reduce(y, 0.9)),
        atol=1e-8,
    )
    with pytest.raises(ValueError, match=r"j=3 is out of range for 3 stacked layers"):
        cca_from_covariance(cov, 0, 3)


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize("bad", [0, 0.0, -0.1, 1.5, np.nan, True, "0.9", None])
def test_error_bad_variance_fraction_before_reading(bad) -> None:
    x = _Lazy(np.zeros((10, 2)), forbid=True)
    with pytest.raises(ValueError, match=r"variance_fraction must be"):
        svcca(x, x, variance_fraction=bad)
    with pytest.raises(ValueError, match=r"variance_fraction must be"):
        cca_similarity_matrix([x], variance_fraction=bad)


def test_error_measures() -> None:
    x = _Lazy(np.zeros((10, 2)), forbid=True)
    with pytest.raises(ValueError, match=r"unknown CCA measure\(s\) \['cka'\]; valid.*'svcca'"):
        cca_similarity_matrix([x], measures=("svcca", "cka"))
    with pytest.raises(ValueError, match="measures is empty"):
        cca_similarity_matrix([x], measures=())
    y = np.random.default_rng(13).standard_normal((30, 2))
    assert list(cca_similarity_matrix([y], measures="svcca")) == ["svcca"]


def test_error_shapes_and_time_points() -> None:
    rng = np.random.default_rng(14)
    with pytest.raises(ValueError, match=r"Y has 49 time points .* X has 50"):
        pwcca(rng.standard_normal((50, 2)), rng.standard_normal((49, 2)))
    with pytest.raises(ValueError, match=r"layers_b\[0\] has 40 time points"):
        cca_similarity_matrix([rng.standard_normal((50, 2))], [rng.standard_normal((40, 2))])
    with pytest.raises(ValueError, match=r"X must be 2-D \(time × units\)"):
        svcca(rng.standard_normal(10), rng.standard_normal((10, 2)))
    with pytest.raises(ValueError, match="at least 2 time points"):
        canonical_correlations(np.ones((1, 2)), np.ones((1, 3)))
    with pytest.raises(TypeError, match="sequence of 2-D"):
        cca_similarity_matrix(rng.standard_normal((10, 3)))
    with pytest.raises(ValueError, match="chunk_size"):
        svcca(rng.standard_normal((10, 2)), rng.standard_normal((10, 2)), chunk_size=0)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_error_non_finite_names_layer(bad: float) -> None:
    rng = np.random.default_rng(15)
    layers = [rng.standard_normal((40, 3)) for _ in range(3)]
    layers[2][17, 1] = bad
    with pytest.raises(ValueError, match=r"layers_a\[2\] contains NaN or inf"):
        cca_similarity_matrix(layers)
    with pytest.raises(ValueError, match=r"X contains NaN or inf values \(first at time index 17"):
        canonical_correlations(layers[2], layers[0])
    with pytest.raises(ValueError, match=r"Y contains NaN or inf"):
        pwcca(layers[0], _Lazy(layers[2]))


def test_matrix_from_covariance_equals_pair_by_pair():
    rng = np.random.default_rng(11)
    z = rng.normal(size=(150, 3))
    layers = [z @ rng.normal(size=(3, d)) + 0.5 * rng.normal(size=(150, d)) for d in (4, 3, 5)]
    cov = stacked_covariance(layers)
    measures = ("svcca", "pwcca", "cca_mean")
    matrix = cca_matrix_from_covariance(cov, [0, 2], [1, 2, 0], measures=measures)
    for a, i in enumerate([0, 2]):
        for b, j in enumerate([1, 2, 0]):
            pair = cca_from_covariance(cov, i, j, measures=measures)
            for m in measures:
                assert matrix[m][a, b] == pytest.approx(pair[m], abs=1e-12), (m, i, j)
    with pytest.raises(ValueError):
        cca_matrix_from_covariance(cov, [0], [3])
