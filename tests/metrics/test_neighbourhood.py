"""Neighbourhood measures (metrics.neighbourhood): mutual k-NN, Jaccard k-NN and CKNNA against
dense brute force written here from the papers' definitions, closed forms and errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from cebra_lens_core.metrics import neighbourhood
from cebra_lens_core.metrics.neighbourhood import (
    MEASURES,
    cknna,
    jaccard_knn,
    layer_neighbourhood,
    mutual_knn,
    neighbourhood_measures,
    neighbourhood_rows,
    neighbourhood_similarity_matrix,
    sparse_unbiased_hsic,
)
from cebra_lens_core.metrics.neighbours import SCREEN_MIN_REFERENCES

FUNCTIONS = {"mutual_knn": mutual_knn, "jaccard_knn": jaccard_knn, "cknna": cknna}


class Lazy:
    """A lazy layer: shape, dtype and row slicing only (records the slices read)."""

    def __init__(self, a: np.ndarray) -> None:
        self.a, self.shape, self.dtype = a, a.shape, a.dtype
        self.reads: list[slice] = []

    def __getitem__(self, key):
        if not isinstance(key, slice):
            raise TypeError("row slices only")
        self.reads.append(key)
        return self.a[key]


# ------------------------------------------------------------------ brute force (dense, T × T)


def _cosine(x: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    u = np.divide(x, norm, out=np.zeros_like(x, dtype=float), where=norm > 0)
    return u @ u.T


def _brute_mask(sim: np.ndarray, k: int) -> np.ndarray:
    """M_ij = 1 iff j is among the k largest sim_ij, j != i (diagonal set to -inf)."""
    s = sim.copy()
    np.fill_diagonal(s, -np.inf)
    top = np.argsort(-s, axis=1, kind="stable")[:, :k]
    mask = np.zeros_like(s)
    mask[np.arange(len(s))[:, None], top] = 1.0
    return mask


def _brute_sets(x: np.ndarray, k: int) -> list[set[int]]:
    return [set(np.flatnonzero(row).tolist()) for row in _brute_mask(_cosine(x), k)]


def _brute_mutual(x, y, k):
    a, b = _brute_sets(x, k), _brute_sets(y, k)
    return np.mean([len(p & q) / k for p, q in zip(a, b, strict=True)])


def _brute_jaccard(x, y, k):
    a, b = _brute_sets(x, k), _brute_sets(y, k)
    return np.mean([len(p & q) / len(p | q) for p, q in zip(a, b, strict=True)])


def _brute_hsic(K: np.ndarray, L: np.ndarray) -> float:
    """Unbiased HSIC, Song et al. (2012) eq. 5, with dense matrices."""
    m = len(K)
    Kt, Lt = K.copy(), L.copy()
    np.fill_diagonal(Kt, 0.0)
    np.fill_diagonal(Lt, 0.0)
    value = (
        np.trace(Kt @ Lt)
        + Kt.sum() * Lt.sum() / ((m - 1) * (m - 2))
        - 2.0 * (Kt @ Lt).sum() / (m - 2)
    )
    return value / (m * (m - 3))


def _brute_cknna(x, y, k):
    """Huh et al. (2024): HSIC of the kernels masked by the shared k-NN, normalised."""
    K, L = _cosine(x), _cosine(y)
    mk, ml = _brute_mask(K, k), _brute_mask(L, k)
    mkl = mk * ml
    cross = _brute_hsic(mkl * K, mkl * L)
    return cross / np.sqrt(_brute_hsic(mk * K, mk * K) * _brute_hsic(ml * L, ml * L))


BRUTE = {"mutual_knn": _brute_mutual, "jaccard_knn": _brute_jaccard, "cknna": _brute_cknna}


def _pair(t: int = 90, seed: int = 0, noise: float = 0.6):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((t, 6))
    y = x @ rng.standard_normal((6, 4)) + noise * rng.standard_normal((t, 4))
    return x, y


# ------------------------------------------------------------------ against brute force


@pytest.mark.parametrize("k", [2, 5, 10])
def test_neighbour_sets_equal_brute_force(k):
    x, _ = _pair()
    nb = layer_neighbourhood(x, k)
    assert nb.indices.shape == (90, k) and nb.k == k and nb.n == 90
    assert [set(r.tolist()) for r in nb.indices] == _brute_sets(x, k)
    np.testing.assert_allclose(
        nb.similarity, np.take_along_axis(_cosine(x), nb.indices, axis=1), atol=1e-14
    )


@pytest.mark.parametrize("k", [2, 5, 10])
@pytest.mark.parametrize("measure", MEASURES)
def test_measures_equal_brute_force_in_both_orders(measure, k):
    x, y = _pair()
    for a, b in ((x, y), (y, x)):
        got = FUNCTIONS[measure](a, b, k=k)
        want = BRUTE[measure](a, b, k)
        assert abs(got - want) < 1e-10, (measure, k, got, want)
        assert 0.0 < got < 1.0


def test_cknna_is_not_symmetric_but_the_set_measures_are():
    x, y = _pair()
    assert abs(cknna(x, y, k=5) - cknna(y, x, k=5)) > 1e-6
    assert mutual_knn(x, y, k=5) == mutual_knn(y, x, k=5)
    assert jaccard_knn(x, y, k=5) == jaccard_knn(y, x, k=5)


def test_sparse_unbiased_hsic_equals_the_dense_formula_on_asymmetric_patterns():
    rng = np.random.default_rng(5)
    n = 30
    pattern = rng.random((n, n)) < 0.2
    pattern |= pattern.T & (rng.random((n, n)) < 0.5)  # some (i, j) with (j, i) too
    np.fill_diagonal(pattern, False)
    rows, cols = np.nonzero(pattern)  # row-major: sorted by rows * n + cols
    kv, lv = rng.standard_normal(len(rows)), rng.standard_normal(len(rows))
    K, L = np.zeros((n, n)), np.zeros((n, n))
    K[rows, cols], L[rows, cols] = kv, lv
    assert abs(sparse_unbiased_hsic(rows, cols, kv, lv, n) - _brute_hsic(K, L)) < 1e-13
    assert abs(sparse_unbiased_hsic(rows, cols, lv, kv, n) - _brute_hsic(L, K)) < 1e-13


def test_the_matrix_equals_the_pairwise_functions_and_computes_each_layer_once(monkeypatch):
    x, y = _pair(t=70, seed=1)
    z = np.random.default_rng(2).standard_normal((70, 3))
    calls = []
    real = neighbourhood.cosine_neighbours
    monkeypatch.setattr(
        neighbourhood, "cosine_neighbours", lambda *a, **kw: calls.append(1) or real(*a, **kw)
    )
    layers = [x, y, z]
    out = neighbourhood_similarity_matrix(layers, k=4)
    assert len(calls) == 3
    assert list(out) == list(MEASURES)
    for m in MEASURES:
        assert out[m].shape == (3, 3)
        np.testing.assert_allclose(np.diag(out[m]), 1.0, atol=1e-12)
        for i in range(3):
            for j in range(3):
                assert abs(out[m][i, j] - BRUTE[m](layers[i], layers[j], 4)) < 1e-10
    np.testing.assert_array_equal(out["mutual_knn"], out["mutual_knn"].T)
    np.testing.assert_array_equal(out["jaccard_knn"], out["jaccard_knn"].T)

    calls.clear()
    ab = neighbourhood_similarity_matrix([x, y], [y, z], measures=("cknna", "mutual_knn"), k=4)
    assert len(calls) == 3  # y is the same object on both sides
    assert list(ab) == ["cknna", "mutual_knn"] and ab["cknna"].shape == (2, 2)
    np.testing.assert_allclose(ab["cknna"], out["cknna"][:2, 1:], atol=1e-14)


# ------------------------------------------------------------------ closed forms, invariances


def test_identical_inputs_give_one():
    x, _ = _pair(seed=3)
    for m, f in FUNCTIONS.items():
        assert f(x, x, k=5) == pytest.approx(1.0, abs=1e-12), m
        assert f(x, x.copy(), k=5) == pytest.approx(1.0, abs=1e-12), m


def test_invariant_to_rotation_isotropic_scaling_and_unit_permutation():
    x, y = _pair(seed=4)
    rng = np.random.default_rng(4)
    q, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    transforms = {
        "rotation": x @ q,
        "scaling": 3.7 * x,
        "permutation": x[:, rng.permutation(6)],
        "all": 0.2 * (x @ q)[:, ::-1],
    }
    for m, f in FUNCTIONS.items():
        base = f(x, y, k=5)
        for name, xt in transforms.items():
            assert abs(f(xt, y, k=5) - base) < 1e-10, (m, name)
            assert abs(f(x, xt, k=5) - 1.0) < 1e-10, (m, name)


def test_not_invariant_to_translation_nor_to_a_general_linear_map():
    x, _ = _pair(seed=5)
    shifted = x + 2.0  # every row moves by the same vector: the angles change
    stretched = x @ np.diag([1.0, 1.0, 1.0, 1.0, 1.0, 25.0])
    for m, f in FUNCTIONS.items():
        assert f(x, shifted, k=5) < 0.9, m
        assert f(x, stretched, k=5) < 0.9, m


def test_independent_layers_sit_at_the_chance_level():
    """|N_X(i) ∩ N_Y(i)| is hypergeometric (k of T−1 drawn, k marked): mutual k-NN has
    expectation k/(T−1) and Jaccard E[h/(2k−h)]."""
    from scipy.stats import hypergeom

    t, k = 400, 10
    mutual, jaccard = [], []
    for seed in range(5):
        rng = np.random.default_rng(100 + seed)
        x, y = rng.standard_normal((t, 8)), rng.standard_normal((t, 8))
        out = neighbourhood_similarity_matrix([x], [y], measures=MEASURES[:2], k=k)
        mutual.append(out["mutual_knn"][0, 0])
        jaccard.append(out["jaccard_knn"][0, 0])
    h = np.arange(k + 1)
    pmf = hypergeom(t - 1, k, k).pmf(h)
    assert abs(np.mean(mutual) - k / (t - 1)) < 0.005
    assert abs(np.mean(jaccard) - np.sum(pmf * h / (2 * k - h))) < 0.003


# ------------------------------------------------------------------ duplicates and self


def test_duplicate_rows_keep_the_twin_and_drop_the_row_itself():
    base = np.random.default_rng(6).standard_normal((40, 5))
    x = np.repeat(base, 2, axis=0)  # rows 2m and 2m+1 are identical
    nb = layer_neighbourhood(x, 3)
    own = np.arange(80)
    assert not (nb.indices == own[:, None]).any()
    assert ((nb.indices == (own ^ 1)[:, None]).sum(axis=1) == 1).all()
    assert all(len(set(r.tolist())) == 3 for r in nb.indices)
    assert [set(r.tolist()) for r in nb.indices] == _brute_sets(x, 3)
    assert mutual_knn(x, x, k=3) == 1.0


def test_more_copies_than_neighbours():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((40, 5))
    x[:8] = x[0]  # 8 identical rows, k = 4: a row need not be among its own k+1 nearest
    nb = layer_neighbourhood(x, 4)
    for i in range(8):
        row = nb.indices[i].tolist()
        assert i not in row and len(set(row)) == 4 and set(row) <= set(range(8))
    assert not (nb.indices == np.arange(40)[:, None]).any()


def test_the_float32_screened_search_with_duplicates_equals_brute_force():
    base = np.random.default_rng(8).standard_normal((2200, 6))
    x = np.repeat(base, 2, axis=0)  # 4400 >= SCREEN_MIN_REFERENCES: the screened path
    assert len(x) >= SCREEN_MIN_REFERENCES
    nb = layer_neighbourhood(x, 5)
    u = x / np.linalg.norm(x, axis=1, keepdims=True)
    q = np.arange(0, 4400, 15)
    sim = u[q] @ u.T
    sim[np.arange(len(q)), q] = -np.inf
    want = np.argsort(-sim, axis=1, kind="stable")[:, :5]
    for r, i in enumerate(q):
        assert set(nb.indices[i].tolist()) == set(want[r].tolist())


# ------------------------------------------------------------------ sample cap, lazy layers


def test_neighbourhood_rows_are_sorted_seeded_and_capped():
    rows = neighbourhood_rows(300, 120, 3)
    assert len(rows) == 120 and (np.diff(rows) > 0).all() and rows[-1] < 300
    np.testing.assert_array_equal(rows, neighbourhood_rows(300, 120, 3))
    assert not np.array_equal(rows, neighbourhood_rows(300, 120, 4))
    np.testing.assert_array_equal(neighbourhood_rows(300, None, 3), np.arange(300))
    np.testing.assert_array_equal(neighbourhood_rows(300, 300, 3), np.arange(300))


def test_the_cap_uses_the_same_rows_for_every_layer():
    x, y = _pair(t=300, seed=9)
    rows = neighbourhood_rows(300, 120, 3)
    for m, f in FUNCTIONS.items():
        got = f(x, y, k=5, max_samples=120, seed=3)
        assert abs(got - BRUTE[m](x[rows], y[rows], 5)) < 1e-10, m
        assert got == f(x, y, k=5, max_samples=120, seed=3)
        assert got != f(x, y, k=5, max_samples=120, seed=4)
    assert mutual_knn(x, y, k=5, max_samples=None) == mutual_knn(x, y, k=5, max_samples=300)


def test_lazy_layers_read_in_chunks_equal_numpy_and_blocked_search_equals_one_block():
    x, y = _pair(t=120, seed=10)
    want = neighbourhood_similarity_matrix([x, y], k=4, max_samples=50, seed=1)
    lazy = [Lazy(x), Lazy(y)]
    got = neighbourhood_similarity_matrix(lazy, k=4, max_samples=50, seed=1, chunk_size=7)
    assert all(s.stop - s.start <= 7 for s in lazy[0].reads)
    tiny = neighbourhood_similarity_matrix(
        [x, y], k=4, max_samples=50, seed=1, working_memory_mib=1e-4
    )
    for m in MEASURES:
        np.testing.assert_array_equal(got[m], want[m])
        np.testing.assert_array_equal(tiny[m], want[m])


# ------------------------------------------------------------------ undefined and errors


def test_a_layer_of_zero_rows_gives_nan_cknna_with_a_warning():
    x, _ = _pair(t=30, seed=11)
    with pytest.warns(RuntimeWarning, match="Y: non-positive self-HSIC"):
        assert np.isnan(cknna(x, np.zeros((30, 3)), k=3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isfinite(cknna(x, x + 1.0, k=3))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"k": 20}, r"k=20 must be smaller than the number of rows used \(n=20"),
        ({"k": 5, "max_samples": 5}, r"k=5 must be smaller .*max_samples=5"),
        ({"k": 0}, "k must be an integer >= 1"),
        ({"k": True}, "k must be an integer"),
        ({"k": 2.0}, "k must be an integer"),
        ({"max_samples": 0}, "max_samples must be an integer >= 1"),
        ({"measures": "cknna"}, "single string"),
        ({"measures": ("cka",)}, "unknown neighbourhood measure"),
        ({"measures": ()}, "measures is empty"),
        ({"measures": ("cknna",), "k": 1}, "CKNNA needs k >= 2"),
    ],
)
def test_bad_options(kwargs, message):
    x, y = _pair(t=20, seed=12)
    with pytest.raises(ValueError, match=message):
        neighbourhood_similarity_matrix([x], [y], **kwargs)


def test_bad_layers():
    x, y = _pair(t=20, seed=13)
    bad = y.copy()
    bad[7, 1] = np.nan
    with pytest.raises(ValueError, match=r"Y contains NaN or inf values \(first at time index 7\)"):
        mutual_knn(x, bad, k=3, max_samples=5, seed=0)  # before any search, cap or not
    with pytest.raises(ValueError, match=r"X \(rows read .*\): X contains NaN"):
        jaccard_knn(Lazy(bad), x, k=3)
    with pytest.raises(ValueError, match="has 19 time points"):
        cknna(x, y[:19], k=3)
    with pytest.raises(ValueError, match="must be 2-D"):
        mutual_knn(x[:, 0], y, k=3)
    with pytest.raises(ValueError, match="at least 4 rows"):
        cknna(x[:3], y[:3], k=2)
    a = layer_neighbourhood(x, 3, rows=np.arange(10))
    b = layer_neighbourhood(y, 3, rows=np.arange(1, 11))
    with pytest.raises(ValueError, match="use different rows"):
        neighbourhood_measures(a, b)
    with pytest.raises(ValueError, match="sorted and unique"):
        layer_neighbourhood(x, 3, rows=np.array([3, 1, 2, 5, 6]))
