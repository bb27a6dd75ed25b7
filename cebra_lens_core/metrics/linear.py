r"""Ridge regression and least squares from sufficient statistics: one solver for every metric.

Decoding (:mod:`~cebra_lens_core.metrics.decoding`), encoding regression
(:mod:`~cebra_lens_core.metrics.encoding`) and consistency
(:mod:`~cebra_lens_core.metrics.consistency`) all fit ``Y ≈ X W + 1 bᵀ`` with an intercept
from the same statistics of the fitted rows: the count ``n``, the means ``x̄``, ``ȳ`` and the
centred scatters ``S_xx = Xcᵀ Xc`` (``d × d``) and ``S_xy = Xcᵀ Yc`` (``d × q``), e.g. merged
chunk by chunk with :class:`~cebra_lens_core.metrics.streaming.MomentAccumulator`. ``T × T``
matrices never appear.

Standardised ridge (``standardize=True``, as ``make_pipeline(StandardScaler(), Ridge(α))``):
with ``s`` the column SDs (``ddof = 0``; a constant column, by sklearn's
``_is_constant_feature`` rule, gets ``s = 1``), ``A = S_xx / s sᵀ`` and ``B = S_xy / s``. One
eigendecomposition ``A = V Λ Vᵀ`` serves every ``α`` and every target::

    W̃(α) = V diag(1 / (λ + α)) Vᵀ B            (weights on the standardised features)
    W(α)  = W̃(α) / s,   b(α) = ȳ − x̄ᵀ W(α)     (weights on the original features)

so ``predict(x) = ((x − x̄) / s) W̃ + ȳ``. Without standardisation ``s = 1``.

Least squares (``α → 0``, as ``sklearn.linear_model.LinearRegression``): the minimum-norm
solution ``W = S_xx⁺ S_xy`` with the pseudo-inverse dropping eigenvalues below
``rtol · λ_max``, so rank-deficient ``X`` gets the same fitted values as sklearn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cebra_lens_core.metrics.streaming import MomentAccumulator

__all__ = [
    "PINV_RTOL",
    "RidgeSolution",
    "constant_features",
    "ridge_from_moments",
    "ridge_solution",
]

#: Relative eigenvalue cutoff of the least-squares pseudo-inverse.
PINV_RTOL = 1e-12


def constant_features(var: np.ndarray, mean: np.ndarray, n: int) -> np.ndarray:
    """sklearn's ``_is_constant_feature``: ``var ≤ n ε var + (n |mean| ε)²`` (scale set to 1)."""
    eps = np.finfo(np.float64).eps
    return var <= n * eps * var + (n * mean * eps) ** 2


@dataclass(frozen=True, eq=False)
class RidgeSolution:
    """Eigen-solution of one ridge problem, valid for every ``α`` (module docstring).

    Attributes:
        n: rows the statistics came from.
        mean_x: ``(d,)`` feature means ``x̄``.
        mean_y: ``(q,)`` target means ``ȳ`` (the intercept of the standardised model).
        scale: ``(d,)`` feature scales ``s`` (ones without standardisation).
        evals: ``(d,)`` eigenvalues ``λ`` of ``A`` (clipped at 0), increasing.
        evecs: ``(d, d)`` eigenvectors ``V``.
        proj: ``(d, q)`` ``Vᵀ B``.
        target_scatter: ``(q,)`` centred sums of squares ``Σ (y − ȳ)²`` per target.
    """

    n: int
    mean_x: np.ndarray
    mean_y: np.ndarray
    scale: np.ndarray
    evals: np.ndarray
    evecs: np.ndarray
    proj: np.ndarray
    target_scatter: np.ndarray

    def standardise(self, x: np.ndarray) -> np.ndarray:
        """``(x − x̄) / s``."""
        return (x - self.mean_x) / self.scale

    def standardised_weights(self, alphas: np.ndarray) -> np.ndarray:
        """``W̃(α)`` for every ``α`` of ``alphas``: ``(n_alphas, d, q)``."""
        alphas = np.asarray(alphas, dtype=np.float64)
        return np.einsum(
            "ij,ajq->aiq",
            self.evecs,
            self.proj[None, :, :] / (self.evals[None, :, None] + alphas[:, None, None]),
        )

    def coef(self, alpha: np.ndarray | float) -> np.ndarray:
        """``(d, q)`` weights ``W`` on the original (centred) features; ``α`` scalar or per target."""
        alpha = np.broadcast_to(np.asarray(alpha, dtype=np.float64), (self.proj.shape[1],))
        w = self.evecs @ (self.proj / (self.evals[:, None] + alpha[None, :]))
        return w / self.scale[:, None]

    def predict(self, x: np.ndarray, alpha: np.ndarray | float) -> np.ndarray:
        """``(x − x̄) W(α) + ȳ``."""
        return (x - self.mean_x) @ self.coef(alpha) + self.mean_y

    def least_squares_coef(self, rtol: float = PINV_RTOL) -> np.ndarray:
        """``(d, q)`` minimum-norm least-squares weights ``S_xx⁺ S_xy`` (``α → 0``)."""
        keep = self._kept(rtol)
        return (
            self.evecs[:, keep] @ (self.proj[keep] / self.evals[keep, None]) / self.scale[:, None]
        )

    def explained_scatter(self, rtol: float = PINV_RTOL) -> np.ndarray:
        """``(q,)`` in-sample explained sums of squares ``diag(S_yx S_xx⁺ S_xy)`` (``α → 0``)."""
        keep = self._kept(rtol)
        return ((self.proj[keep] ** 2) / self.evals[keep, None]).sum(axis=0)

    def _kept(self, rtol: float) -> np.ndarray:
        top = float(self.evals[-1]) if self.evals.size else 0.0
        if not top > 0:
            return np.zeros(self.evals.shape, dtype=bool)
        return self.evals > rtol * top


def ridge_solution(
    n: int,
    mean_x: np.ndarray,
    mean_y: np.ndarray,
    scatter_xx: np.ndarray,
    scatter_xy: np.ndarray,
    target_scatter: np.ndarray | None = None,
    *,
    standardize: bool = True,
) -> RidgeSolution:
    """The eigen-solution of the ridge problem with these statistics (module docstring).

    Args:
        n: number of rows.
        mean_x, mean_y: ``(d,)`` / ``(q,)`` column means.
        scatter_xx: ``(d, d)`` centred scatter ``Xcᵀ Xc`` (its lower triangle is used).
        scatter_xy: ``(d, q)`` centred cross-scatter ``Xcᵀ Yc``.
        target_scatter: ``(q,)`` centred sums of squares of the targets (kept for R²).
        standardize: scale the features to unit SD (``ddof = 0``) before the penalty.
    """
    mean_x = np.asarray(mean_x, dtype=np.float64)
    scale = np.ones(len(mean_x))
    a, b = scatter_xx, scatter_xy
    if standardize:
        var = np.diag(scatter_xx) / n
        scale = np.sqrt(var)
        scale[constant_features(var, mean_x, n)] = 1.0
        a = scatter_xx / np.outer(scale, scale)
        b = scatter_xy / scale[:, None]
    evals, evecs = np.linalg.eigh(a)
    np.maximum(evals, 0.0, out=evals)  # positive semi-definite up to rounding
    q = b.shape[1]
    return RidgeSolution(
        n=int(n),
        mean_x=mean_x,
        mean_y=np.asarray(mean_y, dtype=np.float64),
        scale=scale,
        evals=evals,
        evecs=evecs,
        proj=evecs.T @ b,
        target_scatter=np.full(q, np.nan) if target_scatter is None else target_scatter,
    )


def ridge_from_moments(
    moments: MomentAccumulator,
    n_features: int,
    targets: slice | np.ndarray | None = None,
    *,
    standardize: bool = True,
) -> RidgeSolution:
    """:func:`ridge_solution` from the moments of rows ``[x, y]`` (the first ``n_features``
    columns are ``x``; ``targets`` selects target columns of the rest, default all)."""
    d = int(n_features)
    sel = slice(None) if targets is None else targets
    scatter = moments.scatter
    return ridge_solution(
        moments.n,
        moments.mean[:d],
        moments.mean[d:][sel],
        scatter[:d, :d],
        scatter[:d, d:][:, sel],
        np.diag(scatter)[d:][sel],
        standardize=standardize,
    )
