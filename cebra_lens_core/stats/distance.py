"""Uncertainty of the class distances (:mod:`cebra_lens_core.metrics.distance`):
block-bootstrap intervals from per-block sums.

:func:`distance_bootstrap`: the rows of the split are cut into ``K`` non-overlapping blocks of
``L`` consecutive time points; one pass over the layer stores, per block and condition (and
per block and (condition, repeat) pair), the count and the sums the metric needs
(:class:`~cebra_lens_core.stats._groups.BlockGroupSums`). A replicate draws ``K`` blocks with
replacement and adds the drawn blocks' sums: it equals the statistic recomputed on the
concatenated rows of the drawn blocks to float64 rounding, without touching the data again.
Conditions absent from a replicate are dropped, as they would be on those rows. One
deliberate difference: intra-class distances (means over pairs of samples) leave out the
pairs between two copies of the same block (a row with its own copy, or with its
neighbour's copy: nearly identical), as the estimate never pairs a row with itself;
otherwise every repeated block adds pairs at distance ≈ 0 and pulls the interval far
below the estimate.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from cebra_lens_core.metrics.streaming import DEFAULT_CHUNK_ROWS, as_layer
from cebra_lens_core.stats._groups import block_group_sums
from cebra_lens_core.stats.options import BATCH_ELEMENTS, BootstrapOptions
from cebra_lens_core.stats.resampling import Interval, block_draws, block_weights

__all__ = ["distance_bootstrap"]


def _nanmean_rows(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Mean over axis 1 of ``values`` where ``valid`` (NaN for rows without a valid entry)."""
    k = valid.sum(axis=1)
    total = np.where(valid, values, 0.0).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(k > 0, total / np.maximum(k, 1), np.nan)


def _cosine_spread(
    vectors: np.ndarray, present: np.ndarray, onehot: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """Mean cosine distance over pairs of the present rows of ``vectors`` ``(B, P, d)``.

    Without ``onehot`` over all present rows: ``(B,)`` values and the counts ``(B,)``; with
    a ``(C, P)`` one-hot, per group of rows: ``(B, C)`` values and counts. NaN where fewer
    than 2 rows or a present row is all zero.
    """
    norms = np.sqrt(np.einsum("bpd,bpd->bp", vectors, vectors))
    bad = present & (norms == 0)
    unit = np.where(present[..., None], vectors / np.where(norms > 0, norms, 1.0)[..., None], 0)
    if onehot is None:
        total = unit.sum(axis=1)  # (B, d)
        k = present.sum(axis=1).astype(np.float64)
        bad_any = bad.any(axis=1)
    else:
        b, n_pairs, d = unit.shape
        total = np.asarray(onehot @ unit.transpose(1, 0, 2).reshape(n_pairs, -1))
        total = total.reshape(-1, b, d).transpose(1, 0, 2)  # (B, C, d)
        k = np.asarray(onehot @ present.T.astype(np.float64)).T
        bad_any = np.asarray(onehot @ bad.T.astype(np.float64)).T > 0
    sq = np.einsum("...d,...d->...", total, total)
    with np.errstate(divide="ignore", invalid="ignore"):
        val = np.clip(1.0 - (sq - k) / (k * (k - 1.0)), 0.0, 2.0)
    return np.where((k >= 2) & ~bad_any, val, np.nan), k


def _rms_spread(
    vectors: np.ndarray, present: np.ndarray, onehot: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """RMS Euclidean distance over pairs of the present rows (``sqrt(2 Σ_k var_k)``, ddof 1);
    over all rows ``(B,)`` or per group of a ``(C, P)`` one-hot ``(B, C)``; and the counts."""
    v = np.where(present[..., None], vectors, 0.0)
    if onehot is None:
        k = present.sum(axis=1).astype(np.float64)
        mean = v.sum(axis=1) / np.maximum(k, 1)[:, None]
        ss = np.einsum("bpd,bpd->b", v - mean[:, None], (v - mean[:, None]) * present[..., None])
    else:
        b, n_pairs, d = v.shape
        k = np.asarray(onehot @ present.T.astype(np.float64)).T  # (B, C)
        s1 = np.asarray(onehot @ v.transpose(1, 0, 2).reshape(n_pairs, -1))
        s1 = s1.reshape(-1, b, d).transpose(1, 0, 2)
        s2 = np.asarray(onehot @ np.einsum("bpd,bpd->pb", v, v))
        s2 = s2.T  # (B, C)
        ss = s2 - np.einsum("bcd,bcd->bc", s1, s1) / np.maximum(k, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        val = np.sqrt(np.maximum(2.0 * ss / (k - 1.0), 0.0))
    return np.where(k >= 2, val, np.nan), k


def _distance_replicates(
    metric: str,
    counts: np.ndarray,
    copies: Mapping[str, np.ndarray],
    sums: Mapping[str, np.ndarray],
    pair_counts: np.ndarray | None,
    pair_sums: Mapping[str, np.ndarray] | None,
    pair_onehot: Any,
    keep: np.ndarray,
) -> dict[str, np.ndarray]:
    """intra/inter-class (and inter-repetition) distances of ``B`` replicates from their
    per-condition sums ``(B, C, d)`` (and per-(condition, repeat) sums ``(B, P, d)``).

    Intra-class distances average over the pairs of resampled rows that are not in two
    different copies of the same block (``copies``: :meth:`~cebra_lens_core.stats._groups.BlockGroupSums.copy_pair_terms`):
    the estimate pairs a row with every other row (of its own block or another), and a
    replicate does the same within each drawn copy and across different blocks. Pairs
    across copies of one block would pair rows with themselves and their neighbours, which
    are nearly identical, and pull the intra-class distance towards 0.
    """
    n_rep = counts.shape[0]
    present = counts > 0
    n_pairs = counts * (counts - 1.0) - copies["pairs"]
    multi = n_pairs > 0.5
    n_c = np.maximum(counts, 1)[..., None]
    out = {}
    if metric == "cosine":
        usum = sums["unit"]
        sq = np.einsum("bcd,bcd->bc", usum, usum)
        with np.errstate(divide="ignore", invalid="ignore"):
            intra = np.clip(1.0 - (sq - counts - copies["unit_dot"]) / n_pairs, 0.0, 2.0)
        out["intra_class"] = _nanmean_rows(intra, multi)
        out["inter_class"] = _cosine_spread(sums["x"] / n_c, present)[0]
        z_mean = scale = None
    else:
        su, su2 = sums["u"][..., keep], sums["u2"][..., keep]
        n = counts.sum(axis=1)[:, None]
        z_mean = su.sum(axis=1) / n  # (B, d) mean of u
        var = su2.sum(axis=1) / n - z_mean**2
        ok = (var > 0).all(axis=1)
        var = np.where(var > 0, var, 1.0)
        scale = np.sqrt(var)
        ss = su2 - su**2 / n_c  # centred SS per condition and unit
        with np.errstate(divide="ignore", invalid="ignore"):
            cross = (copies["sq_diff"][..., keep] / var[:, None]).sum(axis=2)
            spread = (2.0 * counts * (ss / var[:, None]).sum(axis=2) - cross) / n_pairs
            intra = np.sqrt(np.maximum(spread, 0.0))
        out["intra_class"] = np.where(ok, _nanmean_rows(intra, multi), np.nan)
        means_z = (su / n_c - z_mean[:, None]) / scale[:, None]
        out["inter_class"] = np.where(ok, _rms_spread(means_z, present)[0], np.nan)
    if pair_counts is not None and pair_sums is not None:
        pres = pair_counts > 0
        pn = np.maximum(pair_counts, 1)[..., None]
        if metric == "cosine":
            per_cond, k = _cosine_spread(pair_sums["x"] / pn, pres, pair_onehot)
        else:
            pz = (pair_sums["u"][..., keep] / pn - z_mean[:, None]) / scale[:, None]
            per_cond, k = _rms_spread(pz, pres, pair_onehot)
        out["inter_repetition"] = _nanmean_rows(per_cond, k >= 2)
    else:
        out["inter_repetition"] = np.full(n_rep, np.nan)
    ok_any = present.sum(axis=1) >= 2
    ok_any &= multi.any(axis=1)
    return {q: np.where(ok_any, v, np.nan) for q, v in out.items()}


def distance_bootstrap(
    X: Any,
    codes: np.ndarray,
    options: BootstrapOptions,
    *,
    repeats: np.ndarray | None = None,
    metrics: Sequence[str] = ("cosine", "euclidean"),
    chunk_size: int = DEFAULT_CHUNK_ROWS,
    name: str = "X",
) -> dict[str, dict[str, Interval]]:
    """Block-bootstrap intervals of the class distances of one layer (see
    :func:`~cebra_lens_core.metrics.distance.class_distances`).

    One pass stores per block and condition the count, the sum of the rows, of their unit
    vectors (cosine) and of the rows and their squares centred on the first chunk's mean
    (Euclidean; z-scoring is recomputed per replicate from these sums), and with ``repeats``
    the same per block and (condition, repeat). Returns ``{metric: {quantity: Interval}}``
    with ``metric`` in ``cosine`` / ``euclidean`` and ``quantity`` in ``intra_class``,
    ``inter_class`` (and ``inter_repetition``). Units constant on all rows are left out, as
    in the point estimate. A replicate equals the statistic on the rows of the drawn blocks,
    except that intra-class pairs between two copies of the same block are left out (see
    :func:`_distance_replicates`).
    """
    x = as_layer(X, name)
    n_rows = int(x.shape[0])
    metrics = ["euclidean" if m == "euclidean_rms" else m for m in metrics]
    _, groups = np.unique(np.asarray(codes), return_inverse=True)
    groups = groups.reshape(-1)
    n_groups = int(groups.max()) + 1
    first = np.asarray(x[: min(n_rows, 1024)], dtype=np.float64)
    shift = first.mean(axis=0)

    def unit(c: np.ndarray) -> np.ndarray:
        norms = np.sqrt(np.einsum("ij,ij->i", c, c))
        return c / np.where(norms > 0, norms, 1.0)[:, None]

    transforms: dict[str, Callable] = {"x": lambda c: c}
    if "cosine" in metrics:
        transforms["unit"] = unit
    if "euclidean" in metrics:
        transforms["u"] = lambda c: c - shift
        transforms["u2"] = lambda c: (c - shift) ** 2
    edges, draws, length = block_draws(n_rows, options)
    weights = block_weights(draws, len(edges) - 1)
    stats = block_group_sums(
        x, groups, n_groups, edges, transforms, chunk_size=chunk_size, name=name
    )
    pair_stats = pair_cond = None
    if repeats is not None:
        _, rep = np.unique(np.asarray(repeats), return_inverse=True)
        n_rep = int(rep.max()) + 1
        pairs, pair_groups = np.unique(groups * n_rep + rep.reshape(-1), return_inverse=True)
        pair_cond = pairs // n_rep
        pair_tf = {k: v for k, v in transforms.items() if k in ("x", "u")}
        pair_stats = block_group_sums(
            x, pair_groups.reshape(-1), len(pairs), edges, pair_tf, chunk_size=chunk_size, name=name
        )
    # units constant on all rows are dropped by the point estimate's z-scoring
    keep = np.ones(int(x.shape[1]), dtype=bool)
    if "euclidean" in metrics:
        total_n = stats.counts.sum()
        mu = stats.sums["u"].sum(axis=0) / total_n
        keep = stats.sums["u2"].sum(axis=0) / total_n - mu**2 > 1e-12 * (1.0 + shift**2)
    reps = {
        m: {
            q: np.full(len(weights), np.nan)
            for q in ("intra_class", "inter_class", "inter_repetition")
        }
        for m in metrics
    }
    pair_onehot = None
    if pair_cond is not None:
        # deferred: scipy, loaded only on this path
        from scipy import sparse

        pair_onehot = sparse.csr_matrix(
            (np.ones(len(pair_cond)), (pair_cond, np.arange(len(pair_cond)))),
            shape=(n_groups, len(pair_cond)),
        )
    width = max(n_groups, 0 if pair_cond is None else len(pair_cond)) * int(x.shape[1])
    step = max(1, BATCH_ELEMENTS // max(1, width))
    for lo in range(0, len(weights), step):
        batch = weights[lo : lo + step]
        counts, sums = stats.replicates(batch)
        copies = stats.copy_pair_terms(batch)
        pc = ps = None
        if pair_stats is not None:
            pc, ps = pair_stats.replicates(batch)
        for m in metrics:
            values = _distance_replicates(m, counts, copies, sums, pc, ps, pair_onehot, keep)
            for q, v in values.items():
                reps[m][q][lo : lo + step] = v
    keys = ["intra_class", "inter_class"] + (["inter_repetition"] if repeats is not None else [])
    return {
        m: {q: Interval.from_replicates(reps[m][q], options.confidence, length) for q in keys}
        for m in metrics
    }
