"""Tests for cebra_lens_core.stats.options: bootstrap and null settings, block length."""

from __future__ import annotations

import pytest

from cebra_lens_core.stats.options import BootstrapOptions, NullOptions, resolve_block_length


def test_options_block_length_and_cap():
    assert resolve_block_length(0.025, 2.0) == 80
    assert resolve_block_length(float("nan"), 2.0) == 50  # unknown bin width: samples
    assert resolve_block_length(None, 2.0, block_samples=30) == 30
    opts = BootstrapOptions.from_config(
        {"enabled": True, "block_seconds": 2.0, "bin_width_s": 0.025, "n_resamples": 7}
    )
    assert opts.block_length == 80 and opts.n_resamples == 7
    assert opts.length_for(200) == 20  # at least min_blocks = 10 blocks
    assert opts.length_for(10_000) == 80
    assert BootstrapOptions.from_config({"enabled": False}) is None
    assert NullOptions(min_shift_fraction=0.1).min_shift(200) == 20
    with pytest.raises(ValueError, match="layers"):
        NullOptions(layers="diagonal")
