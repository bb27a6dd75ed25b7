"""Block-bootstrap replicates of stacked covariances (shape / CCA intervals) against brute force."""

from __future__ import annotations

import numpy as np
import pytest

from cebra_lens_core.metrics.cka import stacked_covariance
from cebra_lens_core.stats.options import BootstrapOptions
from cebra_lens_core.stats.resampling import block_draws, block_rows, percentile_interval
from cebra_lens_core.stats.similarity import covariance_intervals, covariance_replicates


def _layers(n_time: int = 203) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    latent = np.cumsum(rng.normal(size=(n_time, 2)), axis=0)
    return [latent @ rng.normal(size=(2, d)) + rng.normal(size=(n_time, d)) + 50.0 for d in (3, 4)]


@pytest.mark.parametrize("chunk_size", [7, 10_000])
def test_replicates_equal_the_covariance_of_the_drawn_rows(chunk_size):
    layers = _layers()
    options = BootstrapOptions(n_resamples=6, block_length=9, seed=3, min_blocks=5)
    replicates = covariance_replicates(layers, options, chunk_size=chunk_size)
    edges, draws, _ = block_draws(203, options)
    z = np.concatenate(layers, axis=1)
    assert len(replicates) == 6
    for cov, ids in zip(replicates, draws, strict=True):
        rows = block_rows(edges, ids)
        brute = stacked_covariance([x[rows] for x in layers])
        assert cov.n_samples == len(rows) == brute.n_samples
        np.testing.assert_allclose(cov.means, z[rows].mean(axis=0), rtol=1e-12)
        np.testing.assert_allclose(cov.scatter, brute.scatter, rtol=1e-9, atol=1e-8)
        np.testing.assert_array_equal(cov.offsets, [0, 3, 7])


def test_the_identity_draw_gives_the_covariance_of_all_rows():
    layers = _layers(60)
    options = BootstrapOptions(n_resamples=1, block_length=60, min_blocks=1)
    (cov,) = covariance_replicates(layers, options)  # one block drawn once: all rows
    np.testing.assert_allclose(cov.scatter, stacked_covariance(layers).scatter, rtol=1e-12)


def test_intervals_are_percentiles_of_the_statistic():
    layers = _layers()
    options = BootstrapOptions(n_resamples=20, block_length=10, seed=1)
    replicates = covariance_replicates(layers, options)

    def trace(cov):
        return {"trace": np.array([[np.trace(cov.block(0)), np.trace(cov.block(1))]])}

    low, high = covariance_intervals(replicates, trace, 0.9)["trace"]
    values = np.stack([trace(c)["trace"] for c in replicates])
    expected = percentile_interval(values, 0.9)
    np.testing.assert_allclose(low, expected[0])
    np.testing.assert_allclose(high, expected[1])
    assert low.shape == (1, 2) and (low <= high).all()


def test_memory_cap_and_unequal_rows_are_refused():
    layers = _layers()
    with pytest.raises(ValueError, match="need .* MiB .*n_resamples"):
        covariance_replicates(layers, BootstrapOptions(n_resamples=100), max_bytes=1000)
    with pytest.raises(ValueError, match="different numbers of rows"):
        covariance_replicates([layers[0], layers[1][:-1]], BootstrapOptions())
