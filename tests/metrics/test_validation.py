"""Tests for cebra_lens_core.metrics._validation: every input check names what is wrong."""

from __future__ import annotations

import numpy as np
import pytest

from cebra_lens_core.metrics._validation import (
    as_layer,
    check_activations,
    check_alphas,
    check_layer,
    check_layers,
    check_same_rows,
    check_same_time,
)


class Lazy:
    """A lazy layer: shape, dtype and row slicing only (values read on slicing)."""

    def __init__(self, a: np.ndarray) -> None:
        self.a, self.shape, self.dtype = a, a.shape, a.dtype

    def __getitem__(self, key):
        return self.a[key]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (np.zeros(5), r"X must be 2-D \(time × units\), got shape \(5,\)"),
        (np.zeros((5, 0)), r"X has no units"),
        (np.zeros((5, 2), dtype=complex), "must hold real numbers"),
        (np.array([["a", "b"]]), "must hold real numbers"),
    ],
)
def test_shape_and_dtype_errors(value, message):
    for check in (as_layer, check_layer, check_activations):
        with pytest.raises(ValueError, match=message):
            check(value, "X")


def test_nan_is_found_at_once_in_memory_and_on_reading_for_lazy_layers():
    x = np.ones((10, 3))
    x[6, 1] = np.inf
    with pytest.raises(ValueError, match=r"X contains NaN or inf values \(first at time index 6\)"):
        check_layer(x, "X")
    with pytest.raises(ValueError, match=r"first at time index 6"):
        check_activations(x, "X")
    lazy = Lazy(x)
    assert check_layer(lazy, "X") is lazy  # not read here
    assert as_layer([[1, 2], [3, 4]]).shape == (2, 2)  # lists become arrays


def test_activations_keep_dtype_and_accept_one_column():
    x = np.arange(6, dtype=np.float32)
    with pytest.raises(ValueError, match="2-D"):
        check_activations(x)
    out = check_activations(x, allow_1d=True)
    assert out.shape == (6, 1) and out.dtype == np.float32


def test_layer_lists_rows_and_alphas():
    with pytest.raises(TypeError, match=r"wrap it in a list: \[layers\]"):
        check_layers(np.zeros((4, 2)), "layers")
    with pytest.raises(ValueError, match="layers is empty"):
        check_layers([], "layers")
    with pytest.raises(ValueError, match=r"layers\[1\] must be 2-D"):
        check_layers([np.zeros((4, 2)), np.zeros(4)], "layers")
    layers = check_layers([np.zeros((4, 2)), np.zeros((5, 2))], "layers", ["a", "b"])
    with pytest.raises(ValueError, match="b has 5 time points .* but a has 4"):
        check_same_time(layers, ["a", "b"])
    with pytest.raises(ValueError, match="need at least 6 time points"):
        check_same_time(layers[:1], ["a"], min_samples=6)
    with pytest.raises(ValueError, match="X has 4 rows but y has 3"):
        check_same_rows(4, 3, "X", "y")
    np.testing.assert_array_equal(check_alphas([10, 1, 10]), [1.0, 10.0])
    for bad in ([], [0.0], [-1.0], [np.nan]):
        with pytest.raises(ValueError, match="alphas"):
            check_alphas(bad)
