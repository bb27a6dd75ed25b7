"""Tests for cebra_lens_core.metrics.rdm: closed forms, brute-force references, invariances."""

from __future__ import annotations

import math
import time
import warnings

import numpy as np
import pytest
from scipy.spatial.distance import squareform
from scipy.stats import kendalltau, ortho_group, pearsonr, rankdata, spearmanr

from cebra_lens_core.metrics.conditions import make_conditions
from cebra_lens_core.metrics.rdm import (
    COMPARATORS,
    compare_rdms,
    kendall_tau_a,
    oracle_rdm,
    rdm,
    rdm_from_means,
    rdm_result,
    rdm_similarity_matrix,
    rho_a,
    upper_triangle,
)

# ----------------------------------------------------------------------------- references


def brute_tau_a(x: np.ndarray, y: np.ndarray) -> float:
    """(concordant − discordant) / (n(n−1)/2) over all pairs i < j, ties count 0."""
    n = len(x)
    s = 0.0
    for i in range(n - 1):
        s += np.sum(np.sign(x[i] - x[i + 1 :]) * np.sign(y[i] - y[i + 1 :]))
    return s / (n * (n - 1) / 2)


def brute_rho_a(x: np.ndarray, y: np.ndarray) -> float:
    n = len(x)
    rx, ry = rankdata(x, method="average"), rankdata(y, method="average")
    rbar = np.mean(np.arange(1, n + 1))
    return 12 * np.sum((rx - rbar) * (ry - rbar)) / (n**3 - n)


# 3 conditions × 3 units, distances worked out by hand
MEANS = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0], [1.0, 1.0, 2.0]])


# ----------------------------------------------------------------------------- RDMs


def test_rdm_correlation_by_hand():
    # centred rows: [-1,0,1], [1,0,-1], [-1/3,-1/3,2/3]; r01 = -1, r02 = sqrt(3)/2 = -r12
    d = rdm_from_means(MEANS, "correlation")
    h = math.sqrt(3) / 2
    expected = np.array([[0, 2, 1 - h], [2, 0, 1 + h], [1 - h, 1 + h, 0]])
    np.testing.assert_allclose(d, expected, atol=1e-14)


def test_rdm_cosine_by_hand():
    d = rdm_from_means(MEANS, "cosine")
    # m0·m1 = 10, |m0| = |m1| = sqrt(14), |m2| = sqrt(6), m0·m2 = 9, m1·m2 = 7
    expected = np.array(
        [
            [0, 1 - 10 / 14, 1 - 9 / math.sqrt(84)],
            [1 - 10 / 14, 0, 1 - 7 / math.sqrt(84)],
            [1 - 9 / math.sqrt(84), 1 - 7 / math.sqrt(84), 0],
        ]
    )
    np.testing.assert_allclose(d, expected, atol=1e-14)


def test_rdm_euclidean_by_hand():
    d = rdm_from_means(MEANS, "euclidean")
    expected = np.sqrt([[0, 8, 2], [8, 0, 6], [2, 6, 0]])  # m0−m2 = (0,1,1), m1−m2 = (2,1,−1)
    np.testing.assert_allclose(d, expected, atol=1e-14)
    np.testing.assert_allclose(
        rdm_from_means(MEANS, "euclidean", per_unit=True), expected / math.sqrt(3), atol=1e-14
    )


def test_rdm_small_distances_accurate():
    # near-identical means: 1 − r is 1e-12-ish, must not be lost to cancellation
    base = np.array([1.0, 2.0, 4.0, 8.0])
    eps = 1e-6
    means = np.stack([base, base + eps * np.array([1.0, -1.0, 0.0, 0.0])])
    d = rdm_from_means(means, "cosine")[0, 1]
    u, v = means / np.linalg.norm(means, axis=1, keepdims=True)
    exact = 0.5 * np.sum((u - v) ** 2)  # exact identity for unit vectors
    assert d == pytest.approx(exact, rel=1e-8)
    assert d > 0


def test_rdm_of_data_uses_condition_means():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 8))
    codes = rng.integers(0, 6, size=300) * 2  # ids 0, 2, ..., 10
    res = rdm_result(X, codes, "cosine")
    np.testing.assert_array_equal(res.ids, np.arange(0, 12, 2))
    means = np.stack([X[codes == c].mean(0) for c in res.ids])
    np.testing.assert_allclose(res.matrix, rdm_from_means(means, "cosine"), atol=1e-14)
    np.testing.assert_allclose(rdm(X, codes, "cosine"), res.matrix)
    assert res.metric == "cosine" and res.n_units == 8
    assert rdm_result(X, codes, "euclidean", per_unit=True).metric == "euclidean_per_unit"
    # a Conditions object is accepted as well
    cond = make_conditions(codes)
    np.testing.assert_allclose(rdm(X, cond, "cosine"), res.matrix)


@pytest.mark.parametrize("metric", ["correlation", "cosine", "euclidean"])
def test_rdm_properties(metric):
    rng = np.random.default_rng(1)
    d = rdm_from_means(rng.normal(size=(12, 5)), metric)
    assert d.shape == (12, 12)
    np.testing.assert_array_equal(d, d.T)
    np.testing.assert_array_equal(np.diag(d), 0.0)
    assert (d[~np.eye(12, dtype=bool)] > 0).all()


# ----------------------------------------------------------------------------- invariances


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_cosine_euclidean_rotation_invariant(metric):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(400, 6)) + rng.normal(size=6)
    codes = rng.integers(0, 5, size=400)
    Q = ortho_group.rvs(6, random_state=3)
    np.testing.assert_allclose(rdm(X @ Q, codes, metric), rdm(X, codes, metric), atol=1e-12)


def test_correlation_not_rotation_invariant_but_affine_per_condition():
    rng = np.random.default_rng(4)
    means = rng.normal(size=(5, 6))
    Q = ortho_group.rvs(6, random_state=5)
    d = rdm_from_means(means, "correlation")
    # rotating units changes correlation distance (centring across units does not commute)
    assert np.abs(rdm_from_means(means @ Q, "correlation") - d).max() > 1e-3
    # a positive affine map of each condition mean leaves it unchanged
    a = rng.uniform(0.1, 10, size=(5, 1))
    b = rng.normal(size=(5, 1)) * 5
    np.testing.assert_allclose(rdm_from_means(a * means + b, "correlation"), d, atol=1e-12)
    # cosine: positive per-condition scaling only; euclidean: common translation
    np.testing.assert_allclose(
        rdm_from_means(a * means, "cosine"), rdm_from_means(means, "cosine"), atol=1e-12
    )
    shift = rng.normal(size=6)
    np.testing.assert_allclose(
        rdm_from_means(means + shift, "euclidean"), rdm_from_means(means, "euclidean"), atol=1e-12
    )


# ----------------------------------------------------------------------------- upper triangle, oracle


def test_upper_triangle_matches_squareform():
    rng = np.random.default_rng(6)
    a = rng.normal(size=(9, 9))
    sym = (a + a.T) / 2
    np.fill_diagonal(sym, 0)
    np.testing.assert_array_equal(upper_triangle(sym), squareform(sym, checks=False))
    # asymmetric input is symmetrised first
    np.testing.assert_allclose(upper_triangle(a), squareform(sym, checks=False))
    np.testing.assert_array_equal(upper_triangle(np.array([[0, 1], [3, 0]])), [2.0])
    v = np.arange(6.0)
    np.testing.assert_array_equal(upper_triangle(v), v)
    with pytest.raises(ValueError, match="square"):
        upper_triangle(np.zeros((3, 4)))


def test_oracle_categorical():
    o = oracle_rdm(["a", "b", "a", "c"])
    expected = np.array([[0, 1, 0, 1], [1, 0, 1, 1], [0, 1, 0, 1], [1, 1, 1, 0]], dtype=float)
    np.testing.assert_array_equal(o, expected)
    with pytest.raises(ValueError, match="constant"):
        oracle_rdm([0, 1, 2])  # all distinct: every pair "between"
    with pytest.raises(ValueError, match="constant"):
        oracle_rdm([1, 1, 1])


def test_oracle_ordinal():
    o = oracle_rdm(np.arange(5), "ordinal")
    np.testing.assert_allclose(o, np.abs(np.subtract.outer(np.arange(5), np.arange(5))) / 4)
    # dropped bins: ids keep their position; B counts the dropped ones too
    o = oracle_rdm([0, 1, 4], "ordinal", n_levels=6)
    np.testing.assert_allclose(o, np.array([[0, 1, 4], [1, 0, 3], [4, 3, 0]]) / 5)
    np.testing.assert_allclose(oracle_rdm([0, 1, 4], "ordinal"), o * 5 / 4)
    with pytest.raises(ValueError, match="distinct"):
        oracle_rdm([0, 1, 1], "ordinal")
    with pytest.raises(ValueError, match="span 5 levels"):
        oracle_rdm([0, 4], "ordinal", n_levels=3)
    with pytest.raises(ValueError, match="non-integer"):
        oracle_rdm([0.0, 0.5, 1.0], "ordinal")
    with pytest.raises(ValueError, match="unknown oracle kind"):
        oracle_rdm([0, 1], "interval")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least 2"):
        oracle_rdm([0], "ordinal")


# ----------------------------------------------------------------------------- comparators


def test_spearman_pearson_match_scipy():
    rng = np.random.default_rng(7)
    a = rng.normal(size=45)
    b = a + rng.normal(size=45)
    b[:10] = np.round(b[:10])  # some ties
    b[10:14] = b[0]
    assert compare_rdms(a, b, "spearman") == pytest.approx(spearmanr(a, b).statistic, abs=1e-12)
    assert compare_rdms(a, b, "pearson") == pytest.approx(pearsonr(a, b).statistic, abs=1e-12)
    cos = a @ b / np.linalg.norm(a) / np.linalg.norm(b)
    assert compare_rdms(a, b, "cosine") == pytest.approx(cos, abs=1e-12)
    # square RDMs are reduced to their upper triangles
    A, B = squareform(a), squareform(b)
    for m in COMPARATORS:
        assert compare_rdms(A, B, m) == pytest.approx(compare_rdms(a, b, m), abs=1e-14)


def test_tau_a_hand_computed_with_ties():
    x = np.array([1.0, 2.0, 2.0, 3.0])
    y = np.array([1.0, 3.0, 2.0, 2.0])
    # pairs: (0,1)+ (0,2)+ (0,3)+ (1,2) tied in x: 0, (1,3)− , (2,3) tied in y: 0 → (3 − 1)/6
    assert kendall_tau_a(x, y) == pytest.approx(2 / 6, abs=1e-15)
    assert compare_rdms(x, y, "kendall_tau_a") == pytest.approx(1 / 3, abs=1e-15)
    # τ_b divides by the untied pairs instead: 2 / sqrt(5 · 5)
    assert kendalltau(x, y).statistic == pytest.approx(2 / 5)


def test_rho_a_hand_computed_with_ties():
    x = np.array([1.0, 2.0, 2.0, 3.0])  # ranks 1, 2.5, 2.5, 4
    y = np.array([4.0, 3.0, 2.0, 1.0])  # ranks 4, 3, 2, 1; r̄ = 2.5
    s = (-1.5) * 1.5 + 0 * 0.5 + 0 * (-0.5) + 1.5 * (-1.5)
    assert rho_a(x, y) == pytest.approx(12 * s / (64 - 4), abs=1e-15)
    assert compare_rdms(x, y, "rho_a") == pytest.approx(-0.9, abs=1e-15)


@pytest.mark.parametrize("seed", range(4))
def test_tau_a_rho_a_against_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = 190  # C = 20
    a = rng.integers(0, 8, size=n).astype(float)  # heavy ties
    b = a + rng.integers(-3, 4, size=n)
    if seed % 2:
        a = rng.normal(size=n)  # no ties in a
    assert kendall_tau_a(a, b) == pytest.approx(brute_tau_a(a, b), abs=1e-12)
    assert rho_a(a, b) == pytest.approx(brute_rho_a(a, b), abs=1e-12)
    assert compare_rdms(a, b, "kendall_tau_a") == pytest.approx(brute_tau_a(a, b), abs=1e-12)
    assert compare_rdms(a, b, "rho_a") == pytest.approx(brute_rho_a(a, b), abs=1e-12)


def test_rho_a_equals_spearman_without_ties_and_tau_a_equals_tau_b():
    rng = np.random.default_rng(8)
    a, b = rng.normal(size=(2, 105))
    assert rho_a(a, b) == pytest.approx(compare_rdms(a, b, "spearman"), abs=1e-12)
    assert kendall_tau_a(a, b) == pytest.approx(kendalltau(a, b).statistic, abs=1e-12)


@pytest.mark.parametrize("method", COMPARATORS)
def test_identical_rdms_give_one(method):
    rng = np.random.default_rng(9)
    d = rdm_from_means(rng.normal(size=(10, 4)), "correlation")
    assert compare_rdms(d, d.copy(), method) == pytest.approx(1.0, abs=1e-12)


def test_constant_vectors():
    a = np.ones(10)
    b = np.arange(10.0)
    assert kendall_tau_a(a, b) == 0.0
    assert compare_rdms(a, b, "rho_a") == 0.0
    for method in ("spearman", "pearson"):
        with pytest.warns(RuntimeWarning, match="constant"):
            assert np.isnan(compare_rdms(a, b, method))
    with pytest.warns(RuntimeWarning, match="zero norm"):
        assert np.isnan(compare_rdms(np.zeros(10), b, "cosine"))


def test_categorical_oracle_tie_pitfall():
    """Spearman > ρ_a > τ_a against a categorical oracle (one big tie), as in METHODS."""
    rng = np.random.default_rng(10)
    category = np.repeat(np.arange(10), 4)  # 40 conditions, 10 categories
    oracle = oracle_rdm(category)
    centres = rng.normal(size=(10, 20))
    sp, ra, ta = [], [], []
    for _ in range(5):
        means = centres[category] + rng.normal(size=(40, 20))
        model = rdm_from_means(means, "correlation")
        sp.append(compare_rdms(model, oracle, "spearman"))
        ra.append(compare_rdms(model, oracle, "rho_a"))
        ta.append(compare_rdms(model, oracle, "kendall_tau_a"))
    sp, ra, ta = map(np.mean, (sp, ra, ta))
    assert sp > ra > ta > 0
    assert 0.3 < sp < 0.7  # the order of magnitude of METHODS (0.50 / 0.26 / 0.17)
    assert ra / sp < 0.6 and ta / sp < 0.4
    # closed form: the model has no ties, so ρ_a = Spearman · sqrt(Var(tied oracle ranks) / Var(untied))
    v = upper_triangle(oracle)
    n = len(v)
    r = rankdata(v) - (n + 1) / 2
    shrink = math.sqrt(np.sum(r**2) / ((n**3 - n) / 12))
    assert compare_rdms(model, oracle, "rho_a") == pytest.approx(
        compare_rdms(model, oracle, "spearman") * shrink, abs=1e-12
    )


def test_shuffled_conditions_give_rsa_near_zero():
    rng = np.random.default_rng(11)
    n_bins, T = 20, 4000
    pos = rng.uniform(0, 1, size=T)
    cond = make_conditions(pos, "continuous", n_bins=n_bins)
    tuning = np.exp(-((pos[:, None] - np.linspace(0, 1, 30)[None]) ** 2) / 0.02)
    X = tuning + 0.3 * rng.normal(size=tuning.shape)
    oracle = oracle_rdm(cond.ids, "ordinal", n_levels=n_bins)
    structured = compare_rdms(rdm(X, cond.codes), oracle, "spearman")
    assert structured > 0.8
    shuffled = [
        compare_rdms(rdm(X, rng.permutation(cond.codes)), oracle, m)
        for _ in range(10)
        for m in ("spearman", "kendall_tau_a")
    ]
    assert abs(np.mean(shuffled)) < 0.05
    assert np.max(np.abs(shuffled)) < 0.25


def test_similarity_matrix_matches_pairwise():
    rng = np.random.default_rng(12)
    rdms = [rdm_from_means(rng.normal(size=(8, 5)), "euclidean") for _ in range(4)]
    rdms[3] = np.round(rdms[3])  # ties: diagonal of τ_a / ρ_a below 1
    for method in COMPARATORS:
        s = rdm_similarity_matrix(rdms, method=method)
        assert s.shape == (4, 4)
        np.testing.assert_allclose(s, s.T, atol=1e-14)
        for i in range(4):
            for j in range(4):
                assert s[i, j] == pytest.approx(compare_rdms(rdms[i], rdms[j], method), abs=1e-12)
        cross = rdm_similarity_matrix(rdms[:2], [upper_triangle(r) for r in rdms[1:]], method)
        np.testing.assert_allclose(cross, s[:2, 1:], atol=1e-12)
    assert rdm_similarity_matrix(rdms, method="kendall_tau_a")[3, 3] < 1.0


def test_tau_a_fast_for_100_conditions():
    rng = np.random.default_rng(13)
    a = upper_triangle(rdm_from_means(rng.normal(size=(100, 10)), "correlation"))
    b = np.round(a + 0.1 * rng.normal(size=a.shape), 1)  # n = 4950, with ties
    assert len(a) == 4950
    t0 = time.perf_counter()
    val = kendall_tau_a(a, b)
    assert time.perf_counter() - t0 < 0.5
    # blocked O(n²) reference
    s = 0.0
    for start in range(0, len(a), 500):
        sl = slice(start, start + 500)
        s += np.sum(np.sign(a[sl, None] - a[None]) * np.sign(b[sl, None] - b[None]))
    assert val == pytest.approx(s / 2 / (4950 * 4949 / 2), abs=1e-12)


# ----------------------------------------------------------------------------- undefined, errors


def test_undefined_distances_warn_and_nan():
    means = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0], [3.0, 1.0, 2.0]])
    with pytest.warns(RuntimeWarning, match="condition 1 .*cosine undefined"):
        d = rdm_from_means(means, "cosine")
    assert np.isnan(d[1]).all() and np.isnan(d[:, 1]).all() and np.isfinite(d[0, 2])
    means[1] = 5.0
    with pytest.warns(RuntimeWarning, match="condition 7 .*correlation undefined"):
        d = rdm_from_means(means, "correlation", ids=[3, 7, 9])
    assert np.isnan(d[1]).all()
    with pytest.raises(ValueError, match="NaN/inf entries"):
        compare_rdms(d, d, "spearman")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rdm_from_means(means, "euclidean")  # defined


def test_errors():
    with pytest.raises(ValueError, match="unknown RDM metric"):
        rdm_from_means(MEANS, "manhattan")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="per_unit=True applies to 'euclidean' only"):
        rdm_from_means(MEANS, "cosine", per_unit=True)
    with pytest.raises(ValueError, match="at least 2 units"):
        rdm_from_means(np.arange(3.0)[:, None], "correlation")
    with pytest.raises(ValueError, match="at least 2 conditions"):
        rdm_from_means(MEANS[:1])
    with pytest.raises(ValueError, match="NaN or inf"):
        rdm_from_means(np.array([[1.0, np.nan], [1.0, 2.0]]))
    with pytest.raises(ValueError, match="conditions has 3 values but X has 4 rows"):
        rdm(np.zeros((4, 3)), [0, 1, 2])
    with pytest.raises(ValueError, match="unknown RDM comparator"):
        compare_rdms(np.arange(3.0), np.arange(3.0), "kendall")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="b has 6 upper-triangle entries but a has 3"):
        compare_rdms(np.arange(3.0), np.arange(6.0))
    with pytest.raises(ValueError, match="at least 3"):
        compare_rdms(np.zeros((2, 2)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="square"):
        compare_rdms(np.zeros((3, 4)), np.zeros((3, 4)))
    with pytest.raises(TypeError, match="sequence of RDMs"):
        rdm_similarity_matrix(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="empty"):
        rdm_similarity_matrix([])
    with pytest.raises(ValueError, match=r"rdms_b\[0\] has 6 .* rdms_a\[0\] has 3"):
        rdm_similarity_matrix([np.arange(3.0)], [np.arange(6.0)])
