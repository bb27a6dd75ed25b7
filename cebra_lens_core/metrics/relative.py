r"""Relative representations (Moschella et al. 2023): a layer seen through a set of anchors.

Each time point of a layer (``X``, ``T × d``) is re-expressed by its cosine similarity to
``A`` anchors ``a_1 … a_A`` (``A × d``, in the same layer's space)::

    R[t, k] = cos(x_t − c, a_k − c) = (x_t − c)·(a_k − c) / (||x_t − c|| ||a_k − c||)

with an optional common centre ``c`` (default none, as in the paper; passing the training
mean removes the shared offset that makes all cosines of non-negative activations large).
``R`` is ``T × A``; each axis has a meaning ("how similar is this time point to anchor k"),
and ``R`` is invariant to rotations and isotropic rescalings of the layer (for ``c`` that
moves with the data, e.g. a mean), so relative representations of different layers, seeds or
models can be compared axis by axis. The dimensionality changes from ``d`` to ``A``:
``reduction_ratio = A / d`` (< 1 is a compression).

Anchors:

- :func:`condition_anchors`: condition means of a label on the training split
  (:func:`~cebra_lens_core.metrics.conditions.condition_means`; one anchor per condition
  with samples, ordered by condition id);
- :func:`sample_anchors`: rows of ``X`` at user-given sample indices.

A row or anchor with zero norm (after centring) has no direction: a ``ValueError`` names it.
The relative representation of the anchors themselves has a unit diagonal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cebra_lens_core.metrics._validation import check_activations
from cebra_lens_core.metrics.conditions import ConditionMeans, check_codes, condition_means

__all__ = [
    "RelativeRepresentation",
    "condition_anchors",
    "sample_anchors",
    "relative_representation",
]


def condition_anchors(X: Any, conditions: Any, rows: Any = None) -> ConditionMeans:
    """Anchors = condition means of ``X`` over ``rows`` (e.g. the training split).

    Args:
        X: ``(T, d)`` activations.
        conditions: ``(T,)`` integer condition ids (or a ``Conditions``), one per row of ``X``.
        rows: optional row selection (boolean mask or indices) applied to both, e.g. the
            store's ``train`` coordinate.

    Returns:
        :class:`~cebra_lens_core.metrics.conditions.ConditionMeans`
        ``(means (A × d), ids (A,), counts (A,))``.
    """
    x = check_activations(X, "X")
    codes = check_codes(getattr(conditions, "codes", conditions), x.shape[0], "conditions")
    if rows is not None:
        sel = np.asarray(rows)
        if sel.dtype == np.bool_ and sel.shape != (x.shape[0],):
            raise ValueError(f"rows mask has shape {sel.shape} but X has {x.shape[0]} rows")
        x, codes = x[sel], codes[sel]
        if x.shape[0] == 0:
            raise ValueError("rows selects no time points")
    return condition_means(x, codes)


def sample_anchors(X: Any, indices: Any) -> np.ndarray:
    """Anchors = the rows ``X[indices]`` (``A × d``, float64).

    Raises:
        ValueError: ``indices`` empty, not integers, or out of range ``[0, T)`` (named).
    """
    x = check_activations(X, "X")
    idx = np.asarray(indices)
    if idx.ndim != 1 or idx.size == 0:
        raise ValueError(
            f"indices must be a non-empty 1-D array of row indices, got shape {idx.shape}"
        )
    if not np.issubdtype(idx.dtype, np.integer):
        raise ValueError(f"indices must be integers, got dtype {idx.dtype}")
    bad = (idx < 0) | (idx >= x.shape[0])
    if bad.any():
        raise ValueError(
            f"anchor index {int(idx[bad][0])} is out of range for X with {x.shape[0]} rows"
        )
    return x[idx].astype(np.float64)


@dataclass(frozen=True, eq=False)
class RelativeRepresentation:
    """A layer re-expressed as cosine similarities to anchors.

    Attributes:
        values: ``(T, A)`` cosine similarity of each time point to each anchor.
        anchors: ``(A, d)`` the anchors (before centring).
        anchor_ids: ``(A,)`` condition ids or sample indices of the anchors (or ``arange``).
        centre: ``(d,)`` the common centre subtracted, or ``None``.
        n_anchors: ``A``; n_units: ``d``.
        reduction_ratio: ``A / d``.
    """

    values: np.ndarray
    anchors: np.ndarray
    anchor_ids: np.ndarray
    centre: np.ndarray | None
    n_anchors: int
    n_units: int
    reduction_ratio: float


def _unit_rows(v: np.ndarray, what: str) -> np.ndarray:
    norms = np.linalg.norm(v, axis=1)
    zero = norms == 0.0
    if zero.any():
        raise ValueError(
            f"{int(zero.sum())} {what} have zero norm (first: index {int(np.flatnonzero(zero)[0])}); "
            "their cosine similarity is undefined — drop them or use another centre"
        )
    return v / norms[:, None]


def relative_representation(
    X: Any, anchors: Any, *, centre: Any = None, anchor_ids: Any = None
) -> RelativeRepresentation:
    """Cosine similarity of every row of ``X`` to every anchor (Moschella et al. 2023).

    Args:
        X: ``(T, d)`` activations of a layer.
        anchors: ``(A, d)`` anchors in the same space (:func:`condition_anchors`,
            :func:`sample_anchors`, or any vectors).
        centre: optional ``(d,)`` vector subtracted from rows and anchors first (e.g. the
            training mean of the layer).
        anchor_ids: optional ``(A,)`` ids reported with the anchors.

    Returns:
        :class:`RelativeRepresentation` (``values`` ``T × A``, ``reduction_ratio = A / d``).

    Raises:
        ValueError: ``X``/``anchors`` not 2-D or not finite; different numbers of units;
            ``centre`` of the wrong length; ``anchor_ids`` of the wrong length; a zero-norm
            row or anchor.
    """
    x = check_activations(X, "X").astype(np.float64, copy=False)
    a = check_activations(anchors, "anchors").astype(np.float64, copy=False)
    if a.shape[1] != x.shape[1]:
        raise ValueError(
            f"anchors have {a.shape[1]} units but X has {x.shape[1]}; anchors must live in the "
            "same layer's space"
        )
    c = None
    if centre is not None:
        c = np.asarray(centre, dtype=np.float64).reshape(-1)
        if c.shape != (x.shape[1],) or not np.isfinite(c).all():
            raise ValueError(
                f"centre must be a finite vector of {x.shape[1]} values, got shape {c.shape}"
            )
        x, a = x - c, a - c
    ids = np.arange(a.shape[0]) if anchor_ids is None else np.asarray(anchor_ids).reshape(-1)
    if len(ids) != a.shape[0]:
        raise ValueError(f"got {len(ids)} anchor_ids for {a.shape[0]} anchors")
    values = _unit_rows(x, "rows of X") @ _unit_rows(a, "anchors").T
    np.clip(values, -1.0, 1.0, out=values)
    return RelativeRepresentation(
        values=values,
        anchors=np.asarray(anchors, dtype=np.float64),
        anchor_ids=ids,
        centre=c,
        n_anchors=int(a.shape[0]),
        n_units=int(x.shape[1]),
        reduction_ratio=a.shape[0] / x.shape[1],
    )
