r"""Turning labels into *conditions* for RSA and distance metrics.

A condition is an integer id per time point. A discrete label (integer codes such as a
running direction or a stimulus frame) is used as it is. A continuous label (position,
angle, ...) is cut into ``B`` equal-width bins over its range::

    edges_k = lo + k · (hi − lo) / B,   k = 0 … B
    bin(v)  = k  such that edges_k <= v < edges_{k+1};  v == hi falls in bin B − 1

(the same convention as :func:`numpy.histogram`); ``(lo, hi)`` is ``value_range`` or the
label's ``(min, max)``. Bin ids are the bin indices ``0 … B − 1`` and keep their position
along the label, so an ordinal oracle (``|i − j| / (B − 1)``) stays correct when bins are
missing.

Bins (or discrete ids) with no samples are **dropped, never returned as NaN**:
:func:`condition_means` only returns the ids that occur, and :func:`make_conditions`
reports the empty bins in :attr:`Conditions.dropped`.

Condition means are ``μ_c = (1 / n_c) Σ_{t : code_t = c} X_t`` (``C × d``), accumulated in
float64 and ordered by increasing condition id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import numpy as np

from cebra_lens_core.metrics._validation import check_layer
from cebra_lens_core.metrics.streaming import DEFAULT_CHUNK_ROWS, group_sums, iter_chunks

__all__ = [
    "ConditionKind",
    "Conditions",
    "ConditionMeans",
    "bin_continuous",
    "check_codes",
    "condition_means",
    "make_conditions",
]

ConditionKind = Literal["discrete", "continuous"]


# --------------------------------------------------------------------------------------
# Validation helpers
# --------------------------------------------------------------------------------------


def _as_1d(values: Any, name: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one value per time point), got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    return arr


def _check_length(arr: np.ndarray, n_rows: int | None, name: str) -> None:
    if n_rows is not None and arr.shape[0] != n_rows:
        raise ValueError(
            f"{name} has {arr.shape[0]} values but X has {n_rows} rows (time points); "
            "there must be one label value per time point"
        )


def check_codes(codes: Any, n_rows: int | None = None, name: str = "conditions") -> np.ndarray:
    """Validate discrete condition codes and return them as a 1-D int64 array.

    Accepts integer or boolean arrays, and float arrays whose values are all integers
    (e.g. codes read back from a float32 store).

    Raises:
        ValueError: not 1-D; empty; length ≠ ``n_rows`` (both lengths named); NaN/inf;
            non-integer values (a continuous label: bin it with :func:`bin_continuous`);
            non-numeric values.
    """
    arr = _as_1d(codes, name)
    _check_length(arr, n_rows, name)
    if arr.dtype == np.bool_ or np.issubdtype(arr.dtype, np.integer):
        return arr.astype(np.int64, copy=False)
    if not np.issubdtype(arr.dtype, np.floating):
        raise ValueError(
            f"{name} must hold integer condition codes, got dtype {arr.dtype}; "
            "encode categories as integers first"
        )
    bad = ~np.isfinite(arr)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{name} contains {int(bad.sum())} NaN/inf values (first at time index {first})"
        )
    frac = arr != np.round(arr)
    if frac.any():
        first = int(np.flatnonzero(frac)[0])
        raise ValueError(
            f"{name} has non-integer values (e.g. {arr[first]!r} at time index {first}); "
            "a discrete label needs integer codes — bin a continuous label with bin_continuous"
        )
    return arr.astype(np.int64)


def _check_values(values: Any, name: str = "values") -> np.ndarray:
    arr = _as_1d(values, name)
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"{name} must be real numbers, got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    bad = ~np.isfinite(arr)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{name} contains {int(bad.sum())} NaN/inf values (first at time index {first})"
        )
    return arr


# --------------------------------------------------------------------------------------
# Binning and condition means
# --------------------------------------------------------------------------------------


def bin_continuous(
    values: Any, n_bins: int, *, value_range: tuple[float, float] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Equal-width binning of a continuous label.

    Args:
        values: ``(T,)`` real values.
        n_bins: number of bins ``B >= 2``.
        value_range: ``(lo, hi)`` with ``lo < hi``; default ``(min, max)`` of ``values``.
            Use the training split's range to bin other splits identically.

    Returns:
        ``(codes, edges)``: int64 bin index per time point in ``0 … B − 1`` (right-open bins,
        the last one closed, as :func:`numpy.histogram`), and the ``B + 1`` float64 edges.
        Empty bins are not removed here (codes keep their position along the label);
        :func:`condition_means` / :func:`make_conditions` drop and report them.

    Raises:
        ValueError: ``n_bins < 2``; NaN/inf values; a constant label (zero range) without
            ``value_range``; ``lo >= hi``; values outside ``value_range`` (count and
            range named).
    """
    if isinstance(n_bins, bool) or int(n_bins) != n_bins or int(n_bins) < 2:
        raise ValueError(f"n_bins must be an integer >= 2, got {n_bins!r}")
    n_bins = int(n_bins)
    arr = _check_values(values)
    if value_range is None:
        lo, hi = float(arr.min()), float(arr.max())
        if not lo < hi:
            raise ValueError(
                f"values are constant ({lo!r}): equal-width bins over a zero range are "
                "undefined; pass value_range or use the label as discrete"
            )
    else:
        lo, hi = (float(v) for v in value_range)
        if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
            raise ValueError(f"value_range must be finite (lo, hi) with lo < hi, got {value_range}")
        outside = (arr < lo) | (arr > hi)
        if outside.any():
            first = int(np.flatnonzero(outside)[0])
            raise ValueError(
                f"{int(outside.sum())} values lie outside value_range [{lo}, {hi}] "
                f"(first: {arr[first]!r} at time index {first})"
            )
    edges = np.linspace(lo, hi, n_bins + 1)
    # searchsorted on the inner edges: bin k holds edges[k] <= v < edges[k+1]; v == hi -> B-1
    codes = np.searchsorted(edges[1:-1], arr, side="right").astype(np.int64)
    return codes, edges


class ConditionMeans(NamedTuple):
    """Condition means (unpacks as ``means, ids, counts``).

    Attributes:
        means: ``(C, d)`` float64, row ``k`` is the mean of the samples with ``ids[k]``.
        ids: ``(C,)`` int64 condition ids that occur, increasing.
        counts: ``(C,)`` int64 number of samples per condition.
    """

    means: np.ndarray
    ids: np.ndarray
    counts: np.ndarray


def _group(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(ids, inverse, counts)`` of integer codes (ids increasing)."""
    ids, inverse, counts = np.unique(codes, return_inverse=True, return_counts=True)
    return ids.astype(np.int64), inverse.reshape(-1), counts.astype(np.int64)


def condition_means(
    X: Any,
    codes: Any,
    *,
    min_conditions: int = 2,
    chunk_size: int = DEFAULT_CHUNK_ROWS,
    name: str = "X",
) -> ConditionMeans | list[ConditionMeans]:
    r"""Mean activation per condition: ``μ_c = (1/n_c) Σ_{t: code_t = c} X_t``.

    Only conditions that occur are returned, so empty bins are dropped (never NaN rows);
    use :func:`make_conditions` to learn which bins were dropped. ``X`` is read chunk by
    chunk (per-condition sums and counts in float64): memory is one chunk of ``X`` plus
    ``C × d`` sums, whatever ``T``.

    Args:
        X: ``(T, d)`` activations (time × units): a numpy array or a lazy layer
            (``xarray.DataArray`` of a store, zarr array; see
            :mod:`cebra_lens_core.metrics.streaming`).
        codes: ``(T,)`` integer condition id per time point (see :func:`check_codes`), or a
            list of such arrays (several labels in one pass over ``X``; a list of results
            is then returned). A plain list of ids is one label.
        min_conditions: minimum number of distinct conditions required (default 2).
        chunk_size: rows read per chunk.
        name: name of ``X`` in error messages.

    Returns:
        :class:`ConditionMeans` ``(means (C × d), ids (C,), counts (C,))``, or a list of
        them when ``codes`` is a list.

    Raises:
        ValueError: ``X`` not 2-D or not finite (time index named); ``codes`` invalid or of
            a different length than ``X`` has rows (both named); fewer than
            ``min_conditions`` conditions.
    """
    x = check_layer(X, name)
    n_time = int(x.shape[0])
    # a list of per-label arrays, not a plain list of ids
    several = isinstance(codes, list | tuple) and len(codes) > 0 and np.ndim(codes[0]) > 0
    groups = []
    for c in codes if several else [codes]:
        ids, inverse, counts = _group(check_codes(c, n_time))
        if len(ids) < min_conditions:
            raise ValueError(
                f"need at least {min_conditions} conditions with samples, got {len(ids)} "
                f"(ids present: {ids.tolist()})"
            )
        groups.append((ids, inverse, counts, np.zeros((len(ids), int(x.shape[1])))))
    for lo, hi, chunk in iter_chunks(x, chunk_size, name=name):
        for ids, inverse, _, sums in groups:
            sums += group_sums(chunk, inverse[lo:hi], len(ids))
    out = [ConditionMeans(s / n[:, None], ids, n) for ids, _, n, s in groups]
    return out if several else out[0]


# --------------------------------------------------------------------------------------
# One-stop conversion of a label
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Conditions:
    """A label turned into conditions.

    Attributes:
        codes: ``(T,)`` int64 condition id per time point (bin index for a continuous
            label, the code itself for a discrete one).
        ids: ``(C,)`` ids that occur (increasing) — the rows of an RDM built from ``codes``.
        counts: ``(C,)`` samples per condition.
        kind: ``"discrete"`` or ``"continuous"``.
        dropped: ids of bins with no samples (continuous: among ``0 … B − 1``; discrete:
            among ``expected_ids`` if given, else empty).
        edges: ``(B + 1,)`` bin edges (continuous) or ``None``.
        n_bins: ``B`` (continuous) or ``None``.
    """

    codes: np.ndarray
    ids: np.ndarray
    counts: np.ndarray
    kind: str
    dropped: np.ndarray
    edges: np.ndarray | None = None
    n_bins: int | None = None

    @property
    def n_conditions(self) -> int:
        """Number of conditions with samples, ``C``."""
        return len(self.ids)

    @property
    def bin_centres(self) -> np.ndarray | None:
        """Centre of each kept bin (aligned with :attr:`ids`), or ``None`` if discrete."""
        if self.edges is None:
            return None
        return 0.5 * (self.edges[self.ids] + self.edges[self.ids + 1])


def make_conditions(
    labels: Any,
    kind: ConditionKind = "discrete",
    *,
    n_bins: int | None = None,
    value_range: tuple[float, float] | None = None,
    expected_ids: Any | None = None,
    n_rows: int | None = None,
    name: str = "labels",
) -> Conditions:
    """Turn one label into conditions, dropping and reporting empty bins.

    Args:
        labels: ``(T,)`` label values.
        kind: ``"discrete"`` (integer codes, passed through) or ``"continuous"`` (binned
            with :func:`bin_continuous` into ``n_bins`` equal-width bins).
        n_bins: number of bins (required for ``"continuous"``).
        value_range: bin range for ``"continuous"`` (default: the label's min/max).
        expected_ids: discrete only: the ids that could occur; those without samples are
            reported in :attr:`Conditions.dropped`.
        n_rows: if given, the number of rows of the activations (length check).
        name: label name used in error messages.

    Raises:
        ValueError: invalid ``kind``; ``n_bins`` missing for a continuous label; any
            error of :func:`check_codes` / :func:`bin_continuous`; fewer than 2 conditions
            with samples.
    """
    if kind not in ("discrete", "continuous"):
        raise ValueError(f"kind must be 'discrete' or 'continuous', got {kind!r}")
    edges = None
    if kind == "continuous":
        if n_bins is None:
            raise ValueError(f"{name} is continuous: n_bins is required")
        arr = _as_1d(labels, name)
        _check_length(arr, n_rows, name)
        codes, edges = bin_continuous(arr, n_bins, value_range=value_range)
        universe = np.arange(int(n_bins), dtype=np.int64)
    else:
        if n_bins is not None or value_range is not None:
            raise ValueError(f"{name} is discrete: n_bins / value_range do not apply")
        codes = check_codes(labels, n_rows, name)
        universe = None if expected_ids is None else check_codes(expected_ids, None, "expected_ids")
    ids, _, counts = _group(codes)
    if len(ids) < 2:
        raise ValueError(
            f"{name}: need at least 2 conditions with samples after dropping empty bins, "
            f"got {len(ids)} (ids present: {ids.tolist()})"
        )
    dropped = (
        np.zeros(0, dtype=np.int64)
        if universe is None
        else np.setdiff1d(universe, ids).astype(np.int64)
    )
    return Conditions(
        codes=codes,
        ids=ids,
        counts=counts,
        kind=kind,
        dropped=dropped,
        edges=edges,
        n_bins=None if kind == "discrete" else int(n_bins),  # type: ignore[arg-type]
    )


def joint_conditions(
    conditions: Sequence[Conditions], name: str = "labels"
) -> tuple[Conditions, np.ndarray]:
    """Conditions of several labels jointly: one condition per combination that occurs.

    With per-label codes ``c_1 … c_K`` (bin or class ids), the joint condition of a time
    point is the tuple ``(c_1, …, c_K)``; combinations without samples do not exist (they
    are never silently NaN). Joint ids are ``0 … C − 1`` in lexicographic order of the tuples.

    Returns:
        ``(joint, components)``: the joint :class:`Conditions` (kind ``discrete``) and the
        ``(C, K)`` per-label ids of each joint condition (for the joint oracle).

    Raises:
        ValueError: fewer than two labels, or different lengths.
    """
    if len(conditions) < 2:
        raise ValueError(f"{name}: joint conditions need at least 2 labels, got {len(conditions)}")
    lengths = {len(c.codes) for c in conditions}
    if len(lengths) != 1:
        raise ValueError(f"{name}: the labels have different lengths {sorted(lengths)}")
    stacked = np.stack([np.asarray(c.codes, dtype=np.int64) for c in conditions], axis=1)
    components, codes = np.unique(stacked, axis=0, return_inverse=True)
    joint = make_conditions(codes.reshape(-1).astype(np.int64), "discrete", name=name)
    return joint, components
