"""Exact nested cosine neighbour sets (metrics.neighbours) against brute force."""

from __future__ import annotations

import numpy as np
import pytest

from cebra_lens_core.metrics import neighbours
from cebra_lens_core.metrics.neighbours import cosine_neighbours, unit_rows

KS = [1, 2, 3, 5, 8, 12, 20, 50, 100, 300]


def _brute_sets_agree(ref: np.ndarray, query: np.ndarray, got: np.ndarray, ks) -> int:
    """Rows × k whose set differs from sklearn's brute force in float64 (beyond exact ties)."""
    from sklearn.neighbors import NearestNeighbors

    fitted = NearestNeighbors(metric="cosine", algorithm="brute").fit(ref)
    dist, idx = fitted.kneighbors(query, n_neighbors=max(ks))
    sim = query @ ref.T
    bad = 0
    for k in ks:
        for i in range(len(query)):
            ours, theirs = got[i, :k], idx[i, :k]
            if set(ours.tolist()) != set(theirs.tolist()):
                # the same similarities = an exact tie broken the other way
                if not np.array_equal(np.sort(sim[i, ours]), np.sort(sim[i, theirs])):
                    bad += 1
    return bad


def _near_tie_data(n_ref: int, n_query: int, seed: int = 3):
    """Pairs of reference rows that differ below float32 resolution (float32 cannot order
    them, float64 can) and queries close to reference rows."""
    rng = np.random.default_rng(seed)
    ref = unit_rows(rng.standard_normal((n_ref, 16)))
    ref[1::2] = unit_rows(ref[0::2] + 1e-9 * rng.standard_normal(ref[0::2].shape))
    query = unit_rows(rng.standard_normal((n_query, 16)))
    query[: n_query // 2] = unit_rows(
        ref[: n_query // 2] + 1e-3 * rng.standard_normal((n_query // 2, 16))
    )
    return ref, query


def test_screened_sets_equal_float64_brute_force_even_below_float32_resolution():
    ref, query = _near_tie_data(8192, 300)
    assert 8192 >= neighbours.SCREEN_MIN_REFERENCES  # the float32 screen is used
    got = cosine_neighbours(ref, query, KS)
    assert got.shape == (300, max(KS))
    assert _brute_sets_agree(ref, query, got, KS) == 0


def test_without_the_float64_decision_the_screen_would_be_wrong(monkeypatch):
    """The near-tie data must exercise the float64 band: with no tolerance, sets differ."""
    ref, query = _near_tie_data(8192, 300)
    monkeypatch.setattr(neighbours, "screening_tolerance", lambda d: 0.0)
    assert _brute_sets_agree(ref, query, cosine_neighbours(ref, query, KS), KS) > 0


def test_small_references_take_the_exact_path_and_are_sorted():
    rng = np.random.default_rng(0)
    ref, query = unit_rows(rng.standard_normal((500, 8))), unit_rows(rng.standard_normal((40, 8)))
    got = cosine_neighbours(ref, query, [3, 7])
    sim = query @ ref.T
    expected = np.argsort(-sim, axis=1)[:, :7]
    np.testing.assert_array_equal(got, expected)


def test_zero_queries_and_blocks_smaller_than_the_data():
    ref, query = _near_tie_data(6000, 120, seed=5)
    query[[0, 17]] = 0.0  # cosine similarity 0 to every row: all tied, taken exactly
    got = cosine_neighbours(ref, query, [1, 10, 100], working_memory_mib=0.5)
    assert _brute_sets_agree(ref, query, got, [1, 10, 100]) == 0


@pytest.mark.parametrize("ks", [[0], [5, 601], []])
def test_k_outside_the_reference_rows_is_refused(ks):
    ref = unit_rows(np.random.default_rng(0).standard_normal((600, 4)))
    with pytest.raises(ValueError, match=r"every k must be in \[1, 600\]"):
        cosine_neighbours(ref, ref[:3], ks)


def test_unit_rows_keep_zero_rows_zero():
    out = unit_rows(np.array([[3.0, 4.0], [0.0, 0.0]]))
    np.testing.assert_allclose(out, [[0.6, 0.8], [0.0, 0.0]])


def test_tolerance_bounds_the_float32_error_of_unit_rows():
    rng = np.random.default_rng(1)
    for d in (4, 32, 256):
        a, b = unit_rows(rng.standard_normal((2000, d))), unit_rows(rng.standard_normal((50, d)))
        err = np.abs(a.astype(np.float32) @ b.astype(np.float32).T - a @ b.T).max()
        assert err <= neighbours.screening_tolerance(d) / 2
