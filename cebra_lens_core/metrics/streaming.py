r"""Reading layers chunk by chunk: the building blocks of the streamed metrics.

A *layer* is a ``(T, d)`` numpy array or any lazily indexable array-like with ``.shape``
whose row slices ``a[start:stop]`` convert with ``np.asarray`` (an ``xarray.DataArray`` of an
activation store opened with
:func:`cebra_lens_core.activations.store.open_activation_store`, possibly after
``.isel(time=rows)``; a zarr array). Streamed metrics read it in chunks of
``chunk_size`` rows (rounded down to a multiple of the store's time chunk, so no storage
chunk is decoded twice per pass) and keep only per-chunk buffers and small accumulators:
memory ``O(chunk_size · d)`` plus the statistics, whatever ``T``.

What streams exactly (see the metric modules): condition sums and counts (RDM condition
means, inter-class distances), per-condition sums of unit vectors and centred sums of
squares (intra-class cosine / Euclidean distances), the stacked covariance (CKA, PR) and
the ridge sufficient statistics (``X^T X``, ``X^T y`` merged across chunks with Chan et al.'s
update, so they are as accurate as a centred two-pass computation).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from cebra_lens_core.metrics._validation import (
    as_layer,
    check_finite,
    check_layers,
    check_same_time,
)

__all__ = [
    "DEFAULT_CHUNK_ROWS",
    "MomentAccumulator",
    "as_layer",
    "check_finite",
    "check_layers",
    "check_same_time",
    "chunk_rows",
    "group_sums",
    "iter_chunks",
    "merge_moments",
    "storage_rows",
    "take_rows",
]

DEFAULT_CHUNK_ROWS = 65536


def storage_rows(layer: Any) -> int | None:
    """Rows per storage chunk of a chunked on-disk array (zarr ``.chunks``, xarray encoding)."""
    chunks = getattr(layer, "chunks", None)
    if chunks is None:
        encoding = getattr(layer, "encoding", None)
        chunks = encoding.get("chunks") if isinstance(encoding, dict) else None
    if isinstance(chunks, tuple | list) and chunks and isinstance(chunks[0], int | np.integer):
        return int(chunks[0]) if int(chunks[0]) > 0 else None
    return None


def chunk_rows(X: Any, chunk_size: int = DEFAULT_CHUNK_ROWS) -> int:
    """Rows per chunk: ``chunk_size``, rounded down to a multiple of ``X``'s storage chunk."""
    if isinstance(chunk_size, bool) or int(chunk_size) < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    rows = int(chunk_size)
    stored = storage_rows(X)
    if stored is not None and stored <= rows:
        rows = (rows // stored) * stored
    return rows


def iter_chunks(
    X: Any,
    chunk_size: int = DEFAULT_CHUNK_ROWS,
    *,
    start: int = 0,
    stop: int | None = None,
    name: str = "X",
) -> Iterator[tuple[int, int, np.ndarray]]:
    """Yield ``(lo, hi, rows lo:hi of X as float64)`` over ``[start, stop)`` in chunks.

    Every chunk is checked for NaN/inf (the error names ``name`` and the time index).
    """
    n = int(X.shape[0])
    stop = n if stop is None else int(stop)
    rows = chunk_rows(X, chunk_size)
    lo = int(start)
    while lo < stop:
        # align chunk ends to multiples of `rows` (storage-chunk aligned) after the first one
        hi = min(stop, (lo // rows + 1) * rows)
        chunk = np.asarray(X[lo:hi], dtype=np.float64)
        check_finite(chunk, name, lo)
        yield lo, hi, chunk
        lo = hi


def take_rows(X: Any, idx: np.ndarray, chunk_size: int = DEFAULT_CHUNK_ROWS) -> np.ndarray:
    """``X[idx]`` as float64 for sorted row indices ``idx``; lazy layers are read in chunks."""
    idx = np.asarray(idx, dtype=np.int64)
    if isinstance(X, np.ndarray):
        out = np.asarray(X[idx], dtype=np.float64)
        check_finite(out, "X", 0)
        return out
    d = int(X.shape[1])
    if idx.size == 0:
        return np.zeros((0, d))
    parts = []
    rows = chunk_rows(X, chunk_size)
    for lo in range(int(idx[0]) // rows * rows, int(idx[-1]) + 1, rows):
        hi = min(lo + rows, int(X.shape[0]))
        a, b = np.searchsorted(idx, [lo, hi])
        if b > a:
            chunk = np.asarray(X[lo:hi], dtype=np.float64)
            part = chunk[idx[a:b] - lo]
            check_finite(part, "X", lo)
            parts.append(part)
    return np.concatenate(parts, axis=0)


def group_sums(values: np.ndarray, inverse: np.ndarray, n_groups: int) -> np.ndarray:
    """``out[g] = Σ_{t: inverse[t] = g} values[t]`` (``n_groups × d``, float64).

    One sparse one-hot product (``O(n d)``, no sort of the rows).
    """
    # deferred: scipy, loaded only on this path
    from scipy import sparse

    n = len(inverse)
    onehot = sparse.csr_matrix(
        (np.ones(n), (np.asarray(inverse, dtype=np.intp), np.arange(n))), shape=(n_groups, n)
    )
    return np.asarray(onehot @ np.asarray(values, dtype=np.float64))


class MomentAccumulator:
    r"""Count, mean and centred scatter ``Σ (w − w̄)(w − w̄)^T`` of rows ``w``, merged chunkwise.

    Each chunk is centred on its own mean before its scatter is formed, and chunks are
    merged with the update of Chan, Golub & LeVeque (1979)::

        n = n_a + n_b,  δ = w̄_b − w̄_a,  w̄ = w̄_a + δ n_b / n,
        M = M_a + M_b + (n_a n_b / n) δ δ^T

    so the result is as accurate as a two-pass centred computation (no ``Σ w w^T − n w̄ w̄^T``
    cancellation) while reading the data once.
    """

    def __init__(self, width: int):
        self.n = 0
        self.mean = np.zeros(width)
        self.scatter = np.zeros((width, width))

    def add(self, w: np.ndarray) -> None:
        """Add the rows of ``w`` (``n_b × width``, float64)."""
        nb = int(w.shape[0])
        if nb == 0:
            return
        mb = w.mean(axis=0)
        wc = w - mb
        mb_scatter = wc.T @ wc
        self._merge(nb, mb, mb_scatter)

    def _merge(self, nb: int, mb: np.ndarray, sb: np.ndarray) -> None:
        na = self.n
        n = na + nb
        delta = mb - self.mean
        self.mean = self.mean + delta * (nb / n)
        self.scatter = self.scatter + sb + np.outer(delta, delta) * (na * nb / n)
        self.n = n

    def merged(self, other: MomentAccumulator) -> MomentAccumulator:
        """A new accumulator holding the rows of both."""
        out = MomentAccumulator(len(self.mean))
        out.n, out.mean, out.scatter = self.n, self.mean.copy(), self.scatter.copy()
        if other.n:
            out._merge(other.n, other.mean, other.scatter)
        return out


def merge_moments(accumulators: Iterable[MomentAccumulator], width: int) -> MomentAccumulator:
    """One accumulator holding the rows of all of ``accumulators`` (merged in order)."""
    out = MomentAccumulator(width)
    for acc in accumulators:
        out = out.merged(acc)
    return out
