r"""Uncertainty and significance shared by the metrics: block bootstrap, null distributions,
noise ceilings.

Arrays are ``time × units`` (rows are time points). Every random choice takes an integer
``seed`` and uses ``numpy.random.default_rng(seed)``, so a rerun gives identical numbers.

Block bootstrap over time
-------------------------
Neighbouring time bins are strongly correlated, so resampling single rows (the iid
bootstrap) underestimates the sampling variability of any statistic of a time series: for
the mean of an AR(1) process with coefficient φ the iid standard error is too small by a
factor ``sqrt((1 − φ)/(1 + φ))`` (0.58 at φ = 0.5). Resampling contiguous *blocks* of
``block_length`` rows keeps the dependence within each block; the block should be longer
than the autocorrelation time of the data (the caller converts seconds to samples, e.g.
:func:`block_length_from_seconds`).

Two schemes are used:

- :func:`block_bootstrap_indices` (generic; any statistic of row indices, e.g. decoding
  scores, RDM scores or distances recomputed on resampled test rows,
  :func:`bootstrap_interval`): the **circular block bootstrap** (Politis & Romano 1992).
  Each replicate concatenates ``ceil(T / L)`` blocks whose start is uniform on ``0 … T − 1``,
  wrapping around the end of the series (row ``(s + j) mod T``), truncated to ``T`` rows.
  Wrapping gives every time point the same probability of being drawn, so the bootstrap
  distribution of the mean is centred on the sample mean (the moving block bootstrap
  under-weights the first and last ``L − 1`` rows). ``method="moving"`` gives the moving
  block bootstrap (Künsch 1989; starts uniform on ``0 … T − L``, no wrapping).
- :func:`cka_bootstrap`: the **non-overlapping block bootstrap** (Carlstein 1986). The rows
  are cut into ``K = ceil(T / L)`` consecutive blocks ``[kL, min((k+1)L, T))`` (the last
  one shorter when ``L`` does not divide ``T``); a replicate draws ``K`` blocks uniformly
  with replacement (:func:`nonoverlapping_block_draws`). A fixed grid is what makes
  sufficient statistics reusable: the per-block moments are computed in one pass and each
  replicate is a weighted sum of them (see below), ``O(K D^2)`` per replicate instead of
  ``O(T D^2)`` (less: only the scatter entries the CKA values read are kept). A replicate has ``Σ_k w_k n_k`` rows (``w_k`` = times block ``k`` was drawn,
  ``n_k`` its length): exactly ``T`` when ``L`` divides ``T``.

Percentile intervals (:func:`percentile_interval`): with replicates ``θ*_1 … θ*_B`` the
``c``-level interval is ``[q_{(1−c)/2}, q_{(1+c)/2}]`` of the replicates (``numpy.quantile``,
linear interpolation; NaN replicates are ignored and counted). The percentile interval does
not correct the bias of the statistic: e.g. biased CKA of finite samples is pushed up by
``O(d / T)`` and replicates, which contain repeated blocks, are pushed up a little more.

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

Null distributions
------------------
p-values use ``p = (1 + #{null ≥ observed}) / (1 + n_null)`` (Phipson & Smyth 2010: never
0, valid for a finite number of draws); the null's 95th percentile is reported beside it.

- :func:`cka_shift_null`: model B's rows are rolled circularly by random offsets
  ``s ∈ [min_shift, T − min_shift]`` (row ``t`` of the shifted data is row ``(t − s) mod T``).
  This keeps each model's autocorrelation and covariance and breaks only the alignment in
  time. Only the cross block changes with ``s``:
  ``G_ab(s) = Σ_t Xc_t Yc_{t−s}ᵀ = Xc[s:]ᵀ Yc[:T−s] + Xc[:s]ᵀ Yc[T−s:]``, ``O(T D_a D_b)``
  per shift (and the row-norm products likewise for debiased CKA). Not a valid null for a
  signal that is periodic with a period that divides a shift (laps, repeated stimuli): the
  shifted data is then still aligned.
- :func:`rdm_permutation_null`: the conditions of one RDM are permuted (rows and columns
  jointly), the usual RSA condition-label randomisation test (Kriegeskorte et al. 2008).

Noise ceiling (Nili et al. 2014)
--------------------------------
With RDMs of ``S`` seeds (the "subjects") of the same conditions, and each seed's RDM
transformed into the space in which the comparator is linear (z-scores for Pearson, ranks for
Spearman / ρ_a / τ_a, unit norm for cosine)::

    upper = mean_s compare(RDM_s, mean of the transformed RDMs of all seeds)
    lower = mean_s compare(RDM_s, mean of the transformed RDMs of the other seeds)

A candidate (e.g. a layer) scored by ``mean_s compare(candidate, RDM_s)`` cannot be expected
to exceed ``upper``; reaching ``lower`` means it explains the structure shared across seeds
as well as the seeds explain one another. (For τ_a, Nili et al. find the exact upper bound
iteratively; the rank average used here is the usual approximation.)

References:
    Carlstein (1986). The use of subseries values for estimating the variance of a general
    statistic from a stationary sequence. Ann. Stat. 14.
    Künsch (1989). The jackknife and the bootstrap for general stationary observations.
    Ann. Stat. 17.
    Politis & Romano (1992). A circular block-resampling procedure for stationary data.
    Phipson & Smyth (2010). Permutation p-values should never be zero. SAGMB 9.
    Nili, Wingfield, Walther, Su, Marslen-Wilson, Kriegeskorte (2014). A toolbox for
    representational similarity analysis. PLoS Comput. Biol. 10.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from cebra_lens_core.metrics.cka import StackedCovariance, cka_from_covariance
from cebra_lens_core.metrics.rdm import (
    COMPARATORS,
    compare_rdms,
    rdm_similarity_matrix,
    upper_triangle,
)

__all__ = [
    "BOOTSTRAP_METHODS",
    "BootstrapResult",
    "CKABootstrapResult",
    "NullResult",
    "NoiseCeiling",
    "block_length_from_seconds",
    "block_bootstrap_indices",
    "nonoverlapping_block_draws",
    "block_rows",
    "percentile_interval",
    "bootstrap_interval",
    "cka_bootstrap",
    "permutation_p_value",
    "cka_shift_null",
    "rdm_permutation_null",
    "noise_ceiling",
]

BOOTSTRAP_METHODS: tuple[str, ...] = ("circular", "moving")
#: Default minimum circular shift of :func:`cka_shift_null`, as a fraction of ``T``.
MIN_SHIFT_FRACTION = 0.1
#: Rows read per chunk when computing per-block statistics (rounded to whole blocks).
DEFAULT_CHUNK_SIZE = 65536
#: Cap on the per-block statistics of :func:`cka_bootstrap` (``8 K P`` bytes, see there).
DEFAULT_MAX_BLOCK_BYTES = 2 * 2**30
#: Cap on the temporary buffers of :func:`cka_bootstrap` (block products, replicate sums).
_REPLICATE_BUFFER_BYTES = 128 * 2**20


# --------------------------------------------------------------------------------------
# Validation helpers
# --------------------------------------------------------------------------------------


def _check_int(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if int(value) < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return int(value)


def _check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or int(seed) < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def _check_block_length(block_length: Any, n_time: int) -> int:
    if isinstance(block_length, bool) or not isinstance(block_length, int | np.integer):
        raise ValueError(
            f"block_length must be an integer number of samples in [1, {n_time}], got "
            f"{block_length!r} (convert seconds with block_length_from_seconds)"
        )
    if not 1 <= int(block_length) <= n_time:
        raise ValueError(
            f"block_length must be between 1 and the number of time points ({n_time}), "
            f"got {block_length}"
        )
    return int(block_length)


def _check_confidence(confidence: float) -> float:
    c = float(confidence)
    if not 0.0 < c < 1.0:
        raise ValueError(f"confidence must be in (0, 1), e.g. 0.95, got {confidence}")
    return c


def _check_layers(layers: Any, arg: str) -> list[Any]:
    if hasattr(layers, "shape") or isinstance(layers, str | bytes):
        raise TypeError(
            f"{arg} must be a sequence of 2-D (time × units) arrays, got a single array-like; "
            f"wrap it in a list: [{arg}]"
        )
    out = []
    for i, a in enumerate(list(layers)):
        if not hasattr(a, "shape") or not hasattr(a, "__getitem__"):
            a = np.asarray(a)
        shape = tuple(int(s) for s in a.shape)
        if len(shape) != 2 or shape[1] < 1:
            raise ValueError(
                f"{arg}[{i}] must be 2-D (time × units) with at least one unit, got shape {shape}"
            )
        out.append(a)
    if not out:
        raise ValueError(f"{arg} is empty: need at least one layer")
    return out


def _same_time(layers: Sequence[Any], names: Sequence[str]) -> int:
    n_time = int(layers[0].shape[0])
    for a, name in zip(layers, names, strict=True):
        if int(a.shape[0]) != n_time:
            raise ValueError(
                f"{name} has {int(a.shape[0])} time points (rows) but {names[0]} has {n_time}; "
                "all layers must share the same time axis"
            )
    return n_time


def _read(layer: Any, start: int, stop: int, name: str) -> np.ndarray:
    """Rows ``start:stop`` as float64; raise on NaN/inf naming the layer and row."""
    x = np.asarray(layer[start:stop], dtype=np.float64)
    if not np.isfinite(x).all():
        row = start + int(np.argwhere(~np.isfinite(x))[0][0])
        raise ValueError(f"{name} contains NaN or inf values (first at time index {row})")
    return x


# --------------------------------------------------------------------------------------
# Block resampling
# --------------------------------------------------------------------------------------


def block_length_from_seconds(seconds: float, bin_width_s: float) -> int:
    """Block length in samples: ``max(1, round(seconds / bin_width_s))``.

    Raises:
        ValueError: non-positive or non-finite ``seconds`` / ``bin_width_s``.
    """
    s, w = float(seconds), float(bin_width_s)
    if not (math.isfinite(s) and s > 0):
        raise ValueError(f"block length in seconds must be positive, got {seconds}")
    if not (math.isfinite(w) and w > 0):
        raise ValueError(f"bin_width_s must be positive, got {bin_width_s}")
    return max(1, int(round(s / w)))


def block_bootstrap_indices(
    n_time: int,
    block_length: int,
    n_resamples: int,
    seed: int,
    *,
    method: Literal["circular", "moving"] = "circular",
) -> np.ndarray:
    """Row indices of block-bootstrap replicates of a time series of ``n_time`` rows.

    ``"circular"`` (default, Politis & Romano 1992): each replicate concatenates
    ``ceil(T / L)`` blocks ``(s + 0 … s + L − 1) mod T`` with ``s`` uniform on ``0 … T − 1``
    and keeps the first ``T`` rows. ``"moving"`` (Künsch 1989): ``s`` uniform on
    ``0 … T − L``, no wrapping. ``block_length = 1`` is the iid bootstrap.

    Args:
        n_time: ``T``, rows of the series (>= 1).
        block_length: ``L`` in samples, ``1 <= L <= T``.
        n_resamples: number of replicates ``B`` (>= 1).
        seed: seed of ``numpy.random.default_rng``.
        method: ``"circular"`` or ``"moving"``.

    Returns:
        ``(B, T)`` int64 row indices (rows within a block are consecutive).

    Raises:
        ValueError: ``n_time < 1``; ``block_length`` not in ``[1, T]``; ``n_resamples < 1``;
            bad seed or method.
    """
    n_time = _check_int(n_time, "n_time", 1)
    length = _check_block_length(block_length, n_time)
    n_res = _check_int(n_resamples, "n_resamples", 1)
    rng = np.random.default_rng(_check_seed(seed))
    n_blocks = -(-n_time // length)
    if method == "circular":
        starts = rng.integers(0, n_time, size=(n_res, n_blocks))
    elif method == "moving":
        starts = rng.integers(0, n_time - length + 1, size=(n_res, n_blocks))
    else:
        valid = ", ".join(repr(m) for m in BOOTSTRAP_METHODS)
        raise ValueError(f"unknown block bootstrap method {method!r}; valid methods: {valid}")
    idx = starts[:, :, None] + np.arange(length)
    if method == "circular":
        idx %= n_time
    return idx.reshape(n_res, n_blocks * length)[:, :n_time].astype(np.int64, copy=False)


def nonoverlapping_block_draws(
    n_time: int, block_length: int, n_resamples: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Block grid and draws of the non-overlapping block bootstrap (used by :func:`cka_bootstrap`).

    The grid has ``K = ceil(T / L)`` blocks: block ``k`` is rows ``edges[k]:edges[k + 1]``
    with ``edges = [0, L, 2L, …, T]`` (the last block is shorter if ``L`` does not divide
    ``T``). Each replicate draws ``K`` block ids uniformly with replacement.

    Returns:
        ``(edges, draws)``: ``(K + 1,)`` int64 block boundaries and ``(B, K)`` int64 block ids
        (replicate ``b`` is the concatenation of blocks ``draws[b]``, see :func:`block_rows`).

    Raises:
        ValueError: as :func:`block_bootstrap_indices`.
    """
    n_time = _check_int(n_time, "n_time", 1)
    length = _check_block_length(block_length, n_time)
    n_res = _check_int(n_resamples, "n_resamples", 1)
    rng = np.random.default_rng(_check_seed(seed))
    edges = np.append(np.arange(0, n_time, length), n_time).astype(np.int64)
    n_blocks = len(edges) - 1
    return edges, rng.integers(0, n_blocks, size=(n_res, n_blocks)).astype(np.int64)


def block_rows(edges: np.ndarray, block_ids: Any) -> np.ndarray:
    """Row indices of the blocks ``block_ids`` of a grid ``edges``, concatenated in order."""
    edges = np.asarray(edges, dtype=np.int64)
    ids = np.asarray(block_ids, dtype=np.int64).reshape(-1)
    return np.concatenate([np.arange(edges[k], edges[k + 1]) for k in ids]).astype(np.int64)


def _draw_counts(draws: np.ndarray, n_blocks: int) -> np.ndarray:
    """``(B, K)`` float64 number of times each block occurs in each replicate."""
    n_res = draws.shape[0]
    counts = np.zeros((n_res, n_blocks), dtype=np.float64)
    np.add.at(counts, (np.repeat(np.arange(n_res), draws.shape[1]), draws.reshape(-1)), 1.0)
    return counts


# --------------------------------------------------------------------------------------
# Percentile intervals and the generic bootstrap
# --------------------------------------------------------------------------------------


def percentile_interval(
    replicates: Any, confidence: float = 0.95
) -> tuple[np.ndarray | float, np.ndarray | float]:
    """``[q_{(1−c)/2}, q_{(1+c)/2}]`` of bootstrap replicates along axis 0 (NaN ignored).

    Args:
        replicates: ``(B,)`` or ``(B, …)`` replicate values.
        confidence: ``c`` in ``(0, 1)``.

    Returns:
        ``(low, high)``: floats for 1-D input, else arrays of shape ``replicates.shape[1:]``;
        NaN where every replicate is NaN.
    """
    c = _check_confidence(confidence)
    r = np.asarray(replicates, dtype=np.float64)
    if r.ndim == 0 or r.shape[0] < 1:
        raise ValueError(f"replicates must have at least one row (axis 0), got shape {r.shape}")
    finite = np.isfinite(r)
    q = np.full((2,) + r.shape[1:], np.nan)
    ok = finite.any(axis=0)
    if np.any(ok):
        with warnings.catch_warnings():  # all-NaN entries stay NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            q = np.nanquantile(np.where(finite, r, np.nan), [(1 - c) / 2, (1 + c) / 2], axis=0)
    if r.ndim == 1:
        return float(q[0]), float(q[1])
    return q[0], q[1]


@dataclass(frozen=True, eq=False)
class BootstrapResult:
    """A statistic with its block-bootstrap percentile interval.

    Attributes:
        estimate: the statistic on all rows (float or array).
        low, high: the percentile interval bounds (same shape as ``estimate``).
        replicates: ``(B, …)`` replicate values.
        confidence: interval level (e.g. 0.95).
        n_resamples: ``B``; ``n_valid``: replicates that are finite (per entry for arrays).
        block_length: ``L`` in samples; ``method``: resampling scheme; ``seed``.
    """

    estimate: Any
    low: Any
    high: Any
    replicates: np.ndarray
    confidence: float
    n_resamples: int
    n_valid: Any
    block_length: int
    method: str
    seed: int


def bootstrap_interval(
    statistic: Callable[[np.ndarray], Any],
    n_time: int,
    block_length: int,
    n_resamples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    *,
    method: Literal["circular", "moving"] = "circular",
) -> BootstrapResult:
    """Block-bootstrap percentile interval of any statistic of row indices.

    ``statistic(rows)`` receives a 1-D int64 array of row indices into the caller's data
    (e.g. the rows of a test split, in time order for ``arange``) and returns a float or an
    array of fixed shape. The estimate is ``statistic(np.arange(n_time))``; replicate ``b``
    is ``statistic(block_bootstrap_indices(...)[b])``. Typical use: decoding / RSA / distance
    scores recomputed on resampled test rows, e.g.
    ``bootstrap_interval(lambda r: r2_score(y_test[r], pred[r]), len(y_test), 40)``.

    Args:
        statistic: callable of row indices.
        n_time: number of rows ``T`` the indices refer to.
        block_length: block length ``L`` in samples (``1 <= L <= T``).
        n_resamples: ``B``.
        seed: seed of the block draws.
        confidence: interval level in ``(0, 1)``.
        method: ``"circular"`` (default) or ``"moving"`` (see :func:`block_bootstrap_indices`).

    Returns:
        :class:`BootstrapResult`; replicates where the statistic is NaN are ignored in the
        interval and counted in ``n_valid``.

    Raises:
        ValueError: bad arguments (see :func:`block_bootstrap_indices`); a statistic whose
            replicates change shape.
    """
    if not callable(statistic):
        raise TypeError(f"statistic must be a callable of row indices, got {type(statistic)}")
    c = _check_confidence(confidence)
    idx = block_bootstrap_indices(n_time, block_length, n_resamples, seed, method=method)
    estimate = np.asarray(statistic(np.arange(int(n_time), dtype=np.int64)), dtype=np.float64)
    reps = np.empty((idx.shape[0],) + estimate.shape, dtype=np.float64)
    for b, rows in enumerate(idx):
        value = np.asarray(statistic(rows), dtype=np.float64)
        if value.shape != estimate.shape:
            raise ValueError(
                f"statistic returned shape {value.shape} on replicate {b} but "
                f"{estimate.shape} on all rows; it must return a fixed shape"
            )
        reps[b] = value
    low, high = percentile_interval(reps, c)
    n_valid = np.isfinite(reps).sum(axis=0)
    scalar = estimate.ndim == 0
    return BootstrapResult(
        estimate=float(estimate) if scalar else estimate,
        low=low,
        high=high,
        replicates=reps,
        confidence=c,
        n_resamples=idx.shape[0],
        n_valid=int(n_valid) if scalar else n_valid,
        block_length=int(block_length),
        method=method,
        seed=int(seed),
    )


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
    """Upper-triangle entries of the stacked scatter that the CKA values need.

    Within one list every block ``G_ij`` (``i <= j``) is needed; across two lists only the
    diagonal blocks ``G_ii`` (self terms) and the cross blocks ``G_ab``. Other blocks are
    left at zero in the replicates: ``CKA_ij`` reads only ``G_ij``, ``G_ii`` and ``G_jj``.
    """
    width = int(offsets[-1])
    layer_of = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    r, c = np.triu_indices(width)
    li, lj = layer_of[r], layer_of[c]
    keep = np.ones(len(r), dtype=bool) if not cross else (li == lj) | ((li < n_a) & (lj >= n_a))
    return r[keep].astype(np.intp), c[keep].astype(np.intp)


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


def _replicate_covariance(
    mom: _BlockMoments, w: np.ndarray, entries: np.ndarray, row_norms: bool
) -> StackedCovariance:
    """:class:`StackedCovariance` of one replicate with block counts ``w`` (see module doc).

    ``entries`` are the replicate's summed scatter entries ``Σ_k w_k S_k`` at
    ``(mom.rows, mom.cols)``; blocks that are not stored stay zero (unused).
    """
    n = float(w @ mom.counts)
    a = w @ mom.sums
    delta = a / n
    width = len(a)
    scatter_sum = np.zeros((width, width))
    scatter_sum[mom.rows, mom.cols] = entries
    scatter_sum[mom.cols, mom.rows] = entries
    gram = scatter_sum - np.outer(a, delta)
    gram = 0.5 * (gram + gram.T)
    rr = rs = None
    if row_norms:
        offsets = mom.offsets
        lo = offsets[:-1]
        qq = np.tensordot(w, mom.qq, axes=1)
        qsum = w @ mom.qsum
        qu = np.tensordot(w, mom.qu, axes=1)  # (L, D)
        c = np.add.reduceat(delta * delta, lo)
        m = np.add.reduceat(qu * delta, lo, axis=1)  # M_ij = qu[i, cols_j]·δ^j
        e = np.add.reduceat(
            np.add.reduceat(scatter_sum * np.outer(delta, delta), lo, axis=0), lo, axis=1
        )
        rr = (
            qq
            - 2.0 * (m + m.T)
            + 4.0 * e
            + np.outer(qsum, c)
            + np.outer(c, qsum)
            - 3.0 * n * np.outer(c, c)
        )
        rr = 0.5 * (rr + rr.T)
        rs = np.add.reduceat(np.diag(gram), lo)  # Σ_t r_i(t) = tr(G_ii)
    return StackedCovariance(
        scatter=gram,
        means=mom.means + delta,
        offsets=mom.offsets,
        n_samples=int(round(n)),
        row_norm_products=rr,
        row_norm_sums=rs,
    )


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
    if kind not in ("linear", "debiased"):
        raise ValueError(
            f"unknown CKA kind {kind!r} for the bootstrap; valid: 'linear', 'debiased'"
        )
    c = _check_confidence(confidence)
    la = _check_layers(layers_a, "layers_a")
    lb = [] if layers_b is None else _check_layers(layers_b, "layers_b")
    names = list(names_a) if names_a else [f"layers_a[{i}]" for i in range(len(la))]
    names += list(names_b) if names_b else [f"layers_b[{j}]" for j in range(len(lb))]
    if len(names) != len(la) + len(lb):
        raise ValueError(f"got {len(names)} layer names for {len(la) + len(lb)} layers")
    layers = la + lb
    n_time = _same_time(layers, names)
    min_rows = 4 if kind == "debiased" else 2
    if n_time < min_rows:
        raise ValueError(f"{kind} CKA needs at least {min_rows} time points (rows), got {n_time}")
    edges, draws = nonoverlapping_block_draws(n_time, block_length, n_resamples, seed)
    row_norms = kind == "debiased"
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

    def cka_of(w: np.ndarray, entries: np.ndarray) -> np.ndarray:
        cov = _replicate_covariance(mom, w, entries, row_norms)
        return cka_from_covariance(cov, kind, rows=sel[0], cols=sel[1])

    n_blocks = len(edges) - 1
    n_entries = mom.scatter.shape[1]
    estimate = cka_of(np.ones(n_blocks), mom.scatter.sum(axis=0))
    counts = _draw_counts(draws, n_blocks)
    step = max(1, _REPLICATE_BUFFER_BYTES // (8 * n_entries))
    reps = np.empty((counts.shape[0],) + estimate.shape)
    for start in range(0, counts.shape[0], step):
        w = counts[start : start + step]
        sums = w @ mom.scatter  # (replicates, entries): one GEMM for the chunk
        for i in range(w.shape[0]):
            reps[start + i] = cka_of(w[i], sums[i])
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
# Null distributions
# --------------------------------------------------------------------------------------


def permutation_p_value(observed: Any, null: Any) -> np.ndarray | float:
    """``(1 + #{null ≥ observed}) / (1 + n)`` along axis 0 of ``null`` (NaN draws skipped).

    Args:
        observed: scalar or array of shape ``null.shape[1:]``.
        null: ``(n_null, …)`` draws of the statistic under the null.

    Returns:
        float (scalar ``observed``) or array; NaN where ``observed`` is NaN.
    """
    obs = np.asarray(observed, dtype=np.float64)
    nul = np.asarray(null, dtype=np.float64)
    if nul.ndim < 1 or nul.shape[1:] != obs.shape:
        raise ValueError(
            f"null must have shape (n_null, *observed.shape) = (n, {obs.shape}), got {nul.shape}"
        )
    finite = np.isfinite(nul)
    with np.errstate(invalid="ignore"):
        exceed = ((nul >= obs) & finite).sum(axis=0)
    p = (1.0 + exceed) / (1.0 + finite.sum(axis=0))
    p = np.where(np.isfinite(obs), p, np.nan)
    return float(p) if obs.ndim == 0 else p


@dataclass(frozen=True, eq=False)
class NullResult:
    """An observed statistic with its null distribution.

    Attributes:
        observed: the statistic (float, or ``(La, Lb)`` array for CKA matrices).
        null: ``(n_null, …)`` null draws.
        p_value: ``(1 + #{null ≥ observed}) / (1 + n_null)``.
        null_quantile: the null's ``quantile`` (default 95th percentile) per entry.
        quantile: which quantile ``null_quantile`` is.
        n_null: number of null draws; seed; ``shifts``: circular shifts used (CKA) or
            ``None``; ``method``: the comparator (RSA) or CKA kind.
    """

    observed: Any
    null: np.ndarray
    p_value: Any
    null_quantile: Any
    quantile: float
    n_null: int
    seed: int
    method: str
    shifts: np.ndarray | None = None

    @classmethod
    def from_draws(
        cls,
        observed: Any,
        null: np.ndarray,
        *,
        quantile: float,
        seed: int,
        method: str,
        shifts: np.ndarray | None = None,
    ) -> NullResult:
        """The result for ``observed`` and its ``null`` draws; p-value and quantile derived."""
        return cls(
            observed=observed,
            null=null,
            p_value=permutation_p_value(observed, null),
            null_quantile=_null_quantile(null, float(quantile)),
            quantile=float(quantile),
            n_null=len(null),
            seed=seed,
            method=method,
            shifts=shifts,
        )


def _null_quantile(null: np.ndarray, q: float) -> Any:
    finite = np.isfinite(null)
    with warnings.catch_warnings():  # all-NaN entries stay NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        out = np.nanquantile(np.where(finite, null, np.nan), q, axis=0) if finite.any() else np.nan
    return float(out) if np.ndim(out) == 0 else np.asarray(out)


def _shift_offsets(n_time: int, n_null: int, min_shift: int | None, rng: Any) -> np.ndarray:
    lo = math.ceil(MIN_SHIFT_FRACTION * n_time) if min_shift is None else min_shift
    lo = _check_int(lo, "min_shift", 1)
    if lo > n_time - lo:
        raise ValueError(
            f"min_shift={lo} leaves no admissible circular shift for {n_time} time points "
            f"(need min_shift <= T / 2 = {n_time // 2})"
        )
    return rng.integers(lo, n_time - lo + 1, size=n_null).astype(np.int64)


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
) -> NullResult:
    """Circular time-shift null of the layer × layer CKA between two models.

    All layers of model B are rolled by the same offset ``s`` (uniform integer in
    ``[min_shift, T − min_shift]``), ``n_null`` times; only the cross block of the stacked
    scatter changes (``O(T D_a D_b)`` per shift, see the module docstring) and the CKA is
    formed with :func:`~cebra_lens_core.metrics.cka.cka_from_covariance`. The data are held
    in memory as centred float64 (``8 T (D_a + D_b)`` bytes).

    Args:
        layers_a, layers_b: sequences of ``(T, d)`` arrays of the two models (same ``T``).
        n_null: number of shifts (>= 1).
        seed: seed of the offsets.
        min_shift: minimum shift in samples (>= 1, <= T/2); default ``ceil(0.1 T)``. Choose
            it longer than the autocorrelation time of the data.
        kind: ``"linear"`` or ``"debiased"``.
        quantile: the null quantile reported (default 0.95).
        names_a, names_b: layer names for error messages.

    Returns:
        :class:`NullResult` with ``(La, Lb)`` observed, p-values and null quantiles,
        ``(n_null, La, Lb)`` null and the shifts.

    Raises:
        ValueError: layers not 2-D, of different ``T`` or holding NaN/inf; ``n_null < 1``;
            ``min_shift`` outside ``[1, T/2]``; unknown ``kind``; too few rows.
    """
    if kind not in ("linear", "debiased"):
        raise ValueError(f"unknown CKA kind {kind!r} for the null; valid: 'linear', 'debiased'")
    if not 0.0 < float(quantile) < 1.0:
        raise ValueError(f"quantile must be in (0, 1), got {quantile}")
    if layers_b is None:
        raise ValueError("layers_b is required: the shift null compares two models")
    la = _check_layers(layers_a, "layers_a")
    lb = _check_layers(layers_b, "layers_b")
    names = list(names_a) if names_a else [f"layers_a[{i}]" for i in range(len(la))]
    names += list(names_b) if names_b else [f"layers_b[{j}]" for j in range(len(lb))]
    layers = la + lb
    n_time = _same_time(layers, names)
    min_rows = 4 if kind == "debiased" else 2
    if n_time < min_rows:
        raise ValueError(f"{kind} CKA needs at least {min_rows} time points (rows), got {n_time}")
    n_null = _check_int(n_null, "n_null", 1)
    seed = _check_seed(seed)
    shifts = _shift_offsets(n_time, n_null, min_shift, np.random.default_rng(seed))

    data = [_read(a, 0, n_time, name) for a, name in zip(layers, names, strict=True)]
    z = np.concatenate(data, axis=1)
    del data
    means = z.mean(axis=0)
    z -= means
    widths = [int(a.shape[1]) for a in layers]
    offsets = np.concatenate([[0], np.cumsum(widths)]).astype(np.intp)
    n_a, d_a = len(la), int(offsets[len(la)])
    za, zb = z[:, :d_a], z[:, d_a:]
    gram = z.T @ z
    r = rr = rs = None
    if kind == "debiased":
        r = np.add.reduceat(z * z, offsets[:-1], axis=1)  # (T, L)
        rr = r.T @ r
        rs = r.sum(axis=0)
    sel = (slice(0, n_a), slice(n_a, None))

    def cka_at(cross: np.ndarray, rr_cross: np.ndarray | None) -> np.ndarray:
        g = gram.copy()
        g[:d_a, d_a:] = cross
        g[d_a:, :d_a] = cross.T
        p = None
        if rr is not None:
            p = rr.copy()
            p[:n_a, n_a:] = rr_cross
            p[n_a:, :n_a] = rr_cross.T  # type: ignore[union-attr]
        cov = StackedCovariance(
            scatter=g,
            means=means,
            offsets=offsets,
            n_samples=n_time,
            row_norm_products=p,
            row_norm_sums=rs,
        )
        return cka_from_covariance(cov, kind, rows=sel[0], cols=sel[1])

    observed = cka_at(gram[:d_a, d_a:], None if rr is None else rr[:n_a, n_a:])
    null = np.empty((n_null,) + observed.shape)
    for k, s in enumerate(shifts):
        s = int(s)
        cross = za[s:].T @ zb[: n_time - s] + za[:s].T @ zb[n_time - s :]
        rc = None
        if r is not None:
            ra, rb = r[:, :n_a], r[:, n_a:]
            rc = ra[s:].T @ rb[: n_time - s] + ra[:s].T @ rb[n_time - s :]
        null[k] = cka_at(cross, rc)
    return NullResult.from_draws(
        observed, null, quantile=quantile, seed=seed, method=kind, shifts=shifts
    )


def _square_rdm(d: Any, name: str) -> np.ndarray:
    a = np.asarray(d, dtype=np.float64)
    if a.ndim == 1:
        n = (1 + math.isqrt(1 + 8 * a.size)) // 2
        if n * (n - 1) // 2 != a.size:
            raise ValueError(
                f"{name} has {a.size} entries, not the upper triangle of a square RDM "
                "(C(C−1)/2 entries)"
            )
        from scipy.spatial.distance import squareform  # here: scipy costs ~1 s to import

        return squareform(a, checks=False)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"{name} must be a square RDM (C × C) or its vector, got shape {a.shape}")
    return 0.5 * (a + a.T)


def rdm_permutation_null(
    rdm_a: Any,
    rdm_b: Any,
    n_null: int = 999,
    seed: int = 0,
    method: str = "spearman",
    *,
    quantile: float = 0.95,
) -> NullResult:
    """Condition-label permutation null of an RSA score ``compare_rdms(rdm_a, rdm_b)``.

    Each draw permutes the conditions of ``rdm_b`` (rows and columns jointly,
    ``D'_ij = D_{π(i) π(j)}``) with ``numpy.random.default_rng(seed).permutation`` and
    recomputes the comparison (all draws in one :func:`rdm_similarity_matrix` call).

    Args:
        rdm_a, rdm_b: square RDMs over the same ``C >= 3`` conditions, or their upper
            triangles (row-major).
        n_null: number of permutations (>= 1). With ``C!`` small, draws repeat.
        seed: seed of the permutations.
        method: a comparator of :func:`~cebra_lens_core.metrics.rdm.compare_rdms`.
        quantile: the null quantile reported (default 0.95).

    Returns:
        :class:`NullResult` with float observed, p-value and null quantile.

    Raises:
        ValueError: shapes differ or are not RDMs; NaN entries; fewer than 3 conditions;
            unknown comparator; ``n_null < 1``.
    """
    if method not in COMPARATORS:
        valid = ", ".join(repr(m) for m in COMPARATORS)
        raise ValueError(f"unknown RDM comparator {method!r}; valid comparators: {valid}")
    a = _square_rdm(rdm_a, "rdm_a")
    b = _square_rdm(rdm_b, "rdm_b")
    if a.shape != b.shape:
        raise ValueError(
            f"rdm_a has {a.shape[0]} conditions but rdm_b has {b.shape[0]}; "
            "RDMs must cover the same conditions"
        )
    if a.shape[0] < 3:
        raise ValueError(f"need at least 3 conditions for RSA, got {a.shape[0]}")
    for name, m in (("rdm_a", a), ("rdm_b", b)):
        if not np.isfinite(m).all():
            raise ValueError(f"{name} has NaN/inf entries (undefined distances); cannot compare")
    n_null = _check_int(n_null, "n_null", 1)
    seed = _check_seed(seed)
    if not 0.0 < float(quantile) < 1.0:
        raise ValueError(f"quantile must be in (0, 1), got {quantile}")
    rng = np.random.default_rng(seed)
    n_cond = a.shape[0]
    perms = [rng.permutation(n_cond) for _ in range(n_null)]
    observed = compare_rdms(a, b, method)  # type: ignore[arg-type]
    permuted = [upper_triangle(b[np.ix_(p, p)]) for p in perms]
    null = rdm_similarity_matrix([upper_triangle(a)], permuted, method)[0]  # type: ignore[arg-type]
    return NullResult.from_draws(observed, null, quantile=quantile, seed=seed, method=method)


# --------------------------------------------------------------------------------------
# Noise ceiling
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class NoiseCeiling:
    """Noise ceiling of an RSA score across seeds (Nili et al. 2014).

    Attributes:
        lower: mean over seeds of ``compare(RDM_s, mean of the other seeds)``.
        upper: mean over seeds of ``compare(RDM_s, mean of all seeds)``.
        lower_per_seed, upper_per_seed: ``(S,)`` the terms of the two means.
        method: comparator; n_seeds: ``S``.
        target: ``mean_s compare(target, RDM_s)`` if a target RDM was given, else ``None``;
        target_per_seed: its ``(S,)`` terms, or ``None``.
    """

    lower: float
    upper: float
    lower_per_seed: np.ndarray
    upper_per_seed: np.ndarray
    method: str
    n_seeds: int
    target: float | None = None
    target_per_seed: np.ndarray | None = None


def _ceiling_transform(v: np.ndarray, method: str) -> np.ndarray:
    """The space in which the comparator is linear: z-scores, ranks or unit vectors."""
    if method == "pearson":
        sd = v.std()
        return (v - v.mean()) / sd if sd > 0 else v - v.mean()
    if method in ("spearman", "rho_a", "kendall_tau_a"):
        # deferred: scipy, loaded only on this path
        from scipy.stats import rankdata

        r = rankdata(v)
        return r - r.mean()
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 0 else v


def noise_ceiling(
    rdms: Sequence[Any], method: str = "spearman", target: Any = None
) -> NoiseCeiling:
    """Lower and upper bound of the RSA score achievable given the variability across seeds.

    Args:
        rdms: RDMs (square or upper-triangle vectors) of ``S >= 2`` seeds over the same
            conditions (the "subjects" of Nili et al. 2014).
        method: a comparator of :func:`~cebra_lens_core.metrics.rdm.compare_rdms`.
        target: optional candidate RDM (e.g. a layer, the neural data or an oracle); its
            score ``mean_s compare(target, RDM_s)`` is reported beside the bounds.

    Returns:
        :class:`NoiseCeiling` (formulas in the module docstring). Identical seeds give
        ``lower = upper = 1`` for Pearson, Spearman and cosine.

    Raises:
        ValueError: fewer than 2 seeds; RDMs of different sizes, with NaN, or fewer than 3
            entries; unknown comparator.
    """
    if method not in COMPARATORS:
        valid = ", ".join(repr(m) for m in COMPARATORS)
        raise ValueError(f"unknown RDM comparator {method!r}; valid comparators: {valid}")
    if isinstance(rdms, np.ndarray) and rdms.ndim not in (2, 3):
        raise ValueError(
            "rdms must be a sequence of RDMs (one per seed), an (S, n) array of RDM vectors "
            f"or an (S, C, C) array of square RDMs, got an array of shape {rdms.shape}"
        )
    vecs = [upper_triangle(r) for r in rdms]
    if len(vecs) < 2:
        raise ValueError(f"a noise ceiling needs RDMs of at least 2 seeds, got {len(vecs)}")
    n = len(vecs[0])
    for s, v in enumerate(vecs):
        if len(v) != n:
            raise ValueError(
                f"rdms[{s}] has {len(v)} upper-triangle entries but rdms[0] has {n}; "
                "all seeds must cover the same conditions"
            )
        if not np.isfinite(v).all():
            raise ValueError(f"rdms[{s}] has NaN/inf entries (undefined distances)")
    if n < 3:
        raise ValueError(f"RDMs have {n} upper-triangle entries; need at least 3")
    trans = np.stack([_ceiling_transform(v, method) for v in vecs])
    total = trans.sum(axis=0)
    n_seeds = len(vecs)
    upper = np.array([compare_rdms(v, total / n_seeds, method) for v in vecs])  # type: ignore[arg-type]
    lower = np.array(
        [
            compare_rdms(v, (total - trans[s]) / (n_seeds - 1), method)  # type: ignore[arg-type]
            for s, v in enumerate(vecs)
        ]
    )
    tgt = tgt_per = None
    if target is not None:
        tgt_per = np.array([compare_rdms(target, v, method) for v in vecs])  # type: ignore[arg-type]
        tgt = float(np.mean(tgt_per))
    return NoiseCeiling(
        lower=float(np.mean(lower)),
        upper=float(np.mean(upper)),
        lower_per_seed=lower,
        upper_per_seed=upper,
        method=method,
        n_seeds=n_seeds,
        target=tgt,
        target_per_seed=tgt_per,
    )
