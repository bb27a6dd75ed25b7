r"""Exact cosine k-nearest neighbours by blocked matrix products, for several ``k`` at once.

:func:`cosine_neighbours` returns, for every query row, the reference rows in an order where
the first ``k`` are exactly the ``k`` nearest in cosine distance ``1 − x̂·ŷ`` **for every**
``k`` of a given list (nested neighbour sets; the order inside each segment between two
consecutive ``k`` is unspecified). That is all a uniform-weight kNN decoder needs: the mean
label (or the vote) of the first ``k`` rows for every candidate ``k``, every fold and every
shuffled-label variant, from one search. The sets are those of sklearn's
``NearestNeighbors(metric="cosine", algorithm="brute")`` on the same float64 rows (up to
exact ties in float64, which either tool breaks arbitrarily).

Never ``n_query × n_ref`` in memory: queries go in blocks whose similarity matrix fits in
``working_memory_mib``.

Screening in float32, deciding in float64
-----------------------------------------
With at least ``SCREEN_MIN_REFERENCES`` reference rows and ``k`` small against them, a block
is screened with float32 products (twice numpy's float64 matmul throughput) and only the
decisions that float32 rounding could change are taken in float64:

1. For unit rows, ``|s₃₂ − s₆₄| ≤ ε`` with ``ε = 2 (d + 8) 2⁻²⁴`` (the float32 rounding of
   the inputs and of a ``d``-term dot product, ``γ_d = d u/(1 − d u)``, doubled).
2. Candidates: a row's ``r``-th largest similarity among every ``s``-th column is a
   threshold ``θ`` with about ``r s ≈ 1.25 K`` entries above it (``K`` = the largest
   ``k``); every entry ``≥ θ − 2ε`` is a candidate (one vectorised comparison instead of an
   ``argpartition`` of the whole row). A row with fewer than ``K`` entries ``≥ θ`` (or very
   many candidates: ties, e.g. an all-zero query) is computed exactly in float64.
3. With ``θ_k`` the ``k``-th largest float32 similarity of the row, entries with
   ``s₃₂ > θ_k + 2ε`` are in the exact float64 top-``k`` and those with ``s₃₂ < θ_k − 2ε``
   are not; the entries of the band ``|s₃₂ − θ_k| ≤ 2ε`` get their float64 similarity (a
   dot product per entry: a handful per row). Ranking every candidate by its float64
   similarity inside a band and its float32 one elsewhere then gives the exact float64
   top-``k`` set for every ``k`` (``argpartition`` with every ``k`` at once).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["SCREEN_MIN_REFERENCES", "cosine_neighbours", "screening_tolerance", "unit_rows"]

#: Reference rows from which a block is screened in float32 (below: float64 products only).
SCREEN_MIN_REFERENCES = 4096

#: Memory (MiB) of one block of the similarity matrix.
WORKING_MEMORY_MIB = 64


def unit_rows(a: np.ndarray) -> np.ndarray:
    """Rows scaled to unit norm, float64 (zero rows stay zero: cosine distance 1 to every
    row, as sklearn's ``cosine_distances``)."""
    a = np.asarray(a, dtype=np.float64)
    norm = np.sqrt(np.einsum("ij,ij->i", a, a))
    norm[norm == 0] = 1.0
    return a / norm[:, None]


def screening_tolerance(n_units: int) -> float:
    """``ε = 2 (d + 8) 2⁻²⁴``: bound on ``|s₃₂ − s₆₄|`` for the cosine similarity of two unit
    rows of ``d`` units computed in float32 vs float64 (see the module docstring)."""
    return 2.0 * (int(n_units) + 8) * 2.0**-24


def _check_ks(ks: Sequence[int], n_ref: int) -> np.ndarray:
    kth = np.unique(np.asarray(ks, dtype=np.int64)) - 1
    if kth.size == 0 or kth[0] < 0 or kth[-1] >= n_ref:
        raise ValueError(f"every k must be in [1, {n_ref}] (the reference rows), got {list(ks)}")
    return kth


def _exact_sets(sim: np.ndarray, top: int) -> np.ndarray:
    """The ``top`` columns of largest value of every row of a float64 similarity block,
    sorted by value (``argpartition``, then ``argsort``: as sklearn's brute force)."""
    n = sim.shape[1]
    if top >= n:
        return np.argsort(-sim, axis=1)
    at = np.arange(len(sim))[:, None]
    part = np.argpartition(sim, n - top, axis=1)[:, n - top :]
    return part[at, np.argsort(-sim[at, part], axis=1)]


def _resort_bands(
    key: np.ndarray, column: np.ndarray, rows: np.ndarray, pos: np.ndarray, exact: np.ndarray
) -> None:
    """Re-sort, in place, each run of consecutive band positions ``(rows, pos)`` (row-major
    order) of the sorted ``key``/``column`` rows by the float64 similarities ``exact``."""
    new_run = np.ones(len(rows), dtype=bool)
    new_run[1:] = (rows[1:] != rows[:-1]) | (pos[1:] != pos[:-1] + 1)
    order = np.lexsort((-exact, np.cumsum(new_run)))
    column[rows, pos] = column[rows[order], pos[order]]
    key[rows, pos] = exact[order]


def _screened_sets(
    query: np.ndarray,
    reference: np.ndarray,
    query32: np.ndarray,
    reference32: np.ndarray,
    kth: np.ndarray,
    eps: float,
) -> np.ndarray:
    """Exact nested top-``k`` sets of ``query @ reference.T`` from a float32 screen (module
    docstring): columns ``[:k]`` of a row are its ``k`` nearest for every ``k − 1`` in ``kth``."""
    sim = query32 @ reference32.T
    b, n = sim.shape
    top = int(kth[-1]) + 1
    stride = max(1, min(32, n // (2 * top)))
    sample = sim[:, ::stride]
    m = sample.shape[1]
    r = min(m, -(-5 * top // (4 * stride)) + 4)
    theta = np.partition(sample, m - r, axis=1)[:, m - r]
    flat = np.flatnonzero(sim >= (theta - 2 * eps)[:, None])
    rows = flat // n
    counts = np.bincount(rows, minlength=b)
    many = counts > 8 * top + 256  # ties (e.g. an all-zero query): exact instead
    if many.any():
        keep = ~many[rows]
        flat, rows = flat[keep], rows[keep]
        counts[many] = 0
    position = np.arange(len(flat)) - np.repeat(np.cumsum(counts) - counts, counts)
    width = max(top, int(counts.max()))
    key = np.full((b, width), -np.inf)
    column = np.zeros((b, width), dtype=np.int64)
    key[rows, position] = sim.ravel()[flat]
    column[rows, position] = flat - rows * n
    order = np.argsort(-key, axis=1)
    key = np.take_along_axis(key, order, axis=1)
    column = np.take_along_axis(column, order, axis=1)
    # complete iff every entry >= θ_K − 2ε is a candidate: θ_K >= θ (the screen's threshold)
    slow = many | ~(key[:, top - 1] >= theta)
    bounds = key[:, kth]  # θ_k of every row and k (float32 values, sorted rows)
    band = np.zeros(key.shape, dtype=bool)
    with np.errstate(invalid="ignore"):  # -inf - -inf in rows without candidates
        for j in range(len(kth)):
            band |= np.abs(key - bounds[:, j : j + 1]) <= 2 * eps
    band[slow] = False
    br, bp = np.nonzero(band)
    if len(br):
        exact = np.einsum("ij,ij->i", query[br], reference[column[br, bp]])
        _resort_bands(key, column, br, bp, exact)
    out = column[:, :top]
    if slow.any():
        out[slow] = _exact_sets(query[slow] @ reference.T, top)
    return out


def cosine_neighbours(
    reference: np.ndarray,
    query: np.ndarray,
    ks: Sequence[int],
    *,
    working_memory_mib: float = WORKING_MEMORY_MIB,
) -> np.ndarray:
    """Nested exact cosine nearest-neighbour sets of every query row.

    Args:
        reference: ``(n_ref, d)`` unit rows (:func:`unit_rows`), float64.
        query: ``(n_query, d)`` unit rows, float64.
        ks: the neighbour counts needed (each in ``[1, n_ref]``).

    Returns:
        ``(n_query, max k)`` int indices into ``reference``: for every ``k`` in ``ks``,
        columns ``[:k]`` of a row are the ``k`` reference rows of largest cosine similarity
        ``x̂·ŷ`` to the query (exact float64 sets; order inside each segment unspecified).

    Raises:
        ValueError: a ``k`` outside ``[1, n_ref]``.
    """
    reference = np.asarray(reference, dtype=np.float64)
    query = np.asarray(query, dtype=np.float64)
    n_ref = len(reference)
    kth = _check_ks(ks, n_ref)
    top = int(kth[-1]) + 1
    out = np.empty((len(query), top), dtype=np.int32 if n_ref < 2**31 else np.int64)
    block = max(1, int(working_memory_mib * 2**20) // (8 * max(1, n_ref)))
    screen = n_ref >= SCREEN_MIN_REFERENCES and n_ref >= 8 * top
    if screen:
        eps = screening_tolerance(reference.shape[1])
        reference32 = reference.astype(np.float32)
    for s in range(0, len(query), block):
        q = query[s : s + block]
        if screen:
            out[s : s + block] = _screened_sets(
                q, reference, q.astype(np.float32), reference32, kth, eps
            )
        else:
            out[s : s + block] = _exact_sets(q @ reference.T, top)
    return out
