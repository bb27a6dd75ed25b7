"""Tests for cebra_lens_core.stats.distance: block bootstrap of the class distances."""

from __future__ import annotations

import numpy as np
import pytest

from cebra_lens_core.metrics.distance import class_distances
from cebra_lens_core.stats.distance import distance_bootstrap
from cebra_lens_core.stats.options import BootstrapOptions
from cebra_lens_core.stats.resampling import block_rows, nonoverlapping_block_draws
from tests.stats.series import smooth


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_distance_bootstrap_replicate_equals_class_distances_on_resampled_rows(metric):
    rng = np.random.default_rng(1)
    n = 360
    codes = np.tile(np.repeat(np.arange(4), 10), 9)  # 4 conditions in 10-row runs
    repeats = np.repeat(np.arange(9), 40)
    X = 3.0 + rng.normal(size=(4, 6))[codes] + smooth(rng, n, 6, 0.5)
    opts = BootstrapOptions(n_resamples=5, block_length=30, seed=2)
    out = distance_bootstrap(X, codes, opts, repeats=repeats, metrics=[metric], chunk_size=64)
    edges, draws = nonoverlapping_block_draws(n, 30, 5, 2)
    for b in range(5):
        rows = block_rows(edges, draws[b])
        ref = class_distances(X[rows], codes[rows], repeats[rows], metric=metric)
        for q in ("inter_class", "inter_repetition"):
            assert out[metric][q].replicates[b] == pytest.approx(ref[q], rel=1e-9), (b, q)
        # intra-class: pairs of resampled rows, leaving out pairs between two copies of
        # the same block
        block_of = np.repeat(draws[b], np.diff(edges)[draws[b]])
        copy_of = np.repeat(np.arange(len(draws[b])), np.diff(edges)[draws[b]])
        if metric == "cosine":
            v = X[rows] / np.linalg.norm(X[rows], axis=1, keepdims=True)
        else:
            v = (X[rows] - X[rows].mean(axis=0)) / X[rows].std(axis=0)
        per_cond = []
        for c in np.unique(codes[rows]):
            idx = np.flatnonzero(codes[rows] == c)
            same_block = block_of[idx][:, None] == block_of[idx][None, :]
            same_copy = copy_of[idx][:, None] == copy_of[idx][None, :]
            valid = (~same_block | same_copy) & ~np.eye(len(idx), dtype=bool)
            if metric == "cosine":
                d = 1.0 - v[idx] @ v[idx].T
            else:
                d = ((v[idx][:, None, :] - v[idx][None, :, :]) ** 2).sum(axis=2)
            per_cond.append(d[valid].mean() if metric == "cosine" else np.sqrt(d[valid].mean()))
        intra = out[metric]["intra_class"].replicates[b]
        assert intra == pytest.approx(np.mean(per_cond), rel=1e-9)
        assert intra >= ref["intra_class"]  # near-duplicate pairs left out
    whole = class_distances(X, codes, repeats, metric=metric)["intra_class"]
    iv = out[metric]["intra_class"]
    assert iv.low < whole * 1.1 and iv.high > whole * 0.9  # centred near the estimate
