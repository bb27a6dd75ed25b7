r"""Block resampling over time and percentile intervals, shared by the uncertainty estimates
of the metrics (:mod:`cebra_lens_core.stats`), and the input checks they share.

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
- :func:`~cebra_lens_core.stats.cka.cka_bootstrap`: the **non-overlapping block bootstrap**
  (Carlstein 1986). The rows are cut into ``K = ceil(T / L)`` consecutive blocks
  ``[kL, min((k+1)L, T))`` (the last one shorter when ``L`` does not divide ``T``); a
  replicate draws ``K`` blocks uniformly with replacement (:func:`nonoverlapping_block_draws`).
  A fixed grid is what makes sufficient statistics reusable: the per-block moments are
  computed in one pass and each replicate is a weighted sum of them (see
  :mod:`cebra_lens_core.stats.cka`), ``O(K D^2)`` per replicate instead of ``O(T D^2)``
  (less: only the scatter entries the CKA values read are kept). A replicate has
  ``Σ_k w_k n_k`` rows (``w_k`` = times block ``k`` was drawn, ``n_k`` its length): exactly
  ``T`` when ``L`` divides ``T``.

Percentile intervals (:func:`percentile_interval`): with replicates ``θ*_1 … θ*_B`` the
``c``-level interval is ``[q_{(1−c)/2}, q_{(1+c)/2}]`` of the replicates (``numpy.quantile``,
linear interpolation; NaN replicates are ignored and counted). The percentile interval does
not correct the bias of the statistic: e.g. biased CKA of finite samples is pushed up by
``O(d / T)`` and replicates, which contain repeated blocks, are pushed up a little more.

References:
    Carlstein (1986). The use of subseries values for estimating the variance of a general
    statistic from a stationary sequence. Ann. Stat. 14.
    Künsch (1989). The jackknife and the bootstrap for general stationary observations.
    Ann. Stat. 17.
    Politis & Romano (1992). A circular block-resampling procedure for stationary data.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from cebra_lens_core.stats.options import BootstrapOptions

__all__ = [
    "BOOTSTRAP_METHODS",
    "BootstrapResult",
    "Interval",
    "block_length_from_seconds",
    "block_bootstrap_indices",
    "nonoverlapping_block_draws",
    "block_draws",
    "block_rows",
    "block_weights",
    "percentile_interval",
    "bootstrap_interval",
    "check_int",
    "check_seed",
    "check_confidence",
]

BOOTSTRAP_METHODS: tuple[str, ...] = ("circular", "moving")


# --------------------------------------------------------------------------------------
# Validation helpers
# --------------------------------------------------------------------------------------


def check_int(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if int(value) < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return int(value)


def check_seed(seed: Any) -> int:
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


def check_confidence(confidence: float) -> float:
    c = float(confidence)
    if not 0.0 < c < 1.0:
        raise ValueError(f"confidence must be in (0, 1), e.g. 0.95, got {confidence}")
    return c


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
    n_time = check_int(n_time, "n_time", 1)
    length = _check_block_length(block_length, n_time)
    n_res = check_int(n_resamples, "n_resamples", 1)
    rng = np.random.default_rng(check_seed(seed))
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
    n_time = check_int(n_time, "n_time", 1)
    length = _check_block_length(block_length, n_time)
    n_res = check_int(n_resamples, "n_resamples", 1)
    rng = np.random.default_rng(check_seed(seed))
    edges = np.append(np.arange(0, n_time, length), n_time).astype(np.int64)
    n_blocks = len(edges) - 1
    return edges, rng.integers(0, n_blocks, size=(n_res, n_blocks)).astype(np.int64)


def block_rows(edges: np.ndarray, block_ids: Any) -> np.ndarray:
    """Row indices of the blocks ``block_ids`` of a grid ``edges``, concatenated in order."""
    edges = np.asarray(edges, dtype=np.int64)
    ids = np.asarray(block_ids, dtype=np.int64).reshape(-1)
    return np.concatenate([np.arange(edges[k], edges[k + 1]) for k in ids]).astype(np.int64)


def block_weights(draws: np.ndarray, n_blocks: int) -> np.ndarray:
    """``(B, K)`` number of times each block is drawn in each replicate."""
    w = np.zeros((draws.shape[0], int(n_blocks)))
    np.add.at(w, (np.repeat(np.arange(draws.shape[0]), draws.shape[1]), draws.reshape(-1)), 1.0)
    return w


def block_draws(n_rows: int, options: BootstrapOptions) -> tuple[np.ndarray, np.ndarray, int]:
    """``(edges, draws, length)`` of :func:`nonoverlapping_block_draws` with the settings of
    ``options`` on ``n_rows`` rows (block length :meth:`BootstrapOptions.length_for`)."""
    length = options.length_for(n_rows)
    edges, draws = nonoverlapping_block_draws(n_rows, length, options.n_resamples, options.seed)
    return edges, draws, length


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
    c = check_confidence(confidence)
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
    c = check_confidence(confidence)
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


@dataclass(frozen=True, eq=False)
class Interval:
    """A percentile interval with its replicates (``low``/``high`` NaN if none is finite)."""

    low: float
    high: float
    replicates: np.ndarray
    block_length: int
    n_valid: int

    @classmethod
    def from_replicates(cls, reps: np.ndarray, confidence: float, length: int) -> Interval:
        """The percentile interval of ``reps`` at ``confidence``, blocks of ``length`` rows."""
        reps = np.asarray(reps, dtype=np.float64)
        low, high = percentile_interval(reps, confidence)
        return cls(float(low), float(high), reps, length, int(np.isfinite(reps).sum()))
