r"""Uncertainty of CKA (:mod:`cebra_lens_core.metrics.cka`): block-bootstrap intervals from
per-block moments (:func:`cka_bootstrap`), the circular time-shift null
(:func:`cka_shift_null`), and both for one pair of stores (:func:`cka_pair_statistics`).

:func:`cka_bootstrap` uses the non-overlapping block bootstrap (Carlstein 1986; see
:mod:`cebra_lens_core.stats.resampling`): the rows are cut into ``K = ceil(T / L)``
consecutive blocks and a replicate draws ``K`` blocks uniformly with replacement
(:func:`~cebra_lens_core.stats.resampling.nonoverlapping_block_draws`).

CKA replicates from per-block sufficient statistics
---------------------------------------------------
All layers are stacked column-wise (``D = Σ d_i`` columns). Pass 1 computes the global
column means ``m`` (float64, summed relative to the first row). Pass 2 forms, for every
block ``k``, with ``u_t = z_t − m``::

    n_k,  s_k = Σ_{t∈k} u_t  (D),  S_k = Σ_{t∈k} u_t u_tᵀ  (D × D)          (float64)

A replicate with block counts ``w`` has ``n = Σ w_k n_k`` rows, ``a = Σ w_k s_k``,
``S = Σ w_k S_k`` and centred scatter ``G = S − a aᵀ / n`` (the replicate's mean is
``m + a / n``). Because ``u`` is centred on the global mean, ``|a| / n`` is of the order
of the standard error of the mean, not of the mean itself, so the subtraction does not
cancel (the shortcut ``Σ z zᵀ − n μ μᵀ`` on raw data loses ``log10((|μ|/sd)^2)`` digits,
all of float32's at ``|μ|/sd = 10^4``). ``G`` then enters the existing
:func:`~cebra_lens_core.metrics.cka.cka_from_covariance`, so the formulas are those of
:func:`~cebra_lens_core.metrics.cka.cka_matrix`; with all ``w_k = 1`` the point estimate
equals it to rounding.

Debiased CKA also needs ``Σ_t r_i(t) r_j(t)`` with ``r_i(t) = ||x^i_t − μ^i||^2`` the
squared row norms of layer ``i`` centred on the *replicate's* mean. With ``δ = a / n``,
``q_i(t) = ||u^i_t||^2``, ``c_i = ||δ^i||^2`` and per-block ``Q_k = Σ q qᵀ`` (L × L),
``h_k = Σ q`` (L), ``V_k = Σ q_i(t) u_t`` (L × D, summed with the same weights)::

    r_i(t) = q_i(t) − 2 u^i_t·δ^i + c_i
    Σ r_i r_j = Q_ij − 2 (M_ij + M_ji) + 4 E_ij + h_i c_j + c_i h_j − 3 n c_i c_j

with ``M_ij = V[i, cols_j]·δ^j`` and ``E_ij = δ^{iT} S_ij δ^j`` (using ``Σ_t u^i_t = n δ^i``);
``Σ_t r_i(t) = tr(G_ii)``. Caveat: a replicate repeats blocks, and the unbiased HSIC
estimator treats the copies as distinct samples, so debiased replicates carry part of the
bias that debiasing removes (as linear replicates carry extra small-sample bias): near zero
the interval can miss the estimate (numbers in :func:`cka_bootstrap`). Test a CKA against
chance with :func:`cka_shift_null`, not with the interval.

Circular time-shift null
------------------------
:func:`cka_shift_null`: model B's rows are rolled circularly by random offsets
``s ∈ [min_shift, T − min_shift]`` (row ``t`` of the shifted data is row ``(t − s) mod T``).
This keeps each model's autocorrelation and covariance and breaks only the alignment in
time. Only the cross block changes with ``s``:
``G_ab(s) = Σ_t Xc_t Yc_{t−s}ᵀ = Xc[s:]ᵀ Yc[:T−s] + Xc[:s]ᵀ Yc[T−s:]``, ``O(T D_a D_b)``
per shift (and the row-norm products likewise for debiased CKA). Not a valid null for a
signal that is periodic with a period that divides a shift (laps, repeated stimuli): the
shifted data is then still aligned. p-values as in :mod:`cebra_lens_core.stats.nulls`.

One pair of stores
------------------
:func:`cka_pair_statistics`: :func:`cka_bootstrap` (non-overlapping blocks, per-block
moments) for the interval and :func:`cka_shift_null` (circular time shifts of one model) for
the p-value. Near zero the bootstrap interval of CKA is biased upwards (resampled blocks
repeat rows; see :func:`cka_bootstrap`): it is the precision of a clearly non-zero CKA,
**not** a test. The test is the shift null.

References:
    Carlstein (1986). The use of subseries values for estimating the variance of a general
    statistic from a stationary sequence. Ann. Stat. 14.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from cebra_lens_core.metrics.streaming import (
    DEFAULT_CHUNK_ROWS,
    check_finite,
    check_layers,
    check_same_time,
)
from cebra_lens_core.stats.nulls import NullResult, shift_offsets
from cebra_lens_core.stats.options import BootstrapOptions, NullOptions
from cebra_lens_core.stats.resampling import (
    block_weights,
    check_confidence,
    check_int,
    check_seed,
    nonoverlapping_block_draws,
    percentile_interval,
)

log = logging.getLogger(__name__)

__all__ = [
    "CKABootstrapResult",
    "cka_bootstrap",
    "cka_shift_null",
    "cka_pair_statistics",
]

#: Rows read per chunk when computing per-block statistics (rounded to whole blocks).
DEFAULT_CHUNK_SIZE = 65536
#: Cap on the per-block statistics of :func:`cka_bootstrap` (``8 K P`` bytes, see there).
DEFAULT_MAX_BLOCK_BYTES = 2 * 2**30
#: Cap on the temporary buffers of :func:`cka_bootstrap` (block products, replicate sums).
_REPLICATE_BUFFER_BYTES = 128 * 2**20


def _read(layer: Any, start: int, stop: int, name: str) -> np.ndarray:
    """Rows ``start:stop`` as float64; raise on NaN/inf naming the layer and row."""
    x = np.asarray(layer[start:stop], dtype=np.float64)
    check_finite(x, name, start)
    return x


# --------------------------------------------------------------------------------------
# CKA bootstrap from per-block sufficient statistics
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _BlockMoments:
    """Per-block moments of the stacked layers, centred on the global mean (see module doc)."""

    counts: np.ndarray  # (K,) rows per block
    sums: np.ndarray  # (K, D) Σ u
    scatter: np.ndarray  # (K, P) needed entries (rows[p], cols[p]) of Σ u uᵀ
    rows: np.ndarray  # (P,) row index of each stored entry (upper triangle, row <= col)
    cols: np.ndarray  # (P,) column index
    offsets: np.ndarray  # (L + 1,) layer column boundaries
    means: np.ndarray  # (D,) global mean m
    qq: np.ndarray | None = None  # (K, L, L) Σ q qᵀ
    qsum: np.ndarray | None = None  # (K, L) Σ q
    qu: np.ndarray | None = None  # (K, L, D) Σ q_i u


def _global_means(
    layers: Sequence[Any], names: Sequence[str], n_time: int, rows: int
) -> np.ndarray:
    """Float64 column means of the stacked layers (sums relative to the first row)."""
    out = []
    for layer, name in zip(layers, names, strict=True):
        shift = _read(layer, 0, 1, name)[0]
        total = np.zeros_like(shift)
        for start in range(0, n_time, rows):
            total += np.sum(_read(layer, start, min(start + rows, n_time), name) - shift, axis=0)
        out.append(shift + total / n_time)
    return np.concatenate(out)


def _needed_entries(offsets: np.ndarray, n_a: int, cross: bool) -> tuple[np.ndarray, np.ndarray]:
    """Upper-triangle entries of the stacked scatter that the CKA values need, grouped by
    layer pair.

    Within one list every block ``G_ij`` (``i <= j``) is needed; across two lists only the
    diagonal blocks ``G_ii`` (self terms) and the cross blocks ``G_ab``. Other blocks are
    left at zero in the replicates: ``CKA_ij`` reads only ``G_ij``, ``G_ii`` and ``G_jj``.
    """
    width = int(offsets[-1])
    layer_of = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    r, c = np.triu_indices(width)
    li, lj = layer_of[r], layer_of[c]
    keep = np.ones(len(r), dtype=bool) if not cross else (li == lj) | ((li < n_a) & (lj >= n_a))
    # grouped by layer pair (i, j), row-major inside: the replicates sum each pair's entries
    order = np.argsort(li[keep] * len(offsets) + lj[keep], kind="stable")
    return r[keep][order].astype(np.intp), c[keep][order].astype(np.intp)


def _block_moments(
    layers: Sequence[Any],
    names: Sequence[str],
    edges: np.ndarray,
    *,
    n_a: int,
    cross: bool,
    row_norms: bool,
    chunk_size: int,
    max_bytes: int,
) -> _BlockMoments:
    n_time = int(edges[-1])
    n_blocks = len(edges) - 1
    length = int(edges[1] - edges[0])
    widths = [int(a.shape[1]) for a in layers]
    offsets = np.concatenate([[0], np.cumsum(widths)]).astype(np.intp)
    width, n_layers = int(offsets[-1]), len(layers)
    ent_r, ent_c = _needed_entries(offsets, n_a, cross)
    need = 8 * n_blocks * len(ent_r)
    if need > max_bytes:
        raise ValueError(
            f"per-block statistics need {need / 2**30:.2f} GiB ({n_blocks} blocks × "
            f"{len(ent_r)} scatter entries × 8 bytes), above max_block_bytes={max_bytes}; use a "
            "longer block_length, fewer layers, or a larger max_block_bytes"
        )
    # rows per chunk: whole blocks, and the (blocks × D × D) product buffer within bounds
    per_chunk = max(1, min(int(chunk_size) // length, _REPLICATE_BUFFER_BYTES // (8 * width**2)))
    rows = per_chunk * length
    mean = _global_means(layers, names, n_time, rows)
    counts = np.diff(edges).astype(np.float64)
    sums = np.empty((n_blocks, width))
    scatter = np.empty((n_blocks, len(ent_r)))
    qq = np.empty((n_blocks, n_layers, n_layers)) if row_norms else None
    qsum = np.empty((n_blocks, n_layers)) if row_norms else None
    qu = np.empty((n_blocks, n_layers, width)) if row_norms else None
    for start in range(0, n_time, rows):
        stop = min(start + rows, n_time)
        u = np.empty((stop - start, width))
        for layer, name, lo, hi in zip(layers, names, offsets[:-1], offsets[1:], strict=True):
            u[:, lo:hi] = _read(layer, start, stop, name)
        u -= mean
        k0 = start // length
        n_full = (stop - start) // length
        parts = []
        if n_full:
            parts.append((k0, u[: n_full * length].reshape(n_full, length, width)))
        if n_full * length < stop - start:  # the short last block of the grid
            parts.append((k0 + n_full, u[n_full * length :][None]))
        for k, ub in parts:
            kk = slice(k, k + ub.shape[0])
            sums[kk] = ub.sum(axis=1)
            scatter[kk] = np.matmul(ub.transpose(0, 2, 1), ub)[:, ent_r, ent_c]
            if row_norms:
                q = np.add.reduceat(ub * ub, offsets[:-1], axis=2)  # (nb, len, L)
                qq[kk] = np.matmul(q.transpose(0, 2, 1), q)  # type: ignore[index]
                qsum[kk] = q.sum(axis=1)  # type: ignore[index]
                qu[kk] = np.matmul(q.transpose(0, 2, 1), ub)  # type: ignore[index]
    return _BlockMoments(counts, sums, scatter, ent_r, ent_c, offsets, mean, qq, qsum, qu)


def _normalised(hsic: np.ndarray, sel: tuple[slice, slice]) -> np.ndarray:
    """``HSIC_ij / sqrt(HSIC_ii HSIC_jj)`` of ``R × L × L`` HSIC (NaN for a layer whose
    self-term is ``<= 0``; 1 on its diagonal otherwise), the ``sel`` block."""
    n_layers = hsic.shape[1]
    self_terms = np.diagonal(hsic, axis1=1, axis2=2)
    ok = self_terms > 0.0
    norm = np.sqrt(np.where(ok, self_terms, 1.0))
    out = hsic / (norm[:, :, None] * norm[:, None, :])
    out[~ok[:, :, None] | ~ok[:, None, :]] = np.nan
    out[np.eye(n_layers, dtype=bool)[None] & ok[:, :, None]] = 1.0
    return out[:, sel[0], sel[1]]


def _replicate_cka(
    mom: _BlockMoments,
    w: np.ndarray,
    entries: np.ndarray,
    kinds: Sequence[str],
    sel: tuple[slice, slice],
) -> dict[str, np.ndarray]:
    """CKA (``kind -> R × rows × cols``) of ``R`` replicates with block counts ``w`` (``R × K``) at
    once, from the per-block moments (module docstring), without a ``D × D`` matrix.

    ``entries`` (``R × P``) are the replicates' summed scatter entries ``Σ_k w_k S_k`` at
    ``(mom.rows, mom.cols)``. The centred entries ``G_p = S_p − a_r a_c / n`` are squared
    and summed per layer pair (``||G_ij||_F²``; an off-diagonal entry of a diagonal block
    twice); the debiased terms follow the module docstring with the same per-pair sums.
    CKA is then ``HSIC_ij / sqrt(HSIC_ii HSIC_jj)`` as in
    :func:`~cebra_lens_core.metrics.cka.cka_from_covariance` (NaN for a layer whose
    self-term is ``<= 0``).
    """
    offsets = mom.offsets
    n_layers = len(offsets) - 1
    lo = offsets[:-1]
    layer_of = np.repeat(np.arange(n_layers), np.diff(offsets))
    li, lj = layer_of[mom.rows], layer_of[mom.cols]
    twice = np.where((li == lj) & (mom.rows != mom.cols), 2.0, 1.0)
    pair = li * n_layers + lj  # non-decreasing: entries are grouped by pair
    starts = np.flatnonzero(np.r_[True, np.diff(pair) != 0])
    pairs = pair[starts]
    n = w @ mom.counts  # (R,)
    a = w @ mom.sums  # (R, D)
    delta = a / n[:, None]
    g = entries - a[:, mom.rows] * delta[:, mom.cols]  # centred entries (R, P)
    hsic = np.zeros((len(w), n_layers * n_layers))
    hsic[:, pairs] = np.add.reduceat(g * g * twice, starts, axis=1)
    hsic = hsic.reshape(len(w), n_layers, n_layers)
    hsic = hsic + np.triu(hsic, 1).transpose(0, 2, 1)  # ||G_ij||² = ||G_ji||²
    out = {}
    if "linear" in kinds:
        out["linear"] = _normalised(hsic, sel)
    if "debiased" in kinds:
        e = np.zeros((len(w), n_layers * n_layers))
        e[:, pairs] = np.add.reduceat(
            entries * delta[:, mom.rows] * delta[:, mom.cols] * twice, starts, axis=1
        )
        e = e.reshape(hsic.shape)
        e = e + np.triu(e, 1).transpose(0, 2, 1)
        qq = np.tensordot(w, mom.qq, axes=1)  # (R, L, L)
        qsum = w @ mom.qsum  # (R, L)
        qu = np.tensordot(w, mom.qu, axes=1)  # (R, L, D)
        c = np.add.reduceat(delta * delta, lo, axis=1)  # (R, L)
        m = np.add.reduceat(qu * delta[:, None, :], lo, axis=2)  # M_ij = V[i, cols_j]·δ^j
        outer = np.einsum
        rr = (
            qq
            - 2.0 * (m + m.transpose(0, 2, 1))
            + 4.0 * e
            + outer("ri,rj->rij", qsum, c)
            + outer("ri,rj->rij", c, qsum)
            - 3.0 * n[:, None, None] * outer("ri,rj->rij", c, c)
        )
        diagonal = mom.rows == mom.cols
        per_layer = layer_of[mom.rows[diagonal]][:, None] == np.arange(n_layers)[None, :]
        rs = g[:, diagonal] @ per_layer  # Σ_t r_i(t) = tr(G_ii)
        nn = np.round(n)[:, None, None]
        unbiased = (
            hsic - (nn / (nn - 2.0)) * rr + outer("ri,rj->rij", rs, rs) / ((nn - 1.0) * (nn - 2.0))
        )
        out["debiased"] = _normalised(0.5 * (unbiased + unbiased.transpose(0, 2, 1)), sel)
    return out


@dataclass(frozen=True, eq=False)
class CKABootstrapResult:
    """CKA matrix with block-bootstrap percentile intervals.

    Attributes:
        estimate: ``(La, Lb)`` CKA on all rows (equals ``cka_matrix`` to rounding).
        low, high: ``(La, Lb)`` percentile interval bounds.
        replicates: ``(B, La, Lb)`` replicate CKA matrices.
        n_valid: ``(La, Lb)`` finite replicates per entry.
        kind: ``"linear"`` or ``"debiased"``; confidence; block_length (samples); seed.
        edges: ``(K + 1,)`` block grid; draws: ``(B, K)`` block ids of each replicate
            (rows of replicate ``b``: ``block_rows(edges, draws[b])``).
        n_samples: ``T``.
    """

    estimate: np.ndarray
    low: np.ndarray
    high: np.ndarray
    replicates: np.ndarray
    n_valid: np.ndarray
    kind: str
    confidence: float
    block_length: int
    seed: int
    edges: np.ndarray
    draws: np.ndarray
    n_samples: int


def cka_bootstrap(
    layers_a: Sequence[Any],
    layers_b: Sequence[Any] | None,
    block_length: int,
    n_resamples: int = 1000,
    seed: int = 0,
    kind: Literal["linear", "debiased"] = "linear",
    *,
    confidence: float = 0.95,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    max_block_bytes: int = DEFAULT_MAX_BLOCK_BYTES,
    names_a: Sequence[str] | None = None,
    names_b: Sequence[str] | None = None,
) -> CKABootstrapResult:
    """Layer × layer CKA with non-overlapping block-bootstrap percentile intervals.

    Per-block sufficient statistics (sums and uncentred cross-products of the stacked,
    globally centred layers, float64) are computed in one streamed pass; each replicate
    sums the drawn blocks' statistics and centres them (module docstring), then
    :func:`~cebra_lens_core.metrics.cka.cka_from_covariance` gives the CKA. Only the scatter
    entries the CKA values read are stored per block: ``P = D(D+1)/2`` within one list,
    ``P = Σ_i d_i(d_i+1)/2 + D_a D_b`` across two (``D`` = total units). Cost: two reads of
    the data, ``O(T D^2)`` for the block moments, ``O(B K P)`` for the replicates (one GEMM
    per batch of replicates); memory ``8 K P`` bytes (``K = ceil(T/L)``), capped by
    ``max_block_bytes``. E.g. ``T = 20000``, ``L = 40``, two models of 6 layers × 32 units:
    ``K = 500``, ``P ≈ 43000``, 170 MB.

    Intervals near zero: replicates repeat blocks, which shrinks their effective sample
    size and pushes CKA up. For independent Gaussians (``T = 1000``, ``d = 32``, ``L = 10``)
    linear CKA is 0.030 with a replicate interval [0.051, 0.068], and debiased CKA −0.001
    with [0.021, 0.039]: the interval does not even contain the estimate. Test whether a CKA
    exceeds chance with :func:`cka_shift_null`; use the interval for the precision of
    clearly non-zero values (for a pair with CKA 0.56 in the same setting the interval
    [0.55, 0.59] is centred on the estimate).

    Args:
        layers_a: sequence of ``(T, d_i)`` arrays (numpy or lazy with ``.shape`` and row
            slicing).
        layers_b: ``None`` for CKA within ``layers_a`` (``(La, La)``), or a second sequence
            with the same ``T`` (``(La, Lb)`` cross block).
        block_length: ``L`` in samples, ``1 <= L <= T``.
        n_resamples: ``B >= 1``.
        seed: seed of the block draws (:func:`nonoverlapping_block_draws`).
        kind: ``"linear"`` or ``"debiased"`` (see the module docstring's caveat).
        confidence: interval level.
        chunk_size: rows read per chunk (rounded down to whole blocks).
        max_block_bytes: cap on the per-block statistics.
        names_a, names_b: layer names for error messages.

    Returns:
        :class:`CKABootstrapResult`.

    Raises:
        ValueError: layers not 2-D, of different ``T`` or holding NaN/inf (named);
            ``block_length`` not in ``[1, T]``; ``n_resamples < 1``; unknown ``kind``;
            fewer than 2 (linear) / 4 (debiased) rows; statistics above ``max_block_bytes``.
    """
    return _bootstrap_kinds(
        layers_a,
        layers_b,
        block_length,
        n_resamples,
        seed,
        [kind],
        confidence=confidence,
        chunk_size=chunk_size,
        max_block_bytes=max_block_bytes,
        names_a=names_a,
        names_b=names_b,
    )[kind]


def _bootstrap_kinds(
    layers_a: Sequence[Any],
    layers_b: Sequence[Any] | None,
    block_length: int,
    n_resamples: int,
    seed: int,
    kinds: Sequence[str],
    *,
    confidence: float,
    chunk_size: int,
    max_block_bytes: int,
    names_a: Sequence[str] | None,
    names_b: Sequence[str] | None,
) -> dict[str, CKABootstrapResult]:
    """:func:`cka_bootstrap` of several kinds from one pass (the same blocks, draws and
    centred scatter entries; the debiased terms only when asked for)."""
    for kind in kinds:
        if kind not in ("linear", "debiased"):
            raise ValueError(
                f"unknown CKA kind {kind!r} for the bootstrap; valid: 'linear', 'debiased'"
            )
    c = check_confidence(confidence)
    la = check_layers(layers_a, "layers_a")
    lb = [] if layers_b is None else check_layers(layers_b, "layers_b")
    names = list(names_a) if names_a else [f"layers_a[{i}]" for i in range(len(la))]
    names += list(names_b) if names_b else [f"layers_b[{j}]" for j in range(len(lb))]
    if len(names) != len(la) + len(lb):
        raise ValueError(f"got {len(names)} layer names for {len(la) + len(lb)} layers")
    layers = la + lb
    n_time = check_same_time(layers, names)
    for kind in kinds:
        min_rows = 4 if kind == "debiased" else 2
        if n_time < min_rows:
            raise ValueError(
                f"{kind} CKA needs at least {min_rows} time points (rows), got {n_time}"
            )
    edges, draws = nonoverlapping_block_draws(n_time, block_length, n_resamples, seed)
    row_norms = "debiased" in kinds
    mom = _block_moments(
        layers,
        names,
        edges,
        n_a=len(la),
        cross=bool(lb),
        row_norms=row_norms,
        chunk_size=chunk_size,
        max_bytes=int(max_block_bytes),
    )
    n_a = len(la)
    sel = (slice(0, n_a), slice(n_a, None)) if lb else (slice(None), slice(None))

    n_blocks = len(edges) - 1
    n_entries = mom.scatter.shape[1]
    ones = np.ones((1, n_blocks))
    estimates = _replicate_cka(mom, ones, mom.scatter.sum(axis=0)[None], kinds, sel)
    counts = block_weights(draws, n_blocks)
    step = max(1, _REPLICATE_BUFFER_BYTES // (8 * 4 * n_entries))
    reps = {k: np.empty((counts.shape[0],) + estimates[k].shape[1:]) for k in kinds}
    for start in range(0, counts.shape[0], step):
        w = counts[start : start + step]
        # (replicates, entries): one GEMM, then every replicate's CKA at once
        for k, values in _replicate_cka(mom, w, w @ mom.scatter, kinds, sel).items():
            reps[k][start : start + len(w)] = values
    return {
        k: _bootstrap_result(
            estimates[k][0], reps[k], k, c, block_length, seed, edges, draws, n_time
        )
        for k in kinds
    }


def _bootstrap_result(
    estimate: np.ndarray,
    reps: np.ndarray,
    kind: str,
    c: float,
    block_length: int,
    seed: int,
    edges: np.ndarray,
    draws: np.ndarray,
    n_time: int,
) -> CKABootstrapResult:
    low, high = percentile_interval(reps, c)
    return CKABootstrapResult(
        estimate=estimate,
        low=np.asarray(low),
        high=np.asarray(high),
        replicates=reps,
        n_valid=np.isfinite(reps).sum(axis=0),
        kind=kind,
        confidence=c,
        block_length=int(block_length),
        seed=int(seed),
        edges=edges,
        draws=draws,
        n_samples=n_time,
    )


# --------------------------------------------------------------------------------------
# Circular time-shift null
# --------------------------------------------------------------------------------------


def _check_layer_pairs(
    pairs: Sequence[tuple[int, int]] | None, n_a: int, n_b: int
) -> list[tuple[int, int]]:
    if pairs is None:
        return [(i, j) for i in range(n_a) for j in range(n_b)]
    out = [(int(i), int(j)) for i, j in pairs]
    bad = [(i, j) for i, j in out if not (0 <= i < n_a and 0 <= j < n_b)]
    if bad:
        raise ValueError(f"layer pairs {bad} out of range for {n_a} x {n_b} layers")
    return out


def cka_shift_null(
    layers_a: Sequence[Any],
    layers_b: Sequence[Any],
    n_null: int = 999,
    seed: int = 0,
    min_shift: int | None = None,
    kind: Literal["linear", "debiased"] = "linear",
    *,
    quantile: float = 0.95,
    names_a: Sequence[str] | None = None,
    names_b: Sequence[str] | None = None,
    layer_pairs: Sequence[tuple[int, int]] | None = None,
) -> NullResult:
    """Circular time-shift null of the layer × layer CKA between two models.

    All layers of model B are rolled by the same offset ``s`` (uniform integer in
    ``[min_shift, T − min_shift]``), ``n_null`` times; only the cross block of the stacked
    scatter changes (``O(T d_i d_j)`` per shift and layer pair, see the module docstring):
    ``CKA_ij = HSIC(G_ij) / sqrt(HSIC(G_ii) HSIC(G_jj))`` with the HSIC of
    :mod:`cebra_lens_core.metrics.cka` (linear: ``||G_ij||_F²``; debiased:
    :func:`~cebra_lens_core.metrics.cka.debiased_hsic`), the self-terms computed once. The
    data are held in memory as centred float64 (``8 T (D_a + D_b)`` bytes).

    Args:
        layers_a, layers_b: sequences of ``(T, d)`` arrays of the two models (same ``T``).
        n_null: number of shifts (>= 1).
        seed: seed of the offsets.
        min_shift: minimum shift in samples (>= 1, <= T/2); default ``ceil(0.1 T)``. Choose
            it longer than the autocorrelation time of the data.
        kind: ``"linear"`` or ``"debiased"``.
        quantile: the null quantile reported (default 0.95).
        names_a, names_b: layer names for error messages.
        layer_pairs: only these ``(i, j)`` (default: every pair); the others are NaN. A
            pair's null does not depend on the other pairs (the shifts come from ``seed``).

    Returns:
        :class:`NullResult` with ``(La, Lb)`` observed, p-values and null quantiles,
        ``(n_null, La, Lb)`` null and the shifts.

    Raises:
        ValueError: layers not 2-D, of different ``T`` or holding NaN/inf; ``n_null < 1``;
            ``min_shift`` outside ``[1, T/2]``; unknown ``kind``; too few rows; a layer
            pair out of range.
    """
    return _shift_null_kinds(
        layers_a,
        layers_b,
        n_null,
        seed,
        min_shift,
        [kind],
        quantile=quantile,
        names_a=names_a,
        names_b=names_b,
        layer_pairs=layer_pairs,
    )[kind]


def _shift_null_kinds(
    layers_a: Sequence[Any],
    layers_b: Sequence[Any],
    n_null: int,
    seed: int,
    min_shift: int | None,
    kinds: Sequence[str],
    *,
    quantile: float,
    names_a: Sequence[str] | None,
    names_b: Sequence[str] | None,
    layer_pairs: Sequence[tuple[int, int]] | None,
) -> dict[str, NullResult]:
    """:func:`cka_shift_null` of several kinds from one pass (the cross-scatter block of a
    shift is shared; the debiased kind adds its row-norm terms)."""
    for kind in kinds:
        if kind not in ("linear", "debiased"):
            raise ValueError(f"unknown CKA kind {kind!r} for the null; valid: 'linear', 'debiased'")
    if not 0.0 < float(quantile) < 1.0:
        raise ValueError(f"quantile must be in (0, 1), got {quantile}")
    if layers_b is None:
        raise ValueError("layers_b is required: the shift null compares two models")
    la = check_layers(layers_a, "layers_a")
    lb = check_layers(layers_b, "layers_b")
    names = list(names_a) if names_a else [f"layers_a[{i}]" for i in range(len(la))]
    names += list(names_b) if names_b else [f"layers_b[{j}]" for j in range(len(lb))]
    layers = la + lb
    n_time = check_same_time(layers, names)
    for kind in kinds:
        min_rows = 4 if kind == "debiased" else 2
        if n_time < min_rows:
            raise ValueError(
                f"{kind} CKA needs at least {min_rows} time points (rows), got {n_time}"
            )
    n_null = check_int(n_null, "n_null", 1)
    seed = check_seed(seed)
    shifts = shift_offsets(n_time, n_null, min_shift, np.random.default_rng(seed))
    pairs = _check_layer_pairs(layer_pairs, len(la), len(lb))

    data = [_read(a, 0, n_time, name) for a, name in zip(layers, names, strict=True)]
    z = np.concatenate(data, axis=1)
    del data
    z -= z.mean(axis=0)
    widths = [int(a.shape[1]) for a in layers]
    offsets = np.concatenate([[0], np.cumsum(widths)]).astype(np.intp)
    n_a, n_b = len(la), len(layers) - len(la)
    cols = [z[:, offsets[i] : offsets[i + 1]] for i in range(len(layers))]
    n = float(n_time)
    r = np.add.reduceat(z * z, offsets[:-1], axis=1) if "debiased" in kinds else None  # (T, L)
    rs = r.sum(axis=0) if r is not None else np.zeros(len(layers))

    def debias(sq_norm: np.ndarray, rr: np.ndarray, i: int, j: int) -> np.ndarray:
        """Debiased HSIC from ||G_ij||_F² and Σ_t r_i r_j (debiased_hsic)."""
        return sq_norm - (n / (n - 2.0)) * rr + rs[i] * rs[j] / ((n - 1.0) * (n - 2.0))

    self_terms = {k: np.empty(len(layers)) for k in kinds}
    for i, x in enumerate(cols):
        gram = x.T @ x
        sq_norm = np.array([np.einsum("ij,ij->", gram, gram)])
        for kind in kinds:
            value = sq_norm if kind == "linear" else debias(sq_norm, r[:, i] @ r[:, i], i, i)
            self_terms[kind][i] = value[0]

    def cka_shifted(i: int, j: int, offsets_: np.ndarray) -> dict[str, np.ndarray]:
        """CKA of layer ``i`` of A with layer ``j`` of B rolled by each of ``offsets_`` rows
        (B's rows stacked twice: the rolled layer is a contiguous view, one GEMM a shift)."""
        twice = np.concatenate([cols[n_a + j], cols[n_a + j]])
        r_twice = None if r is None else np.concatenate([r[:, n_a + j], r[:, n_a + j]])
        xt = np.ascontiguousarray(cols[i].T)
        sq_norm, rr = np.empty(len(offsets_)), np.empty(len(offsets_))
        for k, s in enumerate(offsets_):
            window = slice(n_time - int(s), 2 * n_time - int(s))  # row t: y[(t − s) mod T]
            gram = xt @ twice[window]
            sq_norm[k] = np.einsum("ij,ij->", gram, gram)
            if r_twice is not None:
                rr[k] = r[:, i] @ r_twice[window]
        out = {}
        for kind in kinds:
            terms = self_terms[kind]
            value = sq_norm if kind == "linear" else debias(sq_norm, rr, i, n_a + j)
            if terms[i] > 0.0 and terms[n_a + j] > 0.0:
                out[kind] = value / float(np.sqrt(terms[i]) * np.sqrt(terms[n_a + j]))
            else:
                out[kind] = np.full(len(offsets_), np.nan)
        return out

    observed = {k: np.full((n_a, n_b), np.nan) for k in kinds}
    null = {k: np.full((n_null, n_a, n_b), np.nan) for k in kinds}
    for i, j in pairs:
        for kind, values in cka_shifted(i, j, np.r_[0, shifts].astype(np.intp)).items():
            observed[kind][i, j], null[kind][:, i, j] = values[0], values[1:]
    return {
        k: NullResult.from_draws(
            observed[k], null[k], quantile=quantile, seed=seed, method=k, shifts=shifts
        )
        for k in kinds
    }


# --------------------------------------------------------------------------------------
# One pair of stores
# --------------------------------------------------------------------------------------

#: Memory for the per-block CKA statistics of one pair; longer blocks beyond it.
CKA_BLOCK_BYTES = 512 * 2**20


def _cka_block_length(layers: Sequence[Any], n_rows: int, length: int, n_a: int) -> int:
    """``length``, raised so that the per-block scatter entries fit :data:`CKA_BLOCK_BYTES`."""
    widths = [int(a.shape[1]) for a in layers]
    within = sum(d * (d + 1) // 2 for d in widths)
    cross = sum(widths[:n_a]) * sum(widths[n_a:])
    per_block = 8 * (within + cross) * 2  # scatter entries and (debiased) row-norm terms
    max_blocks = max(1, CKA_BLOCK_BYTES // per_block)
    return max(int(length), -(-int(n_rows) // max_blocks))


def cka_pair_statistics(
    layers_a: Sequence[Any],
    layers_b: Sequence[Any] | None,
    kinds: Sequence[str],
    *,
    bootstrap: BootstrapOptions | None,
    null: NullOptions | None,
    names_a: Sequence[str],
    names_b: Sequence[str] | None,
    layer_pairs: Sequence[tuple[int, int]] | None = None,
    chunk_size: int = DEFAULT_CHUNK_ROWS,
) -> dict[str, dict[str, Any]]:
    """Bootstrap interval and shift-null p-values of the CKA of one pair of stores, for
    every kind in one pass over the data (shared blocks, draws, shifts and cross-scatter
    blocks).

    Args:
        layers_a, layers_b: the two stores' layers on the same rows (``layers_b`` ``None``:
            a store with itself; no null then).
        kinds: of ``"linear"``, ``"debiased"`` (``"rbf"`` gets neither).
        layer_pairs: null only for these ``(i, j)`` (default: all pairs); the shifts are the
            same for every pair (same seed), so a pair's p-value does not depend on the others.

    Returns:
        per kind: ``{"low", "high"}`` ``(La, Lb)`` interval bounds and ``"block_length"``
        when bootstrapped; ``{"p_value", "null_quantile"}`` dicts ``(i, j) -> float`` and
        ``"n_null"`` when a null was drawn (``{}`` for a kind without statistics).
    """
    out: dict[str, dict[str, Any]] = {k: {} for k in kinds}
    kinds = [k for k in kinds if k in ("linear", "debiased")]
    if not kinds:
        return out
    n_rows = int(layers_a[0].shape[0])
    all_layers = list(layers_a) + list(layers_b or [])
    if bootstrap is not None:
        length = _cka_block_length(all_layers, n_rows, bootstrap.length_for(n_rows), len(layers_a))
        if length > bootstrap.length_for(n_rows):
            log.info("CKA bootstrap: blocks of %d rows (memory cap)", length)
        boots = _bootstrap_kinds(
            layers_a,
            layers_b,
            length,
            bootstrap.n_resamples,
            bootstrap.seed,
            kinds,
            confidence=bootstrap.confidence,
            chunk_size=chunk_size,
            max_block_bytes=DEFAULT_MAX_BLOCK_BYTES,
            names_a=names_a,
            names_b=names_b,
        )
        for kind, res in boots.items():
            out[kind].update(low=res.low, high=res.high, block_length=length)
    if null is not None and layers_b is not None:
        nulls = _shift_null_kinds(
            layers_a,
            layers_b,
            null.n_permutations,
            null.seed,
            null.min_shift(n_rows),
            kinds,
            quantile=null.quantile,
            names_a=names_a,
            names_b=names_b,
            layer_pairs=layer_pairs,
        )
        pairs = layer_pairs or [(i, j) for i in range(len(layers_a)) for j in range(len(layers_b))]
        for kind, res in nulls.items():
            p = {(i, j): float(res.p_value[i, j]) for i, j in pairs}
            q = {(i, j): float(res.null_quantile[i, j]) for i, j in pairs}
            out[kind].update(p_value=p, null_quantile=q, n_null=null.n_permutations)
    return out
