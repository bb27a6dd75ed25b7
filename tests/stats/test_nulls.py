"""Tests for cebra_lens_core.stats.nulls: permutation p-values."""

from __future__ import annotations

import numpy as np
import pytest

from cebra_lens_core.stats.nulls import permutation_p_value


def test_permutation_p_value_by_hand():
    assert permutation_p_value(0.5, [0.1, 0.5, 0.7]) == pytest.approx(3 / 4)
    assert permutation_p_value(1.0, [0.1, 0.2, np.nan]) == pytest.approx(1 / 3)
    p = permutation_p_value(np.array([0.0, 2.0]), np.array([[1.0, 1.0], [1.0, 3.0]]))
    np.testing.assert_allclose(p, [1.0, 2 / 3])
    with pytest.raises(ValueError, match="shape"):
        permutation_p_value(np.zeros(2), np.zeros((3, 3)))
