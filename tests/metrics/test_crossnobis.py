"""Tests for cebra_lens_core.metrics.crossnobis: brute force, rsatoolbox, closed forms, errors."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
from scipy.stats import ortho_group

from cebra_lens_core.metrics.crossnobis import (
    compare_rdms_whitened,
    contiguous_folds,
    crossnobis_from_fold_means,
    crossnobis_rdm,
    crossnobis_rsa,
    fold_layout,
    noise_precision,
    shrunk_covariance,
)
from cebra_lens_core.metrics.rdm import upper_triangle

# ----------------------------------------------------------------------------- helpers


class Lazy:
    """A lazy layer: ``.shape``, ``.dtype`` and row slicing only (counts reads)."""

    def __init__(self, a: np.ndarray):
        self._a = a
        self.shape = a.shape
        self.dtype = a.dtype
        self.reads = 0

    def __getitem__(self, key):
        self.reads += 1
        return np.array(self._a[key])


def make_data(
    seed: int,
    n_time: int = 240,
    d: int = 5,
    n_cond: int = 4,
    sep: float = 1.0,
    offset: float = 3.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Condition means ``sep · N(0, 1)``, correlated Gaussian noise, a common offset."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, n_cond, n_time)
    means = sep * rng.normal(size=(n_cond, d))
    mix = rng.normal(size=(d, d)) / math.sqrt(d) + np.eye(d)
    x = offset + means[codes] + rng.normal(size=(n_time, d)) @ mix.T
    return x, codes


def balanced_codes(seed: int, n_folds: int, n_cond: int, reps: int) -> np.ndarray:
    """Every condition ``reps`` times in every contiguous fold (shuffled within the fold)."""
    rng = np.random.default_rng(seed)
    return np.concatenate(
        [rng.permutation(np.repeat(np.arange(n_cond), reps)) for _ in range(n_folds)]
    )


def brute_cells(x: np.ndarray, codes: np.ndarray, folds: np.ndarray):
    """Per-fold condition means (F, C, d), presence (F, C) and residuals, by plain loops."""
    ids, fids = np.unique(codes), np.unique(folds)
    mu = np.zeros((len(fids), len(ids), x.shape[1]))
    present = np.zeros((len(fids), len(ids)), dtype=bool)
    resid = np.empty_like(x, dtype=float)
    for a, f in enumerate(fids):
        for b, c in enumerate(ids):
            rows = (folds == f) & (codes == c)
            if rows.any():
                present[a, b] = True
                mu[a, b] = x[rows].mean(axis=0)
                resid[rows] = x[rows] - mu[a, b]
    return mu, present, resid


def brute_ledoit_wolf(resid: np.ndarray, dof: int) -> tuple[np.ndarray, float]:
    """Ledoit & Wolf (2004) towards m·I, from its definition (per-sample Frobenius norms)."""
    n, d = resid.shape
    s = resid.T @ resid / n
    m = np.trace(s) / d
    d2 = np.sum((s - m * np.eye(d)) ** 2)
    b2_bar = sum(np.sum((np.outer(r, r) - s) ** 2) for r in resid) / n**2
    b2 = min(b2_bar, d2)
    shrunk = b2 / d2 * m * np.eye(d) + (d2 - b2) / d2 * s
    return shrunk * n / dof, b2 / d2


def brute_crossnobis(mu: np.ndarray, present: np.ndarray, prec: np.ndarray) -> np.ndarray:
    """Mean over ordered fold pairs f ≠ g (both conditions present) of δ^fᵀ P δ^g / d."""
    n_folds, n_cond, d = mu.shape
    out = np.zeros((n_cond, n_cond))
    for i, j in itertools.combinations(range(n_cond), 2):
        folds = [f for f in range(n_folds) if present[f, i] and present[f, j]]
        vals = [
            (mu[f, i] - mu[f, j]) @ prec @ (mu[g, i] - mu[g, j])
            for f in folds
            for g in folds
            if f != g
        ]
        out[i, j] = out[j, i] = np.mean(vals) / d
    return out


def brute_whitened(a: np.ndarray, b: np.ndarray, method: str) -> float:
    """aᵀV⁻¹b / sqrt(aᵀV⁻¹a bᵀV⁻¹b) with V = (C Cᵀ)∘(C Cᵀ) formed explicitly."""
    n = int(round((1 + math.sqrt(1 + 8 * len(a))) / 2))
    pairs = list(itertools.combinations(range(n), 2))
    contrast = np.zeros((len(pairs), n))
    for k, (i, j) in enumerate(pairs):
        contrast[k, i], contrast[k, j] = 1.0, -1.0
    xi = contrast @ contrast.T
    v = xi * xi
    if method == "corr_cov":
        a, b = a - a.mean(), b - b.mean()
    ab = a @ np.linalg.solve(v, b)
    aa = a @ np.linalg.solve(v, a)
    bb = b @ np.linalg.solve(v, b)
    return ab / math.sqrt(aa * bb)


def plain_mahalanobis(x: np.ndarray, codes: np.ndarray, prec: np.ndarray) -> np.ndarray:
    """Non-cross-validated δᵀ P δ / d of the overall condition means."""
    mu = np.stack([x[codes == c].mean(axis=0) for c in np.unique(codes)])
    diff = mu[:, None, :] - mu[None, :, :]
    return np.einsum("ijk,kl,ijl->ij", diff, prec, diff) / x.shape[1]


OFF = ~np.eye(4, dtype=bool)
RSATOOLBOX_CAST = pytest.mark.filterwarnings(
    "ignore:invalid value encountered in cast:RuntimeWarning"
)

# ----------------------------------------------------------------------------- folds


def test_contiguous_folds_blocks():
    np.testing.assert_array_equal(contiguous_folds(10, 3), [0, 0, 0, 0, 1, 1, 1, 2, 2, 2])
    for n_time, n_folds in [(7, 7), (100, 5), (101, 4), (1000, 9)]:
        f = contiguous_folds(n_time, n_folds)
        assert f.shape == (n_time,) and f.dtype == np.int64
        assert (np.diff(f) >= 0).all() and set(np.unique(f)) == set(range(n_folds))
        sizes = np.bincount(f)
        assert sizes.max() - sizes.min() <= 1
        # each fold is one run of rows: n_folds − 1 changes of id along time
        assert int((np.diff(f) != 0).sum()) == n_folds - 1
        splits = np.array_split(np.arange(n_time), n_folds)
        for k, rows in enumerate(splits):
            assert (f[rows] == k).all()


@pytest.mark.parametrize(
    "n_time, n_folds, match",
    [(10, 1, "at least 2"), (10, 0, "at least 2"), (3, 4, "exceeds"), (10, 2.5, "integer")],
)
def test_contiguous_folds_errors(n_time, n_folds, match):
    with pytest.raises(ValueError, match=match):
        contiguous_folds(n_time, n_folds)


# ----------------------------------------------------------------------------- noise


@pytest.mark.parametrize("shrinkage", ["ledoit_wolf", "none", 0.3])
def test_noise_precision_matches_brute_force(shrinkage):
    x, codes = make_data(0, n_time=150, d=6)
    folds = contiguous_folds(150, 3)
    _, present, resid = brute_cells(x, codes, folds)
    dof = 150 - int(present.sum())
    if shrinkage == "ledoit_wolf":
        cov, lam_ref = brute_ledoit_wolf(resid, dof)
    else:
        lam_ref = 0.0 if shrinkage == "none" else shrinkage
        s = resid.T @ resid
        cov = ((1 - lam_ref) * s + lam_ref * np.trace(s) / 6 * np.eye(6)) / dof
    prec, lam = noise_precision(x, codes, folds, shrinkage=shrinkage)
    np.testing.assert_allclose(prec, np.linalg.inv(cov), rtol=1e-9, atol=1e-12)
    assert lam == pytest.approx(lam_ref, rel=1e-10, abs=1e-14)
    np.testing.assert_array_equal(prec, prec.T)
    if shrinkage == "ledoit_wolf":
        assert 0.0 < lam < 1.0


def test_noise_precision_matches_rsatoolbox():
    noise = pytest.importorskip("rsatoolbox.data.noise")
    x, codes = make_data(1, n_time=200, d=7)
    folds = contiguous_folds(200, 4)
    _, present, resid = brute_cells(x, codes, folds)
    dof = 200 - int(present.sum())
    ref = noise.prec_from_residuals(resid, dof=dof, method="shrinkage_eye")
    prec, _ = noise_precision(x, codes, folds)
    np.testing.assert_allclose(prec, ref, rtol=1e-8, atol=1e-12)
    ref_full = noise.prec_from_residuals(resid, dof=dof, method="full")
    np.testing.assert_allclose(
        noise_precision(x, codes, folds, shrinkage="none")[0], ref_full, rtol=1e-8, atol=1e-12
    )


def test_noise_precision_accepts_fold_count_and_any_fold_ids():
    x, codes = make_data(2, n_time=120)
    by_count = noise_precision(x, codes, 4)
    by_ids = noise_precision(x, codes, contiguous_folds(120, 4) * 10 + 3)
    np.testing.assert_allclose(by_count[0], by_ids[0], rtol=1e-13)


def test_shrunk_covariance_scalar_unit_has_no_shrinkage():
    cov, lam = shrunk_covariance(np.array([[4.0]]), 20.0, 10, 8)
    assert lam == 0.0 and cov[0, 0] == pytest.approx(0.5)


# ----------------------------------------------------------------------------- crossnobis RDM


@pytest.mark.parametrize("n_folds", [2, 3, 5])
def test_crossnobis_matches_brute_force(n_folds):
    x, codes = make_data(3, n_time=300, d=5)
    folds = contiguous_folds(300, n_folds)
    mu, present, _ = brute_cells(x, codes, folds)
    prec, _ = noise_precision(x, codes, folds)
    rdm, ids = crossnobis_rdm(x, codes, n_folds=n_folds)
    np.testing.assert_array_equal(ids, [0, 1, 2, 3])
    np.testing.assert_allclose(rdm, brute_crossnobis(mu, present, prec), rtol=1e-10, atol=1e-13)
    np.testing.assert_array_equal(rdm, rdm.T)
    assert (np.diag(rdm) == 0).all()


def _rsatoolbox_crossnobis(rsd, rsr, measurements, conds, folds, prec):
    ds = rsd.Dataset(
        measurements, obs_descriptors={"conds": np.asarray(conds), "fold": np.asarray(folds)}
    )
    out = rsr.calc_rdm(
        ds, method="crossnobis", descriptor="conds", cv_descriptor="fold", noise=prec
    )
    return out.get_vectors()[0]


# rsatoolbox fills an integer pattern descriptor with NaN before overwriting it (harmless)
@RSATOOLBOX_CAST
def test_crossnobis_matches_rsatoolbox_on_fold_means():
    """rsatoolbox's leave-one-fold-out crossnobis on one pattern estimate per (fold, condition)."""
    rsd = pytest.importorskip("rsatoolbox.data")
    rsr = pytest.importorskip("rsatoolbox.rdm")
    x, codes = make_data(4, n_time=400, d=6, n_cond=5)
    n_folds = 4
    folds = contiguous_folds(400, n_folds)
    mu, present, _ = brute_cells(x, codes, folds)
    assert present.all()
    prec, _ = noise_precision(x, codes, folds)
    f_idx, c_idx = np.meshgrid(np.arange(n_folds), np.arange(5), indexing="ij")
    ref = _rsatoolbox_crossnobis(
        rsd, rsr, mu.reshape(-1, 6), c_idx.reshape(-1), f_idx.reshape(-1), prec
    )
    rdm, _ = crossnobis_rdm(x, codes, n_folds=n_folds)
    np.testing.assert_allclose(upper_triangle(rdm), ref, rtol=1e-8, atol=1e-12)


@RSATOOLBOX_CAST
def test_crossnobis_matches_rsatoolbox_on_raw_rows_when_balanced():
    rsd = pytest.importorskip("rsatoolbox.data")
    rsr = pytest.importorskip("rsatoolbox.rdm")
    n_folds, n_cond, reps, d = 3, 4, 6, 5
    codes = balanced_codes(5, n_folds, n_cond, reps)
    rng = np.random.default_rng(5)
    x = rng.normal(size=(n_cond, d))[codes] + rng.normal(size=(len(codes), d))
    folds = contiguous_folds(len(codes), n_folds)
    prec, _ = noise_precision(x, codes, folds)
    ref = _rsatoolbox_crossnobis(rsd, rsr, x, codes, folds, prec)
    rdm, _ = crossnobis_rdm(x, codes, n_folds=n_folds)
    np.testing.assert_allclose(upper_triangle(rdm), ref, rtol=1e-8, atol=1e-12)


def test_missing_cells_use_the_folds_both_conditions_share():
    x, codes = make_data(6, n_time=400, d=4)
    folds = contiguous_folds(400, 4)
    codes = codes.copy()
    codes[(folds == 1) & (codes == 2)] = 0  # condition 2 absent from fold 1
    codes[(folds == 3) & (codes == 3)] = 1  # condition 3 absent from fold 3
    mu, present, _ = brute_cells(x, codes, folds)
    assert present.sum() == 14
    prec, _ = noise_precision(x, codes, folds)
    rdm, _ = crossnobis_rdm(x, codes, n_folds=4)
    np.testing.assert_allclose(rdm, brute_crossnobis(mu, present, prec), rtol=1e-10, atol=1e-13)
    # direct use of the pure function agrees too
    direct = crossnobis_from_fold_means(mu, prec, present)
    np.testing.assert_allclose(rdm, direct, rtol=1e-12, atol=1e-14)


def test_chunked_equals_unchunked_and_lazy():
    x, codes = make_data(7, n_time=500, d=6)
    ref, _ = crossnobis_rdm(x, codes, n_folds=5)
    for chunk in (1, 7, 64, 499):
        got, _ = crossnobis_rdm(x, codes, n_folds=5, chunk_size=chunk)
        np.testing.assert_allclose(got, ref, rtol=1e-11, atol=1e-13)
    lazy = Lazy(x.astype(np.float32))
    got, _ = crossnobis_rdm(lazy, codes, n_folds=5, chunk_size=37)
    assert lazy.reads == 2 * math.ceil(500 / 37)  # two passes, chunk by chunk
    ref32, _ = crossnobis_rdm(x.astype(np.float32), codes, n_folds=5)
    np.testing.assert_allclose(got, ref32, rtol=1e-11, atol=1e-13)


def test_unbiased_for_identical_conditions_while_plain_mahalanobis_is_positive():
    cross, plain = [], []
    for seed in range(150):
        x, codes = make_data(100 + seed, n_time=90, d=3, n_cond=4, sep=0.0)
        rdm, _ = crossnobis_rdm(x, codes, n_folds=3)
        prec, _ = noise_precision(x, codes, 3)
        cross.append(rdm[OFF].mean())
        plain.append(plain_mahalanobis(x, codes, prec)[OFF].mean())
    cross, plain = np.array(cross), np.array(plain)
    se = cross.std(ddof=1) / math.sqrt(len(cross))
    assert abs(cross.mean()) < 4 * se
    assert 0.3 < (cross < 0).mean() < 0.7  # negative about half the time
    assert (plain > 0).all() and plain.mean() > 10 * se


def test_distances_grow_with_true_separation():
    rng = np.random.default_rng(8)
    d, n_time = 4, 800
    codes = rng.integers(0, 4, n_time)
    direction = rng.normal(size=d)
    noise = rng.normal(size=(n_time, d))
    prev = None
    for sep in (0.25, 0.5, 1.0):
        x = sep * codes[:, None] * direction + noise  # conditions on a line, 0…3
        rdm, _ = crossnobis_rdm(x, codes, n_folds=4)
        row = rdm[0, 1:]
        assert (np.diff(row) > 0).all()  # farther along the line, larger distance
        if prev is not None:
            assert (row > prev).all()
        prev = row


def test_invertible_linear_transform_without_shrinkage():
    x, codes = make_data(9, n_time=400, d=6)
    rng = np.random.default_rng(9)
    a = rng.normal(size=(6, 6))
    assert np.linalg.cond(a) < 1e3
    y = x @ a - 7.0
    rx, _ = crossnobis_rdm(x, codes, shrinkage="none")
    ry, _ = crossnobis_rdm(y, codes, shrinkage="none")
    np.testing.assert_allclose(ry, rx, rtol=1e-8, atol=1e-12)
    assert crossnobis_rsa(x, y, codes, shrinkage="none") == pytest.approx(1.0, abs=1e-12)
    # Ledoit–Wolf shrinks towards m·I, which a general linear map does not preserve
    sx, _ = crossnobis_rdm(x, codes)
    sy, _ = crossnobis_rdm(y, codes)
    assert np.abs(sy - sx).max() > 1e-3 * np.abs(sx).max()


def test_orthogonal_scaling_permutation_translation_with_shrinkage():
    x, codes = make_data(10, n_time=300, d=6)
    q = ortho_group.rvs(6, random_state=10)
    perm = np.random.default_rng(10).permutation(6)
    ref, _ = crossnobis_rdm(x, codes)
    for y in (x @ q, 3.5 * x, x[:, perm], x + 100.0, 0.2 * (x @ q)[:, perm] - 4.0):
        got, _ = crossnobis_rdm(y, codes)
        np.testing.assert_allclose(got, ref, rtol=1e-8, atol=1e-12)


def test_shuffled_time_destroys_the_structure():
    x, codes = make_data(11, n_time=600, d=5, sep=1.5)
    rdm, _ = crossnobis_rdm(x, codes)
    perm = np.random.default_rng(11).permutation(600)
    shuffled, _ = crossnobis_rdm(x[perm], codes)
    assert np.abs(shuffled[OFF]).mean() < 0.1 * rdm[OFF].mean()


# ----------------------------------------------------------------------------- comparators


@pytest.mark.parametrize("method", ["cosine_cov", "corr_cov"])
@pytest.mark.parametrize("n", [3, 4, 7])
def test_whitened_comparators_match_explicit_v(method, n):
    rng = np.random.default_rng(n)
    k = n * (n - 1) // 2
    a, b = rng.random(k), rng.random(k) + 0.5 * rng.random(k)
    got = compare_rdms_whitened(a, b, method)
    assert got == pytest.approx(brute_whitened(a, b, method), rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("method", ["cosine_cov", "corr_cov"])
def test_whitened_comparators_match_rsatoolbox(method):
    rsr = pytest.importorskip("rsatoolbox.rdm")
    x, codes = make_data(12, n_time=400, d=5, n_cond=6)
    y = np.tanh(x) + np.random.default_rng(12).normal(size=x.shape)
    a, _ = crossnobis_rdm(x, codes)
    b, _ = crossnobis_rdm(y, codes)
    va, vb = upper_triangle(a), upper_triangle(b)
    ref = float(rsr.compare(rsr.RDMs(va[None, :]), rsr.RDMs(vb[None, :]), method=method)[0, 0])
    assert compare_rdms_whitened(a, b, method) == pytest.approx(ref, rel=1e-8, abs=1e-10)
    assert crossnobis_rsa(x, y, codes, method=method) == pytest.approx(ref, rel=1e-8, abs=1e-10)


def test_whitened_comparator_closed_forms():
    rng = np.random.default_rng(13)
    a, b = rng.random(10), rng.random(10)
    assert compare_rdms_whitened(a, a) == pytest.approx(1.0)
    assert compare_rdms_whitened(a, 4.0 * a) == pytest.approx(1.0)
    assert compare_rdms_whitened(a, -a) == pytest.approx(-1.0)
    assert compare_rdms_whitened(a, b) == pytest.approx(compare_rdms_whitened(b, a), abs=1e-15)
    # corr_cov ignores a constant added to every distance; cosine_cov does not
    assert compare_rdms_whitened(a, a + 3.0, "corr_cov") == pytest.approx(1.0)
    assert compare_rdms_whitened(a, a + 3.0, "cosine_cov") < 1.0 - 1e-3
    # square and vector forms agree
    sq = np.zeros((5, 5))
    sq[np.triu_indices(5, 1)] = a
    assert compare_rdms_whitened(sq + sq.T, b) == pytest.approx(compare_rdms_whitened(a, b))


def test_whitened_comparator_undefined_is_nan():
    a = np.random.default_rng(14).random(6)
    with pytest.warns(RuntimeWarning, match="zero norm"):
        assert math.isnan(compare_rdms_whitened(a, np.zeros(6)))
    with pytest.warns(RuntimeWarning, match="zero norm"):
        assert math.isnan(compare_rdms_whitened(a, np.full(6, 2.0), "corr_cov"))


def test_crossnobis_rsa_identical_layers():
    x, codes = make_data(15, n_time=400, d=5, n_cond=6, sep=1.5)
    assert crossnobis_rsa(x, x, codes) == pytest.approx(1.0, abs=1e-12)
    assert crossnobis_rsa(x, x, codes, method="corr_cov") == pytest.approx(1.0, abs=1e-12)


def test_crossnobis_rsa_with_independent_noise_is_zero_on_average():
    # a layer without condition structure has an RDM of zero-mean noise, independent of X's
    x, codes = make_data(16, n_time=240, d=4, n_cond=5, sep=1.5)
    scores = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for seed in range(40):
            noise = np.random.default_rng(200 + seed).normal(size=(240, 3))
            scores.append(crossnobis_rsa(x, noise, codes, n_folds=3))
    scores = np.array(scores)
    assert abs(scores.mean()) < 4 * scores.std(ddof=1) / math.sqrt(len(scores))
    assert crossnobis_rsa(x, x + 0.5 * np.random.default_rng(1).normal(size=x.shape), codes) > 0.9


# ----------------------------------------------------------------------------- errors


def test_errors_for_labels_and_folds():
    x, codes = make_data(16, n_time=120)
    with pytest.raises(ValueError, match="119 values but X has 120 rows"):
        crossnobis_rdm(x, codes[:-1])
    with pytest.raises(ValueError, match="at least 2"):
        crossnobis_rdm(x, codes, n_folds=1)
    with pytest.raises(ValueError, match="exceeds"):
        crossnobis_rdm(x, codes, n_folds=121)
    lonely = codes.copy()
    lonely[:5] = 9  # condition 9 only at the start: one fold
    with pytest.raises(ValueError, match=r"conditions 9 occur in fewer than 2 of the 5 folds"):
        crossnobis_rdm(x, lonely)
    apart = np.where(np.arange(120) < 60, np.arange(120) % 2, 2 + np.arange(120) % 2)
    with pytest.raises(ValueError, match="share fewer than 2 folds"):
        crossnobis_rdm(x, apart, n_folds=4)
    with pytest.raises(ValueError, match="non-integer"):
        crossnobis_rdm(x, codes + 0.5)
    with pytest.raises(ValueError, match="fewer than 2 of the 3 folds"):
        fold_layout(lonely, contiguous_folds(120, 3))
    fold_layout(lonely, contiguous_folds(120, 3), require_pairs=False)  # noise only: fine


def test_errors_for_bad_values_and_options():
    x, codes = make_data(17, n_time=120)
    bad = x.copy()
    bad[37, 2] = np.nan
    with pytest.raises(ValueError, match="time index 37"):
        crossnobis_rdm(bad, codes)
    with pytest.raises(ValueError, match="time index 37"):
        crossnobis_rdm(Lazy(bad), codes, chunk_size=16)
    with pytest.raises(ValueError, match="time index 37"):
        noise_precision(bad, codes, 3)
    with pytest.raises(ValueError, match="unknown shrinkage 'oas'"):
        crossnobis_rdm(x, codes, shrinkage="oas")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        noise_precision(x, codes, 3, shrinkage=1.5)
    with pytest.raises(ValueError, match="2-D"):
        crossnobis_rdm(x[:, 0], codes)
    with pytest.raises(ValueError, match="rows"):
        crossnobis_rsa(x, x[:-1], codes)
    with pytest.raises(ValueError, match="unknown whitened comparator"):
        crossnobis_rsa(x, x, codes, method="pearson")


def test_errors_for_singular_or_zero_noise():
    x, codes = make_data(18, n_time=60, d=50)  # 50 units, 60 − 20 cells = 40 dof
    with pytest.raises(ValueError, match="singular"):
        crossnobis_rdm(x, codes, shrinkage="none")
    crossnobis_rdm(x, codes)  # Ledoit–Wolf keeps it invertible
    means = np.random.default_rng(18).normal(size=(4, 3))
    codes = np.tile(np.arange(4), 10)
    with pytest.raises(ValueError, match="noise covariance is zero"):
        crossnobis_rdm(means[codes], codes)


def test_errors_for_comparator_inputs():
    a = np.arange(6.0)
    with pytest.raises(ValueError, match="same conditions"):
        compare_rdms_whitened(a, np.arange(10.0))
    with pytest.raises(ValueError, match="not n\\(n−1\\)/2"):
        compare_rdms_whitened(np.arange(4.0), np.arange(4.0))
    with pytest.raises(ValueError, match="at least 3"):
        compare_rdms_whitened(np.ones(1), np.ones(1))
    with pytest.raises(ValueError, match="NaN"):
        compare_rdms_whitened(np.r_[a[:-1], np.nan], a)
    with pytest.raises(ValueError, match="unknown whitened comparator 'pearson'"):
        compare_rdms_whitened(a, a, "pearson")
    with pytest.raises(ValueError, match="precision must be"):
        crossnobis_from_fold_means(np.zeros((2, 3, 4)), np.eye(3))
