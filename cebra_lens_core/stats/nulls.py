"""Null distributions shared by the metrics: permutation p-values, the null's quantile and the
circular shift offsets of time-shift nulls.

p-values use ``p = (1 + #{null ≥ observed}) / (1 + n_null)`` (Phipson & Smyth 2010: never
0, valid for a finite number of draws); the null's 95th percentile is reported beside it.
The nulls of each metric sit next to it: :func:`~cebra_lens_core.stats.cka.cka_shift_null`
and :func:`~cebra_lens_core.stats.rdm.rdm_permutation_null`.

References:
    Phipson & Smyth (2010). Permutation p-values should never be zero. SAGMB 9.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from cebra_lens_core.stats.options import MIN_SHIFT_FRACTION
from cebra_lens_core.stats.resampling import check_int

__all__ = ["NullResult", "permutation_p_value", "shift_offsets"]


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


def shift_offsets(n_time: int, n_null: int, min_shift: int | None, rng: Any) -> np.ndarray:
    """``n_null`` circular shifts uniform on ``[min_shift, T − min_shift]`` drawn from ``rng``
    (``min_shift`` default: ``ceil(MIN_SHIFT_FRACTION · T)``)."""
    lo = math.ceil(MIN_SHIFT_FRACTION * n_time) if min_shift is None else min_shift
    lo = check_int(lo, "min_shift", 1)
    if lo > n_time - lo:
        raise ValueError(
            f"min_shift={lo} leaves no admissible circular shift for {n_time} time points "
            f"(need min_shift <= T / 2 = {n_time // 2})"
        )
    return rng.integers(lo, n_time - lo + 1, size=n_null).astype(np.int64)
