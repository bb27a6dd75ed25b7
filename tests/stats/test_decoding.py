"""Tests for cebra_lens_core.stats.decoding: block bootstrap of decoding test scores."""

from __future__ import annotations

import numpy as np

from cebra_lens_core.stats.decoding import decoding_bootstrap
from cebra_lens_core.stats.options import BootstrapOptions
from tests.stats.series import smooth


def test_decoding_interval_contains_estimate_and_shrinks_with_more_data():
    rng = np.random.default_rng(2)
    widths = []
    for n in (400, 3200):
        y = smooth(rng, n, 1, 0.95)[:, 0]
        pred = y + 0.5 * y.std() * smooth(rng, n, 1, 0.5)[:, 0] / 2.3
        est = 1 - np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2)
        opts = BootstrapOptions(n_resamples=200, block_length=20, seed=0)
        iv = decoding_bootstrap(y, pred, ["y"], opts, discrete=False)
        r2 = iv[("r2", "y")]
        assert 0.5 < est < 0.99
        assert r2.low < est < r2.high
        widths.append(r2.high - r2.low)
        assert set(iv) == {("r2", "y"), ("mean_r2", "y"), ("median_abs_error", "y")}
    assert widths[1] < 0.7 * widths[0]
    acc = decoding_bootstrap(
        np.array([0, 1] * 50), np.array([0, 1] * 50), ["c"], opts, discrete=True
    )
    assert acc[("accuracy", "c")].low == acc[("accuracy", "c")].high == 1.0
