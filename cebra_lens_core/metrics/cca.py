r"""Canonical correlation analysis (CCA) family: SVCCA and PWCCA, from covariances only.

Arrays are ``time × units`` (rows are samples, shared between the two layers). ``Xc`` and
``Yc`` are column-centred copies (``T × p`` and ``T × q``), ``G_xx = Xc^T Xc``,
``G_xy = Xc^T Yc``, ``G_yy = Yc^T Yc`` their scatter matrices (``d × d``, float64, streamed
over row chunks by :func:`cebra_lens_core.metrics.cka.stacked_covariance`; the ``T × T``
products are never formed, and the factor ``1/T`` of a covariance cancels everywhere below).

Canonical correlations
----------------------
With ``W_x`` (``p × k_x``) any basis of the non-degenerate directions of ``G_xx`` whitened
so that ``W_x^T G_xx W_x = I`` (:func:`whitening_basis`), and ``W_y`` likewise::

    M = W_x^T G_xy W_y                      (k_x × k_y)
    ρ_1 ≥ … ≥ ρ_m = singular values of M,   m = min(k_x, k_y)

i.e. the singular values of ``C_xx^(-1/2) C_xy C_yy^(-1/2)`` restricted to the retained
directions (the orthogonal factor between ``W_x`` and ``C_xx^(-1/2)`` does not change them).
They are clipped to ``[0, 1]`` (rounding). ``M = U diag(ρ) V^T``; the canonical directions
are ``a_i = W_x u_i`` and the canonical variates ``h_i = Xc a_i`` are orthonormal T-vectors
(``||h_i||^2 = u_i^T W_x^T G_xx W_x u_i = 1``; unit variance up to the constant ``1/√T``).

Rank-deficient ``G_xx`` (dead units, duplicated or linearly dependent units, ``T − 1 < p``):
units with exactly zero variance are dropped, the rest are scaled to unit variance
(``R = D^(-1/2) G_xx D^(-1/2)``, ``D = diag(G_xx)``: the correlation matrix) and eigenvectors
of ``R`` with eigenvalue ``λ <= EIGEN_FLOOR · λ_max(R)`` (``EIGEN_FLOOR = 1e-10``) are dropped;
``k_x`` counts the rest, ``W_x = D^(-1/2) V_k Λ_k^(-1/2)``. Scaling first makes the
retained rank independent of the units' scales (CCA is invariant to any invertible diagonal
map, so a unit at 1e-6 of another's scale must not be cut); the floor is a cut on the
condition number ``κ(R) <= 1e10`` (``κ(Xc) <= 1e5``): beyond it the directions are rounding
noise of the float64 scatter. Accuracy: ``ρ`` carries an error of about ``1e-16 · κ(R)``.

Measures
--------
- ``"cca_mean"``: ``(1/m) Σ_i ρ_i`` of the full CCA (Kornblith et al.'s ``ρ̄``). Invariant to
  any invertible linear map (incl. rotations, scalings, permutations) and translation of
  either layer.
- ``"svcca"`` (Raghu et al. 2017): each layer is first reduced to its top principal
  components. With ``G_xx = V Λ V^T`` (``λ_1 ≥ … ≥ λ_p``, the squared singular values of
  ``Xc``: the same as an SVD of ``Xc``), ``k_x`` is the smallest ``k`` with
  ``Σ_{i<=k} λ_i >= f · Σ_i λ_i`` (``f = variance_fraction``, default 0.99; components with
  ``λ <= EIGEN_FLOOR · λ_1`` are dropped as well, which matters only for ``f = 1``). The
  reduced layer ``Xc V_k`` has scatter ``Λ_k``, so its whitening basis is
  ``V_k Λ_k^(-1/2)`` (:func:`principal_basis`). Score = mean of all ``m = min(k_x, k_y)``
  canonical correlations of the reduced layers. Invariant to orthogonal maps, isotropic
  scaling, permutation of units and translation of either layer; *not* to general
  invertible maps (they change the PCA step; with ``f = 1`` SVCCA equals ``cca_mean``).
- ``"pwcca"`` (Morcos, Raghu & Bengio 2018), asymmetric, weights from ``X``::

      α̃_i = Σ_j |<h_i, x_j>|,   x_j = Xc[:, j] (every unit of X, centred),
      α_i = α̃_i / Σ_k α̃_k,       PWCCA(X, Y) = Σ_{i<=m} α_i ρ_i

  with ``<h_i, x_j> = (G_xx a_i)_j`` (:func:`projection_weights`), from the full CCA (no PCA
  step). Only the ``m`` canonical pairs carry weight: directions of ``X`` without a partner
  (``k_x > k_y``) are not counted, so ``PWCCA(X, Y) = 1`` whenever
  ``span(Yc) ⊆ span(Xc)``. Invariant to any invertible linear map and translation of
  ``Y``; for ``X`` to translation, isotropic scaling, permutation and sign flips of its
  units, *not* to rotations or unequal unit scales (the L1 sum over units is not).
- ``"pwcca_symmetric"``: ``(PWCCA(X, Y) + PWCCA(Y, X)) / 2`` (both from one SVD).

Differences from the reference code
-----------------------------------
google/svcca (``cca_core.get_cca_similarity``, ``pwcca.compute_pwcca``):

- ``cca_core`` rescales the covariances by their largest entries, drops units whose
  (rescaled) variance is below ``epsilon``, adds ``epsilon`` to the diagonals and uses
  ``pinv``; here: exact zero-variance units dropped, relative eigen floor on the
  correlation matrix. Identical for well-conditioned data.
- ``cca_core``'s summary ``"mean"`` averages only the leading coefficients up to 98 % of
  their sum (``sum_threshold``); Raghu et al.'s tutorial reports
  ``np.mean(results["cca_coef1"])``, the mean of all of them — what ``"svcca"`` returns.
  The tutorial reduces each layer with ``np.linalg.svd`` to a fixed number of components
  (``S_k V_k``, the same as ``Xc V_k`` here); the paper keeps 99 % of the variance.
- ``pwcca.compute_pwcca(acts1, acts2)`` takes the weights from whichever layer has fewer
  retained units (``acts1`` on ties), so for ``p > q`` its result is our
  ``PWCCA(Y, X)`` (and that branch indexes ``acts1`` with ``y_idxs``, google/svcca PR #9).
  It forms its directions as ``u_i^T Xc`` without the ``C_xx^(-1/2)`` factor, adds the
  unit means back, orthonormalises them by QR and projects the *uncentred* units on them.
  That equals the paper's definition only when ``C_xx ∝ I`` and the means are 0; we
  follow the paper (canonical variates, centred units), as the brief asks.

Degenerate case ``k_x + k_y >= T``
----------------------------------
All centred columns lie in the ``(T − 1)``-dimensional space orthogonal to ``1``, so
``span(Xc) ∩ span(Yc)`` has dimension at least ``k_x + k_y − (T − 1)`` and at least that many
canonical correlations equal 1 *whatever the data* (all ``m`` of them once
``max(k_x, k_y) >= T − 1``). :func:`canonical_correlations` returns the sample correlations
with a :class:`RuntimeWarning`; every score (``svcca`` with the PCA-retained ``k``, the others
with the full ``k``) is NaN with a :class:`RuntimeWarning` (a score of ≈ 1 that reflects only
``T`` would read as "identical"). Layers with zero variance (``k = 0``) also give NaN.

Bias for independent data: if the rows of ``X`` are i.i.d. Gaussian and independent of
``Y``, ``span(Xc)`` is a uniformly random ``k_x``-subspace of that ``(T − 1)``-space, so
``E[Σ_i ρ_i^2] = k_x k_y / (T − 1)`` exactly and the mean squared correlation is
``max(k_x, k_y) / (T − 1)``: the *mean correlation* (SVCCA, PWCCA) of unrelated layers is of
order ``sqrt(d / T)`` (Jensen: ``<= sqrt(max(k_x, k_y) / (T − 1))``), e.g. ``<= 0.008`` at
``T = 10^6``, ``d = 64``, but ``0.2`` at ``T = 1600``.

References:
    Raghu, Gilmer, Yosinski, Sohl-Dickstein (2017). SVCCA: Singular vector canonical
    correlation analysis for deep learning dynamics and interpretability. NeurIPS.
    Morcos, Raghu, Bengio (2018). Insights on representational similarity in neural
    networks with canonical correlation. NeurIPS.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Real
from typing import Any

import numpy as np

from cebra_lens_core.metrics._validation import check_layers, check_same_time
from cebra_lens_core.metrics.cka import DEFAULT_CHUNK_SIZE, StackedCovariance, stacked_covariance

__all__ = [
    "DEFAULT_MEASURES",
    "DEFAULT_VARIANCE_FRACTION",
    "EIGEN_FLOOR",
    "MEASURES",
    "canonical_correlations",
    "canonical_correlations_from_covariance",
    "cca_from_covariance",
    "cca_matrix_from_covariance",
    "cca_similarity_matrix",
    "check_variance_fraction",
    "principal_basis",
    "projection_weights",
    "pwcca",
    "pwcca_symmetric",
    "svcca",
    "whitening_basis",
]

#: Every measure name :func:`cca_similarity_matrix` knows.
MEASURES: tuple[str, ...] = ("svcca", "pwcca", "pwcca_symmetric", "cca_mean")
DEFAULT_MEASURES: tuple[str, ...] = ("svcca", "pwcca")
#: SVCCA keeps the top principal components explaining this fraction of a layer's variance.
DEFAULT_VARIANCE_FRACTION = 0.99
#: Rank deficiency: eigenvalues at or below this fraction of the largest are dropped (of the
#: correlation matrix, units scaled to unit variance, for CCA; of the covariance for SVCCA's PCA).
EIGEN_FLOOR = 1e-10
#: Fewest time points accepted (one centred degree of freedom).
MIN_SAMPLES = 2


# --------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------


def check_variance_fraction(variance_fraction: Any) -> float:
    """``variance_fraction`` as a float in ``(0, 1]``."""
    if isinstance(variance_fraction, bool) or not isinstance(variance_fraction, Real):
        raise ValueError(f"variance_fraction must be a number in (0, 1], got {variance_fraction!r}")
    f = float(variance_fraction)
    if not 0.0 < f <= 1.0:
        raise ValueError(
            "variance_fraction must be a number in (0, 1] (the fraction of each layer's "
            f"variance kept by SVCCA's PCA step), got {variance_fraction!r}"
        )
    return f


def _check_measures(measures: Any) -> tuple[str, ...]:
    """Measure names, known and de-duplicated (order kept); a bare string is one measure."""
    if isinstance(measures, str):
        measures = (measures,)
    out = tuple(dict.fromkeys(measures))
    if not out:
        raise ValueError(f"measures is empty; choose from {MEASURES}")
    bad = [m for m in out if m not in MEASURES]
    if bad:
        valid = ", ".join(repr(m) for m in MEASURES)
        raise ValueError(f"unknown CCA measure(s) {bad}; valid measures: {valid}")
    return out


def _check_index(cov: StackedCovariance, i: Any, arg: str) -> int:
    if isinstance(i, bool) or not isinstance(i, int | np.integer):
        raise ValueError(f"{arg} must be a layer index, got {i!r}")
    if not 0 <= int(i) < cov.n_layers:
        raise ValueError(f"{arg}={i} is out of range for {cov.n_layers} stacked layers")
    return int(i)


# --------------------------------------------------------------------------------------
# Per-layer bases
# --------------------------------------------------------------------------------------


def whitening_basis(scatter: np.ndarray) -> np.ndarray:
    r"""``W`` (``d × k``) with ``W^T G W = I_k`` over the non-degenerate directions of ``G``.

    ``G = Xc^T Xc`` (any positive multiple: only the scale of ``W`` changes). Units with
    ``G_jj = 0`` get zero rows; the others are scaled to the correlation matrix
    ``R = D^(-1/2) G D^(-1/2)``; with ``R = V Λ V^T`` the eigenvectors with
    ``λ > EIGEN_FLOOR · λ_max`` are kept and ``W = D^(-1/2) V_k Λ_k^(-1/2)``. ``k = 0`` for
    a constant layer.
    """
    g = np.asarray(scatter, dtype=np.float64)
    d = g.shape[0]
    units = np.flatnonzero(np.diag(g) > 0.0)
    if units.size == 0:
        return np.zeros((d, 0))
    s = np.sqrt(np.diag(g)[units])
    r = g[np.ix_(units, units)] / np.outer(s, s)
    lam, vec = np.linalg.eigh(0.5 * (r + r.T))
    keep = lam > EIGEN_FLOOR * lam[-1]
    w = np.zeros((d, int(keep.sum())))
    w[units] = vec[:, keep] / np.sqrt(lam[keep]) / s[:, None]
    return w


def principal_basis(scatter: np.ndarray, variance_fraction: float) -> np.ndarray:
    r"""SVCCA's reduction: ``V_k Λ_k^(-1/2)`` for the top ``k`` principal components of ``G``.

    With ``G = V Λ V^T``, ``λ_1 ≥ … ≥ λ_d`` (negative rounding clipped to 0), ``k`` is the
    smallest with ``Σ_{i<=k} λ_i >= f Σ_i λ_i``; components with ``λ <= EIGEN_FLOOR · λ_1``
    are dropped too. ``Xc V_k`` is the reduced layer; the returned basis whitens it.
    ``k = 0`` for a constant layer.
    """
    f = check_variance_fraction(variance_fraction)
    g = np.asarray(scatter, dtype=np.float64)
    lam, vec = np.linalg.eigh(0.5 * (g + g.T))
    lam, vec = np.maximum(lam[::-1], 0.0), vec[:, ::-1]
    if lam[0] <= 0.0:
        return np.zeros((g.shape[0], 0))
    cum = np.cumsum(lam)
    k = int(np.searchsorted(cum, f * cum[-1], side="left")) + 1
    k = min(k, int(np.count_nonzero(lam > EIGEN_FLOOR * lam[0])))
    return vec[:, :k] / np.sqrt(lam[:k])


def projection_weights(loadings: np.ndarray) -> np.ndarray:
    r"""PWCCA weights ``α_i = Σ_j |L_ji| / Σ_{j,k} |L_jk|`` (length ``m``).

    ``L_ji = <h_i, x_j>``: the inner product of canonical variate ``i`` with unit ``j``'s
    centred activity, ``L = G_xx A`` for the canonical directions ``A = W_x U``.
    """
    w = np.abs(np.asarray(loadings, dtype=np.float64)).sum(axis=0)
    return w / w.sum()


@dataclass(frozen=True, eq=False)
class _LayerBases:
    """What one layer contributes to every pair: its whitening bases (and PWCCA loadings)."""

    full: np.ndarray | None  # W (d × k), all non-degenerate directions
    loadings: np.ndarray | None  # G W (d × k)
    pca: np.ndarray | None  # SVCCA's whitened principal components


def _layer_bases(g: np.ndarray, measures: Sequence[str], fraction: float) -> _LayerBases:
    full = loadings = pca = None
    if any(m != "svcca" for m in measures):
        full = whitening_basis(g)
        loadings = g @ full
    if "svcca" in measures:
        pca = principal_basis(g, fraction)
    return _LayerBases(full, loadings, pca)


def _svd(wx: np.ndarray, gxy: np.ndarray, wy: np.ndarray) -> tuple[np.ndarray, ...]:
    """``U, ρ (clipped to [0, 1]), V`` of ``M = W_x^T G_xy W_y``."""
    u, rho, vt = np.linalg.svd(wx.T @ gxy @ wy, full_matrices=False)
    return u, np.clip(rho, 0.0, 1.0), vt.T


@dataclass
class _Problems:
    """Undefined cases met while scoring (reported as one warning each at the end)."""

    constant: dict[str, None]
    degenerate: list[str]

    def warn(self, n_time: int) -> None:
        for name in self.constant:
            warnings.warn(
                f"{name} has zero variance: its CCA similarities are undefined and reported as NaN",
                RuntimeWarning,
                stacklevel=3,
            )
        if self.degenerate:
            shown = "; ".join(self.degenerate[:3])
            more = f" and {len(self.degenerate) - 3} more" if len(self.degenerate) > 3 else ""
            warnings.warn(
                f"{len(self.degenerate)} CCA score(s) with k_x + k_y >= T = {n_time} retained "
                f"dimensions ({shown}{more}): canonical correlations equal 1 by construction; "
                "reported as NaN (more time points or a smaller variance_fraction needed)",
                RuntimeWarning,
                stacklevel=3,
            )


def _pair(
    gxy: np.ndarray,
    bx: _LayerBases,
    by: _LayerBases,
    n_time: int,
    label: str,
    problems: _Problems,
) -> dict[str, float]:
    """Every score of one ordered pair; ``"pwcca_reverse"`` is ``PWCCA(Y, X)``."""
    nan = float("nan")
    out: dict[str, float] = {}
    if bx.full is not None and by.full is not None:
        kx, ky = bx.full.shape[1], by.full.shape[1]
        if kx and ky and kx + ky < n_time:
            u, rho, v = _svd(bx.full, gxy, by.full)
            out["cca_mean"] = float(rho.mean())
            out["pwcca"] = float(projection_weights(bx.loadings @ u) @ rho)
            out["pwcca_reverse"] = float(projection_weights(by.loadings @ v) @ rho)
        else:
            out.update(cca_mean=nan, pwcca=nan, pwcca_reverse=nan)
            if kx and ky:
                problems.degenerate.append(f"{label}: CCA {kx} + {ky}")
    if bx.pca is not None and by.pca is not None:
        kx, ky = bx.pca.shape[1], by.pca.shape[1]
        if kx and ky and kx + ky < n_time:
            out["svcca"] = float(_svd(bx.pca, gxy, by.pca)[1].mean())
        else:
            out["svcca"] = nan
            if kx and ky:
                problems.degenerate.append(f"{label}: SVCCA {kx} + {ky}")
    if "pwcca" in out:
        out["pwcca_symmetric"] = 0.5 * (out["pwcca"] + out["pwcca_reverse"])
    return out


def _constant_names(
    bases: dict[int, _LayerBases], names: Sequence[str], problems: _Problems
) -> None:
    for i, b in bases.items():
        basis = b.full if b.full is not None else b.pca
        if basis is not None and basis.shape[1] == 0:
            problems.constant[names[i]] = None


# --------------------------------------------------------------------------------------
# From a stacked covariance
# --------------------------------------------------------------------------------------


def canonical_correlations_from_covariance(
    cov: StackedCovariance,
    i: int,
    j: int,
    *,
    variance_fraction: float | None = None,
    names: Sequence[str] | None = None,
) -> np.ndarray:
    r"""Canonical correlations ``ρ_1 ≥ … ≥ ρ_m`` between stacked layers ``i`` and ``j``.

    Singular values of ``W_i^T G_ij W_j`` with ``W`` from :func:`whitening_basis` (or, with
    ``variance_fraction`` given, from :func:`principal_basis`: SVCCA's correlations).
    Empty for a constant layer. Warns (:class:`RuntimeWarning`) when ``k_i + k_j >= T``:
    at least ``k_i + k_j − T + 1`` of them are then 1 by construction.
    """
    i, j = _check_index(cov, i, "i"), _check_index(cov, j, "j")
    names = list(names) if names is not None else [f"layer {k}" for k in range(cov.n_layers)]
    if variance_fraction is None:
        wi, wj = whitening_basis(cov.block(i)), whitening_basis(cov.block(j))
    else:
        wi = principal_basis(cov.block(i), variance_fraction)
        wj = principal_basis(cov.block(j), variance_fraction)
    problems = _Problems({}, [])
    for w, k in ((wi, i), (wj, j)):
        if w.shape[1] == 0:
            problems.constant[names[k]] = None
    if problems.constant:
        problems.warn(cov.n_samples)
        return np.zeros(0)
    kx, ky, n = wi.shape[1], wj.shape[1], cov.n_samples
    if kx + ky >= n:
        warnings.warn(
            f"{names[i]} and {names[j]} keep {kx} + {ky} >= T = {n} dimensions: at least "
            f"{kx + ky - n + 1} of the canonical correlations equal 1 by construction",
            RuntimeWarning,
            stacklevel=2,
        )
    return _svd(wi, cov.block(i, j), wj)[1]


def cca_from_covariance(
    cov: StackedCovariance,
    i: int,
    j: int,
    *,
    measures: Sequence[str] | str = DEFAULT_MEASURES,
    variance_fraction: float = DEFAULT_VARIANCE_FRACTION,
    names: Sequence[str] | None = None,
) -> dict[str, float]:
    r"""CCA-family scores of stacked layer ``i`` (``X``) against layer ``j`` (``Y``).

    Reuses a :class:`~cebra_lens_core.metrics.cka.StackedCovariance` (e.g. the one made
    for CKA): only ``G_ii``, ``G_ij``, ``G_jj`` and ``T`` are used. ``"pwcca"`` takes its
    weights from layer ``i``. See the module docstring for the definitions.

    Returns:
        ``{measure: value}`` in the order of ``measures``; NaN (with a
        :class:`RuntimeWarning`) for a constant layer or ``k_i + k_j >= T``.

    Raises:
        ValueError: unknown measure, ``variance_fraction`` outside ``(0, 1]``, bad index.
    """
    measures = _check_measures(measures)
    fraction = check_variance_fraction(variance_fraction)
    i, j = _check_index(cov, i, "i"), _check_index(cov, j, "j")
    names = list(names) if names is not None else [f"layer {k}" for k in range(cov.n_layers)]
    bases = {k: _layer_bases(cov.block(k), measures, fraction) for k in dict.fromkeys((i, j))}
    problems = _Problems({}, [])
    _constant_names(bases, names, problems)
    scores = _pair(
        cov.block(i, j), bases[i], bases[j], cov.n_samples, f"{names[i]} vs {names[j]}", problems
    )
    problems.warn(cov.n_samples)
    return {m: scores[m] for m in measures}


def _matrix_from_covariance(
    cov: StackedCovariance,
    rows: Sequence[int],
    cols: Sequence[int],
    measures: tuple[str, ...],
    fraction: float,
    names: Sequence[str],
) -> dict[str, np.ndarray]:
    """Scores for every ``(rows[a], cols[b])``; each unordered pair is computed once."""
    order = dict.fromkeys([*rows, *cols])
    bases = {k: _layer_bases(cov.block(k), measures, fraction) for k in order}
    problems = _Problems({}, [])
    _constant_names(bases, names, problems)
    out = {m: np.full((len(rows), len(cols)), np.nan) for m in measures}
    done: dict[tuple[int, int], dict[str, float]] = {}
    for a, i in enumerate(rows):
        for b, j in enumerate(cols):
            if (j, i) in done:  # same pair, other order: swap the PWCCA directions
                scores = dict(done[(j, i)])
                if "pwcca" in scores:
                    scores["pwcca"], scores["pwcca_reverse"] = (
                        scores["pwcca_reverse"],
                        scores["pwcca"],
                    )
            else:
                label = f"{names[i]} vs {names[j]}"
                scores = _pair(cov.block(i, j), bases[i], bases[j], cov.n_samples, label, problems)
                done[(i, j)] = scores
            for m in measures:
                out[m][a, b] = scores[m]
    problems.warn(cov.n_samples)
    return out


def cca_matrix_from_covariance(
    cov: StackedCovariance,
    rows: Sequence[int],
    cols: Sequence[int],
    *,
    measures: Sequence[str] | str = DEFAULT_MEASURES,
    variance_fraction: float = DEFAULT_VARIANCE_FRACTION,
    names: Sequence[str] | None = None,
) -> dict[str, np.ndarray]:
    """:func:`cca_from_covariance` of every stacked layer ``rows[a]`` (``X``) against every
    ``cols[b]`` (``Y``): ``{measure: len(rows) × len(cols)}``. Each layer's whitening and
    principal bases are computed once (not once per pair), and a pair met in both orders is
    decomposed once.

    Raises:
        ValueError: unknown measure, bad ``variance_fraction``, bad index.
    """
    measures = _check_measures(measures)
    fraction = check_variance_fraction(variance_fraction)
    rows = [_check_index(cov, i, "rows") for i in rows]
    cols = [_check_index(cov, j, "cols") for j in cols]
    names = list(names) if names is not None else [f"layer {k}" for k in range(cov.n_layers)]
    return _matrix_from_covariance(cov, rows, cols, measures, fraction, names)


# --------------------------------------------------------------------------------------
# Public API on arrays / lazy layers
# --------------------------------------------------------------------------------------


def cca_similarity_matrix(
    layers_a: Sequence[Any],
    layers_b: Sequence[Any] | None = None,
    *,
    measures: Sequence[str] | str = DEFAULT_MEASURES,
    variance_fraction: float = DEFAULT_VARIANCE_FRACTION,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    device: Any = None,
    names_a: Sequence[str] | None = None,
    names_b: Sequence[str] | None = None,
) -> dict[str, np.ndarray]:
    r"""CCA-family similarity between layers: ``{measure: (L_a × L_b) array}``.

    All layers (``layers_a`` and, if given, ``layers_b``) go into ONE
    :func:`~cebra_lens_core.metrics.cka.stacked_covariance` (two streamed passes over the
    rows, float64; memory ``O((Σd)^2 + chunk · Σd)``, never ``T × T``); then every pair is
    scored from its blocks (:func:`cca_from_covariance`; the per-layer eigendecompositions
    are made once). ``layers_b=None``: ``layers_a`` against itself (``L_a × L_a``).

    Entry ``[a, b]`` compares ``layers_a[a]`` (``X``) with ``layers_b[b]`` (``Y``):
    ``"pwcca"`` takes its weights from the row layer and is not symmetric;
    ``"svcca"``, ``"cca_mean"`` and ``"pwcca_symmetric"`` are.

    Args:
        layers_a, layers_b: sequences of ``(T, d_i)`` numpy arrays or lazy array-likes
            (``.shape`` and row slicing ``a[start:stop]``), all with the same ``T``.
        measures: names from :data:`MEASURES` (default ``("svcca", "pwcca")``).
        variance_fraction: SVCCA's kept fraction of each layer's variance, in ``(0, 1]``.
        chunk_size: rows read per chunk.
        device: where the stacked covariance is formed (see ``stacked_covariance``).
        names_a, names_b: names in error messages and warnings.

    Returns:
        dict of float64 arrays, in the order of ``measures``; NaN where undefined
        (constant layer, ``k_x + k_y >= T``), with a :class:`RuntimeWarning`.

    Raises:
        ValueError: unknown measure, bad ``variance_fraction`` or ``chunk_size``, a layer
            that is not 2-D, has a different ``T`` or holds NaN/inf (named), ``T < 2``.
        TypeError: a single array passed instead of a sequence of layers.
    """
    measures = _check_measures(measures)
    fraction = check_variance_fraction(variance_fraction)
    la = check_layers(layers_a, "layers_a", names_a)
    names = list(names_a) if names_a else [f"layers_a[{i}]" for i in range(len(la))]
    lb = [] if layers_b is None else check_layers(layers_b, "layers_b", names_b)
    names += list(names_b) if names_b else [f"layers_b[{j}]" for j in range(len(lb))]
    layers = la + lb
    check_same_time(layers, names, MIN_SAMPLES)
    cov = stacked_covariance(layers, chunk_size=chunk_size, names=names, device=device)
    rows = list(range(len(la)))
    cols = list(range(len(la), len(layers))) if layers_b is not None else rows
    return _matrix_from_covariance(cov, rows, cols, measures, fraction, names)


def _pair_covariance(X: Any, Y: Any, chunk_size: int) -> StackedCovariance:
    layers = check_layers([X, Y], "layers", ["X", "Y"])
    check_same_time(layers, ["X", "Y"], MIN_SAMPLES)
    return stacked_covariance(layers, chunk_size=chunk_size, names=["X", "Y"])


def canonical_correlations(X: Any, Y: Any, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> np.ndarray:
    r"""Canonical correlations ``ρ_1 ≥ … ≥ ρ_m`` of ``X`` (``T × p``) and ``Y`` (``T × q``).

    Singular values of ``C_xx^(-1/2) C_xy C_yy^(-1/2)`` over the ``k_x``, ``k_y``
    non-degenerate directions (``m = min(k_x, k_y)``; module docstring), from the streamed
    scatter matrices. Empty (with a warning) if a layer is constant; a
    :class:`RuntimeWarning` when ``k_x + k_y >= T`` (some correlations are then 1 by
    construction). Invariant to invertible linear maps and translation of either input.

    Raises:
        ValueError: not 2-D, different ``T``, NaN/inf (named with the time index), ``T < 2``.
    """
    cov = _pair_covariance(X, Y, chunk_size)
    return canonical_correlations_from_covariance(cov, 0, 1, names=["X", "Y"])


def svcca(
    X: Any,
    Y: Any,
    *,
    variance_fraction: float = DEFAULT_VARIANCE_FRACTION,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> float:
    r"""SVCCA: mean of the ``min(k_x, k_y)`` canonical correlations of the PCA-reduced layers.

    Each layer keeps its top principal components explaining ``variance_fraction`` of its
    variance (:func:`principal_basis`). NaN (with a warning) if a layer is constant or
    ``k_x + k_y >= T``.

    Raises:
        ValueError: bad ``variance_fraction``; see :func:`canonical_correlations`.
    """
    fraction = check_variance_fraction(variance_fraction)
    cov = _pair_covariance(X, Y, chunk_size)
    return cca_from_covariance(
        cov, 0, 1, measures=("svcca",), variance_fraction=fraction, names=["X", "Y"]
    )["svcca"]


def pwcca(X: Any, Y: Any, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> float:
    r"""Projection-weighted CCA ``Σ_i α_i ρ_i`` with weights from ``X`` (Morcos et al. 2018).

    ``α_i ∝ Σ_j |<h_i, x_j>|`` over the centred units ``x_j`` of ``X`` and its canonical
    variates ``h_i``. Asymmetric; see :func:`pwcca_symmetric`. NaN (with a warning) if a
    layer is constant or ``k_x + k_y >= T``.
    """
    cov = _pair_covariance(X, Y, chunk_size)
    return cca_from_covariance(cov, 0, 1, measures=("pwcca",), names=["X", "Y"])["pwcca"]


def pwcca_symmetric(X: Any, Y: Any, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> float:
    r"""``(PWCCA(X, Y) + PWCCA(Y, X)) / 2`` (one CCA; the two weightings from its SVD)."""
    cov = _pair_covariance(X, Y, chunk_size)
    measure = "pwcca_symmetric"
    return cca_from_covariance(cov, 0, 1, measures=(measure,), names=["X", "Y"])[measure]
