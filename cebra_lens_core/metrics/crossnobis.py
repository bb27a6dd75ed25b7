r"""Cross-validated Mahalanobis ("crossnobis") RDMs and whitened RDM comparators.

Walther et al. (2016) for the crossnobis estimator, Diedrichsen et al. (2021) for the
whitened comparators; conventions follow rsatoolbox (``calc_rdm(..., method="crossnobis")``,
``data.noise.prec_from_residuals(..., method="shrinkage_eye")``,
``rdm.compare(..., method="cosine_cov" / "corr_cov")``) and agree with it to 1e-8.

Notation: a layer ``X`` (``T × d``, time × units, an array or a lazy layer), an integer
condition id ``c(t)`` per row and a fold ``f(t)`` per row. Folds are ``F`` **contiguous**
time blocks (:func:`contiguous_folds`), never random samples: neighbouring time bins are
correlated, and random folds would let that correlation leak between folds and bias the
distances upwards.

Fold means and residuals (one pass over ``X`` for the sums, one for the residuals)::

    μ_c^f = mean of x_t over {t : c(t) = c, f(t) = f}        (one per non-empty cell (f, c))
    r_t   = x_t − μ_{c(t)}^{f(t)},   S = Σ_t r_t r_tᵀ,   q = Σ_t ||r_t||⁴,
    ν     = T − G    (residual degrees of freedom; G = number of non-empty cells)

Noise covariance with Ledoit–Wolf shrinkage towards a scaled identity (rsatoolbox
``shrinkage_eye``, Ledoit & Wolf 2004), precision ``P = Σ⁻¹``::

    m = tr(S) / d
    λ = min(1, (q − ||S||_F² / T) / ||S − m I||_F²)          ("ledoit_wolf"; 0 if S = m I)
    Σ = (λ m I + (1 − λ) S) / ν

``λ`` is rsatoolbox's ``b² / d²`` (with ``s = S / T``: ``b² = (q/T − ||s||²) / T``,
``d² = ||s − (tr s / d) I||²``) and ``Σ`` its shrunk ``s`` times ``T / ν``; ``shrinkage="none"``
is ``Σ = S / ν`` (rsatoolbox ``full``) and a number ``λ`` fixes the intensity (rsatoolbox
``lamb_opt``). rsatoolbox also subtracts the column mean of the residuals, which is exactly
zero here (every cell's residuals sum to zero), so it is not subtracted again.

Crossnobis distance of conditions ``i, j`` (rsatoolbox's division by the number of units
``d``), with ``δ_ij^f = μ_i^f − μ_j^f`` and ``F_ij`` the folds holding both conditions::

    D_ij = 1 / (|F_ij| (|F_ij| − 1)) · Σ_{f ≠ g ∈ F_ij} δ_ij^fᵀ P δ_ij^g / d

the mean over **ordered** pairs of distinct folds. When every condition occurs in every
fold this is exactly rsatoolbox's leave-one-fold-out estimator applied to the per-fold
condition means (one pattern estimate per fold, ``cv_descriptor`` = fold): the mean over
``f`` of ``(mean_{g ≠ f} δ^g)ᵀ P δ^f / d``. Given the raw rows instead, rsatoolbox pools the
training folds' rows (a count-weighted mean); the two agree when each condition has the
same number of rows in every fold.

Missing cells: a condition absent from a fold simply does not enter that fold's pairs; the
distance of ``i, j`` uses only the folds in which both occur. A condition found in fewer
than two folds, or a pair of conditions sharing fewer than two folds, has no
cross-validated distance: that is a ``ValueError`` (raised from the labels alone, before
``X`` is read) suggesting fewer folds or coarser conditions.

Unbiasedness: for noise independent between folds and independent of the residuals (true
for Gaussian noise, whose cell means are independent of the deviations from them),
``E[δ^fᵀ P δ^g] = E[δ^f]ᵀ E[P] E[δ^g]``, which is 0 when the conditions share one mean.
Crossnobis distances are therefore negative about half the time for indistinguishable
conditions, whereas the plain Mahalanobis distance ``δᵀ P δ / d`` of the overall means is
always positive (it carries the noise variance of the means).

Invariances of the crossnobis RDM: translation of all rows; any invertible linear map of
the units ``X → X A`` when ``P`` is unshrunk (``P → A⁻¹ P A⁻ᵀ``, ``δ → Aᵀ δ``) — with
Ledoit–Wolf shrinkage only orthogonal maps (incl. permutations of units) and isotropic
scaling (``λ`` is scale-free).

Whitened comparators (Diedrichsen et al. 2021) on RDM vectors ``a, b`` (upper triangles,
row-major as :func:`~cebra_lens_core.metrics.rdm.upper_triangle`, ``n`` conditions,
``K = n (n − 1) / 2`` pairs). With ``C`` the ``K × n`` pair-contrast matrix (row of pair
``(i, j)`` is ``e_i − e_j``) the covariance of distance estimates under i.i.d. noise is, as
rsatoolbox's ``_get_v`` with ``sigma_k = None``::

    V = (C Cᵀ) ∘ (C Cᵀ)                                          (K × K)
    cosine_cov(a, b) = aᵀ V⁻¹ b / sqrt(aᵀ V⁻¹ a · bᵀ V⁻¹ b)
    corr_cov(a, b)   = cosine_cov(a − ā, b − b̄)                  (ā: plain mean of the K entries)

``V`` is never formed: ``aᵀ V⁻¹ b`` is proportional (one constant for all vectors) to the
Frobenius product ``⟨G_a, G_b⟩`` of the double-centred second-moment matrices
``G = −½ H D H`` (``D`` the symmetric ``n × n`` RDM, ``H = I − 11ᵀ/n``), which is how
rsatoolbox computes it too; memory ``O(n²)`` instead of ``O(n⁴)``. The tests check the
identity against an explicit ``V⁻¹``. An RDM whose whitened norm is zero (all-zero, or
constant for ``corr_cov``) gives NaN with a :class:`RuntimeWarning` (rsatoolbox returns 0).

References:
    Walther, Nili, Ejaz, Alink, Kriegeskorte, Diedrichsen (2016). Reliability of dissimilarity
    measures for multi-voxel pattern analysis. NeuroImage 137.
    Diedrichsen, Berlot, Mur, Schütt, Shahbazi, Kriegeskorte (2021). Comparing representational
    geometries using whitened unbiased-distance-matrix similarity. Neurons, Behavior, Data
    analysis, and Theory 5(3).
    Ledoit & Wolf (2004). A well-conditioned estimator for large-dimensional covariance
    matrices. J. Multivariate Anal. 88.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from cebra_lens_core.metrics._validation import check_layer, check_same_time
from cebra_lens_core.metrics.conditions import check_codes
from cebra_lens_core.metrics.rdm import rdm_vector
from cebra_lens_core.metrics.streaming import DEFAULT_CHUNK_ROWS, group_sums, iter_chunks

__all__ = [
    "DEFAULT_N_FOLDS",
    "SHRINKAGE_METHODS",
    "WHITENED_COMPARATORS",
    "FoldLayout",
    "Shrinkage",
    "WhitenedComparator",
    "check_shrinkage",
    "compare_rdms_whitened",
    "contiguous_folds",
    "crossnobis_from_fold_means",
    "crossnobis_rdm",
    "crossnobis_rsa",
    "fold_layout",
    "noise_precision",
    "shrunk_covariance",
]

Shrinkage = Literal["ledoit_wolf", "none"]
WhitenedComparator = Literal["cosine_cov", "corr_cov"]
SHRINKAGE_METHODS: tuple[str, ...] = ("ledoit_wolf", "none")
WHITENED_COMPARATORS: tuple[str, ...] = ("cosine_cov", "corr_cov")
DEFAULT_N_FOLDS = 5
#: A noise covariance whose smallest eigenvalue is below this fraction of the largest is
#: treated as singular (no precision): use Ledoit–Wolf shrinkage or fewer units.
SINGULAR_RTOL = 1e-12


# --------------------------------------------------------------------------------------
# Folds and cells
# --------------------------------------------------------------------------------------


def _check_n_folds(n_folds: Any, n_time: int) -> int:
    if isinstance(n_folds, bool) or not isinstance(n_folds, int | np.integer):
        raise ValueError(f"n_folds must be an integer >= 2, got {n_folds!r}")
    if int(n_folds) < 2:
        raise ValueError(
            f"n_folds must be at least 2 (cross-validation needs two folds), got {n_folds}"
        )
    if int(n_folds) > n_time:
        raise ValueError(f"n_folds={n_folds} exceeds the number of time points ({n_time})")
    return int(n_folds)


def contiguous_folds(n_time: int, n_folds: int) -> np.ndarray:
    """Fold id per time point: ``n_folds`` contiguous blocks of rows, in time order.

    Block sizes differ by at most one, the first ``n_time mod n_folds`` blocks being the
    longer ones (the :func:`numpy.array_split` convention): fold ``k`` holds rows
    ``[b_k, b_{k+1})`` with ``b_k = k ⌊T/F⌋ + min(k, T mod F)``.

    Returns:
        ``(T,)`` int64, non-decreasing, values ``0 … n_folds − 1``.

    Raises:
        ValueError: ``n_time < 1``; ``n_folds`` not an integer, ``< 2`` or ``> n_time``.
    """
    if isinstance(n_time, bool) or int(n_time) != n_time or int(n_time) < 1:
        raise ValueError(f"n_time must be a positive integer, got {n_time!r}")
    n_time = int(n_time)
    n_folds = _check_n_folds(n_folds, n_time)
    base, extra = divmod(n_time, n_folds)
    sizes = np.full(n_folds, base, dtype=np.int64)
    sizes[:extra] += 1
    return np.repeat(np.arange(n_folds, dtype=np.int64), sizes)


@dataclass(frozen=True, eq=False)
class FoldLayout:
    """Which rows form which (fold, condition) cell; built from the labels alone.

    Attributes:
        ids: ``(C,)`` condition ids that occur (increasing): the RDM rows.
        fold_ids: ``(F,)`` fold ids that occur (increasing).
        cell: ``(T,)`` cell index of every row, ``0 … G − 1``.
        cell_fold: ``(G,)`` fold index (into ``fold_ids``) of each non-empty cell.
        cell_condition: ``(G,)`` condition index (into ``ids``) of each non-empty cell.
        present: ``(F, C)`` bool, condition ``c`` has rows in fold ``f``.
    """

    ids: np.ndarray
    fold_ids: np.ndarray
    cell: np.ndarray
    cell_fold: np.ndarray
    cell_condition: np.ndarray
    present: np.ndarray

    @property
    def n_cells(self) -> int:
        """Number of non-empty cells ``G``."""
        return len(self.cell_fold)

    @property
    def dof(self) -> int:
        """Residual degrees of freedom ``ν = T − G``."""
        return len(self.cell) - self.n_cells


def _describe(ids: np.ndarray, limit: int = 8) -> str:
    items = [str(int(i)) for i in ids[:limit]]
    return ", ".join(items) + (f", … ({len(ids)} in all)" if len(ids) > limit else "")


def fold_layout(
    conditions: Any, folds: Any, n_time: int | None = None, *, require_pairs: bool = True
) -> FoldLayout:
    """Cells ``(fold, condition)`` of the rows, with the cross-validation checks.

    Args:
        conditions: ``(T,)`` integer condition id per row (or a
            :class:`~cebra_lens_core.metrics.conditions.Conditions`: its ``codes``).
        folds: ``(T,)`` integer fold id per row (e.g. :func:`contiguous_folds`).
        n_time: rows of the layer, if known (length checks name both lengths).
        require_pairs: also require what a crossnobis RDM needs: every condition in at
            least two folds, every pair of conditions sharing at least two folds.

    Raises:
        ValueError: labels invalid or of the wrong length; fewer than 2 folds or 2
            conditions; with ``require_pairs``, conditions found in fewer than two folds or
            pairs sharing fewer than two folds (named).
    """
    codes = check_codes(getattr(conditions, "codes", conditions), n_time, "conditions")
    fold_of = check_codes(folds, len(codes), "folds")
    ids, cond_idx = np.unique(codes, return_inverse=True)
    fold_ids, fold_idx = np.unique(fold_of, return_inverse=True)
    if len(fold_ids) < 2:
        raise ValueError(
            f"folds has {len(fold_ids)} distinct fold id(s); cross-validation needs at least 2"
        )
    if len(ids) < 2:
        raise ValueError(f"need at least 2 conditions, got {len(ids)} (ids: {ids.tolist()})")
    n_cond = len(ids)
    flat = fold_idx.reshape(-1) * n_cond + cond_idx.reshape(-1)
    cells, cell = np.unique(flat, return_inverse=True)
    present = np.zeros((len(fold_ids), n_cond), dtype=bool)
    present.flat[cells] = True
    if require_pairs:
        n_in = present.sum(axis=0)
        lonely = ids[n_in < 2]
        if len(lonely):
            raise ValueError(
                f"conditions {_describe(lonely)} occur in fewer than 2 of the "
                f"{len(fold_ids)} folds, so they have no cross-validated distance; "
                "use fewer folds or coarser conditions (fewer bins)"
            )
        shared = present.T.astype(np.int64) @ present.astype(np.int64)
        bad = np.argwhere(np.triu(shared < 2, k=1))
        if len(bad):
            i, j = bad[0]
            raise ValueError(
                f"{len(bad)} pair(s) of conditions share fewer than 2 folds (e.g. conditions "
                f"{int(ids[i])} and {int(ids[j])} share {int(shared[i, j])}), so they have no "
                "cross-validated distance; use fewer folds or coarser conditions"
            )
    return FoldLayout(
        ids=ids.astype(np.int64),
        fold_ids=fold_ids.astype(np.int64),
        cell=cell.reshape(-1).astype(np.intp),
        cell_fold=(cells // n_cond).astype(np.intp),
        cell_condition=(cells % n_cond).astype(np.intp),
        present=present,
    )


# --------------------------------------------------------------------------------------
# Streaming passes
# --------------------------------------------------------------------------------------


def _cell_means(x: Any, layout: FoldLayout, chunk_size: int, name: str) -> np.ndarray:
    """Pass 1: ``(G, d)`` float64 mean of every non-empty cell."""
    sums = np.zeros((layout.n_cells, int(x.shape[1])))
    for lo, hi, chunk in iter_chunks(x, chunk_size, name=name):
        sums += group_sums(chunk, layout.cell[lo:hi], layout.n_cells)
    counts = np.bincount(layout.cell, minlength=layout.n_cells)
    return sums / counts[:, None]


def _residual_moments(
    x: Any, layout: FoldLayout, means: np.ndarray, chunk_size: int, name: str
) -> tuple[np.ndarray, float]:
    """Pass 2: ``S = Σ_t r_t r_tᵀ`` (``d × d``) and ``q = Σ_t ||r_t||⁴`` of the residuals."""
    d = int(x.shape[1])
    scatter = np.zeros((d, d))
    fourth = 0.0
    for lo, hi, chunk in iter_chunks(x, chunk_size, name=name):
        r = chunk - means[layout.cell[lo:hi]]
        scatter += r.T @ r
        sq = np.einsum("ij,ij->i", r, r)
        fourth += float(sq @ sq)
    return 0.5 * (scatter + scatter.T), fourth


def check_shrinkage(shrinkage: Any) -> str | float:
    """``shrinkage`` as a method name (``None`` = ``"none"``) or an intensity in ``[0, 1]``."""
    if isinstance(shrinkage, str):
        if shrinkage not in SHRINKAGE_METHODS:
            valid = ", ".join(repr(m) for m in SHRINKAGE_METHODS)
            raise ValueError(
                f"unknown shrinkage {shrinkage!r}: shrinkage must be one of {valid} or a "
                "number in [0, 1]"
            )
        return shrinkage
    if shrinkage is None:
        return "none"
    if isinstance(shrinkage, bool) or not isinstance(shrinkage, int | float | np.number):
        raise ValueError(
            f"shrinkage must be 'ledoit_wolf', 'none' or a number in [0, 1], got {shrinkage!r}"
        )
    lam = float(shrinkage)
    if not (0.0 <= lam <= 1.0):
        raise ValueError(f"a fixed shrinkage intensity must lie in [0, 1], got {shrinkage!r}")
    return lam


def shrunk_covariance(
    scatter: np.ndarray,
    fourth_moment: float,
    n_samples: int,
    dof: int,
    shrinkage: Shrinkage | float | None = "ledoit_wolf",
) -> tuple[np.ndarray, float]:
    r"""Noise covariance from residual moments, shrunk towards a scaled identity.

    With ``S = Σ_t r_t r_tᵀ`` (``scatter``), ``q = Σ_t ||r_t||⁴`` (``fourth_moment``),
    ``T = n_samples``, ``ν = dof`` and ``m = tr(S) / d``::

        λ = min(1, (q − ||S||_F² / T) / ||S − m I||_F²)      (Ledoit & Wolf 2004)
        Σ = (λ m I + (1 − λ) S) / ν

    exactly rsatoolbox's ``_covariance_eye`` (``shrinkage_eye``) with its ``dof``
    correction. ``λ`` is 0 when ``S`` is already a multiple of ``I`` (``d = 1``, say).

    Args:
        shrinkage: ``"ledoit_wolf"`` (default), ``"none"``/``None`` (``λ = 0``, the sample
            covariance ``S / ν``) or a fixed ``λ`` in ``[0, 1]``.

    Returns:
        ``(Σ (d × d, float64, symmetric), λ)``.
    """
    method = check_shrinkage(shrinkage)
    scatter = np.asarray(scatter, dtype=np.float64)
    d = scatter.shape[0]
    if int(dof) < 1:
        raise ValueError(f"residual degrees of freedom must be positive, got {dof}")
    m = float(np.trace(scatter)) / d
    if method == "none":
        lam = 0.0
    elif method == "ledoit_wolf":
        target_gap = scatter - m * np.eye(d)
        d2 = float(np.vdot(target_gap, target_gap))
        b2 = float(fourth_moment) - float(np.vdot(scatter, scatter)) / int(n_samples)
        lam = 0.0 if d2 <= 0.0 else min(1.0, max(b2, 0.0) / d2)
    else:
        lam = float(method)
    cov = (1.0 - lam) * scatter
    cov[np.diag_indices(d)] += lam * m
    return cov / int(dof), lam


def _precision(cov: np.ndarray, shrinkage: str | float, dof: int, name: str) -> np.ndarray:
    """``Σ⁻¹`` via the symmetric eigendecomposition; raise if ``Σ`` is (near) singular."""
    w, v = np.linalg.eigh(cov)
    top = float(w[-1])
    if not top > 0.0:
        raise ValueError(
            f"{name}: the noise covariance is zero (every (fold, condition) cell is constant), "
            "so the Mahalanobis precision is undefined"
        )
    if float(w[0]) <= SINGULAR_RTOL * top:
        raise ValueError(
            f"{name}: the noise covariance is singular (smallest/largest eigenvalue "
            f"{float(w[0]) / top:.3g}; {cov.shape[0]} units, {dof} residual degrees of "
            f"freedom, shrinkage={shrinkage!r}); use shrinkage='ledoit_wolf', or drop "
            "constant / duplicated units"
        )
    prec = (v / w) @ v.T
    return 0.5 * (prec + prec.T)


def _layer_noise(
    x: Any, layout: FoldLayout, shrinkage: str | float, chunk_size: int, name: str
) -> tuple[np.ndarray, np.ndarray, float]:
    """Both passes: ``(cell means (G × d), precision (d × d), λ)``."""
    if layout.dof < 1:
        raise ValueError(
            f"{name}: {len(layout.cell)} rows in {layout.n_cells} (fold, condition) cells leave "
            "no residual degrees of freedom for the noise covariance"
        )
    means = _cell_means(x, layout, chunk_size, name)
    scatter, fourth = _residual_moments(x, layout, means, chunk_size, name)
    cov, lam = shrunk_covariance(scatter, fourth, len(layout.cell), layout.dof, shrinkage)
    return means, _precision(cov, shrinkage, layout.dof, name), lam


def _layout_for(
    X: Any, conditions: Any, folds: Any, name: str, require_pairs: bool
) -> tuple[Any, FoldLayout]:
    x = check_layer(X, name)
    n_time = int(x.shape[0])
    if isinstance(folds, int | np.integer) and not isinstance(folds, bool):
        folds = contiguous_folds(n_time, int(folds))
    return x, fold_layout(conditions, folds, n_time, require_pairs=require_pairs)


def noise_precision(
    X: Any,
    conditions: Any,
    folds: Any,
    *,
    shrinkage: Shrinkage | float | None = "ledoit_wolf",
    chunk_size: int = DEFAULT_CHUNK_ROWS,
    name: str = "X",
) -> tuple[np.ndarray, float]:
    r"""Noise precision ``P = Σ⁻¹`` from the residuals about the (fold, condition) means.

    ``r_t = x_t − μ_{c(t)}^{f(t)}``; ``Σ`` as :func:`shrunk_covariance` with
    ``ν = T − G`` (``G`` non-empty cells). Equals
    ``rsatoolbox.data.noise.prec_from_residuals(r, dof=ν, method="shrinkage_eye")``.
    ``X`` is read twice in chunks (cell sums, then the residual scatter ``Σ r rᵀ`` and
    ``Σ ||r||⁴``): memory one chunk plus ``G × d`` means and ``d × d``.

    Args:
        X: ``(T, d)`` layer (array or lazy).
        conditions: ``(T,)`` integer condition id per row.
        folds: ``(T,)`` integer fold id per row, or a number of contiguous folds.
        shrinkage: ``"ledoit_wolf"`` (default), ``"none"``/``None`` or a fixed ``λ``.
        chunk_size: rows read per chunk.
        name: name of ``X`` in error messages.

    Returns:
        ``(P (d × d, float64, symmetric), λ)``.

    Raises:
        ValueError: bad labels or lengths, NaN/inf in ``X`` (time index named), bad
            ``shrinkage``, no residual degrees of freedom, a singular covariance.
    """
    method = check_shrinkage(shrinkage)
    x, layout = _layout_for(X, conditions, folds, name, require_pairs=False)
    _, prec, lam = _layer_noise(x, layout, method, chunk_size, name)
    return prec, lam


# --------------------------------------------------------------------------------------
# Crossnobis RDM
# --------------------------------------------------------------------------------------


def crossnobis_from_fold_means(
    means: Any, precision: Any, present: Any | None = None
) -> np.ndarray:
    r"""Crossnobis RDM from per-fold condition means and a noise precision.

    ``D_ij = 1/(|F_ij|(|F_ij| − 1)) Σ_{f ≠ g ∈ F_ij} (μ_i^f − μ_j^f)ᵀ P (μ_i^g − μ_j^g) / d``,
    ``F_ij`` the folds where both conditions are present. Computed fold pair by fold pair
    from ``K^{fg} = M^f P M^gᵀ`` (``C × C``): ``δ^fᵀ P δ^g = K_ii + K_jj − K_ij − K_ji``.

    Args:
        means: ``(F, C, d)`` fold × condition means (entries of absent cells are ignored).
        precision: ``(d, d)`` symmetric precision ``P``.
        present: ``(F, C)`` bool mask of the cells that exist (default: all).

    Returns:
        ``(C, C)`` float64, symmetric, zero diagonal.

    Raises:
        ValueError: shapes that do not fit; a pair of conditions sharing fewer than 2 folds.
    """
    mu = np.asarray(means, dtype=np.float64)
    prec = np.asarray(precision, dtype=np.float64)
    if mu.ndim != 3:
        raise ValueError(f"means must be (folds, conditions, units), got shape {mu.shape}")
    n_folds, n_cond, d = mu.shape
    if prec.shape != (d, d):
        raise ValueError(f"precision must be ({d}, {d}) for {d} units, got shape {prec.shape}")
    mask = (
        np.ones((n_folds, n_cond), dtype=bool)
        if present is None
        else np.asarray(present, dtype=bool)
    )
    if mask.shape != (n_folds, n_cond):
        raise ValueError(f"present must be ({n_folds}, {n_cond}), got shape {mask.shape}")
    mu = np.where(mask[:, :, None], mu, 0.0)
    weighted = mu @ prec  # (F, C, d): rows μ_c^f P
    total = np.zeros((n_cond, n_cond))
    n_pairs = np.zeros((n_cond, n_cond))
    for f in range(n_folds):
        for g in range(f + 1, n_folds):
            k = weighted[f] @ mu[g].T
            diag = np.diag(k)
            both = mask[f] & mask[g]
            w = np.outer(both, both)
            total += w * (diag[:, None] + diag[None, :] - k - k.T)
            n_pairs += w
    off = ~np.eye(n_cond, dtype=bool)
    if (n_pairs[off] < 1).any():
        raise ValueError("some pairs of conditions share fewer than 2 folds (see fold_layout)")
    out = np.zeros((n_cond, n_cond))
    out[off] = total[off] / n_pairs[off] / d  # f < g and g < f contribute the same value
    return 0.5 * (out + out.T)


def _fold_means(layout: FoldLayout, cell_means: np.ndarray) -> np.ndarray:
    out = np.zeros((len(layout.fold_ids), len(layout.ids), cell_means.shape[1]))
    out[layout.cell_fold, layout.cell_condition] = cell_means
    return out


def _layer_rdm(
    x: Any, layout: FoldLayout, method: str | float, chunk_size: int, name: str
) -> np.ndarray:
    cell_means, prec, _ = _layer_noise(x, layout, method, chunk_size, name)
    return crossnobis_from_fold_means(_fold_means(layout, cell_means), prec, layout.present)


def crossnobis_rdm(
    X: Any,
    conditions: Any,
    *,
    n_folds: int = DEFAULT_N_FOLDS,
    shrinkage: Shrinkage | float | None = "ledoit_wolf",
    chunk_size: int = DEFAULT_CHUNK_ROWS,
    name: str = "X",
) -> tuple[np.ndarray, np.ndarray]:
    r"""Crossnobis RDM of a layer over ``n_folds`` contiguous time folds.

    Per fold ``f`` and condition ``c`` the mean ``μ_c^f``; noise precision ``P`` from the
    residuals about them (:func:`noise_precision`); then
    ``D_ij = mean over ordered fold pairs f ≠ g (both conditions present) of
    (μ_i^f − μ_j^f)ᵀ P (μ_i^g − μ_j^g) / d`` (:func:`crossnobis_from_fold_means`). Unbiased:
    conditions that differ only by noise have expected distance 0 (entries can be negative).

    Args:
        X: ``(T, d)`` layer (array or lazy; read twice in chunks, memory
            ``O(chunk · d + F C d + d²)``).
        conditions: ``(T,)`` integer condition id per row (a discrete label or a binned
            continuous one, see :mod:`cebra_lens_core.metrics.conditions`).
        n_folds: number of contiguous time blocks (:func:`contiguous_folds`), ``>= 2``.
        shrinkage: noise covariance shrinkage (:func:`shrunk_covariance`).
        chunk_size: rows read per chunk.
        name: name of ``X`` in error messages.

    Returns:
        ``(rdm (C × C float64, symmetric, zero diagonal), ids (C,) condition ids)``.

    Raises:
        ValueError: ``n_folds`` not an integer in ``[2, T]``; labels of the wrong length or
            not integers; a condition in fewer than 2 folds or a pair sharing fewer than 2
            (checked before ``X`` is read); NaN/inf in ``X``; a singular noise covariance.
    """
    method = check_shrinkage(shrinkage)
    x = check_layer(X, name)
    n_time = int(x.shape[0])
    folds = contiguous_folds(n_time, n_folds)
    layout = fold_layout(conditions, folds, n_time)
    return _layer_rdm(x, layout, method, chunk_size, name), layout.ids


# --------------------------------------------------------------------------------------
# Whitened comparators
# --------------------------------------------------------------------------------------


def _check_comparator(method: str) -> str:
    if method not in WHITENED_COMPARATORS:
        valid = ", ".join(repr(m) for m in WHITENED_COMPARATORS)
        raise ValueError(f"unknown whitened comparator {method!r}; valid: {valid}")
    return method


def _n_conditions(n_pairs: int, name: str) -> int:
    n = (1 + math.isqrt(1 + 8 * n_pairs)) // 2
    if n * (n - 1) // 2 != n_pairs:
        raise ValueError(
            f"{name} has {n_pairs} entries, which is not n(n−1)/2 for any number of "
            "conditions n: pass a square RDM or its full upper triangle"
        )
    if n < 3:
        raise ValueError(f"{name} has {n} conditions; whitened comparison needs at least 3")
    return n


def _second_moment(v: np.ndarray, n: int) -> np.ndarray:
    """``G = −½ H D H`` of the symmetric RDM ``D`` with upper triangle ``v``."""
    dmat = np.zeros((n, n))
    iu = np.triu_indices(n, k=1)
    dmat[iu] = v
    dmat = dmat + dmat.T
    row = dmat.mean(axis=1)
    return -0.5 * (dmat - row[:, None] - row[None, :] + row.mean())


def compare_rdms_whitened(a: Any, b: Any, method: WhitenedComparator = "cosine_cov") -> float:
    r"""Whitened RDM similarity (Diedrichsen et al. 2021): ``cosine_cov`` or ``corr_cov``.

    ``cosine_cov(a, b) = aᵀ V⁻¹ b / sqrt(aᵀ V⁻¹ a · bᵀ V⁻¹ b)`` with
    ``V = (C Cᵀ) ∘ (C Cᵀ)`` (``C`` the pair-contrast matrix), computed as the cosine of the
    double-centred second moments ``G = −½ H D H`` (see the module docstring);
    ``corr_cov`` is the same on ``a − mean(a)``, ``b − mean(b)``. Matches
    ``rsatoolbox.rdm.compare(..., method=method)`` without ``sigma_k``.

    Args:
        a, b: square RDMs (``n × n``, symmetrised) or their upper triangles (row-major).
        method: ``"cosine_cov"`` (default) or ``"corr_cov"``.

    Returns:
        The similarity in ``[−1, 1]``; NaN with a :class:`RuntimeWarning` if a whitened
        vector has zero norm.

    Raises:
        ValueError: unknown method; NaN entries; lengths that differ or are not
            ``n(n−1)/2`` with ``n >= 3``.
    """
    method = _check_comparator(method)
    va, vb = rdm_vector(a, "a"), rdm_vector(b, "b")
    if len(va) != len(vb):
        raise ValueError(
            f"a has {len(va)} upper-triangle entries but b has {len(vb)}; "
            "RDMs must have the same conditions"
        )
    n = _n_conditions(len(va), "a")
    if method == "corr_cov":
        va, vb = va - va.mean(), vb - vb.mean()
    ga, gb = _second_moment(va, n), _second_moment(vb, n)
    na, nb = float(np.vdot(ga, ga)), float(np.vdot(gb, gb))
    if na <= 0.0 or nb <= 0.0:
        which = "a" if na <= 0.0 else "b"
        what = "centring and whitening" if method == "corr_cov" else "whitening"
        warnings.warn(
            f"{which} has zero norm after {what}: "
            f"its {method} similarity is undefined and reported as NaN",
            RuntimeWarning,
            stacklevel=2,
        )
        return float("nan")
    return float(np.clip(np.vdot(ga, gb) / math.sqrt(na * nb), -1.0, 1.0))


def crossnobis_rsa(
    X: Any,
    Y: Any,
    conditions: Any,
    *,
    n_folds: int = DEFAULT_N_FOLDS,
    method: WhitenedComparator = "cosine_cov",
    shrinkage: Shrinkage | float | None = "ledoit_wolf",
    chunk_size: int = DEFAULT_CHUNK_ROWS,
) -> float:
    """Layer-vs-layer RSA: the whitened comparison of the two layers' crossnobis RDMs.

    ``compare_rdms_whitened(crossnobis_rdm(X), crossnobis_rdm(Y), method)`` with the same
    conditions and contiguous folds for both layers; each layer has its own noise precision.

    Raises:
        ValueError: everything :func:`crossnobis_rdm` and :func:`compare_rdms_whitened`
            raise; ``X`` and ``Y`` with different numbers of rows (checked first).
    """
    method = _check_comparator(method)
    shrink = check_shrinkage(shrinkage)
    x, y = check_layer(X, "X"), check_layer(Y, "Y")
    n_time = check_same_time([x, y], ["X", "Y"])
    layout = fold_layout(conditions, contiguous_folds(n_time, n_folds), n_time)
    rdm_x = _layer_rdm(x, layout, shrink, chunk_size, "X")
    rdm_y = _layer_rdm(y, layout, shrink, chunk_size, "Y")
    return compare_rdms_whitened(rdm_x, rdm_y, method)
