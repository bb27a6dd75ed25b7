"""Tests for cebra_lens_core.metrics.conditions: binning, condition means, validation."""

from __future__ import annotations

import numpy as np
import pytest

from cebra_lens_core.metrics.conditions import (
    Conditions,
    bin_continuous,
    check_codes,
    condition_means,
    make_conditions,
)

# ----------------------------------------------------------------------------- binning


def test_bin_edges_and_codes_by_hand():
    values = np.array([0.0, 0.24, 0.25, 0.5, 0.74, 0.99, 1.0])
    codes, edges = bin_continuous(values, 4)
    np.testing.assert_allclose(edges, [0.0, 0.25, 0.5, 0.75, 1.0])
    # right-open bins, the last one closed: 1.0 falls in bin 3
    np.testing.assert_array_equal(codes, [0, 0, 1, 2, 2, 3, 3])
    assert codes.dtype == np.int64


def test_bin_matches_numpy_histogram():
    rng = np.random.default_rng(0)
    values = rng.normal(size=1000)
    codes, edges = bin_continuous(values, 7)
    hist, hist_edges = np.histogram(values, bins=7)
    np.testing.assert_allclose(edges, hist_edges)
    np.testing.assert_array_equal(np.bincount(codes, minlength=7), hist)
    assert codes.min() == 0 and codes.max() == 6


def test_bin_value_range():
    codes, edges = bin_continuous([1.0, 2.0, 3.0], 2, value_range=(0.0, 4.0))
    np.testing.assert_allclose(edges, [0.0, 2.0, 4.0])
    np.testing.assert_array_equal(codes, [0, 1, 1])


@pytest.mark.parametrize(
    "values, n_bins, kw, match",
    [
        ([0.0, 1.0], 1, {}, "n_bins must be an integer >= 2"),
        ([0.0, 1.0], 2.5, {}, "n_bins must be an integer >= 2"),
        ([0.0, np.nan, 1.0], 3, {}, r"NaN/inf values \(first at time index 1\)"),
        ([2.0, 2.0, 2.0], 3, {}, "constant"),
        ([0.0, 5.0], 2, {"value_range": (0.0, 4.0)}, r"1 values lie outside value_range"),
        ([0.0, 1.0], 2, {"value_range": (1.0, 1.0)}, "lo < hi"),
        (np.zeros((3, 3)), 2, {}, "must be 1-D"),
        ([], 2, {}, "empty"),
    ],
)
def test_bin_errors(values, n_bins, kw, match):
    with pytest.raises(ValueError, match=match):
        bin_continuous(values, n_bins, **kw)


# ----------------------------------------------------------------------------- condition means


def test_condition_means_by_hand():
    X = np.array([[1.0, 2.0], [3.0, 4.0], [10.0, 0.0], [5.0, 6.0]], dtype=np.float32)
    means, ids, counts = condition_means(X, [7, 7, 2, 7])
    np.testing.assert_array_equal(ids, [2, 7])
    np.testing.assert_array_equal(counts, [1, 3])
    np.testing.assert_allclose(means, [[10.0, 0.0], [3.0, 4.0]])
    assert means.dtype == np.float64


def test_condition_means_random_against_masks():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(500, 6))
    codes = rng.integers(0, 9, size=500)
    res = condition_means(X, codes)
    for k, c in enumerate(res.ids):
        np.testing.assert_allclose(res.means[k], X[codes == c].mean(axis=0), rtol=0, atol=1e-13)
        assert res.counts[k] == (codes == c).sum()


def test_empty_bins_dropped_and_reported():
    values = np.array([0.0, 0.1, 0.9, 1.0, 0.95])  # bins 1..3 of 5 over [0, 1] are empty
    X = np.arange(10.0).reshape(5, 2)
    cond = make_conditions(values, "continuous", n_bins=5, n_rows=5)
    assert isinstance(cond, Conditions)
    np.testing.assert_array_equal(cond.ids, [0, 4])
    np.testing.assert_array_equal(cond.dropped, [1, 2, 3])
    np.testing.assert_array_equal(cond.counts, [2, 3])
    np.testing.assert_allclose(cond.bin_centres, [0.1, 0.9])
    means, ids, counts = condition_means(X, cond.codes)
    assert np.isfinite(means).all()  # never NaN rows for empty bins
    np.testing.assert_array_equal(ids, cond.ids)
    np.testing.assert_allclose(means, [X[:2].mean(0), X[2:].mean(0)])


def test_discrete_passthrough_and_expected_ids():
    cond = make_conditions(np.array([3, 1, 3, 1, 1]), expected_ids=[0, 1, 2, 3])
    np.testing.assert_array_equal(cond.codes, [3, 1, 3, 1, 1])
    np.testing.assert_array_equal(cond.ids, [1, 3])
    np.testing.assert_array_equal(cond.dropped, [0, 2])
    assert cond.edges is None and cond.bin_centres is None and cond.kind == "discrete"
    assert make_conditions([0, 1, 1]).dropped.size == 0


def test_check_codes_accepts_integer_floats_and_bools():
    np.testing.assert_array_equal(check_codes(np.array([1.0, 2.0, -1.0])), [1, 2, -1])
    np.testing.assert_array_equal(check_codes(np.array([True, False])), [1, 0])
    assert check_codes(np.array([[1], [2]])).shape == (2,)


# ----------------------------------------------------------------------------- validation


def test_length_mismatch_names_both_lengths():
    with pytest.raises(ValueError, match=r"conditions has 3 values but X has 4 rows"):
        condition_means(np.zeros((4, 2)), [0, 1, 0])
    with pytest.raises(ValueError, match=r"position has 2 values but X has 3 rows"):
        make_conditions([0.0, 1.0], "continuous", n_bins=2, n_rows=3, name="position")


@pytest.mark.parametrize(
    "codes, match",
    [
        (np.array([0.0, np.nan, 1.0]), r"NaN/inf values \(first at time index 1\)"),
        (np.array([0.0, 0.5, 1.0]), r"non-integer values .*0\.5.* time index 1"),
        (np.array(["a", "b", "a"]), "integer condition codes"),
        (np.array([0, 0, 0]), r"at least 2 conditions with samples, got 1"),
    ],
)
def test_condition_means_errors(codes, match):
    with pytest.raises(ValueError, match=match):
        condition_means(np.zeros((3, 2)), codes)


def test_fewer_than_two_conditions_after_dropping():
    # all samples in the first bin of a given range: one condition left
    with pytest.raises(ValueError, match="at least 2 conditions with samples after dropping"):
        make_conditions([0.0, 0.1], "continuous", n_bins=4, value_range=(0.0, 4.0))


def test_make_conditions_argument_errors():
    with pytest.raises(ValueError, match="n_bins is required"):
        make_conditions([0.0, 1.0], "continuous")
    with pytest.raises(ValueError, match="discrete: n_bins"):
        make_conditions([0, 1], n_bins=3)
    with pytest.raises(ValueError, match="kind must be"):
        make_conditions([0, 1], "ordinal")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-integer"):
        make_conditions([0.0, 0.3, 1.0], "discrete")


def test_X_validation():
    with pytest.raises(ValueError, match="2-D"):
        condition_means(np.zeros(3), [0, 1, 0])
    X = np.zeros((3, 2))
    X[2, 1] = np.inf
    with pytest.raises(ValueError, match=r"NaN or inf values \(first at time index 2\)"):
        condition_means(X, [0, 1, 0])
