r"""CEBRA consistency: how well one embedding (or layer) linearly predicts another.

Between runs (same data, same time points, rows paired). For ``A`` (``T × d_a``, "from")
and ``B`` (``T × d_b``, "to"), fit the least-squares regression with intercept
``B ≈ A W + b`` and report the coefficient of determination averaged uniformly over the
columns of ``B``::

    consistency(A → B) = (1 / d_b) Σ_j R²_j,   R²_j = 1 − SS_res,j / SS_tot,j

This follows ``cebra.sklearn.metrics.consistency_score`` (CEBRA 0.6.1,
``_consistency_scores``: ``LinearRegression().fit(A, B).score(A, B)``, i.e. sklearn's
``r2_score`` with ``multioutput="uniform_average"``), which **fits and evaluates on all
rows** (in-sample). That is the default here, so values are comparable with published
CEBRA consistency numbers. In-sample R² is biased upwards by about ``d_a / T`` (independent
noise scores ``≈ d_a / T``, not 0); pass ``holdout_fraction`` to fit on the leading rows
and evaluate on the held-out tail (contiguous in time; never random rows) instead.

The score is asymmetric: if ``B`` is a projection of ``A`` (e.g. its first column),
``A → B = 1`` while ``B → A < 1``. :func:`consistency_matrix` therefore returns every
ordered pair, ``M[i, j] = consistency(embeddings[i] → embeddings[j])`` (row = from,
column = to), with a **NaN diagonal**: CEBRA never compares a run with itself, and a
trivial 1 would inflate averages over the matrix (use ``np.nanmean``).

Computation (feature space, never ``T × T``): with the centred stacked scatter
``G = Z^T Z``, ``Z = [Ac Bc]`` (:func:`cebra_lens_core.metrics.cka.stacked_covariance`,
streamed over row chunks in float64) the in-sample fit is
``W = G_AA^+ G_AB`` and ``SS_res,j = G_BB,jj − (G_BA G_AA^+ G_AB)_jj``, so
``R²_j = (G_BA G_AA^+ G_AB)_jj / G_BB,jj`` (the least-squares case of the shared solver,
:mod:`cebra_lens_core.metrics.linear`). The pseudo-inverse (eigenvalues below
``1e-12 · λ_max`` dropped) gives the minimum-norm least-squares solution, i.e. the same
fitted values as sklearn's ``LinearRegression`` also for rank-deficient ``A``. One pass
over the data serves all ``n (n − 1)`` ordered pairs.

Deviation from sklearn: a column of ``B`` with zero variance (a dead unit: exactly
constant, within float64 rounding of its own mean; never a unit that merely varies little) has an
undefined R²; sklearn's ``force_finite`` scores it 1 (perfectly "predicted" by the
intercept), which inflates the average. Here such columns are left out of the average
(with a :class:`RuntimeWarning` naming them); if every column of ``B`` is constant the
score is NaN.

Between datasets (different time points): first reduce each dataset to condition means
on shared label bins (:func:`align_by_labels`, :func:`align_datasets`; equal-width bins
over the common label range, empty bins dropped), then compare the aligned means with
:func:`consistency` / :func:`consistency_matrix`. CEBRA's ``align_embeddings`` instead
fills an empty bin from samples up to two bins away and, by default, scales every bin mean
to unit norm (``normalize=True`` here reproduces the scaling).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cebra_lens_core.metrics._validation import check_shape
from cebra_lens_core.metrics.cka import (
    DEFAULT_CHUNK_SIZE,
    DEFAULT_MAX_CHUNK_BYTES,
    StackedCovariance,
    stacked_covariance,
)
from cebra_lens_core.metrics.linear import PINV_RTOL, RidgeSolution, ridge_solution

__all__ = [
    "BinnedMeans",
    "align_by_labels",
    "align_datasets",
    "consistency",
    "consistency_matrix",
]

#: Relative eigenvalue cutoff of the pseudo-inverse of ``G_AA``.
EIG_RTOL = PINV_RTOL
#: Above this size of the stacked scatter (bytes) the matrix is computed pair by pair.
MAX_STACKED_BYTES = 2**30


# --------------------------------------------------------------------------------------
# Regression R² from second moments
# --------------------------------------------------------------------------------------


def _least_squares(cov: StackedCovariance, i: int, j: int) -> RidgeSolution:
    """The regression layer ``i`` → layer ``j`` from the stacked scatter (``α → 0``)."""
    return ridge_solution(
        cov.n_samples,
        cov.layer_means(i),
        cov.layer_means(j),
        cov.block(i),
        cov.block(i, j),
        np.diag(cov.block(j)).copy(),
        standardize=False,
    )


def _constant_columns(sum_squares: np.ndarray, means: np.ndarray, n: int) -> np.ndarray:
    """Columns that are exactly constant: centred sum of squares within float64 rounding of
    the column's *own* mean, ``SS_j ≤ n (64 ε |μ_j|)²`` (``SS_j == 0`` for a zero mean).

    R² does not depend on a unit's scale, so a unit that merely varies little (even far
    below the layer's largest unit) is kept; only a unit with no variance at all is left out.
    """
    tolerance = n * (64.0 * np.finfo(np.float64).eps * np.abs(np.asarray(means))) ** 2
    return np.asarray(sum_squares) <= tolerance


def _average_r2(r2: np.ndarray, constant: np.ndarray, name_to: str) -> float:
    if constant.any():
        cols = ", ".join(str(int(j)) for j in np.flatnonzero(constant))
        if constant.all():
            warnings.warn(
                f"every column of {name_to} is constant: consistency undefined, returning NaN",
                RuntimeWarning,
                stacklevel=4,
            )
            return float("nan")
        warnings.warn(
            f"{name_to} has constant columns ({cols}); they are left out of the R² average",
            RuntimeWarning,
            stacklevel=4,
        )
    return float(np.mean(r2[~constant]))


def _r2_in_sample(cov: StackedCovariance, i: int, j: int, name_to: str) -> float:
    """In-sample uniform-average R² of the regression layer ``i`` → layer ``j``."""
    fit = _least_squares(cov, i, j)
    g_bb_diag = fit.target_scatter
    explained = fit.explained_scatter(EIG_RTOL)
    constant = _constant_columns(g_bb_diag, cov.layer_means(j), cov.n_samples)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.clip(explained / g_bb_diag, 0.0, 1.0)
    return _average_r2(r2, constant, name_to)


def _r2_held_out(fit: StackedCovariance, test: StackedCovariance, name_to: str) -> float:
    """Uniform-average R² on the ``test`` rows of the regression fitted on ``fit`` rows.

    Layer 0 is "from", layer 1 "to". With ``W = G_AA^+ G_AB`` and intercept
    ``b = μ_B − μ_A W`` from the fit rows, and on the test rows (own means ``ν``, scatter
    ``H``): ``SS_res = diag(H_BB − 2 W^T H_AB + W^T H_AA W) + n_test δ²`` with
    ``δ = (ν_B − μ_B) − (ν_A − μ_A) W``, and ``SS_tot = diag(H_BB)`` (sklearn's r2_score
    centres the truth on its own mean).
    """
    w = _least_squares(fit, 0, 1).least_squares_coef(EIG_RTOL)  # (d_a, d_b)
    delta = (test.layer_means(1) - fit.layer_means(1)) - (
        test.layer_means(0) - fit.layer_means(0)
    ) @ w
    h_ab, h_bb = test.block(0, 1), test.block(1)
    ss_res = (
        np.diag(h_bb)
        - 2.0 * np.einsum("aj,aj->j", w, h_ab)
        + np.einsum("aj,aj->j", w, test.block(0) @ w)
        + test.n_samples * delta**2
    )
    ss_res = np.maximum(ss_res, 0.0)
    ss_tot = np.diag(h_bb).copy()
    constant = _constant_columns(ss_tot, test.layer_means(1), test.n_samples)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = 1.0 - ss_res / ss_tot
    return _average_r2(r2, constant, name_to)


# --------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------


def _shape(a: Any, name: str) -> tuple[int, int]:
    return check_shape(getattr(a, "shape", np.shape(a)), name)


def _check_holdout(holdout_fraction: float | None, n_time: int) -> int | None:
    """Number of fit rows for a held-out evaluation (``None`` for in-sample)."""
    if holdout_fraction is None:
        if n_time < 2:
            raise ValueError(f"need at least 2 time points (rows), got {n_time}")
        return None
    f = float(holdout_fraction)
    if not 0.0 < f < 1.0:
        raise ValueError(f"holdout_fraction must be in (0, 1) or None, got {holdout_fraction}")
    n_test = int(np.floor(f * n_time))
    n_fit = n_time - n_test
    if n_test < 2 or n_fit < 2:
        raise ValueError(
            f"holdout_fraction={f} of {n_time} rows leaves {n_fit} fit and {n_test} held-out "
            "rows; need at least 2 of each"
        )
    return n_fit


def _scatter(layers: list[Any], names: list[str], **kw: Any) -> StackedCovariance:
    """:func:`stacked_covariance`; inf input raises its ValueError without a numpy warning."""
    with np.errstate(invalid="ignore"):
        return stacked_covariance(layers, names=names, **kw)


def _as_input(a: Any) -> Any:
    return a if hasattr(a, "shape") and hasattr(a, "__getitem__") else np.asarray(a)


# --------------------------------------------------------------------------------------
# Public API: consistency between runs
# --------------------------------------------------------------------------------------


def consistency(
    X_from: Any,
    X_to: Any,
    *,
    holdout_fraction: float | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    max_chunk_bytes: int | None = DEFAULT_MAX_CHUNK_BYTES,
) -> float:
    r"""CEBRA consistency ``X_from → X_to``: R² of a linear regression with intercept.

    ``R² = mean_j (1 − SS_res,j / SS_tot,j)`` over the columns ``j`` of ``X_to``
    (constant columns left out, with a warning). By default fitted and evaluated on all
    rows, as ``cebra.sklearn.metrics.consistency_score`` does; with ``holdout_fraction=f``
    fitted on the first ``T − floor(f T)`` rows and evaluated on the last ``floor(f T)``
    (then it can be negative).

    An invertible affine transform of ``X_from`` scores 1; independent noise scores
    ``≈ d_from / T`` in-sample and ``≈ 0`` (slightly negative) held out.

    Args:
        X_from: ``(T, d_a)`` predictor embedding (numpy or lazy array-like).
        X_to: ``(T, d_b)`` target embedding, same ``T`` (rows are the same time points).
        holdout_fraction: ``None`` (in-sample, CEBRA) or the held-out tail fraction.
        chunk_size, max_chunk_bytes: streaming options of
            :func:`cebra_lens_core.metrics.cka.stacked_covariance`.

    Returns:
        The score as a float (at most 1; in ``[0, 1]`` in-sample).

    Raises:
        ValueError: input not 2-D, different numbers of rows (both named), NaN/inf, too few
            rows, ``holdout_fraction`` outside ``(0, 1)``.
    """
    a, b = _as_input(X_from), _as_input(X_to)
    ta, _ = _shape(a, "X_from")
    tb, _ = _shape(b, "X_to")
    if ta != tb:
        raise ValueError(
            f"X_from has {ta} time points (rows) but X_to has {tb}; consistency between runs "
            "needs the same time points (align different datasets with align_datasets first)"
        )
    n_fit = _check_holdout(holdout_fraction, ta)
    kw = dict(chunk_size=chunk_size, max_chunk_bytes=max_chunk_bytes)
    if n_fit is None:
        cov = _scatter([a, b], ["X_from", "X_to"], **kw)
        return _r2_in_sample(cov, 0, 1, "X_to")
    fit = _scatter([a[:n_fit], b[:n_fit]], ["X_from", "X_to"], **kw)
    test = _scatter([a[n_fit:], b[n_fit:]], ["X_from", "X_to"], **kw)
    return _r2_held_out(fit, test, "X_to")


def consistency_matrix(
    embeddings: Sequence[Any],
    *,
    holdout_fraction: float | None = None,
    names: Sequence[str] | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    max_chunk_bytes: int | None = DEFAULT_MAX_CHUNK_BYTES,
    max_stacked_bytes: int = MAX_STACKED_BYTES,
) -> np.ndarray:
    """Consistency for every ordered pair: ``M[i, j] = consistency(embeddings[i] → embeddings[j])``.

    Rows are the predictors ("from"), columns the targets ("to"); the matrix is not
    symmetric. The diagonal is NaN (self-comparisons are not made, as in CEBRA).

    All embeddings are centred, stacked and reduced to one scatter ``G`` (``8 D^2`` bytes,
    ``D = Σ d_i``) in a single streamed pass; if that would exceed ``max_stacked_bytes``
    each unordered pair is streamed separately instead (``n (n − 1) / 2`` passes).

    Args:
        embeddings: at least 2 arrays ``(T, d_i)`` with the same ``T`` (same time points;
            for different datasets use :func:`align_datasets` first).
        holdout_fraction: ``None`` (in-sample, CEBRA semantics) or the held-out tail
            fraction (see :func:`consistency`).
        names: names used in error messages and warnings (default ``embeddings[i]``).
        chunk_size, max_chunk_bytes: streaming options.
        max_stacked_bytes: memory cap for the all-at-once scatter.

    Returns:
        ``(n, n)`` float64 array with NaN diagonal.

    Raises:
        ValueError: fewer than 2 embeddings, a non-2-D embedding or different ``T``
            (named), NaN/inf, bad ``holdout_fraction``.
        TypeError: a single array passed instead of a sequence.
    """
    if hasattr(embeddings, "shape") or isinstance(embeddings, str | bytes):
        raise TypeError(
            "embeddings must be a sequence of 2-D (time × units) arrays, got a single array"
        )
    embs = [_as_input(e) for e in embeddings]
    n = len(embs)
    if n < 2:
        raise ValueError(f"need at least 2 embeddings to compare, got {n}")
    names = list(names) if names is not None else [f"embeddings[{i}]" for i in range(n)]
    if len(names) != n:
        raise ValueError(f"got {len(names)} names for {n} embeddings")
    shapes = [_shape(e, nm) for e, nm in zip(embs, names, strict=True)]
    for (t, _), nm in zip(shapes, names, strict=True):
        if t != shapes[0][0]:
            raise ValueError(
                f"{nm} has {t} time points (rows) but {names[0]} has {shapes[0][0]}; "
                "consistency between runs needs the same time points"
            )
    n_fit = _check_holdout(holdout_fraction, shapes[0][0])
    kw = dict(chunk_size=chunk_size, max_chunk_bytes=max_chunk_bytes)
    width = sum(d for _, d in shapes)
    out = np.full((n, n), np.nan)

    if n_fit is None and 8 * width * width <= max_stacked_bytes:
        cov = _scatter(embs, names, **kw)
        for i in range(n):
            for j in range(n):
                if i != j:
                    out[i, j] = _r2_in_sample(cov, i, j, names[j])
        return out

    for i in range(n):
        for j in range(i + 1, n):
            pair = [names[i], names[j]]
            if n_fit is None:
                cov = _scatter([embs[i], embs[j]], pair, **kw)
                out[i, j] = _r2_in_sample(cov, 0, 1, names[j])
                out[j, i] = _r2_in_sample(cov, 1, 0, names[i])
                continue
            a, b = embs[i], embs[j]
            fit_ab = _scatter([a[:n_fit], b[:n_fit]], pair, **kw)
            test_ab = _scatter([a[n_fit:], b[n_fit:]], pair, **kw)
            out[i, j] = _r2_held_out(fit_ab, test_ab, names[j])
            out[j, i] = _r2_held_out(_swap(fit_ab), _swap(test_ab), names[i])
    return out


def _swap(cov: StackedCovariance) -> StackedCovariance:
    """The same two-layer scatter with the layer order reversed."""
    d0 = int(cov.offsets[1] - cov.offsets[0])
    d1 = int(cov.offsets[2] - cov.offsets[1])
    order = np.r_[d0 : d0 + d1, 0:d0]
    return StackedCovariance(
        scatter=cov.scatter[np.ix_(order, order)],
        means=cov.means[order],
        offsets=np.array([0, d1, d0 + d1], dtype=np.intp),
        n_samples=cov.n_samples,
    )


# --------------------------------------------------------------------------------------
# Between datasets: condition means on shared label bins
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class BinnedMeans:
    """Condition means of an embedding on equal-width label bins (empty bins dropped).

    Attributes:
        means: ``(n_kept, d)`` mean activation per non-empty bin (unit-norm rows if
            ``normalize``), in increasing bin order.
        bins: ``(n_kept,)`` indices of the kept bins in ``0 … n_bins − 1``.
        counts: ``(n_kept,)`` number of samples per kept bin.
        centres: ``(n_kept,)`` label value at the centre of each kept bin.
        edges: ``(n_bins + 1,)`` bin edges; bin ``k`` is ``[edges[k], edges[k+1])``, the
            last bin also includes ``edges[-1]``.
        n_outside: samples whose label lies outside ``[edges[0], edges[-1]]`` (excluded).
    """

    means: np.ndarray
    bins: np.ndarray
    counts: np.ndarray
    centres: np.ndarray
    edges: np.ndarray
    n_outside: int = 0


def _check_labels(labels: Any, n_time: int, name: str) -> np.ndarray:
    lab = np.asarray(labels)
    if lab.ndim == 2 and lab.shape[1] == 1:
        lab = lab[:, 0]
    if lab.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one value per time point), got shape {lab.shape}")
    if not (np.issubdtype(lab.dtype, np.number) or np.issubdtype(lab.dtype, np.bool_)):
        raise ValueError(f"{name} must be numeric, got dtype {lab.dtype}")
    if lab.shape[0] != n_time:
        raise ValueError(f"{name} has {lab.shape[0]} values but X has {n_time} time points (rows)")
    lab = lab.astype(np.float64)
    if not np.isfinite(lab).all():
        raise ValueError(f"{name} contains NaN or inf values")
    return lab


def _check_n_bins(n_bins: int) -> int:
    if isinstance(n_bins, bool) or int(n_bins) != n_bins or int(n_bins) < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}")
    return int(n_bins)


def align_by_labels(
    X: Any,
    labels: Any,
    n_bins: int,
    *,
    value_range: tuple[float, float] | None = None,
    normalize: bool = False,
) -> BinnedMeans:
    """Mean of ``X`` per equal-width bin of a 1-D label; empty bins are dropped.

    Bins split ``value_range`` (default ``[min(labels), max(labels)]``) into ``n_bins``
    equal intervals, closed on the left; the last one also includes the upper end. Samples
    with labels outside the range are excluded (counted in ``n_outside``). Rows of ``X``
    containing NaN/inf raise an error (they are not silently dropped).

    Args:
        X: ``(T, d)`` activations.
        labels: ``(T,)`` numeric label (continuous, or integer codes).
        n_bins: number of bins (positive).
        value_range: ``(low, high)`` common to the datasets to compare (see
            :func:`align_datasets`); ``low < high`` unless every label is equal.
        normalize: scale each bin mean to unit Euclidean norm (CEBRA's default in
            ``align_embeddings``); a zero mean stays zero.

    Returns:
        :class:`BinnedMeans`.

    Raises:
        ValueError: bad shapes (named), NaN/inf, ``n_bins < 1``, bad ``value_range``, no
            sample inside the range.
    """
    x = np.asarray(X, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"X must be 2-D (time × units), got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("X contains NaN or inf values")
    lab = _check_labels(labels, x.shape[0], "labels")
    n_bins = _check_n_bins(n_bins)
    if x.shape[0] == 0:
        raise ValueError("X has no time points (rows)")
    if value_range is None:
        lo, hi = float(lab.min()), float(lab.max())
    else:
        lo, hi = (float(v) for v in value_range)
        if not (np.isfinite(lo) and np.isfinite(hi)) or hi < lo:
            raise ValueError(f"value_range must be finite with low <= high, got {value_range}")
    if hi == lo:  # a single value: one bin holding it
        edges = np.array([lo] * (n_bins + 1), dtype=np.float64)
        inside = lab == lo
        idx = np.zeros(lab.shape, dtype=np.intp)
    else:
        edges = np.linspace(lo, hi, n_bins + 1)
        inside = (lab >= lo) & (lab <= hi)
        idx = np.clip(np.floor((lab - lo) / (hi - lo) * n_bins).astype(np.intp), 0, n_bins - 1)
    n_outside = int((~inside).sum())
    if not inside.any():
        raise ValueError(f"no label value lies inside the range [{lo}, {hi}]")
    idx_in = idx[inside]
    counts_all = np.bincount(idx_in, minlength=n_bins)
    bins = np.flatnonzero(counts_all)
    counts = counts_all[bins]
    order = np.argsort(idx_in, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    means = np.add.reduceat(x[inside][order], starts, axis=0) / counts[:, None]
    if normalize:
        norms = np.linalg.norm(means, axis=1, keepdims=True)
        means = np.divide(means, norms, out=np.zeros_like(means), where=norms > 0)
    centres = 0.5 * (edges[bins] + edges[bins + 1])
    return BinnedMeans(
        means=means, bins=bins, counts=counts, centres=centres, edges=edges, n_outside=n_outside
    )


def align_datasets(
    embeddings: Sequence[Any],
    labels: Sequence[Any],
    n_bins: int,
    *,
    normalize: bool = False,
) -> tuple[list[np.ndarray], np.ndarray]:
    """Condition means of several datasets on the label bins they all share.

    Bins are equal-width over the common range ``[min over datasets, max over datasets]``;
    a bin is kept only if it holds samples in every dataset. The results have the same
    rows (bins) and can go straight to :func:`consistency_matrix`.

    Args:
        embeddings: one ``(T_k, d_k)`` array per dataset (``T_k`` may differ).
        labels: one ``(T_k,)`` numeric label per dataset.
        n_bins: number of bins over the common range.
        normalize: scale bin means to unit norm (see :func:`align_by_labels`).

    Returns:
        ``(means, bins)``: a list of ``(n_shared, d_k)`` arrays and the shared bin indices.

    Raises:
        ValueError: different numbers of embeddings and labels, bad shapes (named), fewer
            than 2 shared bins.
    """
    if len(embeddings) != len(labels):
        raise ValueError(
            f"got {len(embeddings)} embeddings but {len(labels)} label arrays; need one each"
        )
    if len(embeddings) < 1:
        raise ValueError("no embeddings given")
    labs = [
        _check_labels(lab, int(np.shape(e)[0]), f"labels[{k}]")
        for k, (e, lab) in enumerate(zip(embeddings, labels, strict=True))
    ]
    if any(lab.size == 0 for lab in labs):
        raise ValueError("an embedding has no time points (rows)")
    lo = min(float(lab.min()) for lab in labs)
    hi = max(float(lab.max()) for lab in labs)
    binned = [
        align_by_labels(e, lab, n_bins, value_range=(lo, hi), normalize=normalize)
        for e, lab in zip(embeddings, labs, strict=True)
    ]
    shared = binned[0].bins
    for b in binned[1:]:
        shared = np.intersect1d(shared, b.bins)
    if shared.size < 2:
        raise ValueError(
            f"the datasets share {shared.size} non-empty label bin(s) out of {n_bins}; "
            "need at least 2 (use fewer bins or check the label ranges)"
        )
    means = [b.means[np.searchsorted(b.bins, shared)] for b in binned]
    return means, shared
