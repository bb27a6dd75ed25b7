"""Tests for cebra_lens_core.metrics.cka against brute-force T × T Gram-matrix definitions."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from cebra_lens_core.metrics.cka import (
    KINDS,
    CKAResult,
    StackedCovariance,
    cka,
    cka_from_covariance,
    cka_matrix,
    debiased_hsic,
    rbf_subsample_indices,
    stacked_covariance,
)

SHAPES = [(10, 3, 5), (57, 7, 2), (40, 60, 30), (200, 1, 16)]


# ----------------------------------------------------------------------------- references


def _centring(n: int) -> np.ndarray:
    return np.eye(n) - np.full((n, n), 1.0 / n)


def _hsic_biased(k: np.ndarray, g: np.ndarray) -> np.ndarray:
    h = _centring(len(k))
    return np.trace(k @ h @ g @ h) / (len(k) - 1) ** 2


def _cka_gram(k: np.ndarray, g: np.ndarray) -> float:
    return _hsic_biased(k, g) / np.sqrt(_hsic_biased(k, k) * _hsic_biased(g, g))


def brute_linear(x: np.ndarray, y: np.ndarray) -> float:
    """Kornblith et al. linear CKA from raw (uncentred) T × T Gram matrices and H."""
    return _cka_gram(x @ x.T, y @ y.T)


def _hsic_unbiased(k: np.ndarray, g: np.ndarray) -> float:
    """Song et al. (2012) eq. 5, literally: zeroed diagonals, all-ones vector."""
    n = len(k)
    kt, gt = k.copy(), g.copy()
    np.fill_diagonal(kt, 0.0)
    np.fill_diagonal(gt, 0.0)
    one = np.ones(n)
    return (
        np.trace(kt @ gt)
        + (one @ kt @ one) * (one @ gt @ one) / ((n - 1) * (n - 2))
        - 2.0 / (n - 2) * (one @ kt @ gt @ one)
    ) / (n * (n - 3))


def brute_debiased(x: np.ndarray, y: np.ndarray, centre: bool = True) -> float:
    if centre:
        x, y = x - x.mean(0), y - y.mean(0)
    k, g = x @ x.T, y @ y.T
    return _hsic_unbiased(k, g) / np.sqrt(_hsic_unbiased(k, k) * _hsic_unbiased(g, g))


def _rbf_gram(x: np.ndarray, sigma: float) -> np.ndarray:
    d2 = ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1)
    return np.exp(-d2 / (2 * sigma**2))


def _median_dist(x: np.ndarray) -> float:
    d = np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1))
    return float(np.median(d[np.triu_indices(len(x), 1)]))


def brute_rbf(x: np.ndarray, y: np.ndarray, sx: float | None = None, sy: float | None = None):
    sx = _median_dist(x) if sx is None else sx
    sy = _median_dist(y) if sy is None else sy
    return _cka_gram(_rbf_gram(x, sx), _rbf_gram(y, sy))


def _pair(rng: np.random.Generator, t: int, d1: int, d2: int, offset: float = 0.0):
    x = rng.standard_normal((t, d1)) + offset
    y = x[:, :1] @ rng.standard_normal((1, d2)) + rng.standard_normal((t, d2))
    return x, y


def _orthogonal(rng: np.random.Generator, d: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    return q * np.sign(np.diag(r))


# ----------------------------------------------------------------------------- exactness


@pytest.mark.parametrize("t,d1,d2", SHAPES)
def test_linear_matches_gram_definition(t: int, d1: int, d2: int) -> None:
    x, y = _pair(np.random.default_rng(t + d1), t, d1, d2, offset=2.0)
    assert cka(x, y) == pytest.approx(brute_linear(x, y), abs=1e-10)


@pytest.mark.parametrize("t,d1,d2", SHAPES)
def test_debiased_matches_song_u_statistic(t: int, d1: int, d2: int) -> None:
    x, y = _pair(np.random.default_rng(t * d2), t, d1, d2, offset=1.0)
    assert cka(x, y, "debiased") == pytest.approx(brute_debiased(x, y), abs=1e-10)


def test_unbiased_hsic_is_invariant_to_centring() -> None:
    """The U-statistic does not care whether the linear kernel sees centred data."""
    x, y = _pair(np.random.default_rng(3), 30, 4, 6, offset=0.5)
    assert brute_debiased(x, y, centre=False) == pytest.approx(brute_debiased(x, y), abs=1e-10)


def test_debiased_hsic_values_match_brute_force_scale() -> None:
    """Not only the ratio: n(n-3)·HSIC_1 equals the feature-space expression itself."""
    x, y = _pair(np.random.default_rng(4), 25, 3, 5)
    cov = stacked_covariance([x, y], row_norms=True)
    h = debiased_hsic(cov)
    xc, yc = x - x.mean(0), y - y.mean(0)
    n = len(x)
    expect = _hsic_unbiased(xc @ xc.T, yc @ yc.T) * n * (n - 3)
    assert h[0, 1] == pytest.approx(expect, rel=1e-10)


@pytest.mark.parametrize("t,d1,d2", [(12, 2, 3), (60, 5, 9)])
def test_rbf_matches_gram_definition(t: int, d1: int, d2: int) -> None:
    x, y = _pair(np.random.default_rng(7), t, d1, d2)
    assert cka(x, y, "rbf") == pytest.approx(brute_rbf(x, y), abs=1e-10)
    assert cka(x, y, "rbf", rbf_sigma=1.7) == pytest.approx(brute_rbf(x, y, 1.7, 1.7), abs=1e-10)
    res = cka(x, y, "rbf", return_result=True)
    assert res.sigma_x == pytest.approx(_median_dist(x), rel=1e-12)
    assert res.sigma_y == pytest.approx(_median_dist(y), rel=1e-12)


# ----------------------------------------------------------------------------- invariances


@pytest.mark.parametrize("kind", KINDS)
def test_identical_rotated_scaled_shifted_inputs_give_one(kind: str) -> None:
    rng = np.random.default_rng(11)
    x = rng.standard_normal((80, 6))
    q = _orthogonal(rng, 6)
    assert cka(x, x, kind) == pytest.approx(1.0, abs=1e-12)
    assert cka(x, x @ q, kind) == pytest.approx(1.0, abs=1e-12)
    assert cka(x, 3.7 * x @ q, kind) == pytest.approx(1.0, abs=1e-12)
    assert cka(x, x + 50.0, kind) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("kind", ["linear", "debiased"])
def test_invariant_to_offset_rotation_scaling_of_one_side(kind: str) -> None:
    rng = np.random.default_rng(12)
    x, y = _pair(rng, 70, 5, 4)
    base = cka(x, y, kind)
    q = _orthogonal(rng, 4)
    assert cka(x, 0.01 * (y @ q) - 7.0, kind) == pytest.approx(base, abs=1e-12)
    assert cka(x + rng.standard_normal(5) * 100, y, kind) == pytest.approx(base, abs=1e-10)


def test_not_invariant_to_anisotropic_scaling_closed_form() -> None:
    """X = [a, b] with orthonormal centred columns, Y = X diag(1, s): CKA = (1+s²)/sqrt(2(1+s⁴))."""
    rng = np.random.default_rng(13)
    t = 50
    a = rng.standard_normal((t, 2))
    a -= a.mean(0)
    x, _ = np.linalg.qr(a)  # orthonormal columns, still centred (span of centred vectors)
    for s in (1.0, 2.0, 10.0):
        expect = (1 + s**2) / np.sqrt(2 * (1 + s**4))
        assert cka(x, x * np.array([1.0, s])) == pytest.approx(expect, abs=1e-12)
    assert cka(x, x * np.array([1.0, 10.0])) < 0.75


def test_debiased_near_zero_for_independent_while_biased_is_large() -> None:
    rng = np.random.default_rng(14)
    x = rng.standard_normal((100, 256))
    y = rng.standard_normal((100, 256))
    assert abs(cka(x, y, "debiased")) < 0.05
    assert cka(x, y, "linear") > 0.5


# ----------------------------------------------------------------------------- streaming


@pytest.mark.parametrize("kind", ["linear", "debiased"])
@pytest.mark.parametrize("chunk", [7, 100, 503])
def test_chunked_equals_unchunked(kind: str, chunk: int) -> None:
    rng = np.random.default_rng(15)
    layers = [rng.standard_normal((503, d)) + 5.0 for d in (3, 8, 1, 5)]
    ref = cka_matrix(layers, kind=kind, chunk_size=10**6)
    np.testing.assert_allclose(cka_matrix(layers, kind=kind, chunk_size=chunk), ref, atol=1e-12)
    cross = cka_matrix(layers[:2], layers[2:], kind=kind, chunk_size=10**6)
    got = cka_matrix(layers[:2], layers[2:], kind=kind, chunk_size=chunk)
    np.testing.assert_allclose(got, cross, atol=1e-12)


def test_max_chunk_bytes_caps_rows_without_changing_result() -> None:
    rng = np.random.default_rng(16)
    layers = [rng.standard_normal((300, 4)) for _ in range(3)]
    ref = cka_matrix(layers, max_chunk_bytes=None)
    np.testing.assert_allclose(cka_matrix(layers, max_chunk_bytes=8 * 12 * 10), ref, atol=1e-12)


def test_lazy_zarr_and_xarray_inputs_equal_numpy(tmp_path) -> None:
    zarr = pytest.importorskip("zarr")
    xr = pytest.importorskip("xarray")
    rng = np.random.default_rng(17)
    layers = [(rng.standard_normal((250, d)) + 10).astype(np.float32) for d in (4, 6, 3)]
    root = zarr.open_group(tmp_path / "acts.zarr", mode="w", zarr_format=3)
    zlayers = []
    for i, a in enumerate(layers):
        z = root.create_array(f"layer_{i:02d}", shape=a.shape, chunks=(64, a.shape[1]), dtype="f4")
        z[:] = a
        zlayers.append(z)
    xlayers = [xr.DataArray(a, dims=("time", "unit")) for a in layers]
    ds = xr.Dataset({f"layer_{i:02d}": (("time", f"u{i}"), a) for i, a in enumerate(layers)})
    ds.to_zarr(tmp_path / "ds.zarr", zarr_format=3, consolidated=False)
    lazy = xr.open_dataset(tmp_path / "ds.zarr", engine="zarr", chunks=None, consolidated=False)
    dlayers = [lazy[f"layer_{i:02d}"] for i in range(len(layers))]
    assert not isinstance(dlayers[0].variable._data, np.ndarray)  # really lazy
    for kind in ("linear", "debiased"):
        ref = cka_matrix(layers, kind=kind)
        for chunk in (37, 100, 10**6):  # 100 and 10**6 get aligned to the 64-row zarr chunks
            np.testing.assert_allclose(
                cka_matrix(zlayers, kind=kind, chunk_size=chunk), ref, atol=1e-12
            )
        np.testing.assert_allclose(cka_matrix(xlayers, kind=kind, chunk_size=37), ref, atol=1e-12)
        np.testing.assert_allclose(cka_matrix(dlayers, kind=kind, chunk_size=37), ref, atol=1e-12)
    ref = cka_matrix(layers, kind="rbf", max_samples=120, seed=3, return_result=True)
    got = cka_matrix(
        zlayers, kind="rbf", max_samples=120, seed=3, chunk_size=50, return_result=True
    )
    np.testing.assert_allclose(got.values, ref.values, atol=1e-12)
    assert got.n_samples == 120


def test_float32_large_offset_is_stable() -> None:
    """Mean 1e4, sd 1, float32: two-pass centring keeps the exact float64 answer."""
    rng = np.random.default_rng(18)
    t = 20_000
    x = (1e4 + rng.standard_normal((t, 3))).astype(np.float32)
    y = (1e4 + 0.5 * x[:, :2].astype(np.float64) - 5e3 + rng.standard_normal((t, 2))).astype(
        np.float32
    )
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    xc, yc = x64 - x64.mean(0), y64 - y64.mean(0)
    exact = np.linalg.norm(yc.T @ xc) ** 2 / (np.linalg.norm(xc.T @ xc) * np.linalg.norm(yc.T @ yc))
    for chunk in (999, t):
        assert cka(x, y, chunk_size=chunk) == pytest.approx(exact, abs=1e-12)
    cov = stacked_covariance([x, y], chunk_size=999)
    np.testing.assert_allclose(cov.block(0, 1), xc.T @ yc, rtol=1e-10, atol=1e-8)
    # The one-pass float32 shortcut the implementation avoids is visibly wrong here.
    s = x.T @ x - np.float32(t) * np.outer(x.mean(0, dtype=np.float32), x.mean(0, dtype=np.float32))
    assert np.max(np.abs(s - xc.T @ xc)) > 1e3 * np.max(np.abs(cov.block(0) - xc.T @ xc))


def test_float32_gemm_option_is_close() -> None:
    rng = np.random.default_rng(19)
    layers = [rng.standard_normal((3000, d)).astype(np.float32) + 100 for d in (5, 9)]
    ref = cka_matrix(layers, kind="debiased")
    got = cka_matrix(layers, kind="debiased", gemm_dtype="float32", chunk_size=1000)
    np.testing.assert_allclose(got, ref, atol=1e-5)


# ----------------------------------------------------------------------------- matrix API


@pytest.mark.parametrize("kind", KINDS)
def test_matrix_symmetric_unit_diagonal_and_pairwise(kind: str) -> None:
    rng = np.random.default_rng(20)
    base = rng.standard_normal((90, 4))
    layers = [base @ rng.standard_normal((4, d)) + rng.standard_normal((90, d)) for d in (2, 5, 3)]
    m = cka_matrix(layers, kind=kind)
    assert m.shape == (3, 3)
    np.testing.assert_array_equal(m, m.T)
    np.testing.assert_array_equal(np.diag(m), 1.0)
    for i in range(3):
        for j in range(3):
            assert m[i, j] == pytest.approx(cka(layers[i], layers[j], kind), abs=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_matrix_cross_entries_equal_pairwise(kind: str) -> None:
    rng = np.random.default_rng(21)
    a = [rng.standard_normal((60, d)) for d in (2, 4)]
    b = [a[0] @ rng.standard_normal((2, 3)) + 0.3 * rng.standard_normal((60, 3)) for _ in range(3)]
    m = cka_matrix(a, b, kind=kind)
    assert m.shape == (2, 3)
    for i in range(2):
        for j in range(3):
            assert m[i, j] == pytest.approx(cka(a[i], b[j], kind), abs=1e-12)


def test_from_covariance_blocks_and_participation_ratio() -> None:
    rng = np.random.default_rng(22)
    layers = [rng.standard_normal((400, d)) * rng.uniform(0.1, 3, d) for d in (3, 6)]
    cov = stacked_covariance(layers)
    assert isinstance(cov, StackedCovariance) and cov.n_layers == 2
    np.testing.assert_allclose(cka_from_covariance(cov), cka_matrix(layers), atol=1e-15)
    np.testing.assert_allclose(cka_from_covariance(cov, rows=[1], cols=[0]), [[cka(*layers[::-1])]])
    c = np.cov(layers[1], rowvar=False)
    np.testing.assert_allclose(cov.block(1) / (cov.n_samples - 1), c, rtol=1e-10)
    ev = np.linalg.eigvalsh(c)
    assert cov.participation_ratio(1) == pytest.approx(ev.sum() ** 2 / (ev**2).sum(), rel=1e-10)
    np.testing.assert_allclose(cov.layer_means(0), layers[0].mean(0), atol=1e-12)


# ----------------------------------------------------------------------------- RBF subsampling


def test_rbf_subsampling_deterministic_and_reported() -> None:
    rng = np.random.default_rng(23)
    x, y = _pair(rng, 300, 3, 4)
    r1 = cka(x, y, "rbf", max_samples=80, seed=5, return_result=True)
    r2 = cka(x, y, "rbf", max_samples=80, seed=5, return_result=True)
    r3 = cka(x, y, "rbf", max_samples=80, seed=6, return_result=True)
    assert isinstance(r1, CKAResult)
    assert r1 == r2
    assert r1.value != r3.value
    assert (r1.n_samples, r1.n_total, r1.subsampled, r1.seed) == (80, 300, True, 5)
    idx = rbf_subsample_indices(300, 80, 5)
    assert len(np.unique(idx)) == 80 and np.all(np.diff(idx) > 0)
    assert r1.value == pytest.approx(brute_rbf(x[idx], y[idx]), abs=1e-10)
    full = cka(x, y, "rbf", return_result=True)
    assert (full.n_samples, full.subsampled, full.seed) == (300, False, None)
    lin = cka(x, y, return_result=True)
    assert (lin.n_samples, lin.subsampled, lin.sigma_x) == (300, False, None)


def test_rbf_matrix_cache_and_recompute_agree() -> None:
    rng = np.random.default_rng(24)
    layers = [rng.standard_normal((70, d)) for d in (2, 3, 4)]
    cached = cka_matrix(layers, kind="rbf", return_result=True)
    uncached = cka_matrix(layers, kind="rbf", rbf_cache_bytes=0, return_result=True)
    np.testing.assert_allclose(uncached.values, cached.values, atol=1e-15)
    assert cached.sigmas_a.shape == (3,) and cached.sigmas_b is None


# ----------------------------------------------------------------------------- validation


@pytest.mark.parametrize("kind", KINDS)
def test_constant_layer_gives_nan_with_warning(kind: str) -> None:
    rng = np.random.default_rng(25)
    x = rng.standard_normal((30, 3))
    const = np.full((30, 2), 4.2, dtype=np.float32)
    with pytest.warns(RuntimeWarning, match="Y has zero variance"):
        assert np.isnan(cka(x, const, kind))
    with pytest.warns(RuntimeWarning, match=r"layers_a\[1\]"):
        m = cka_matrix([x, const, x[:, :2]], kind=kind)
    assert np.isnan(m[1]).all() and np.isnan(m[:, 1]).all()
    assert m[0, 2] == pytest.approx(cka(x, x[:, :2], kind), abs=1e-12)
    assert np.isfinite(m[[0, 2]][:, [0, 2]]).all()


def test_no_warning_for_regular_input() -> None:
    rng = np.random.default_rng(26)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cka(rng.standard_normal((20, 2)), rng.standard_normal((20, 3)), "debiased")


def test_error_different_time_points_names_layer() -> None:
    rng = np.random.default_rng(27)
    a = [rng.standard_normal((50, 2)), rng.standard_normal((49, 2))]
    with pytest.raises(
        ValueError, match=r"layers_a\[1\] has 49 time points .* layers_a\[0\] has 50"
    ):
        cka_matrix(a)
    with pytest.raises(ValueError, match=r"layers_b\[0\] has 40 time points"):
        cka_matrix(a[:1], [rng.standard_normal((40, 2))])
    with pytest.raises(ValueError, match=r"Y has 49 time points .* X has 50"):
        cka(a[0], a[1])


def test_error_too_few_samples() -> None:
    rng = np.random.default_rng(28)
    x = rng.standard_normal((3, 2))
    with pytest.raises(ValueError, match="at least 4 time points"):
        cka(x, x, "debiased")
    with pytest.raises(ValueError, match="at least 2 time points"):
        cka(x[:1], x[:1])
    assert np.isfinite(cka(x, x[:, ::-1]))
    with pytest.raises(ValueError, match="max_samples"):
        cka(x, x, "rbf", max_samples=1)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_error_non_finite_names_layer(bad: float) -> None:
    rng = np.random.default_rng(29)
    layers = [rng.standard_normal((40, 3)) for _ in range(3)]
    layers[2][17, 1] = bad
    for kind in KINDS:
        with pytest.raises(ValueError, match=r"layers_a\[2\] contains NaN or inf"):
            cka_matrix(layers, kind=kind)
    with pytest.raises(
        ValueError, match=r"X contains NaN or inf values \(first at time index 17\)"
    ):
        cka(layers[2], layers[0])


def test_error_not_2d() -> None:
    rng = np.random.default_rng(30)
    with pytest.raises(ValueError, match=r"X must be 2-D \(time × units\), got shape \(10,\)"):
        cka(rng.standard_normal(10), rng.standard_normal((10, 2)))
    with pytest.raises(ValueError, match=r"layers_a\[0\] must be 2-D"):
        cka_matrix([rng.standard_normal((2, 3, 4))])
    with pytest.raises(ValueError, match="no units"):
        cka(np.zeros((10, 0)), rng.standard_normal((10, 2)))
    with pytest.raises(TypeError, match="sequence of 2-D"):
        cka_matrix(rng.standard_normal((10, 3)))
    with pytest.raises(ValueError, match="empty"):
        cka_matrix([])
    with pytest.raises(ValueError, match="real numbers"):
        cka(np.ones((5, 2), dtype=complex), np.ones((5, 2)))


def test_error_unknown_kind_lists_valid() -> None:
    x = np.random.default_rng(31).standard_normal((10, 2))
    with pytest.raises(ValueError, match="unknown CKA kind 'cosine'.*'linear', 'debiased', 'rbf'"):
        cka(x, x, "cosine")
    with pytest.raises(ValueError, match="unknown CKA kind"):
        cka_matrix([x], kind="kernel")
    with pytest.raises(ValueError, match="RBF CKA cannot"):
        cka_from_covariance(stacked_covariance([x]), "rbf")


def test_error_bad_options() -> None:
    x = np.random.default_rng(32).standard_normal((10, 2))
    with pytest.raises(ValueError, match="chunk_size"):
        cka(x, x, chunk_size=0)
    with pytest.raises(ValueError, match="rbf_sigma"):
        cka(x, x, "rbf", rbf_sigma=-1.0)
    with pytest.raises(ValueError, match="gemm_dtype"):
        cka(x, x, gemm_dtype="float16")
