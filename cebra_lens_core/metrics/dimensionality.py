r"""Linear dimensionality of layer activations: the participation ratio.

For activations ``X`` (``T × d``, rows are time points) with column-centred copy ``Xc`` and
covariance ``C = Xc^T Xc / (T − 1)`` (``d × d``, formed in feature space, never ``T × T``)::

    PR(X) = tr(C)^2 / ||C||_F^2 = (Σ_i λ_i)^2 / Σ_i λ_i^2

with ``λ_i`` the eigenvalues of ``C`` (Gao et al., 2017; Recanatesi et al., 2019). It is
scale-free (the ``1/(T − 1)`` cancels), invariant to rotations and offsets, and lies in
``[1, rank(C)] ⊆ [1, d]``:

- data of rank 1 (``X = u v^T + c``): exactly ``1``;
- isotropic data (``C ∝ I``): exactly ``d``; for an isotropic Gaussian sample
  ``PR ≈ d · T / (T + d)`` (Marchenko–Pastur spread of the sample eigenvalues), so ``≈ d``
  for ``T ≫ d``.

The covariance is streamed over row chunks in float64 by
:func:`cebra_lens_core.metrics.cka.stacked_covariance` (two passes: column means, then
centred cross-products), so ``X`` may be a lazy array (``xarray.DataArray``, zarr) and the
cost is ``O(T d^2)`` time and ``O(d^2 + rows · d)`` memory. When a
:class:`~cebra_lens_core.metrics.cka.StackedCovariance` already exists (e.g. from CKA),
:func:`participation_ratios_from_stacked` reads the per-layer ratios off it for free.

A constant layer (``C = 0``) has no defined PR: NaN with a :class:`RuntimeWarning`.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from cebra_lens_core.metrics.cka import (
    DEFAULT_CHUNK_SIZE,
    DEFAULT_MAX_CHUNK_BYTES,
    StackedCovariance,
    stacked_covariance,
)

__all__ = [
    "participation_ratio",
    "participation_ratio_from_covariance",
    "participation_ratios_from_stacked",
]


def _warn_constant(name: str) -> None:
    warnings.warn(
        f"{name} has zero variance (all rows equal): participation ratio undefined, returning NaN",
        RuntimeWarning,
        stacklevel=3,
    )


def participation_ratio_from_covariance(C: Any) -> float:
    r"""``tr(C)^2 / ||C||_F^2`` for a covariance (or scatter) matrix ``C`` (``d × d``).

    Any positive multiple of the covariance gives the same value (the scatter
    ``Xc^T Xc`` can be passed directly).

    Args:
        C: square, real, finite matrix (symmetric positive semi-definite for a meaningful
            value; symmetry is not checked).

    Returns:
        The participation ratio as a float; NaN (with a :class:`RuntimeWarning`) if
        ``||C||_F = 0``.

    Raises:
        ValueError: ``C`` not a square 2-D matrix, empty, or holding NaN/inf.
    """
    c = np.asarray(C, dtype=np.float64)
    if c.ndim != 2 or c.shape[0] != c.shape[1]:
        raise ValueError(f"C must be a square (d × d) matrix, got shape {c.shape}")
    if c.shape[0] < 1:
        raise ValueError("C is empty (0 × 0)")
    if not np.isfinite(c).all():
        raise ValueError("C contains NaN or inf values")
    denom = float(np.vdot(c, c))
    if denom <= 0.0:
        _warn_constant("C")
        return float("nan")
    return float(np.trace(c)) ** 2 / denom


def participation_ratio(
    X: Any,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    max_chunk_bytes: int | None = DEFAULT_MAX_CHUNK_BYTES,
) -> float:
    r"""Participation ratio ``tr(C)^2 / ||C||_F^2`` of activations ``X`` (``T × d``).

    ``C`` is the ``d × d`` covariance of column-centred ``X``, accumulated over chunks of
    rows in float64 (the result does not depend on the chunking beyond rounding).

    Args:
        X: ``(T, d)`` numpy array or lazy array-like with ``.shape`` and row slicing.
        chunk_size: maximum rows read per chunk.
        max_chunk_bytes: cap on the float64 chunk buffer (``rows · d · 8`` bytes).

    Returns:
        PR in ``[1, min(d, T − 1)]``; NaN (with a :class:`RuntimeWarning`) if ``X`` is
        constant.

    Raises:
        ValueError: ``X`` not 2-D, fewer than 2 rows, no columns, NaN/inf values, bad
            ``chunk_size``.
    """
    shape = tuple(getattr(X, "shape", np.shape(X)))
    if len(shape) == 2 and shape[0] < 2:
        raise ValueError(f"X needs at least 2 time points (rows), got shape {shape}")
    with np.errstate(invalid="ignore"):  # inf input: the ValueError below says it clearly
        cov = stacked_covariance(
            [X], chunk_size=chunk_size, max_chunk_bytes=max_chunk_bytes, names=["X"]
        )
    value = cov.participation_ratio(0)
    if np.isnan(value):
        _warn_constant("X")
    return value


def participation_ratios_from_stacked(cov: StackedCovariance) -> np.ndarray:
    """Per-layer participation ratios from the diagonal blocks ``G_ii`` of a stacked scatter.

    Args:
        cov: result of :func:`cebra_lens_core.metrics.cka.stacked_covariance`.

    Returns:
        float64 array of length ``cov.n_layers``; NaN (with a :class:`RuntimeWarning`
        naming the layers) for constant layers.
    """
    values = np.array([cov.participation_ratio(i) for i in range(cov.n_layers)])
    bad = np.flatnonzero(np.isnan(values))
    if bad.size:
        _warn_constant("layers " + ", ".join(str(int(i)) for i in bad))
    return values
