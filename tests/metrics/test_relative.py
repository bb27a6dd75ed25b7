"""Tests for cebra_lens_core.metrics.relative (relative representations)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import ortho_group
from sklearn.metrics.pairwise import cosine_similarity

from cebra_lens_core.metrics.conditions import condition_means
from cebra_lens_core.metrics.relative import (
    condition_anchors,
    relative_representation,
    sample_anchors,
)


def layer(T: int = 300, d: int = 16, seed: int = 0):
    rng = np.random.default_rng(seed)
    cond = rng.integers(0, 5, size=T)
    x = rng.normal(size=(5, d))[cond] + 0.3 * rng.normal(size=(T, d))
    return x, cond


def test_anchors_have_unit_diagonal_and_values_are_cosines():
    x, _ = layer()
    idx = np.array([3, 50, 120, 299])
    anchors = sample_anchors(x, idx)
    self_rel = relative_representation(anchors, anchors)
    np.testing.assert_allclose(np.diag(self_rel.values), 1.0, atol=1e-12)
    rel = relative_representation(x, anchors, anchor_ids=idx)
    np.testing.assert_allclose(rel.values, cosine_similarity(x, anchors), atol=1e-12)
    np.testing.assert_allclose(rel.values[idx, np.arange(4)], 1.0, atol=1e-12)
    assert rel.values.shape == (300, 4) and rel.reduction_ratio == pytest.approx(4 / 16)
    np.testing.assert_array_equal(rel.anchor_ids, idx)


def test_condition_anchors_from_training_rows_and_invariance():
    x, cond = layer()
    train = np.arange(300) < 200
    anchors = condition_anchors(x, cond, rows=train)
    ref = condition_means(x[:200], cond[:200])
    np.testing.assert_allclose(anchors.means, ref.means)
    np.testing.assert_array_equal(anchors.ids, ref.ids)
    centre = x[train].mean(axis=0)
    rel = relative_representation(x, anchors.means, centre=centre, anchor_ids=anchors.ids)
    q = ortho_group.rvs(16, random_state=1) * 3.0  # rotation and isotropic scaling
    rel_q = relative_representation(x @ q, anchors.means @ q, centre=centre @ q)
    np.testing.assert_allclose(rel.values, rel_q.values, atol=1e-10)
    expected = cosine_similarity(x - centre, anchors.means - centre)
    np.testing.assert_allclose(rel.values, expected, atol=1e-12)


def test_relative_bad_input():
    x, cond = layer()
    with pytest.raises(ValueError, match="units"):
        relative_representation(x, x[:3, :5])
    zero = x.copy()
    zero[7] = 0.0
    with pytest.raises(ValueError, match="zero norm.*index 7"):
        relative_representation(zero, x[:3])
    with pytest.raises(ValueError, match="anchors.*zero norm"):
        relative_representation(x, np.zeros((2, 16)))
    with pytest.raises(ValueError, match="out of range"):
        sample_anchors(x, [0, 300])
    with pytest.raises(ValueError, match="integers"):
        sample_anchors(x, [0.5])
    with pytest.raises(ValueError, match="centre"):
        relative_representation(x, x[:3], centre=np.zeros(3))
    with pytest.raises(ValueError, match="anchor_ids"):
        relative_representation(x, x[:3], anchor_ids=[1, 2])
    with pytest.raises(ValueError, match="NaN"):
        relative_representation(np.full((3, 16), np.nan), x[:3])
    with pytest.raises(ValueError, match="rows mask"):
        condition_anchors(x, cond, rows=np.ones(5, dtype=bool))
