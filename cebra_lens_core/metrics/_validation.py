"""One copy of every input check of the metrics (private to ``cebra_lens_core.metrics``).

A *layer* is a ``(T, d)`` array of activations, time × units: a numpy array or a lazy
array-like with ``.shape`` and row slicing (an ``xarray.DataArray`` of an activation store,
a zarr array). Every check names the argument and what was expected; NaN/inf are reported
with the time index (row) of the first bad value.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "as_layer",
    "check_activations",
    "check_alphas",
    "check_finite",
    "check_layer",
    "check_layers",
    "check_same_rows",
    "check_same_time",
    "check_sequence",
    "check_shape",
]


def check_shape(shape: Sequence[int], name: str) -> tuple[int, int]:
    """``(T, d)`` of a layer's shape; raise unless it is 2-D with at least one unit."""
    shape = tuple(int(s) for s in shape)
    if len(shape) != 2:
        raise ValueError(
            f"{name} must be 2-D (time × units), got shape {shape}; reshape a single unit to (T, 1)"
        )
    if shape[1] < 1:
        raise ValueError(f"{name} has no units (shape {shape})")
    return shape  # type: ignore[return-value]


def _check_real_dtype(dtype: Any, name: str) -> None:
    try:
        dtype = np.dtype(dtype)
    except TypeError:  # an array-like whose dtype numpy cannot name: checked when read
        return
    if not (
        np.issubdtype(dtype, np.floating)
        or np.issubdtype(dtype, np.integer)
        or np.issubdtype(dtype, np.bool_)
    ):
        raise ValueError(f"{name} must hold real numbers, got dtype {dtype}")


def check_finite(a: np.ndarray, name: str, start: int = 0) -> None:
    """Raise if ``a`` holds NaN/inf, naming the time index ``start + row`` of the first one."""
    if np.isfinite(a).all():
        return
    row = start + int(np.argwhere(~np.isfinite(a))[0][0])
    raise ValueError(f"{name} contains NaN or inf values (first at time index {row})")


def as_layer(X: Any, name: str = "X") -> Any:
    """``X`` itself if it is an array-like with row slicing, else ``np.asarray(X)``; checked.

    Shape (2-D, at least one unit) and dtype (real) only: the values of a lazy layer are
    checked chunk by chunk when they are read (:func:`~cebra_lens_core.metrics.streaming.iter_chunks`).

    Raises:
        ValueError: not 2-D, no units, or a non-real dtype.
    """
    if not (hasattr(X, "shape") and hasattr(X, "__getitem__")):
        X = np.asarray(X)
    check_shape(X.shape, name)
    dtype = getattr(X, "dtype", None)
    if dtype is not None:
        _check_real_dtype(dtype, name)
    return X


def check_layer(X: Any, name: str = "X") -> Any:
    """:func:`as_layer`, and an in-memory numpy array is checked for NaN/inf at once.

    A lazy layer's values are checked chunk by chunk when they are read.
    """
    X = as_layer(X, name)
    if isinstance(X, np.ndarray):
        check_finite(X, name)
    return X


def check_sequence(items: Any, arg: str, of: str, one: str) -> list[Any]:
    """``items`` as a non-empty list of ``of`` (e.g. "RDMs"), not a single array.

    Raises:
        TypeError: a single array (or string) passed instead of a sequence.
        ValueError: an empty sequence (``one`` names its element: "need at least one RDM").
    """
    if hasattr(items, "shape") or isinstance(items, str | bytes):
        raise TypeError(
            f"{arg} must be a sequence of {of}, got a single array; wrap it in a list: [{arg}]"
        )
    items = list(items)
    if not items:
        raise ValueError(f"{arg} is empty: need at least one {one}")
    return items


def check_layers(layers: Any, arg: str, names: Sequence[str] | None = None) -> list[Any]:
    """A sequence of layers, each through :func:`as_layer` (named ``names[i]`` or ``arg[i]``).

    Raises:
        TypeError: a single array passed instead of a sequence of layers.
        ValueError: an empty sequence; a layer that is not 2-D, has no units or is not real.
    """
    layers = check_sequence(layers, arg, "2-D (time × units) arrays", "layer")
    if names is None:
        names = [f"{arg}[{i}]" for i in range(len(layers))]
    return [as_layer(a, n) for a, n in zip(layers, names, strict=True)]


def check_same_time(layers: Sequence[Any], names: Sequence[str], min_samples: int = 1) -> int:
    """``T`` shared by every layer; raise naming the first layer whose rows differ."""
    n_time = int(layers[0].shape[0])
    for layer, name in zip(layers, names, strict=True):
        t = int(layer.shape[0])
        if t != n_time:
            raise ValueError(
                f"{name} has {t} time points (rows) but {names[0]} has {n_time}; "
                "all layers must share the same time axis"
            )
    if n_time < min_samples:
        raise ValueError(f"need at least {min_samples} time points (rows), got {n_time}")
    return n_time


def check_activations(X: Any, name: str = "X", *, allow_1d: bool = False) -> np.ndarray:
    """``X`` as a 2-D real numpy array (time × units), checked for NaN/inf.

    ``allow_1d``: a 1-D ``(T,)`` input is one column ``(T, 1)``. The dtype is kept.

    Raises:
        ValueError: not 2-D, no units, a non-real dtype, NaN/inf (time index named).
    """
    arr = np.asarray(X)
    if allow_1d and arr.ndim == 1:
        arr = arr[:, None]
    check_shape(arr.shape, name)
    _check_real_dtype(arr.dtype, name)
    check_finite(arr, name)
    return arr


def check_same_rows(n_x: int, n_y: int, x_name: str, y_name: str) -> None:
    """Raise unless two arrays have the same number of rows (time points)."""
    if int(n_x) != int(n_y):
        raise ValueError(
            f"{x_name} has {int(n_x)} rows but {y_name} has {int(n_y)}; "
            "they must be the same time points"
        )


def check_alphas(alphas: Sequence[float]) -> np.ndarray:
    """Ridge penalties: positive finite numbers, returned sorted and unique (float64)."""
    al = np.asarray(list(np.atleast_1d(alphas)), dtype=np.float64)
    if al.size == 0:
        raise ValueError("alphas is empty")
    if not (np.isfinite(al).all() and (al > 0).all()):
        raise ValueError(f"alphas must be positive finite numbers, got {al.tolist()}")
    return np.unique(al)
