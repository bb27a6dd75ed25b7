"""Tests for cebra_lens_core.stats.resampling: block bootstrap indices and percentile intervals."""

from __future__ import annotations

import numpy as np
import pytest

from cebra_lens_core.stats.resampling import (
    block_bootstrap_indices,
    block_length_from_seconds,
    block_rows,
    bootstrap_interval,
    nonoverlapping_block_draws,
    percentile_interval,
)
from tests.stats.series import ar1

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
