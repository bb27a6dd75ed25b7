"""Tests for cebra_lens_core.stats: block bootstrap, null distributions, noise ceiling."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy.signal import lfilter
from scipy.spatial.distance import squareform
from scipy.stats import pearsonr

from cebra_lens_core.metrics.cka import cka_matrix
from cebra_lens_core.metrics.rdm import compare_rdms, upper_triangle
from cebra_lens_core.stats import (
    block_bootstrap_indices,
    block_length_from_seconds,
    block_rows,
    bootstrap_interval,
    cka_bootstrap,
    cka_shift_null,
    noise_ceiling,
    nonoverlapping_block_draws,
    percentile_interval,
    permutation_p_value,
    rdm_permutation_null,
)


def ar1(rng: np.random.Generator, n: int, phi: float, d: int | None = None) -> np.ndarray:
    """Stationary-ish AR(1) with unit innovations (200 burn-in samples dropped)."""
    e = rng.normal(size=(n + 200,) if d is None else (n + 200, d))
    return lfilter([1.0], [1.0, -phi], e, axis=0)[200:]


def two_models(T: int = 403, seed: int = 0, offset: float = 0.0):
    """Two 'models' of 2 layers each, partly dependent, with a large common offset."""
    rng = np.random.default_rng(seed)
    base = ar1(rng, T, 0.8, 4)
    a = [base + offset, np.tanh(base @ rng.normal(size=(4, 3))) + rng.normal(size=(T, 3))]
    b = [
        base @ rng.normal(size=(4, 5)) + 2 * rng.normal(size=(T, 5)) - offset,
        rng.normal(size=(T, 2)) * 1e3,
    ]
    return a, b


# ----------------------------------------------------------------------------- indices


def test_block_indices_shape_contiguity_and_determinism():
    idx = block_bootstrap_indices(103, 10, 50, seed=3)
    assert idx.shape == (50, 103) and idx.dtype == np.int64
    assert idx.min() >= 0 and idx.max() < 103
    # within a block (10 consecutive positions) rows advance by 1 modulo T
    for b in range(50):
        blocks = idx[b, :100].reshape(10, 10)
        np.testing.assert_array_equal(np.diff(blocks, axis=1) % 103, 1)
    np.testing.assert_array_equal(idx, block_bootstrap_indices(103, 10, 50, seed=3))
    assert not np.array_equal(idx, block_bootstrap_indices(103, 10, 50, seed=4))


def test_circular_inclusion_is_uniform_moving_is_not():
    T, L = 60, 15
    circ = np.bincount(block_bootstrap_indices(T, L, 4000, 0).ravel(), minlength=T) / 4000
    mov = (
        np.bincount(block_bootstrap_indices(T, L, 4000, 0, method="moving").ravel(), minlength=T)
        / 4000
    )
    np.testing.assert_allclose(circ, 1.0, atol=0.1)  # each row drawn once per replicate on average
    assert mov[0] < 0.3 and mov[T // 2] > 1.0  # the moving scheme under-weights the ends
    assert (block_bootstrap_indices(T, L, 50, 1, method="moving").max(axis=1) < T).all()


def test_block_length_one_is_iid_and_full_length_is_a_rotation():
    idx = block_bootstrap_indices(20, 20, 5, seed=1)
    for row in idx:
        np.testing.assert_array_equal((row - row[0]) % 20, np.arange(20))
    assert len(np.unique(block_bootstrap_indices(1000, 1, 1, 0))) < 1000  # with replacement


def test_nonoverlapping_grid_and_rows():
    edges, draws = nonoverlapping_block_draws(23, 5, 7, seed=0)
    np.testing.assert_array_equal(edges, [0, 5, 10, 15, 20, 23])
    assert draws.shape == (7, 5) and draws.max() < 5
    np.testing.assert_array_equal(block_rows(edges, [4, 0]), [20, 21, 22, 0, 1, 2, 3, 4])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(block_length=0), "block_length"),
        (dict(block_length=51), "block_length"),
        (dict(block_length=2.5), "block_length"),
        (dict(n_resamples=0), "n_resamples"),
        (dict(seed=-1), "seed"),
        (dict(seed=None), "seed"),
        (dict(method="stationary"), "method"),
    ],
)
def test_block_indices_bad_input(kwargs, match):
    args = dict(n_time=50, block_length=5, n_resamples=10, seed=0)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        block_bootstrap_indices(**args)


def test_block_length_from_seconds():
    assert block_length_from_seconds(1.0, 0.025) == 40
    assert block_length_from_seconds(0.001, 0.025) == 1
    with pytest.raises(ValueError, match="positive"):
        block_length_from_seconds(0.0, 0.025)
    with pytest.raises(ValueError, match="bin_width_s"):
        block_length_from_seconds(1.0, -1.0)


# ----------------------------------------------------------------------------- intervals


def test_percentile_interval_closed_form_and_nan():
    low, high = percentile_interval(np.arange(101.0), 0.95)
    assert (low, high) == pytest.approx((2.5, 97.5))
    reps = np.column_stack([np.arange(101.0), np.full(101, np.nan)])
    reps[0, 0] = np.nan
    low, high = percentile_interval(reps, 0.9)
    assert np.isnan(low[1]) and np.isnan(high[1])
    assert low[0] == pytest.approx(np.quantile(np.arange(1.0, 101.0), 0.05))
    with pytest.raises(ValueError, match="confidence"):
        percentile_interval(np.arange(5.0), 1.5)


def test_block_bootstrap_covers_ar1_mean_and_iid_undercovers():
    # mean of an AR(1) (phi = 0.5, true mean 0): the 95 % block interval covers ~95 %;
    # the iid bootstrap (L = 1) ignores the autocorrelation and covers far less (~75 %).
    T, L, B, draws = 1000, 25, 300, 200
    hit_block = hit_iid = 0
    for k in range(draws):
        x = ar1(np.random.default_rng(k), T, 0.5)

        def mean(rows, x=x):
            return x[rows].mean()

        r = bootstrap_interval(mean, T, L, B, seed=k)
        hit_block += r.low <= 0.0 <= r.high
        r = bootstrap_interval(mean, T, 1, B, seed=k)
        hit_iid += r.low <= 0.0 <= r.high
    assert 0.88 <= hit_block / draws <= 0.99
    assert hit_iid / draws < 0.85


def test_bootstrap_interval_array_statistic_and_errors():
    x = np.arange(40.0)
    r = bootstrap_interval(lambda rows: np.array([x[rows].min(), x[rows].max()]), 40, 4, 30, 0)
    np.testing.assert_array_equal(r.estimate, [0.0, 39.0])
    assert r.replicates.shape == (30, 2) and (r.low <= r.high).all()
    assert r.n_valid.tolist() == [30, 30]
    with pytest.raises(TypeError, match="callable"):
        bootstrap_interval(3, 40, 4, 30, 0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="fixed shape"):
        bootstrap_interval(lambda rows: np.unique(x[rows] // 10), 40, 4, 30, 0)
    with pytest.raises(ValueError, match="n_resamples"):
        bootstrap_interval(lambda rows: 0.0, 40, 4, 0, 0)


# ----------------------------------------------------------------------------- CKA bootstrap


@pytest.mark.parametrize("kind", ["linear", "debiased"])
def test_cka_bootstrap_point_estimate_and_brute_force_replicate(kind):
    a, b = two_models(T=403, offset=1e4)  # 403 = 26 blocks of 15 + one of 13
    res = cka_bootstrap(a, b, 15, 40, seed=2, kind=kind)
    np.testing.assert_allclose(res.estimate, cka_matrix(a, b, kind), rtol=0, atol=1e-10)
    assert res.replicates.shape == (40, 2, 2) and res.draws.shape == (40, 27)
    for rep in (0, 17, 39):
        rows = block_rows(res.edges, res.draws[rep])
        brute = cka_matrix([x[rows] for x in a], [y[rows] for y in b], kind)
        np.testing.assert_allclose(res.replicates[rep], brute, rtol=0, atol=1e-10)
    within = cka_bootstrap(a + b, None, 15, 5, seed=2, kind=kind)
    np.testing.assert_allclose(within.estimate, cka_matrix(a + b, None, kind), atol=1e-10)
    rows = block_rows(within.edges, within.draws[3])
    np.testing.assert_allclose(
        within.replicates[3], cka_matrix([x[rows] for x in a + b], None, kind), atol=1e-10
    )


def test_cka_bootstrap_chunking_lazy_input_and_determinism():
    a, b = two_models(T=300)
    ref = cka_bootstrap(a, b, 10, 20, seed=5)
    small = cka_bootstrap(a, b, 10, 20, seed=5, chunk_size=25)  # 2 blocks per chunk
    np.testing.assert_allclose(small.replicates, ref.replicates, atol=1e-12)
    lazy = cka_bootstrap([xr.DataArray(x) for x in a], [xr.DataArray(y) for y in b], 10, 20, 5)
    np.testing.assert_allclose(lazy.replicates, ref.replicates, atol=1e-12)
    again = cka_bootstrap(a, b, 10, 20, seed=5)
    np.testing.assert_array_equal(again.replicates, ref.replicates)
    assert (ref.low <= ref.high).all()
    assert ref.low[0, 0] <= ref.estimate[0, 0] <= ref.high[0, 0]


def test_cka_bootstrap_bad_input():
    a, b = two_models(T=100)
    with pytest.raises(ValueError, match="time points"):
        cka_bootstrap(a, [b[0][:99]], 10, 5)
    with pytest.raises(ValueError, match="block_length"):
        cka_bootstrap(a, b, 0, 5)
    with pytest.raises(ValueError, match="block_length"):
        cka_bootstrap(a, b, 101, 5)
    with pytest.raises(ValueError, match="n_resamples"):
        cka_bootstrap(a, b, 10, 0)
    with pytest.raises(ValueError, match="kind"):
        cka_bootstrap(a, b, 10, 5, kind="rbf")
    bad = b[0].copy()
    bad[57, 1] = np.nan
    with pytest.raises(ValueError, match=r"layers_b\[0\].*NaN.*57"):
        cka_bootstrap(a, [bad], 10, 5)
    with pytest.raises(ValueError, match="2-D"):
        cka_bootstrap([a[0][:, 0]], b, 10, 5)
    with pytest.raises(TypeError, match="sequence"):
        cka_bootstrap(a[0], b, 10, 5)
    with pytest.raises(ValueError, match="max_block_bytes"):
        cka_bootstrap(a, b, 1, 5, max_block_bytes=1000)


# ----------------------------------------------------------------------------- nulls


def test_permutation_p_value_by_hand():
    assert permutation_p_value(0.5, [0.1, 0.5, 0.7]) == pytest.approx(3 / 4)
    assert permutation_p_value(1.0, [0.1, 0.2, np.nan]) == pytest.approx(1 / 3)
    p = permutation_p_value(np.array([0.0, 2.0]), np.array([[1.0, 1.0], [1.0, 3.0]]))
    np.testing.assert_allclose(p, [1.0, 2 / 3])
    with pytest.raises(ValueError, match="shape"):
        permutation_p_value(np.zeros(2), np.zeros((3, 3)))


@pytest.mark.parametrize("kind", ["linear", "debiased"])
def test_shift_null_observed_and_one_draw_by_brute_force(kind):
    a, b = two_models(T=200, offset=50.0)
    res = cka_shift_null(a, b, n_null=5, seed=1, min_shift=20, kind=kind)
    np.testing.assert_allclose(res.observed, cka_matrix(a, b, kind), atol=1e-10)
    assert ((res.shifts >= 20) & (res.shifts <= 180)).all()
    s = int(res.shifts[2])
    rolled = [np.roll(y, s, axis=0) for y in b]  # row t of the shifted data = row t − s
    np.testing.assert_allclose(res.null[2], cka_matrix(a, rolled, kind), atol=1e-10)
    np.testing.assert_allclose(res.p_value, permutation_p_value(res.observed, res.null))


def test_shift_null_calibrated_for_independent_and_small_for_aligned():
    ps = []
    for k in range(100):
        rng = np.random.default_rng(k)
        res = cka_shift_null([ar1(rng, 200, 0.8, 3)], [ar1(rng, 200, 0.8, 4)], 99, k, 20)
        ps.append(float(res.p_value[0, 0]))
    ps = np.array(ps)
    assert 0.0 <= np.mean(ps < 0.05) <= 0.12
    assert 0.3 < np.mean(ps) < 0.7
    rng = np.random.default_rng(0)
    x = ar1(rng, 200, 0.8, 3)
    y = x @ rng.normal(size=(3, 4)) + ar1(rng, 200, 0.8, 4)
    res = cka_shift_null([x], [y], 199, 0, 20)
    assert res.p_value[0, 0] < 0.01 and res.p_value[0, 0] == pytest.approx(1 / 200)
    assert res.null_quantile[0, 0] < res.observed[0, 0]


def test_shift_null_bad_input():
    a, b = two_models(T=100)
    with pytest.raises(ValueError, match="min_shift"):
        cka_shift_null(a, b, 10, 0, min_shift=51)
    with pytest.raises(ValueError, match="min_shift"):
        cka_shift_null(a, b, 10, 0, min_shift=0)
    with pytest.raises(ValueError, match="n_null"):
        cka_shift_null(a, b, 0, 0)
    with pytest.raises(ValueError, match="layers_b"):
        cka_shift_null(a, None, 10, 0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="time points"):
        cka_shift_null(a, [b[0][:50]], 10, 0)


def random_rdm(rng: np.random.Generator, n_cond: int = 8) -> np.ndarray:
    return squareform(rng.random(n_cond * (n_cond - 1) // 2))


def test_rdm_permutation_null_identical_and_brute_force():
    rng = np.random.default_rng(0)
    d = random_rdm(rng, 9)
    res = rdm_permutation_null(d, d, n_null=199, seed=0)
    assert res.observed == pytest.approx(1.0)
    assert res.p_value < 0.01 and res.null_quantile < 0.5
    # one draw by brute force: same generator sequence, permuted rows and columns
    perm_rng = np.random.default_rng(0)
    p0 = perm_rng.permutation(9)
    e = random_rdm(rng, 9)
    res = rdm_permutation_null(d, upper_triangle(e), n_null=3, seed=0, method="pearson")
    assert res.null[0] == pytest.approx(compare_rdms(d, e[np.ix_(p0, p0)], "pearson"))
    assert res.observed == pytest.approx(pearsonr(upper_triangle(d), upper_triangle(e))[0])


def test_rdm_permutation_null_calibrated_and_errors():
    ps = []
    for k in range(60):
        a, b = random_rdm(np.random.default_rng(k)), random_rdm(np.random.default_rng(1000 + k))
        ps.append(rdm_permutation_null(a, b, 99, k).p_value)
    assert np.mean(np.array(ps) < 0.05) <= 0.15
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="same conditions"):
        rdm_permutation_null(random_rdm(rng, 5), random_rdm(rng, 6))
    with pytest.raises(ValueError, match="comparator"):
        rdm_permutation_null(random_rdm(rng), random_rdm(rng), method="dcor")
    bad = random_rdm(rng)
    bad[0, 1] = bad[1, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        rdm_permutation_null(bad, random_rdm(rng))
    with pytest.raises(ValueError, match="upper triangle"):
        rdm_permutation_null(np.arange(5.0), np.arange(5.0))


# ----------------------------------------------------------------------------- noise ceiling


def test_noise_ceiling_identical_seeds_is_one():
    v = np.random.default_rng(0).random(28)
    for method in ("pearson", "spearman", "cosine"):
        nc = noise_ceiling([v, v, v], method)
        assert nc.lower == pytest.approx(1.0) and nc.upper == pytest.approx(1.0)


def test_noise_ceiling_brute_force_pearson_and_target():
    rng = np.random.default_rng(1)
    shared = rng.random(45)
    seeds = [shared + 0.3 * rng.random(45) * (s + 1) for s in range(4)]
    z = [(v - v.mean()) / v.std() for v in seeds]
    upper = np.mean([pearsonr(v, np.mean(z, axis=0))[0] for v in seeds])
    lower = np.mean(
        [
            pearsonr(v, np.mean([z[j] for j in range(4) if j != s], axis=0))[0]
            for s, v in enumerate(seeds)
        ]
    )
    nc = noise_ceiling(np.stack(seeds), "pearson", target=shared)
    assert nc.upper == pytest.approx(upper, abs=1e-12)
    assert nc.lower == pytest.approx(lower, abs=1e-12)
    assert nc.lower < nc.upper <= 1.0
    assert nc.target == pytest.approx(np.mean([pearsonr(shared, v)[0] for v in seeds]))
    sq = noise_ceiling([squareform(v) for v in seeds], "pearson")
    assert sq.upper == pytest.approx(nc.upper)


def test_noise_ceiling_bad_input():
    v = np.random.default_rng(0).random(10)
    with pytest.raises(ValueError, match="at least 2 seeds"):
        noise_ceiling([v], "spearman")
    with pytest.raises(ValueError, match="same conditions"):
        noise_ceiling([v, v[:6]], "spearman")
    with pytest.raises(ValueError, match="comparator"):
        noise_ceiling([v, v], "kendall")
    w = v.copy()
    w[3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        noise_ceiling([v, w], "spearman")
