r"""Intra-class, inter-class and inter-repetition distances of one layer.

Arrays are ``time × units``; ``conditions`` (and ``repeats``) are integer labels per time
point. Every quantity is the mean over pairs ``i ≠ j`` of a set of vectors ``v_1 … v_n`` of
a pairwise statistic ``S(v_1 … v_n)``, computed in ``O(n d)`` time and memory — never with a
``T × T`` matrix:

- ``metric="cosine"`` — the **exact mean cosine distance** over pairs ``i ≠ j``. With unit
  vectors ``u_i = v_i / ||v_i||``, ``Σ_{i≠j} u_i·u_j = ||Σ_i u_i||² − n``, so::

      S = 1 − (||Σ_i u_i||² − n) / (n (n − 1))

  Cosine uses the raw activations (it is scale-free per sample). A sample with an all-zero
  activation vector has no direction; it raises a ``ValueError``.

- ``metric="euclidean"`` — the **root-mean-square (RMS) Euclidean distance** over pairs
  ``i ≠ j``, on z-scored units, reported under the name ``"euclidean_rms"``::

      S = sqrt( mean_{i≠j} ||v_i − v_j||² ) = sqrt( 2 Σ_k s_k² ),   s_k² = Σ_i (v_ik − v̄_k)² / (n − 1)

  (from ``Σ_{i,j} ||v_i − v_j||² = 2 n Σ_i ||v_i − v̄||²``). Why RMS and not the mean of
  Euclidean distances: the mean of ``||v_i − v_j||`` (not squared) has no sum-of-squares
  shortcut; computing it exactly needs all ``Σ_c n_c²`` pairs, which grows as ``T²``. The RMS
  is exact, ``O(n d)``, and ≥ the mean distance (Jensen); it is what is reported, under its own
  name. Units are z-scored with the column mean and SD (``ddof=0``) of the given ``X`` (all
  rows); a constant unit (``max == min``) has no spread: it is dropped (it would contribute
  0 to every distance) and counted in ``n_constant_units``.

The three quantities (``C`` conditions with ids ``c``, ``x_t`` a sample, all on the same
scale — z-scored for Euclidean):

- ``intra_class`` = mean over conditions with ``n_c >= 2`` samples of ``S({x_t : c_t = c})``
  (pairs of distinct samples of the same condition).
- ``inter_class`` = ``S(μ_1 … μ_C)`` over the ``C`` condition means ``μ_c`` (pairs of distinct
  conditions, each mean weighted equally).
- ``inter_repetition`` (only with ``repeats``) = mean over conditions seen in ``>= 2``
  repeats of ``S(m_{c,r_1} … m_{c,r_k})``, where ``m_{c,r}`` is the mean over the samples with
  condition ``c`` and repeat ``r`` (e.g. the response to stimulus frame ``c`` in repeat ``r``).
  It is 0 when every repeat's response is an identical copy.

:func:`class_distances` reads a numpy array or a lazy layer (an activation store's
``DataArray``) chunk by chunk and computes these quantities from per-condition sums, sums of
unit vectors and centred sums of squares (two passes at most; memory one chunk plus
``O(C d)``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from cebra_lens_core.metrics._validation import check_activations, check_layer
from cebra_lens_core.metrics.conditions import check_codes
from cebra_lens_core.metrics.streaming import DEFAULT_CHUNK_ROWS, group_sums, iter_chunks

__all__ = [
    "DISTANCE_METRICS",
    "class_distances",
    "mean_pairwise_distance",
]

DISTANCE_METRICS: tuple[str, ...] = ("cosine", "euclidean")
#: Name under which each metric's statistic is reported.
REPORTED_NAMES: dict[str, str] = {"cosine": "cosine", "euclidean": "euclidean_rms"}


def _check_metric(metric: str) -> str:
    if metric == "euclidean_rms":
        return "euclidean"
    if metric not in DISTANCE_METRICS:
        raise ValueError(
            f"unknown distance metric {metric!r}; valid metrics: 'cosine', 'euclidean' "
            "(reported as 'euclidean_rms')"
        )
    return metric


def _pairwise_stat(v: np.ndarray, metric: str) -> float:
    """Pairwise statistic of the rows of ``v`` (``n >= 2``; rows unit-norm for cosine)."""
    n = v.shape[0]
    if metric == "cosine":
        s = v.sum(axis=0)
        val = 1.0 - (float(np.dot(s, s)) - n) / (n * (n - 1.0))
        return min(max(val, 0.0), 2.0)
    vc = v - v.mean(axis=0)
    return math.sqrt(2.0 * float(np.einsum("ij,ij->", vc, vc)) / (n - 1.0))


def _unit(v: np.ndarray, what: str) -> np.ndarray:
    norms = np.linalg.norm(v, axis=1)
    zero = norms == 0.0
    if zero.any():
        raise ValueError(
            f"{int(zero.sum())} {what} have an all-zero activation vector (first: index "
            f"{int(np.flatnonzero(zero)[0])}); cosine distance is undefined for them — "
            "use metric='euclidean' or drop those samples"
        )
    return v / norms[:, None]


def mean_pairwise_distance(V: Any, metric: Literal["cosine", "euclidean"] = "cosine") -> float:
    """Mean cosine distance / RMS Euclidean distance over pairs ``i ≠ j`` of the rows of ``V``.

    No z-scoring here (``V`` is used as given); ``O(n d)``. See the module docstring.
    """
    metric = _check_metric(metric)
    v = check_activations(V, "V").astype(np.float64, copy=False)
    if v.shape[0] < 2:
        raise ValueError(f"need at least 2 rows for a pairwise distance, got {v.shape[0]}")
    if metric == "cosine":
        v = _unit(v, "rows")
    return _pairwise_stat(v, metric)


def _finish(
    metric: str,
    intra: np.ndarray,
    means: np.ndarray,
    rep_vals: np.ndarray,
    with_repeats: bool,
    n_repeats: int,
    shape: tuple[int, int],
    n_const: int,
    ids: np.ndarray,
    counts: np.ndarray,
) -> dict[str, Any]:
    """The result dict of :func:`class_distances` from the per-condition statistics."""
    n_time, n_units = shape
    n_cond = len(ids)
    if metric == "cosine":
        means = _unit(means, "condition means")
    out: dict[str, Any] = {
        "intra_class": float(np.nanmean(intra)),
        "inter_class": _pairwise_stat(means, metric),
    }
    if with_repeats:
        if np.isnan(rep_vals).all():
            raise ValueError(
                "no condition occurs in 2 or more repeats: inter-repetition distance is "
                f"undefined ({n_repeats} distinct repeats)"
            )
        out["inter_repetition"] = float(np.nanmean(rep_vals))
    out.update(
        metric=REPORTED_NAMES[metric],
        n_samples=int(n_time),
        n_units=int(n_units),
        n_constant_units=n_const,
        n_conditions=int(n_cond),
        n_conditions_intra=int((counts >= 2).sum()),
        condition_ids=ids,
        counts=counts,
        intra_class_per_condition=intra,
    )
    if with_repeats:
        out.update(
            n_repeats=int(n_repeats),
            n_conditions_repetition=int((~np.isnan(rep_vals)).sum()),
            inter_repetition_per_condition=rep_vals,
        )
    return out


def _check_groups(codes: np.ndarray, n_time: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ids, inverse, counts = np.unique(codes, return_inverse=True, return_counts=True)
    if len(ids) < 2:
        raise ValueError(f"need at least 2 conditions, got {len(ids)} (ids: {ids.tolist()})")
    if not (counts >= 2).any():
        raise ValueError(
            "every condition has a single sample: intra-class distance is undefined "
            f"({len(ids)} conditions, {n_time} samples)"
        )
    return ids.astype(np.int64), inverse.reshape(-1), counts.astype(np.int64)


def class_distances(
    X: Any,
    conditions: Any,
    repeats: Any | None = None,
    metric: Literal["cosine", "euclidean"] | Sequence[str] = "cosine",
    *,
    chunk_size: int = DEFAULT_CHUNK_ROWS,
    name: str = "X",
) -> dict[str, Any]:
    r"""Intra-class, inter-class (and inter-repetition) distances of one layer.

    Definitions and formulas in the module docstring: cosine values are exact mean cosine
    distances over pairs; Euclidean values are exact **RMS** Euclidean distances over pairs
    on z-scored units, reported as ``metric="euclidean_rms"``. ``O(T d)``; no ``T × T``
    matrix. ``X`` is a numpy array or a lazy layer, read chunk by chunk: the quantities come
    from per-condition statistics accumulated over row chunks, in at most two passes over
    ``X`` (memory: one chunk plus ``O((C + P) d)`` for ``C`` conditions and ``P``
    (condition, repeat) pairs):

    1. per-condition sums and counts (condition means), sums of unit vectors
       ``Σ_{t∈c} x_t/||x_t||`` (cosine: ``S_c = 1 − (||Σ u||² − n_c) / (n_c (n_c − 1))``),
       per-(condition, repeat) sums, column sums / min / max;
    2. Euclidean only: the column SS ``Σ_t (x_tk − m_k)²`` (z-scoring, ``ddof=0``) and the
       per-condition centred SS ``Σ_{t∈c} (x_tk − μ_ck)²``; z-scoring is a per-unit scale,
       so ``Σ_{t∈c} ||v_t − v̄_c||² = Σ_k SS_ck / s_k²`` and the RMS distance is
       ``sqrt(2 Σ_k SS_ck / s_k² / (n_c − 1))``. Centring on the condition mean (from
       pass 1) keeps this as accurate as the in-memory computation.

    Args:
        X: ``(T, d)`` activations (time × units): a numpy array or a lazy layer (see
            :mod:`cebra_lens_core.metrics.streaming`).
        conditions: ``(T,)`` integer condition per time point (bin a continuous label with
            :func:`~cebra_lens_core.metrics.conditions.bin_continuous`), or a
            :class:`~cebra_lens_core.metrics.conditions.Conditions`.
        repeats: optional ``(T,)`` integer repeat (trial) index per time point; enables
            ``inter_repetition``.
        metric: ``"cosine"`` (default) or ``"euclidean"`` (alias ``"euclidean_rms"``), or a
            sequence of them (computed in the same two passes; a dict
            ``{metric: result}`` is then returned).
        chunk_size: rows read per chunk.
        name: name of ``X`` in error messages.

    Returns:
        dict with

        - ``intra_class``, ``inter_class`` (floats) and, with ``repeats``,
          ``inter_repetition`` (float);
        - ``metric``: ``"cosine"`` or ``"euclidean_rms"``;
        - ``n_samples``: ``T``; ``n_units``: ``d``; ``n_constant_units``: units dropped by
          z-scoring (always 0 for cosine);
        - ``n_conditions``: ``C``; ``n_conditions_intra``: conditions with ``>= 2`` samples
          (those averaged in ``intra_class``);
        - ``condition_ids``, ``counts``: ``(C,)`` int arrays; ``intra_class_per_condition``:
          ``(C,)`` float array, NaN where a condition has a single sample;
        - with ``repeats``: ``n_repeats`` (distinct repeat ids), ``n_conditions_repetition``
          (conditions seen in ``>= 2`` repeats, averaged in ``inter_repetition``) and
          ``inter_repetition_per_condition`` (``(C,)``, NaN where fewer than 2 repeats);

        or ``{metric: dict}`` when ``metric`` is a sequence.

    Raises:
        ValueError: unknown metric; ``X`` not 2-D or not finite; ``conditions``/``repeats``
            of the wrong length (both lengths named), NaN or non-integer; fewer than 2
            conditions; no condition with 2 samples; with ``repeats``, no condition seen in
            2 repeats; cosine with an all-zero sample.
    """
    several = not isinstance(metric, str)
    metrics = list(dict.fromkeys(_check_metric(m) for m in (metric if several else [metric])))
    if not metrics:
        raise ValueError("metric: need at least one of 'cosine', 'euclidean'")
    x = check_layer(X, name)
    n_time, n_units = (int(s) for s in x.shape)
    codes = check_codes(getattr(conditions, "codes", conditions), n_time, "conditions")
    reps = None if repeats is None else check_codes(repeats, n_time, "repeats")
    ids, inverse, counts = _check_groups(codes, n_time)
    n_cond = len(ids)
    cosine, euclid = "cosine" in metrics, "euclidean" in metrics

    n_repeats = 0
    if reps is not None:
        rep_ids, rep_inv = np.unique(reps, return_inverse=True)
        n_repeats = len(rep_ids)
        keys, pair_inv, pair_counts = np.unique(
            inverse * n_repeats + rep_inv.reshape(-1), return_inverse=True, return_counts=True
        )
        pair_inv = pair_inv.reshape(-1)
        pair_cond = keys // n_repeats
        pair_sums = np.zeros((len(keys), n_units))

    sums = np.zeros((n_cond, n_units))
    unit_sums = np.zeros((n_cond, n_units)) if cosine else None
    col_sum = np.zeros(n_units)
    col_min = np.full(n_units, np.inf)
    col_max = np.full(n_units, -np.inf)
    n_zero, first_zero = 0, -1
    for lo, hi, chunk in iter_chunks(x, chunk_size, name=name):
        inv = inverse[lo:hi]
        sums += group_sums(chunk, inv, n_cond)
        if reps is not None:
            pair_sums += group_sums(chunk, pair_inv[lo:hi], len(keys))
        if euclid:
            col_sum += chunk.sum(axis=0)
            np.minimum(col_min, chunk.min(axis=0), out=col_min)
            np.maximum(col_max, chunk.max(axis=0), out=col_max)
        if cosine:
            norms = np.sqrt(np.einsum("ij,ij->i", chunk, chunk))
            zero = norms == 0.0
            if zero.any():
                if first_zero < 0:
                    first_zero = lo + int(np.flatnonzero(zero)[0])
                n_zero += int(zero.sum())
                continue
            unit_sums += group_sums(chunk / norms[:, None], inv, n_cond)
    if cosine and n_zero:
        raise ValueError(
            f"{n_zero} samples have an all-zero activation vector (first: index "
            f"{first_zero}); cosine distance is undefined for them — "
            "use metric='euclidean' or drop those samples"
        )
    means = sums / counts[:, None]
    multi = counts >= 2

    out: dict[str, dict[str, Any]] = {}
    if cosine:
        intra = np.full(n_cond, np.nan)
        n = counts[multi].astype(np.float64)
        sq = np.einsum("ij,ij->i", unit_sums[multi], unit_sums[multi])
        intra[multi] = np.clip(1.0 - (sq - n) / (n * (n - 1.0)), 0.0, 2.0)
        rep_vals = np.full(n_cond, np.nan)
        if reps is not None:
            pair_means = pair_sums / pair_counts[:, None]
            for k in np.unique(pair_cond):
                sel = pair_cond == k
                if sel.sum() >= 2:
                    rm = _unit(pair_means[sel], f"repeat means of condition {ids[k]}")
                    rep_vals[k] = _pairwise_stat(rm, "cosine")
        out["cosine"] = _finish(
            "cosine",
            intra,
            means,
            rep_vals,
            reps is not None,
            n_repeats,
            (n_time, n_units),
            0,
            ids,
            counts,
        )
    if euclid:
        col_mean = col_sum / n_time
        col_ss = np.zeros(n_units)
        cond_ss = np.zeros((n_cond, n_units))
        for lo, hi, chunk in iter_chunks(x, chunk_size, name=name):
            inv = inverse[lo:hi]
            col_ss += np.square(chunk - col_mean).sum(axis=0)
            cond_ss += group_sums(np.square(chunk - means[inv]), inv, n_cond)
        keep = col_max > col_min
        scale = np.sqrt(col_ss[keep] / n_time)
        ss = (cond_ss[:, keep] / np.square(scale)).sum(axis=1)
        intra = np.full(n_cond, np.nan)
        intra[multi] = np.sqrt(2.0 * ss[multi] / (counts[multi] - 1.0))
        z_means = (means[:, keep] - col_mean[keep]) / scale
        rep_vals = np.full(n_cond, np.nan)
        if reps is not None:
            pair_z = (pair_sums[:, keep] / pair_counts[:, None] - col_mean[keep]) / scale
            for k in np.unique(pair_cond):
                sel = pair_cond == k
                if sel.sum() >= 2:
                    rep_vals[k] = _pairwise_stat(pair_z[sel], "euclidean")
        out["euclidean"] = _finish(
            "euclidean",
            intra,
            z_means,
            rep_vals,
            reps is not None,
            n_repeats,
            (n_time, n_units),
            int((~keep).sum()),
            ids,
            counts,
        )
    return out if several else out[metrics[0]]
