r"""Uncertainty of RDM / RSA scores (:mod:`cebra_lens_core.metrics.rdm`): the
condition-permutation null, the noise ceiling across seeds and block-bootstrap intervals of
the RDM-vs-oracle score.

Condition-permutation null
--------------------------
:func:`rdm_permutation_null`: the conditions of one RDM are permuted (rows and columns
jointly), the usual RSA condition-label randomisation test (Kriegeskorte et al. 2008).
p-values as in :mod:`cebra_lens_core.stats.nulls`.

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

RDM vs oracle
-------------
:func:`rdm_oracle_bootstrap`: non-overlapping blocks of the split's rows, per-block and
per-condition sums (:mod:`cebra_lens_core.stats._groups`); a replicate equals the score
recomputed on the rows of the drawn blocks. Conditions absent from a replicate are dropped,
as they would be on those rows.

References:
    Nili, Wingfield, Walther, Su, Marslen-Wilson, Kriegeskorte (2014). A toolbox for
    representational similarity analysis. PLoS Comput. Biol. 10.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cebra_lens_core.metrics.rdm import (
    COMPARATORS,
    compare_rdms,
    rdm_from_means,
    rdm_similarity_matrix,
    upper_triangle,
)
from cebra_lens_core.metrics.streaming import DEFAULT_CHUNK_ROWS
from cebra_lens_core.stats._groups import block_group_sums
from cebra_lens_core.stats.nulls import NullResult
from cebra_lens_core.stats.options import BootstrapOptions
from cebra_lens_core.stats.resampling import (
    Interval,
    block_draws,
    block_weights,
    check_int,
    check_seed,
)

__all__ = [
    "NoiseCeiling",
    "rdm_permutation_null",
    "noise_ceiling",
    "rdm_oracle_bootstrap",
]


# --------------------------------------------------------------------------------------
# Condition-permutation null
# --------------------------------------------------------------------------------------


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
    n_null = check_int(n_null, "n_null", 1)
    seed = check_seed(seed)
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


# --------------------------------------------------------------------------------------
# RDM vs oracle
# --------------------------------------------------------------------------------------


def rdm_oracle_bootstrap(
    layers: Sequence[Any],
    codes: np.ndarray,
    ids: np.ndarray,
    oracle: np.ndarray,
    options: BootstrapOptions,
    *,
    metric: str = "correlation",
    method: str = "spearman",
    chunk_size: int = DEFAULT_CHUNK_ROWS,
    names: Sequence[str] | None = None,
) -> list[Interval]:
    """Block-bootstrap intervals of ``compare_rdms(rdm(layer), oracle)`` for every layer.

    Args:
        layers: ``(T, d)`` layers on the rows of the split (time order).
        codes: ``(T,)`` condition id of every row; ``ids``: the ``C`` ids (RDM rows).
        oracle: ``(C, C)`` oracle RDM over ``ids``.
        options: bootstrap settings (the same block draws for every layer).

    Replicate ``b`` equals the score recomputed from the rows ``block_rows(edges, draws[b])``
    (conditions without rows there are dropped, from the RDM and the oracle); NaN when
    fewer than 3 conditions remain or the RDM is undefined.
    """
    codes = np.asarray(codes)
    groups = np.searchsorted(ids, codes)
    n_rows = len(codes)
    edges, draws, length = block_draws(n_rows, options)
    weights = block_weights(draws, len(edges) - 1)
    out = []
    for k, X in enumerate(layers):
        stats = block_group_sums(
            X,
            groups,
            len(ids),
            edges,
            {"x": lambda c: c},
            chunk_size=chunk_size,
            name=names[k] if names else f"layers[{k}]",
        )
        reps = np.full(len(weights), np.nan)
        all_counts, all_sums = stats.replicates(weights)
        for b in range(len(weights)):
            counts = all_counts[b]
            present = counts > 0
            if present.sum() < 3:
                continue
            means = all_sums["x"][b][present] / counts[present, None]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                try:
                    D = rdm_from_means(means, metric)  # type: ignore[arg-type]
                except ValueError:
                    continue
                if not np.isfinite(D).all():
                    continue
                reps[b] = compare_rdms(D, oracle[np.ix_(present, present)], method)  # type: ignore[arg-type]
        out.append(Interval.from_replicates(reps, options.confidence, length))
    return out
