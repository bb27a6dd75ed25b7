"""Tests for cebra_lens_core.stats.rdm: RSA permutation null, noise ceiling, RDM-vs-oracle
bootstrap."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import squareform
from scipy.stats import pearsonr

from cebra_lens_core.metrics.conditions import condition_means
from cebra_lens_core.metrics.rdm import compare_rdms, oracle_rdm, rdm_from_means, upper_triangle
from cebra_lens_core.stats.options import BootstrapOptions
from cebra_lens_core.stats.rdm import noise_ceiling, rdm_oracle_bootstrap, rdm_permutation_null
from cebra_lens_core.stats.resampling import block_rows, nonoverlapping_block_draws
from tests.stats.series import smooth

# ----------------------------------------------------------------------------- permutation null


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


# ----------------------------------------------------------------------------- RDM vs oracle


def test_rdm_bootstrap_replicate_equals_recomputing_from_resampled_rows():
    rng = np.random.default_rng(0)
    n, n_cond = 500, 6
    codes = np.repeat(np.arange(n_cond), n // n_cond + 1)[:n]
    codes = codes[np.argsort(np.sin(np.arange(n) / 7.0), kind="stable")]  # mixed in time
    X = rng.normal(size=(n_cond, 5))[codes] + smooth(rng, n, 5)
    ids = np.arange(n_cond)
    oracle = oracle_rdm(ids, kind="ordinal")
    opts = BootstrapOptions(n_resamples=6, block_length=25, seed=3)
    (iv,) = rdm_oracle_bootstrap([X], codes, ids, oracle, opts, metric="correlation")
    edges, draws = nonoverlapping_block_draws(n, 25, 6, 3)
    for b in range(6):
        rows = block_rows(edges, draws[b])
        means, present, _ = condition_means(X[rows], codes[rows])
        D = rdm_from_means(means, "correlation")
        expected = compare_rdms(D, oracle[np.ix_(present, present)], "spearman")
        assert iv.replicates[b] == pytest.approx(expected, abs=1e-10)
    assert iv.low <= iv.high and iv.n_valid == 6
