r"""Encoding regression: predict recorded neural activity from a layer's activations.

Arrays are ``time × units``: ``X`` holds a layer's activations (``T × d``), ``Y`` the recorded
activity of the neurons to predict (``T × m``, one target per column), rows paired in time.
The model is fitted on the training split and scored once on the held-out test split
(time-blocked, see METHODS.md). The procedure follows the encoding regression ("eReg") of
DeepJuice (Conwell et al.):

1. Optional sparse random projection of the features (``projection="sparse"``,
   ``sklearn.random_projection.SparseRandomProjection``, seeded) to
   ``k = n_components`` or, if not given, the Johnson–Lindenstrauss dimension
   ``johnson_lindenstrauss_min_dim(n_train, eps)``; ``k`` is capped at ``d`` — when
   ``k >= d`` the features are used as they are (a projection to as many dimensions as
   there are features only mixes them).
2. Ridge regression with an intercept (``min ||Y − X W − 1 b||² + α ||W||²``), units
   standardised with the training rows' mean and SD (``standardize=True``, as
   ``StandardScaler``: ``ddof = 0``, constant units get scale 1).
3. ``α`` chosen by contiguous-block K-fold cross-validation on the training split
   (``np.array_split`` of the training rows into ``n_folds`` consecutive folds, never
   shuffled: neighbouring time bins are near duplicates). The criterion is the out-of-fold
   ``R²_l = 1 − Σ (y − ŷ_oof)² / Σ (y − ȳ_train)²`` per target, maximised per target
   (``alpha_per_target=True``, the default) or for the mean over targets; ties go to the
   smallest ``α``. The model is then refitted on the whole training split.
4. Test scores per target: Pearson ``r(ŷ, y)`` and ``R² = 1 − SS_res / SS_tot`` (test mean);
   summarised by their mean and median over targets. A target constant on the test split
   has no defined score (NaN, warned, left out of the summaries).

Closed form. With ``Xc``, ``Yc`` centred (and scaled) training data, ``Xcᵀ Xc = V Λ Vᵀ``::

    W(α) = V diag(1 / (λ + α)) Vᵀ Xcᵀ Yc,      b(α) = ȳ − x̄ᵀ W(α)

so one eigendecomposition per fit serves every ``α`` and every target (per-target ``α`` just
scales the columns of ``Vᵀ Xcᵀ Yc`` differently); the solver is shared with decoding and
consistency (:mod:`cebra_lens_core.metrics.linear`). The cross-validation needs only
sufficient statistics: per fold the count, means and centred scatter of ``[x, y]``
(:class:`~cebra_lens_core.metrics.streaming.MomentAccumulator`, float64); the statistics of
"all folds but f" are the merge of the other folds' (Chan et al.'s update, no cancellation). Cost ``O(n p² + K p³ + |α| n p m)``, memory ``O(K p (p + m))`` for ``p``
features; ``T × T`` matrices never appear.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from cebra_lens_core.metrics._validation import check_activations, check_alphas, check_same_rows
from cebra_lens_core.metrics.linear import RidgeSolution, ridge_from_moments
from cebra_lens_core.metrics.streaming import MomentAccumulator, merge_moments

__all__ = [
    "DEFAULT_ALPHAS",
    "PROJECTIONS",
    "EncodingResult",
    "projection_dimension",
    "random_projection",
    "encoding_regression",
    "pearson_per_column",
    "r2_per_column",
]

DEFAULT_ALPHAS: tuple[float, ...] = tuple(float(a) for a in np.logspace(-2, 6, 9))
PROJECTIONS: tuple[str, ...] = ("sparse",)


# --------------------------------------------------------------------------------------
# Cross-validated ridge from sufficient statistics (metrics.linear)
# --------------------------------------------------------------------------------------


def _folds(n: int, n_folds: int) -> list[np.ndarray]:
    return [f for f in np.array_split(np.arange(n), n_folds) if f.size]


def _cv_scores(
    u: np.ndarray,
    v: np.ndarray,
    folds: Sequence[np.ndarray],
    alphas: np.ndarray,
    standardize: bool,
) -> tuple[np.ndarray, list[tuple[np.ndarray, RidgeSolution]], MomentAccumulator]:
    """Out-of-fold ``R²`` per (α, target), the per-fold fits and the moments of all rows.

    The fit of fold ``f`` comes from the merged moments of the other folds.
    """
    width = u.shape[1] + v.shape[1]
    parts = []
    for f in folds:
        acc = MomentAccumulator(width)
        acc.add(np.concatenate([u[f], v[f]], axis=1))
        parts.append(acc)
    sse = np.zeros((len(alphas), v.shape[1]))
    fits = []
    for k, f in enumerate(folds):
        rest = merge_moments((acc for g, acc in enumerate(parts) if g != k), width)
        fit = ridge_from_moments(rest, u.shape[1], standardize=standardize)
        fits.append((f, fit))
        for i, a in enumerate(alphas):
            sse[i] += np.sum((v[f] - fit.predict(u[f], a)) ** 2, axis=0)
    total = merge_moments(parts, width)
    sst = np.diag(total.scatter)[u.shape[1] :]  # around the training mean
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(sst > 0, 1.0 - sse / np.where(sst > 0, sst, 1.0), np.nan)
    return r2, fits, total


def _argmax_first(scores: np.ndarray, axis: int = 0) -> np.ndarray:
    """Index of the maximum along ``axis`` (first on ties); NaN counts as −inf."""
    return np.argmax(np.where(np.isnan(scores), -np.inf, scores), axis=axis)


# --------------------------------------------------------------------------------------
# Scores
# --------------------------------------------------------------------------------------


def pearson_per_column(a: Any, b: Any) -> np.ndarray:
    """Pearson ``r`` between matching columns of ``a`` and ``b`` (``(n, m)``); NaN if constant."""
    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    x = x[:, None] if x.ndim == 1 else x
    y = y[:, None] if y.ndim == 1 else y
    if x.shape != y.shape:
        raise ValueError(f"shapes differ: {x.shape} vs {y.shape}")
    xc = x - x.mean(axis=0)
    yc = y - y.mean(axis=0)
    den = np.sqrt(np.sum(xc * xc, axis=0) * np.sum(yc * yc, axis=0))
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(den > 0, np.sum(xc * yc, axis=0) / np.where(den > 0, den, 1.0), np.nan)
    return np.clip(r, -1.0, 1.0)


def r2_per_column(y_true: Any, y_pred: Any) -> np.ndarray:
    """``1 − SS_res / SS_tot`` per column (``SS_tot`` around ``y_true``'s mean); NaN if constant."""
    y = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(y_pred, dtype=np.float64)
    y = y[:, None] if y.ndim == 1 else y
    p = p[:, None] if p.ndim == 1 else p
    if y.shape != p.shape:
        raise ValueError(f"shapes differ: {y.shape} vs {p.shape}")
    ss_res = np.sum((y - p) ** 2, axis=0)
    ss_tot = np.sum((y - y.mean(axis=0)) ** 2, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(ss_tot > 0, 1.0 - ss_res / np.where(ss_tot > 0, ss_tot, 1.0), np.nan)


# --------------------------------------------------------------------------------------
# Random projection
# --------------------------------------------------------------------------------------


def projection_dimension(
    n_samples: int, n_features: int, *, n_components: int | None = None, eps: float = 0.1
) -> int:
    """Target dimension of the random projection, capped at ``n_features``.

    ``n_components`` if given, else ``johnson_lindenstrauss_min_dim(n_samples, eps=eps)``
    (the dimension that preserves all pairwise distances of ``n_samples`` points within a
    factor ``1 ± eps`` with high probability); ``min(·, n_features)``.

    Raises:
        ValueError: ``n_components < 1``; ``eps`` not in ``(0, 1)``; ``n_samples < 1``.
    """
    # deferred: scikit-learn, loaded only on this path
    from sklearn.random_projection import johnson_lindenstrauss_min_dim

    if n_components is not None:
        if isinstance(n_components, bool) or int(n_components) != n_components or n_components < 1:
            raise ValueError(f"n_components must be a positive integer, got {n_components!r}")
        k = int(n_components)
    else:
        if not 0.0 < float(eps) < 1.0:
            raise ValueError(f"eps must be in (0, 1), got {eps}")
        if int(n_samples) < 1:
            raise ValueError(f"n_samples must be >= 1, got {n_samples}")
        k = int(johnson_lindenstrauss_min_dim(int(n_samples), eps=float(eps)))
    return min(k, int(n_features))


def random_projection(
    X_train: np.ndarray, X_test: np.ndarray, n_components: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Sparse random projection (Li et al. 2006 density ``1/sqrt(d)``) fitted on ``X_train``."""
    # deferred: scikit-learn, loaded only on this path
    from sklearn.random_projection import SparseRandomProjection

    srp = SparseRandomProjection(n_components=int(n_components), random_state=int(seed))
    srp.fit(X_train)
    return (
        np.asarray(srp.transform(X_train), dtype=np.float64),
        np.asarray(srp.transform(X_test), dtype=np.float64),
    )


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class EncodingResult:
    """Test-split scores of an encoding regression, with how it was fitted.

    Attributes:
        pearson_r: ``(m,)`` test Pearson ``r`` per target (NaN if the target is constant on
            the test split).
        r2: ``(m,)`` test ``R²`` per target.
        mean_r, median_r, mean_r2, median_r2: summaries over targets (NaN ignored).
        alpha: ``(m,)`` chosen penalty per target (all equal if ``alpha_per_target=False``).
        alphas: the grid (sorted); cv_r2: ``(n_alphas, m)`` out-of-fold ``R²`` on the
            training split.
        cv_pearson_r: ``(m,)`` out-of-fold Pearson ``r`` on the training split at the chosen
            ``α`` (the "train" score of the layer, for best-layer selection).
        predictions: ``(n_test, m)`` test predictions; train_predictions: ``(n_train, m)``
            out-of-fold predictions on the training split.
        target_names: one per target.
        n_features: ``d`` of the layer; n_components: features after projection;
            projected: whether a random projection was applied.
        n_train, n_test, n_folds, seed, standardize.
    """

    pearson_r: np.ndarray
    r2: np.ndarray
    mean_r: float
    median_r: float
    mean_r2: float
    median_r2: float
    alpha: np.ndarray
    alphas: np.ndarray
    cv_r2: np.ndarray
    cv_pearson_r: np.ndarray
    predictions: np.ndarray
    train_predictions: np.ndarray
    target_names: tuple[str, ...]
    n_features: int
    n_components: int
    projected: bool
    n_train: int
    n_test: int
    n_folds: int
    seed: int
    standardize: bool

    @property
    def cv_mean_r(self) -> float:
        """Mean out-of-fold Pearson ``r`` on the training split (NaN ignored)."""
        return _nan_summary(self.cv_pearson_r, np.nanmean)


def _nan_summary(values: np.ndarray, fn: Any) -> float:
    v = np.asarray(values, dtype=np.float64)
    return float(fn(v[np.isfinite(v)])) if np.isfinite(v).any() else float("nan")


def encoding_regression(
    X_train: Any,
    Y_train: Any,
    X_test: Any,
    Y_test: Any,
    *,
    alphas: Sequence[float] = DEFAULT_ALPHAS,
    n_folds: int = 5,
    alpha_per_target: bool = True,
    standardize: bool = True,
    projection: Literal["sparse"] | None = None,
    n_components: int | None = None,
    eps: float = 0.1,
    seed: int = 0,
    target_names: Sequence[str] | None = None,
) -> EncodingResult:
    """Predict neural activity (targets) from a layer's activations; score on the test split.

    Steps and formulas in the module docstring: optional seeded sparse random projection,
    ridge with ``α`` chosen by contiguous K-fold CV on the training split (closed form from
    sufficient statistics, all ``α`` and targets at once), refit on the training split,
    Pearson ``r`` and ``R²`` per target on the test split.

    Args:
        X_train: ``(n_train, d)`` layer activations of the training split (time order).
        Y_train: ``(n_train, m)`` (or ``(n_train,)``) neural activity to predict.
        X_test, Y_test: the test split, same columns.
        alphas: candidate penalties (positive); a single value skips the choice.
        n_folds: contiguous folds of the training split (``2 <= n_folds <= n_train``).
        alpha_per_target: choose ``α`` per target (default) or one for all targets.
        standardize: z-score the (projected) features with the fitting rows' statistics.
        projection: ``None`` (default) or ``"sparse"`` (sparse random projection).
        n_components: projection dimension; default the Johnson–Lindenstrauss dimension for
            ``n_train`` points and ``eps``; capped at ``d`` (no projection when ``>= d``).
        eps: JL distortion for the default dimension.
        seed: seed of the projection.
        target_names: one name per target column (default ``unit_0``, ...).

    Returns:
        :class:`EncodingResult`.

    Raises:
        ValueError: rows of ``X`` and ``Y`` differ (both named); ``X_train``/``X_test`` or
            ``Y_train``/``Y_test`` have different columns; NaN/inf; bad ``n_folds``,
            ``alphas``, ``projection``, ``n_components`` or ``eps``.

    Warns:
        RuntimeWarning: targets constant on the test split (their scores are NaN).
    """
    xtr = check_activations(X_train, "X_train").astype(np.float64, copy=False)
    xte = check_activations(X_test, "X_test").astype(np.float64, copy=False)
    ytr = check_activations(Y_train, "Y_train", allow_1d=True).astype(np.float64, copy=False)
    yte = check_activations(Y_test, "Y_test", allow_1d=True).astype(np.float64, copy=False)
    check_same_rows(len(xtr), len(ytr), "X_train", "Y_train")
    check_same_rows(len(xte), len(yte), "X_test", "Y_test")
    if xtr.shape[1] != xte.shape[1]:
        raise ValueError(
            f"X_train has {xtr.shape[1]} units (columns) but X_test has {xte.shape[1]}"
        )
    if ytr.shape[1] != yte.shape[1]:
        raise ValueError(
            f"Y_train has {ytr.shape[1]} targets (columns) but Y_test has {yte.shape[1]}"
        )
    if xte.shape[0] < 1:
        raise ValueError("the test split is empty (X_test has 0 rows)")
    n_train, d = xtr.shape
    m = ytr.shape[1]
    if isinstance(n_folds, bool) or int(n_folds) != n_folds or not 2 <= int(n_folds) <= n_train:
        raise ValueError(
            f"n_folds must be an integer between 2 and the {n_train} training rows, got {n_folds!r}"
        )
    al = check_alphas(alphas)
    if projection not in (None, "sparse"):
        raise ValueError(f"unknown projection {projection!r}; valid: None, 'sparse'")
    names = (
        tuple(f"unit_{j}" for j in range(m))
        if target_names is None
        else tuple(
            str(t) for t in ([target_names] if isinstance(target_names, str) else target_names)
        )
    )
    if len(names) != m:
        raise ValueError(f"got {len(names)} target_names for {m} target column(s)")

    k = d
    projected = False
    if projection == "sparse":
        k = projection_dimension(n_train, d, n_components=n_components, eps=eps)
        if k < d:
            xtr, xte = random_projection(xtr, xte, k, seed)
            projected = True
    elif n_components is not None:
        raise ValueError("n_components applies only with projection='sparse'")

    cx, cy = xtr.mean(axis=0), ytr.mean(axis=0)
    u, v = xtr - cx, ytr - cy
    folds = _folds(n_train, int(n_folds))
    cv_r2, fits, total = _cv_scores(u, v, folds, al, standardize)
    if alpha_per_target:
        alpha = al[_argmax_first(cv_r2, axis=0)]
    else:
        mean_cv = np.array([np.nanmean(row) if np.isfinite(row).any() else np.nan for row in cv_r2])
        alpha = np.full(m, al[int(_argmax_first(mean_cv))])
    oof = np.empty_like(v)
    for f, fit in fits:
        oof[f] = fit.predict(u[f], alpha)
    final = ridge_from_moments(total, u.shape[1], standardize=standardize)
    pred = final.predict(xte - cx, alpha) + cy
    train_pred = oof + cy

    const = np.ptp(yte, axis=0) == 0.0
    if const.any():
        warnings.warn(
            f"targets {[n for n, c in zip(names, const, strict=True) if c]} are constant on the "
            "test split: their r and R² are undefined (NaN)",
            RuntimeWarning,
            stacklevel=2,
        )
    r = pearson_per_column(pred, yte)
    r2 = r2_per_column(yte, pred)
    r[const] = np.nan
    r2[const] = np.nan
    return EncodingResult(
        pearson_r=r,
        r2=r2,
        mean_r=_nan_summary(r, np.mean),
        median_r=_nan_summary(r, np.median),
        mean_r2=_nan_summary(r2, np.mean),
        median_r2=_nan_summary(r2, np.median),
        alpha=alpha,
        alphas=al,
        cv_r2=cv_r2,
        cv_pearson_r=pearson_per_column(train_pred, ytr),
        predictions=pred,
        train_predictions=train_pred,
        target_names=names,
        n_features=d,
        n_components=k,
        projected=projected,
        n_train=n_train,
        n_test=xte.shape[0],
        n_folds=len(folds),
        seed=int(seed),
        standardize=bool(standardize),
    )
