r"""Representational dissimilarity matrices (RDMs) and their comparison (RSA).

Kriegeskorte, Mur & Bandettini (2008). Arrays are ``time × units``; conditions are integer
ids per time point (see :mod:`cebra_lens_core.metrics.conditions` for binning a
continuous label). The RDM is built from the condition means ``μ_c`` (``C × d``, rows
ordered by increasing condition id; conditions without samples are dropped)::

    correlation:         D_ij = 1 − r(μ_i, μ_j)          (Pearson r across the d units)
    cosine:              D_ij = 1 − μ_i·μ_j / (||μ_i|| ||μ_j||)
    euclidean:           D_ij = ||μ_i − μ_j||
    euclidean_per_unit:  D_ij = ||μ_i − μ_j|| / sqrt(d)  (``per_unit=True``: the RMS difference
                                                           per unit, comparable across widths)

Correlation and cosine distances are computed as ``||u_i − u_j||² / 2`` from the
(centred, for correlation) unit-normalised rows ``u``, which keeps small distances accurate
(``1 − u_i·u_j`` loses them to cancellation).

Invariances (of the RDM, hence of any RSA score): Euclidean and cosine RDMs are unchanged by
an orthogonal rotation of the units (``X → X Q``); Euclidean also by a common translation;
cosine by a positive rescaling of each condition mean; correlation distance by a positive
affine map of each condition mean (``μ_c → a_c μ_c + b_c``, ``a_c > 0``) but **not** by a
rotation of the units (it centres across units, which a rotation does not commute with).

Undefined distances: a cosine distance involving an all-zero mean, or a correlation distance
involving a mean that is constant across units, is NaN (whole row and column) with a
:class:`RuntimeWarning` naming the condition; correlation needs ``d >= 2``.

Comparing RDMs uses the upper triangles ``a, b`` (``n = C(C−1)/2`` entries, row-major as
``scipy.spatial.distance.squareform``), with ``r`` the average ranks (ties share their mean
rank) and ``r̄ = (n + 1)/2``::

    pearson:        Pearson correlation of a and b
    spearman:       Pearson correlation of the average ranks of a and b
    rho_a:          12 Σ (r_a − r̄)(r_b − r̄) / (n³ − n)
    kendall_tau_a:  (n_concordant − n_discordant) / (n (n − 1) / 2)   (tied pairs count 0)
    cosine:         a·b / (||a|| ||b||)   (uncentred)

Pitfall — ties (Nili et al. 2014): a categorical oracle RDM (0 within, 1 between categories)
is one big tie. Spearman and τ_b normalise by the variance left after ties and so inflate
agreement with such an oracle, while ρ_a and τ_a keep the untied normalisation: on the same
RDMs one gets e.g. Spearman 0.50, ρ_a 0.26, τ_a 0.17. Against a categorical oracle report
ρ_a or τ_a, and always name the comparator with the score. Without ties ρ_a equals Spearman.

τ_a is computed in ``O(n log n)``: scipy's Knight algorithm gives τ_b, and
``n_c − n_d = τ_b · sqrt((n0 − t_a)(n0 − t_b))`` with ``n0 = n(n−1)/2`` and ``t_a``,
``t_b`` the numbers of pairs tied in ``a`` and in ``b``; ``n_c − n_d`` is an integer and is
rounded, so τ_a is exact.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from cebra_lens_core.metrics._validation import check_sequence
from cebra_lens_core.metrics.conditions import check_codes, condition_means

__all__ = [
    "RDM_METRICS",
    "COMPARATORS",
    "ORACLE_KINDS",
    "RDMMetric",
    "Comparator",
    "RDMResult",
    "rdm",
    "rdm_result",
    "rdm_from_means",
    "rdm_metric_name",
    "upper_triangle",
    "oracle_rdm",
    "compare_rdms",
    "rdm_similarity_matrix",
    "kendall_tau_a",
    "rho_a",
]

RDMMetric = Literal["correlation", "cosine", "euclidean"]
Comparator = Literal["spearman", "pearson", "kendall_tau_a", "rho_a", "cosine"]
RDM_METRICS: tuple[str, ...] = ("correlation", "cosine", "euclidean")
COMPARATORS: tuple[str, ...] = ("spearman", "pearson", "kendall_tau_a", "rho_a", "cosine")
ORACLE_KINDS: tuple[str, ...] = ("categorical", "ordinal")


# --------------------------------------------------------------------------------------
# RDMs
# --------------------------------------------------------------------------------------


def _check_metric(metric: str) -> str:
    if metric not in RDM_METRICS:
        valid = ", ".join(repr(m) for m in RDM_METRICS)
        raise ValueError(f"unknown RDM metric {metric!r}; valid metrics: {valid}")
    return metric


def rdm_metric_name(metric: str, per_unit: bool = False) -> str:
    """Name of the distance as reported: the metric, or ``"euclidean_per_unit"``."""
    _check_metric(metric)
    if per_unit and metric != "euclidean":
        raise ValueError(f"per_unit=True applies to 'euclidean' only, not {metric!r}")
    return "euclidean_per_unit" if per_unit else metric


def _unit_rows(m: np.ndarray, bad: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(m, axis=1)
    norms[bad] = 1.0
    return m / norms[:, None]


def rdm_from_means(
    means: Any,
    metric: RDMMetric = "correlation",
    *,
    per_unit: bool = False,
    ids: Sequence[Any] | None = None,
) -> np.ndarray:
    """RDM (``C × C``, float64, symmetric, zero diagonal) of condition means (``C × d``).

    Args:
        means: ``(C, d)`` condition means, one row per condition.
        metric: ``"correlation"`` (1 − Pearson r across units), ``"cosine"`` or
            ``"euclidean"``.
        per_unit: Euclidean only: divide by ``sqrt(d)`` (RMS difference per unit).
        ids: condition ids used in warnings (default: row indices).

    Returns:
        The RDM. Rows/columns of conditions whose distance is undefined (see module
        docstring) are NaN, with a :class:`RuntimeWarning`.

    Raises:
        ValueError: unknown metric; ``means`` not 2-D, fewer than 2 rows, NaN/inf;
            ``per_unit`` with a metric other than Euclidean; correlation with ``d < 2``.
    """
    rdm_metric_name(metric, per_unit)
    m = np.asarray(means, dtype=np.float64)
    if m.ndim != 2:
        raise ValueError(f"means must be 2-D (conditions × units), got shape {m.shape}")
    n_cond, d = m.shape
    if n_cond < 2:
        raise ValueError(f"need at least 2 conditions (rows of means), got {n_cond}")
    if d < 1:
        raise ValueError(f"means has no units (shape {m.shape})")
    if not np.isfinite(m).all():
        row = int(np.argwhere(~np.isfinite(m))[0][0])
        raise ValueError(f"means contains NaN or inf values (first in row {row})")
    names = list(range(n_cond)) if ids is None else list(ids)
    from scipy.spatial.distance import pdist, squareform  # here: scipy costs ~1 s to import

    if metric == "euclidean":
        out = squareform(pdist(m, "euclidean"))
        if per_unit:
            out /= math.sqrt(d)
        return out

    if metric == "correlation":
        if d < 2:
            raise ValueError(
                "correlation distance is across units and needs at least 2 units, got 1; "
                "use metric='euclidean'"
            )
        bad = np.ptp(m, axis=1) == 0.0  # constant across units: r undefined
        m = m - m.mean(axis=1, keepdims=True)
        m[bad] = 0.0
        what = "constant across units (correlation undefined)"
    else:
        bad = ~m.any(axis=1)
        what = "all zero (cosine undefined)"
    u = _unit_rows(m, bad)
    out = squareform(pdist(u, "sqeuclidean")) * 0.5
    np.clip(out, 0.0, 2.0, out=out)
    if bad.any():
        for k in np.flatnonzero(bad):
            warnings.warn(
                f"mean of condition {names[k]!r} is {what}: its RDM row/column is NaN",
                RuntimeWarning,
                stacklevel=2,
            )
        out[bad, :] = np.nan
        out[:, bad] = np.nan
    return out


@dataclass(frozen=True, eq=False)
class RDMResult:
    """An RDM with how it was obtained.

    Attributes:
        matrix: ``(C, C)`` float64 RDM.
        ids: ``(C,)`` condition id of each row (increasing; empty conditions dropped).
        counts: ``(C,)`` samples per condition.
        metric: ``"correlation"``, ``"cosine"``, ``"euclidean"`` or ``"euclidean_per_unit"``.
        n_units: ``d``.
    """

    matrix: np.ndarray
    ids: np.ndarray
    counts: np.ndarray
    metric: str
    n_units: int


def rdm_result(
    X: Any,
    conditions: Any,
    metric: RDMMetric = "correlation",
    *,
    per_unit: bool = False,
) -> RDMResult:
    """:func:`rdm` plus the condition ids, counts and the metric's reported name."""
    name = rdm_metric_name(metric, per_unit)
    codes = getattr(conditions, "codes", conditions)
    means, ids, counts = condition_means(X, codes)
    matrix = rdm_from_means(means, metric, per_unit=per_unit, ids=ids.tolist())
    return RDMResult(matrix=matrix, ids=ids, counts=counts, metric=name, n_units=means.shape[1])


def rdm(
    X: Any,
    conditions: Any,
    metric: RDMMetric = "correlation",
    *,
    per_unit: bool = False,
) -> np.ndarray:
    """RDM of the condition means of ``X``.

    Args:
        X: ``(T, d)`` activations (time × units).
        conditions: ``(T,)`` integer condition id per time point, or a
            :class:`~cebra_lens_core.metrics.conditions.Conditions` (its ``codes``).
            The condition means are computed here (:func:`condition_means`); RDM rows are
            ordered by increasing id (use :func:`rdm_result` to get the ids).
        metric: ``"correlation"`` (default), ``"cosine"`` or ``"euclidean"``.
        per_unit: Euclidean only: ``||μ_i − μ_j|| / sqrt(d)``, reported as
            ``"euclidean_per_unit"``.

    Returns:
        ``(C, C)`` float64, symmetric, zero diagonal.

    Raises:
        ValueError: see :func:`condition_means` and :func:`rdm_from_means`.
    """
    return rdm_result(X, conditions, metric, per_unit=per_unit).matrix


def upper_triangle(D: Any) -> np.ndarray:
    """Entries ``i < j`` of a square matrix, row-major, after symmetrising ``(D + Dᵀ)/2``.

    Equals ``scipy.spatial.distance.squareform((D + D.T) / 2, checks=False)``. A 1-D input
    is returned unchanged (as float64).
    """
    a = np.asarray(D, dtype=np.float64)
    if a.ndim == 1:
        return a
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"an RDM must be square (C × C) or a vector, got shape {a.shape}")
    iu = np.triu_indices(a.shape[0], k=1)
    return 0.5 * (a[iu] + a.T[iu])


def oracle_rdm(
    conditions: Any,
    kind: Literal["categorical", "ordinal"] = "categorical",
    *,
    n_levels: int | None = None,
) -> np.ndarray:
    """Model-free RDM that a layer's RDM is scored against.

    Args:
        conditions: ``(C,)`` one entry per RDM row.
            ``"categorical"``: the category of each condition (any values); ``D_ij = 0``
            if the categories match, 1 otherwise. With one condition per category the
            oracle is constant and undefined for RSA — pass the coarser category of each
            condition (e.g. the direction of each position × direction condition).
            ``"ordinal"``: integer condition ids in label order (bin indices from
            :func:`~cebra_lens_core.metrics.conditions.bin_continuous`, possibly with
            gaps where empty bins were dropped); ``D_ij = |id_i − id_j| / (B − 1)``.
        kind: ``"categorical"`` or ``"ordinal"``.
        n_levels: ordinal only: ``B``, the number of levels (bins) including dropped ones;
            default ``max(id) − min(id) + 1``.

    Returns:
        ``(C, C)`` float64.

    Raises:
        ValueError: unknown kind; not 1-D or fewer than 2 conditions; categorical oracle
            that is constant (all categories equal or all distinct); ordinal ids not
            integers, repeated, or spanning more than ``n_levels`` levels.
    """
    if kind not in ORACLE_KINDS:
        raise ValueError(f"unknown oracle kind {kind!r}; valid kinds: 'categorical', 'ordinal'")
    arr = np.asarray(conditions)
    if arr.ndim != 1 or arr.shape[0] < 2:
        raise ValueError(
            f"conditions must be 1-D with at least 2 entries (one per RDM row), got shape {arr.shape}"
        )
    if kind == "categorical":
        if n_levels is not None:
            raise ValueError("n_levels applies to the ordinal oracle only")
        _, cat = np.unique(arr, return_inverse=True)
        cat = cat.reshape(-1)
        n_cat = int(cat.max()) + 1
        if n_cat == 1 or n_cat == len(cat):
            raise ValueError(
                f"categorical oracle is constant ({n_cat} categories for {len(cat)} conditions): "
                "RSA against it is undefined; give each condition its category so that "
                "some conditions share one"
            )
        return (cat[:, None] != cat[None, :]).astype(np.float64)
    ids = check_codes(arr, None, "conditions")
    if len(np.unique(ids)) != len(ids):
        raise ValueError("ordinal oracle: condition ids must be distinct (one per RDM row)")
    span = int(ids.max() - ids.min()) + 1
    b = span if n_levels is None else int(n_levels)
    if b < span:
        raise ValueError(f"n_levels={n_levels} but the ids span {span} levels")
    if b < 2:
        raise ValueError(f"n_levels must be at least 2, got {b}")
    return np.abs(ids[:, None] - ids[None, :]).astype(np.float64) / (b - 1)


# --------------------------------------------------------------------------------------
# Comparators
# --------------------------------------------------------------------------------------


def _check_method(method: str) -> str:
    if method not in COMPARATORS:
        valid = ", ".join(repr(m) for m in COMPARATORS)
        raise ValueError(f"unknown RDM comparator {method!r}; valid comparators: {valid}")
    return method


def rdm_vector(a: Any, name: str) -> np.ndarray:
    """The upper triangle of a square RDM ``a`` (or ``a`` itself if already a vector), checked
    to be 1-D and finite; ``name`` goes into the error messages."""
    v = upper_triangle(a)
    if v.ndim != 1:
        raise ValueError(f"{name} must be a square RDM or a 1-D vector, got shape {v.shape}")
    if not np.isfinite(v).all():
        raise ValueError(
            f"{name} has {int((~np.isfinite(v)).sum())} NaN/inf entries (undefined "
            "distances, e.g. an all-zero or constant condition mean); cannot compare"
        )
    return v


def _vectors(rdms: Any, arg: str) -> list[np.ndarray]:
    rdms = check_sequence(rdms, arg, "RDMs (square or vectors)", "RDM")
    return [rdm_vector(r, f"{arg}[{i}]") for i, r in enumerate(rdms)]


def _check_lengths(vectors: Sequence[np.ndarray], names: Sequence[str]) -> int:
    n = len(vectors[0])
    for v, name in zip(vectors, names, strict=True):
        if len(v) != n:
            raise ValueError(
                f"{name} has {len(v)} upper-triangle entries but {names[0]} has {n}; "
                "RDMs must have the same conditions"
            )
    if n < 3:
        raise ValueError(
            f"RDMs have {n} upper-triangle entries; comparing them needs at least 3 "
            "(at least 3 conditions)"
        )
    return n


def _tie_pairs(v: np.ndarray) -> int:
    _, counts = np.unique(v, return_counts=True)
    counts = counts.astype(np.int64)
    return int((counts * (counts - 1) // 2).sum())


def kendall_tau_a(a: Any, b: Any) -> float:
    """Kendall τ_a = (concordant − discordant) / (n(n−1)/2) of two vectors; ties count 0.

    ``O(n log n)`` (see the module docstring); exact.
    """
    x = rdm_vector(a, "a")
    y = rdm_vector(b, "b")
    n = _check_lengths([x, y], ["a", "b"])
    n0 = n * (n - 1) // 2
    nx, ny = n0 - _tie_pairs(x), n0 - _tie_pairs(y)
    if nx == 0 or ny == 0:  # a constant vector: every pair tied
        return 0.0
    # deferred: scipy, loaded only on this path
    from scipy.stats import kendalltau

    tau_b = float(kendalltau(x, y, variant="b").statistic)
    con_minus_dis = round(tau_b * math.sqrt(nx) * math.sqrt(ny))
    return con_minus_dis / n0


def rho_a(a: Any, b: Any) -> float:
    """ρ_a = 12 Σ (r_a − r̄)(r_b − r̄) / (n³ − n), average ranks (Nili et al. 2014)."""
    x = rdm_vector(a, "a")
    y = rdm_vector(b, "b")
    n = _check_lengths([x, y], ["a", "b"])
    # deferred: scipy, loaded only on this path
    from scipy.stats import rankdata

    rx = rankdata(x) - (n + 1) / 2.0
    ry = rankdata(y) - (n + 1) / 2.0
    return float(12.0 * np.dot(rx, ry) / (float(n) ** 3 - n))


def _features(v: np.ndarray, method: str) -> tuple[np.ndarray, bool]:
    """Map a vector so that the comparator is a dot product; ``ok`` False if undefined."""
    # deferred: scipy, loaded only on this path
    from scipy.stats import rankdata

    n = len(v)
    if method == "rho_a":
        r = rankdata(v) - (n + 1) / 2.0
        return r * math.sqrt(12.0 / (float(n) ** 3 - n)), True
    if method == "spearman":
        v = rankdata(v)
    if method in ("spearman", "pearson"):
        v = v - v.mean()
    norm = float(np.linalg.norm(v))
    if norm == 0.0:
        return v, False
    return v / norm, True


def _similarity(
    va: list[np.ndarray],
    vb: list[np.ndarray] | None,
    method: str,
    names_a: Sequence[str],
    names_b: Sequence[str],
) -> np.ndarray:
    method = _check_method(method)
    allv = va + ([] if vb is None else vb)
    names = list(names_a) + ([] if vb is None else list(names_b))
    _check_lengths(allv, names)
    cols = va if vb is None else vb
    if method == "kendall_tau_a":
        out = np.empty((len(va), len(cols)))
        for i, x in enumerate(va):
            for j, y in enumerate(cols):
                if vb is None and j < i:
                    out[i, j] = out[j, i]
                else:
                    out[i, j] = kendall_tau_a(x, y)
        return out
    feats = [_features(v, method) for v in allv]
    bad = [names[k] for k, (_, ok) in enumerate(feats) if not ok]
    for name in bad:
        what = "has zero norm" if method == "cosine" else "is constant"
        warnings.warn(
            f"{name} {what}: its {method} similarity is undefined and reported as NaN",
            RuntimeWarning,
            stacklevel=3,
        )
    fa = np.stack([f for f, _ in feats[: len(va)]])
    fb = fa if vb is None else np.stack([f for f, _ in feats[len(va) :]])
    out = fa @ fb.T
    if method != "rho_a":
        np.clip(out, -1.0, 1.0, out=out)
    ok_a = np.array([ok for _, ok in feats[: len(va)]])
    ok_b = ok_a if vb is None else np.array([ok for _, ok in feats[len(va) :]])
    out[~ok_a, :] = np.nan
    out[:, ~ok_b] = np.nan
    return out


def compare_rdms(a: Any, b: Any, method: Comparator = "spearman") -> float:
    """Similarity of two RDMs on their upper triangles.

    Args:
        a, b: square RDMs (``C × C``, symmetrised) or their upper-triangle vectors
            (``C(C−1)/2``, row-major as :func:`upper_triangle`).
        method: ``"spearman"`` (default; average ranks), ``"pearson"``, ``"kendall_tau_a"``,
            ``"rho_a"`` or ``"cosine"`` (see the module docstring for the formulas; prefer
            ``"rho_a"``/``"kendall_tau_a"`` against a categorical oracle).

    Returns:
        The score as a Python float. Pearson/Spearman with a constant vector and cosine
        with a zero vector are undefined: NaN with a :class:`RuntimeWarning`. τ_a and ρ_a
        are 0 for a constant vector.

    Raises:
        ValueError: unknown method; not square/1-D; NaN entries; different lengths; fewer
            than 3 entries.
    """
    method = _check_method(method)
    return float(
        _similarity([rdm_vector(a, "a")], [rdm_vector(b, "b")], method, ["a"], ["b"])[0, 0]
    )


def rdm_similarity_matrix(
    rdms_a: Sequence[Any],
    rdms_b: Sequence[Any] | None = None,
    method: Comparator = "spearman",
) -> np.ndarray:
    """Pairwise RDM similarity, e.g. layer × layer RSA.

    Args:
        rdms_a: sequence of RDMs (square or vectors) over the same conditions.
        rdms_b: optional second sequence (same conditions); then the ``(La, Lb)`` cross
            block is returned, else the symmetric ``(La, La)`` matrix within ``rdms_a``.
        method: a comparator of :func:`compare_rdms`.

    Returns:
        float64 array, entry ``(i, j) = compare_rdms(rdms_a[i], rdms_b[j], method)``. The
        diagonal within one list is computed, not set: it is 1 for Pearson/Spearman/cosine
        and below 1 for τ_a/ρ_a of an RDM with ties. Undefined entries are NaN (warned).
    """
    method = _check_method(method)
    va = _vectors(rdms_a, "rdms_a")
    vb = None if rdms_b is None else _vectors(rdms_b, "rdms_b")
    names_a = [f"rdms_a[{i}]" for i in range(len(va))]
    names_b = [] if vb is None else [f"rdms_b[{j}]" for j in range(len(vb))]
    return _similarity(va, vb, method, names_a, names_b)


def joint_oracle_rdm(
    components: np.ndarray, kinds: Sequence[str], n_levels: Sequence[int | None]
) -> np.ndarray:
    """Oracle RDM of joint conditions: the mean of the per-label oracle dissimilarities,

        D_ij = (1 / K) Σ_k d_k(c_ik, c_jk),

    with ``d_k = |c_ik − c_jk| / (B_k − 1)`` for an ordinal (binned continuous) label of
    ``B_k`` bins and ``d_k = [c_ik ≠ c_jk]`` for a categorical one. E.g. position bins ×
    running direction: neighbouring bins in the same direction are close, the same bin in
    opposite directions is 1/2 apart.

    Args:
        components: ``(C, K)`` per-label ids of each joint condition
            (:func:`~cebra_lens_core.metrics.conditions.joint_conditions`).
        kinds: ``"ordinal"`` or ``"categorical"`` per label.
        n_levels: ``B_k`` per ordinal label (``None`` for categorical ones).
    """
    components = np.asarray(components)
    if components.ndim != 2 or not components.shape[1] == len(kinds) == len(n_levels):
        raise ValueError(
            f"components must be (conditions, {len(kinds)} labels), got {components.shape}"
        )
    total = np.zeros((components.shape[0], components.shape[0]))
    for k, (kind, levels) in enumerate(zip(kinds, n_levels, strict=True)):
        c = components[:, k].astype(float)
        if kind == "ordinal":
            total += np.abs(c[:, None] - c[None, :]) / max(int(levels) - 1, 1)
        elif kind == "categorical":
            total += (c[:, None] != c[None, :]).astype(float)
        else:
            raise ValueError(f"unknown oracle kind {kind!r}; valid kinds: {list(ORACLE_KINDS)}")
    return total / len(kinds)
