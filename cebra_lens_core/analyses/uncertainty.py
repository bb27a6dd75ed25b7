r"""Confidence intervals, null distributions and noise ceilings of the store-level analyses.

The statistics themselves are in :mod:`cebra_lens_core.stats`; this module applies them to
activation stores and results rows, reusing sufficient statistics wherever one exists:

- **CKA** (:func:`cka_pair_statistics`): :func:`~cebra_lens_core.stats.cka_bootstrap`
  (non-overlapping blocks, per-block moments) for the interval and
  :func:`~cebra_lens_core.stats.cka_shift_null` (circular time shifts of one model) for the
  p-value. Near zero the bootstrap interval of CKA is biased upwards (resampled blocks repeat
  rows; see :func:`~cebra_lens_core.stats.cka_bootstrap`): it is the precision of a clearly
  non-zero CKA, **not** a test. The test is the shift null.
- **RDM vs oracle and distances** (:func:`rdm_oracle_bootstrap`,
  :func:`distance_bootstrap`): the rows of the split are cut into ``K`` non-overlapping
  blocks of ``L`` consecutive time points; one pass over the layer stores, per block and
  condition (and per block and (condition, repeat) pair), the count and the sums the metric
  needs (:class:`BlockGroupSums`). A replicate draws ``K`` blocks with replacement
  (:func:`~cebra_lens_core.stats.nonoverlapping_block_draws`) and adds the drawn blocks'
  sums: it equals the statistic recomputed on the concatenated rows of the drawn blocks
  (``block_rows(edges, draws[b])``) to float64 rounding, without touching the data again.
  Conditions absent from a replicate are dropped, as they would be on those rows. One
  deliberate difference: intra-class distances (means over pairs of samples) leave out the
  pairs between two copies of the same block (a row with its own copy, or with its
  neighbour's copy: nearly identical), as the estimate never pairs a row with itself;
  otherwise every repeated block adds pairs at distance ≈ 0 and pulls the interval far
  below the estimate.
- **Decoding** (:func:`decoding_bootstrap`): the decoder is fitted once; the *test* rows'
  predictions are resampled with the circular block bootstrap
  (:func:`~cebra_lens_core.stats.block_bootstrap_indices`) and the score recomputed. The
  interval is conditional on the fitted decoder (the variability of training is not in it).
- **Noise ceiling** (:func:`rdm_noise_ceiling_rows`): across the seeds of a seed group,
  :func:`~cebra_lens_core.stats.noise_ceiling` of the layer RDMs against the oracle.

Intervals are percentile intervals (``confidence``, default 95 %) of ``n_resamples``
seeded replicates. The block length is given in samples (the workflow converts the
configured seconds with the dataset's bin width) and is capped at ``T // min_blocks`` so
that every bootstrap has at least ``min_blocks`` blocks.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cebra_lens_core.metrics.rdm import compare_rdms, rdm_from_means
from cebra_lens_core.metrics.streaming import DEFAULT_CHUNK_ROWS, as_layer, group_sums, iter_chunks
from cebra_lens_core.results import make_rows
from cebra_lens_core.stats import (
    block_bootstrap_indices,
    cka_bootstrap,
    cka_shift_null,
    noise_ceiling,
    nonoverlapping_block_draws,
    percentile_interval,
    rdm_permutation_null,
)
from cebra_lens_core.stats.options import DEFAULT_BLOCK_SAMPLES, resolve_block_length

log = logging.getLogger(__name__)

__all__ = [
    "BootstrapOptions",
    "NullOptions",
    "BlockGroupSums",
    "block_group_sums",
    "block_weights",
    "corresponding_layers",
    "resolve_block_length",
    "rdm_oracle_bootstrap",
    "distance_bootstrap",
    "decoding_bootstrap",
    "cka_pair_statistics",
    "rdm_noise_ceiling_rows",
    "rsa_null_rows",
]

#: Cap on the replicate batch of the decoding bootstrap (elements of ``(B, T)`` arrays).
_BATCH_ELEMENTS = 2**22


# --------------------------------------------------------------------------------------
# Options
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BootstrapOptions:
    """Block-bootstrap settings shared by the analyses.

    Attributes:
        n_resamples: replicates ``B``.
        block_length: block length ``L`` in samples.
        confidence: level of the percentile interval.
        seed: seed of the block draws (the same draws for every layer of a store).
        min_blocks: ``L`` is capped at ``T // min_blocks`` rows.
    """

    n_resamples: int = 100
    block_length: int = DEFAULT_BLOCK_SAMPLES
    confidence: float = 0.95
    seed: int = 0
    min_blocks: int = 10

    def __post_init__(self):
        if int(self.n_resamples) < 1:
            raise ValueError(f"n_resamples must be >= 1, got {self.n_resamples}")
        if int(self.block_length) < 1:
            raise ValueError(f"block_length must be >= 1 sample, got {self.block_length}")
        if not 0.0 < float(self.confidence) < 1.0:
            raise ValueError(f"confidence must be in (0, 1), got {self.confidence}")
        if int(self.min_blocks) < 1:
            raise ValueError(f"min_blocks must be >= 1, got {self.min_blocks}")

    def length_for(self, n_rows: int) -> int:
        """Block length used on ``n_rows`` rows: ``min(L, n_rows // min_blocks)``, >= 1."""
        return max(1, min(int(self.block_length), int(n_rows) // int(self.min_blocks)))

    @classmethod
    def from_config(cls, options: Mapping | BootstrapOptions | None) -> BootstrapOptions | None:
        """From the workflow's ``bootstrap`` params (``None`` when disabled).

        Keys: ``enabled``, ``n_resamples``, ``block_length`` (samples; or ``block_seconds``
        with ``bin_width_s``, and ``block_samples``), ``confidence``, ``seed``, ``min_blocks``.
        """
        if options is None or isinstance(options, BootstrapOptions):
            return options
        if not options.get("enabled", True):
            return None
        length = options.get("block_length")
        if length is None:
            length = resolve_block_length(
                options.get("bin_width_s"),
                float(options.get("block_seconds", 2.0)),
                options.get("block_samples"),
            )
        return cls(
            n_resamples=int(options.get("n_resamples", 100)),
            block_length=int(length),
            confidence=float(options.get("confidence", 0.95)),
            seed=int(options.get("seed", 0)),
            min_blocks=int(options.get("min_blocks", 10)),
        )


@dataclass(frozen=True)
class NullOptions:
    """Null-distribution settings.

    Attributes:
        n_permutations: null draws (circular shifts for CKA, condition permutations for RSA).
        min_shift_fraction: CKA: the smallest circular shift as a fraction of ``T``.
        seed: seed of the shifts / permutations.
        layers: ``"corresponding"`` (layer pairs of the same name, see
            :func:`corresponding_layers`) or ``"all"`` layer pairs.
        quantile: the null quantile reported as ``null_95th``.
    """

    n_permutations: int = 99
    min_shift_fraction: float = 0.1
    seed: int = 0
    layers: str = "corresponding"
    quantile: float = 0.95

    def __post_init__(self):
        if int(self.n_permutations) < 1:
            raise ValueError(f"n_permutations must be >= 1, got {self.n_permutations}")
        if not 0.0 < float(self.min_shift_fraction) <= 0.5:
            raise ValueError(
                f"min_shift_fraction must be in (0, 0.5], got {self.min_shift_fraction}"
            )
        if self.layers not in ("corresponding", "all"):
            raise ValueError(f"layers must be 'corresponding' or 'all', got {self.layers!r}")

    def min_shift(self, n_rows: int) -> int:
        """Smallest circular shift in samples on ``n_rows`` rows (between 1 and ``T // 2``)."""
        return max(1, min(int(n_rows) // 2, math.ceil(float(self.min_shift_fraction) * n_rows)))

    @classmethod
    def from_config(cls, options: Mapping | NullOptions | None) -> NullOptions | None:
        """From the workflow's ``nulls`` params (``None`` when disabled)."""
        if options is None or isinstance(options, NullOptions):
            return options
        if not options.get("enabled", True):
            return None
        return cls(
            n_permutations=int(options.get("n_permutations", 99)),
            min_shift_fraction=float(options.get("min_shift_fraction", 0.1)),
            seed=int(options.get("seed", 0)),
            layers=str(options.get("layers", "corresponding")),
        )


def corresponding_layers(names_a: Sequence[str], names_b: Sequence[str]) -> list[tuple[int, int]]:
    """Layer pairs ``(i, j)`` that correspond between two models.

    Layers of the same (non-empty) name correspond (``conv_in``–``conv_in``, ``block_1``–
    ``block_1``, ``norm``–``norm``, also across depths); without a common name, layers of the
    same index when both models have the same depth. The last layers (the embeddings) always
    correspond.
    """
    la, lb = len(names_a), len(names_b)
    pairs = {(i, j) for i, a in enumerate(names_a) for j, b in enumerate(names_b) if a and a == b}
    if not pairs and la == lb:
        pairs = {(i, i) for i in range(la)}
    if la and lb:
        pairs.add((la - 1, lb - 1))
    return sorted(pairs)


# --------------------------------------------------------------------------------------
# Per-block, per-group sums
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class BlockGroupSums:
    """Counts and sums of rows per (block, group), stored for the pairs that occur.

    Attributes:
        edges: ``(K + 1,)`` block boundaries (rows ``edges[k]:edges[k+1]``).
        n_groups: ``G``.
        key_block, key_group: ``(P,)`` block and group of each stored pair (``P <= T``).
        counts: ``(P,)`` rows of each pair.
        sums: name -> ``(P, d)`` sum over the pair's rows of that transform of the rows.
    """

    edges: np.ndarray
    n_groups: int
    key_block: np.ndarray
    key_group: np.ndarray
    counts: np.ndarray
    sums: dict[str, np.ndarray]

    @property
    def n_blocks(self) -> int:
        return len(self.edges) - 1

    def replicate(self, weights: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Per-group counts ``(G,)`` and sums ``{name: (G, d)}`` with block weights ``(K,)``."""
        counts, sums = self.replicates(np.asarray(weights, dtype=np.float64)[None])
        return counts[0], {name: v[0] for name, v in sums.items()}

    def replicates(self, weights: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Counts ``(B, G)`` and sums ``{name: (B, G, d)}`` for block weights ``(B, K)``.

        One sparse product per batch of replicates (group one-hot × weighted pair sums).
        """
        # deferred: scipy, loaded only on this path
        from scipy import sparse

        w = np.asarray(weights, dtype=np.float64)[:, self.key_block]  # (B, P)
        n_pairs = len(self.key_group)
        onehot = sparse.csr_matrix(
            (np.ones(n_pairs), (self.key_group, np.arange(n_pairs))),
            shape=(self.n_groups, n_pairs),
        )
        counts = np.asarray(onehot @ (w * self.counts).T).T
        sums = {}
        for name, s in self.sums.items():
            d = s.shape[1]
            out = np.empty((w.shape[0], self.n_groups, d))
            step = max(1, _BATCH_ELEMENTS // max(1, n_pairs * d))
            for lo in range(0, w.shape[0], step):
                part = w[lo : lo + step].T[:, :, None] * s[:, None, :]  # (P, b, d)
                res = np.asarray(onehot @ part.reshape(n_pairs, -1))
                out[lo : lo + step] = res.reshape(self.n_groups, -1, d).transpose(1, 0, 2)
            sums[name] = out
        return counts, sums

    def copy_pair_terms(self, weights: np.ndarray) -> dict[str, np.ndarray]:
        """Sums over the ordered pairs of rows in two *different copies* of the same block.

        With block weights ``w`` (``(B, K)``), block ``k`` drawn ``w_k`` times gives
        ``w_k (w_k − 1) n_kg²`` such pairs per group ``g``. Returns ``"pairs"`` ``(B, G)``
        and, when the sums hold them, ``"unit_dot"`` ``(B, G)`` (their sum of ``u_t·u_s``,
        ``unit`` sums) and ``"sq_diff"`` ``(B, G, d)`` (their sum of ``(x_t − x_s)²`` per
        unit, from the ``u``/``u2`` sums).
        """
        w = np.asarray(weights, dtype=np.float64)[:, self.key_block]
        ww = w * (w - 1.0)  # (B, P)
        out = {"pairs": self._per_group(ww, self.counts**2)}
        if "unit" in self.sums:
            usum = self.sums["unit"]
            out["unit_dot"] = self._per_group(ww, np.einsum("pd,pd->p", usum, usum))
        if "u" in self.sums and "u2" in self.sums:
            e = 2.0 * self.counts[:, None] * self.sums["u2"] - 2.0 * self.sums["u"] ** 2
            out["sq_diff"] = self._per_group(ww, e)
        return out

    def _per_group(self, wk: np.ndarray, values: np.ndarray) -> np.ndarray:
        """``Σ_{p in g} wk[b, p] · values[p]`` for every replicate ``b`` and group ``g``."""
        # deferred: scipy, loaded only on this path
        from scipy import sparse

        n_pairs = len(self.key_group)
        onehot = sparse.csr_matrix(
            (np.ones(n_pairs), (self.key_group, np.arange(n_pairs))),
            shape=(self.n_groups, n_pairs),
        )
        if values.ndim == 1:
            return np.asarray(onehot @ (wk * values).T).T
        d = values.shape[1]
        res = np.asarray(onehot @ (wk.T[:, :, None] * values[:, None, :]).reshape(n_pairs, -1))
        return res.reshape(self.n_groups, -1, d).transpose(1, 0, 2)


def block_group_sums(
    X: Any,
    groups: np.ndarray,
    n_groups: int,
    edges: np.ndarray,
    transforms: Mapping[str, Callable[[np.ndarray], np.ndarray]],
    *,
    chunk_size: int = DEFAULT_CHUNK_ROWS,
    name: str = "X",
) -> BlockGroupSums:
    """One pass over ``X`` (lazy layer or array): per (block, group) counts and sums.

    Args:
        X: ``(T, d)`` rows in time order.
        groups: ``(T,)`` group index in ``0 … n_groups − 1`` of every row.
        edges: block boundaries (e.g. from :func:`~cebra_lens_core.stats.nonoverlapping_block_draws`).
        transforms: name -> function of a float64 chunk returning ``(rows, d')`` values to sum.
    """
    x = as_layer(X, name)
    n = int(x.shape[0])
    groups = np.asarray(groups, dtype=np.int64)
    if groups.shape != (n,):
        raise ValueError(f"groups has {groups.shape} entries, expected ({n},)")
    block = np.searchsorted(edges, np.arange(n), side="right") - 1
    keys, inverse, counts = np.unique(
        block * int(n_groups) + groups, return_inverse=True, return_counts=True
    )
    inverse = inverse.reshape(-1)
    sums: dict[str, np.ndarray] = {}
    for lo, hi, chunk in iter_chunks(x, chunk_size, name=name):
        for key, fn in transforms.items():
            part = group_sums(fn(chunk), inverse[lo:hi], len(keys))
            sums[key] = part if key not in sums else sums[key] + part
    return BlockGroupSums(
        edges=np.asarray(edges, dtype=np.int64),
        n_groups=int(n_groups),
        key_block=(keys // int(n_groups)).astype(np.intp),
        key_group=(keys % int(n_groups)).astype(np.intp),
        counts=counts.astype(np.float64),
        sums=sums,
    )


def block_weights(draws: np.ndarray, n_blocks: int) -> np.ndarray:
    """``(B, K)`` number of times each block is drawn in each replicate."""
    w = np.zeros((draws.shape[0], int(n_blocks)))
    np.add.at(w, (np.repeat(np.arange(draws.shape[0]), draws.shape[1]), draws.reshape(-1)), 1.0)
    return w


def _draws(n_rows: int, options: BootstrapOptions) -> tuple[np.ndarray, np.ndarray, int]:
    length = options.length_for(n_rows)
    edges, draws = nonoverlapping_block_draws(n_rows, length, options.n_resamples, options.seed)
    return edges, draws, length


# --------------------------------------------------------------------------------------
# RDM vs oracle
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Interval:
    """A percentile interval with its replicates (``low``/``high`` NaN if none is finite)."""

    low: float
    high: float
    replicates: np.ndarray
    block_length: int
    n_valid: int


def _interval(reps: np.ndarray, confidence: float, length: int) -> Interval:
    reps = np.asarray(reps, dtype=np.float64)
    low, high = percentile_interval(reps, confidence)
    return Interval(float(low), float(high), reps, length, int(np.isfinite(reps).sum()))


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
    edges, draws, length = _draws(n_rows, options)
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
        out.append(_interval(reps, options.confidence, length))
    return out


# --------------------------------------------------------------------------------------
# Distances
# --------------------------------------------------------------------------------------


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
    different copies of the same block (``copies``: :meth:`BlockGroupSums.copy_pair_terms`):
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
    edges, draws, length = _draws(n_rows, options)
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
    step = max(1, _BATCH_ELEMENTS // max(1, width))
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
        m: {q: _interval(reps[m][q], options.confidence, length) for q in keys} for m in metrics
    }


# --------------------------------------------------------------------------------------
# Decoding
# --------------------------------------------------------------------------------------


def _decoding_scores(y: np.ndarray, pred: np.ndarray, discrete: bool) -> np.ndarray:
    """Scores of replicate rows: ``y``/``pred`` ``(B, n[, L])``.

    Continuous: ``[r2_0 … r2_{L−1}, mean_r2, mae_0 … mae_{L−1}]``; discrete: ``[accuracy]``.
    """
    if discrete:
        return np.mean(y == pred, axis=1)[:, None]
    ss_res = np.sum((y - pred) ** 2, axis=1)
    ss_tot = np.sum((y - y.mean(axis=1, keepdims=True)) ** 2, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(ss_tot > 0, 1.0 - ss_res / ss_tot, np.nan)
    mae = np.median(np.abs(y - pred), axis=1)
    return np.concatenate([r2, r2.mean(axis=1, keepdims=True), mae], axis=1)


def decoding_bootstrap(
    y_test: np.ndarray,
    predictions: np.ndarray,
    label_names: Sequence[str],
    options: BootstrapOptions,
    *,
    discrete: bool,
) -> dict[tuple[str, str], Interval]:
    """Circular block-bootstrap intervals of the test scores of one fitted decoder.

    The test rows ``(y_test, predictions)`` are resampled together
    (:func:`~cebra_lens_core.stats.block_bootstrap_indices`) and the scores recomputed
    (no refit). Returns ``{(metric, label): Interval}`` for ``r2`` and ``median_abs_error``
    per label and ``mean_r2`` (label ``""`` with several labels, else the label), or
    ``accuracy``; the keys match :meth:`DecodingResult.records
    <cebra_lens_core.metrics.decoding.DecodingResult.records>`.
    """
    y = np.asarray(y_test)
    pred = np.asarray(predictions)
    n = len(y)
    if not discrete:
        y = y.astype(np.float64).reshape(n, -1)
        pred = pred.astype(np.float64).reshape(n, -1)
    length = options.length_for(n)
    idx = block_bootstrap_indices(n, length, options.n_resamples, options.seed)
    step = max(1, _BATCH_ELEMENTS // max(1, n * (1 if discrete else y.shape[1])))
    reps = np.concatenate(
        [
            _decoding_scores(y[idx[s : s + step]], pred[idx[s : s + step]], discrete)
            for s in range(0, len(idx), step)
        ]
    )
    names = list(label_names)
    if discrete:
        keys = [("accuracy", names[0])]
    else:
        joint = names[0] if len(names) == 1 else ""
        keys = [("r2", k) for k in names] + [("mean_r2", joint)]
        keys += [("median_abs_error", k) for k in names]
    return {key: _interval(reps[:, j], options.confidence, length) for j, key in enumerate(keys)}


# --------------------------------------------------------------------------------------
# CKA
# --------------------------------------------------------------------------------------

#: Memory for the per-block CKA statistics of one pair; longer blocks beyond it.
CKA_BLOCK_BYTES = 512 * 2**20


def _cka_block_length(layers: Sequence[Any], n_rows: int, length: int, n_a: int) -> int:
    """``length``, raised so that the per-block scatter entries fit :data:`CKA_BLOCK_BYTES`."""
    widths = [int(a.shape[1]) for a in layers]
    within = sum(d * (d + 1) // 2 for d in widths)
    cross = sum(widths[:n_a]) * sum(widths[n_a:])
    per_block = 8 * (within + cross) * 2  # scatter entries and (debiased) row-norm terms
    max_blocks = max(1, CKA_BLOCK_BYTES // per_block)
    return max(int(length), -(-int(n_rows) // max_blocks))


def cka_pair_statistics(
    layers_a: Sequence[Any],
    layers_b: Sequence[Any] | None,
    kind: str,
    *,
    bootstrap: BootstrapOptions | None,
    null: NullOptions | None,
    names_a: Sequence[str],
    names_b: Sequence[str] | None,
    layer_pairs: Sequence[tuple[int, int]] | None = None,
    chunk_size: int = DEFAULT_CHUNK_ROWS,
) -> dict[str, Any]:
    """Bootstrap interval and shift-null p-values of the CKA of one pair of stores.

    Args:
        layers_a, layers_b: the two stores' layers on the same rows (``layers_b`` ``None``:
            a store with itself; no null then).
        kind: ``"linear"`` or ``"debiased"`` (``"rbf"`` gets neither).
        layer_pairs: null only for these ``(i, j)`` (default: all pairs); the shifts are the
            same for every pair (same seed), so a pair's p-value does not depend on the others.

    Returns:
        ``{"low", "high"}`` ``(La, Lb)`` interval bounds and ``"block_length"`` when
        bootstrapped; ``{"p_value", "null_quantile"}`` dicts ``(i, j) -> float`` and
        ``"n_null"`` when a null was drawn.
    """
    out: dict[str, Any] = {}
    if kind not in ("linear", "debiased"):
        return out
    n_rows = int(layers_a[0].shape[0])
    all_layers = list(layers_a) + list(layers_b or [])
    if bootstrap is not None:
        length = _cka_block_length(all_layers, n_rows, bootstrap.length_for(n_rows), len(layers_a))
        if length > bootstrap.length_for(n_rows):
            log.info("CKA bootstrap: blocks of %d rows (memory cap)", length)
        res = cka_bootstrap(
            layers_a,
            layers_b,
            length,
            bootstrap.n_resamples,
            bootstrap.seed,
            kind,  # type: ignore[arg-type]
            confidence=bootstrap.confidence,
            chunk_size=chunk_size,
            names_a=names_a,
            names_b=names_b,
        )
        out.update(low=res.low, high=res.high, block_length=length)
    if null is not None and layers_b is not None:
        min_shift = null.min_shift(n_rows)
        pairs = layer_pairs
        p, q = {}, {}
        if pairs is None:
            res = cka_shift_null(
                layers_a,
                layers_b,
                null.n_permutations,
                null.seed,
                min_shift,
                kind,  # type: ignore[arg-type]
                quantile=null.quantile,
                names_a=names_a,
                names_b=names_b,
            )
            for i in range(len(layers_a)):
                for j in range(len(layers_b)):
                    p[(i, j)] = float(res.p_value[i, j])
                    q[(i, j)] = float(res.null_quantile[i, j])
        else:
            for i, j in pairs:
                res = cka_shift_null(
                    [layers_a[i]],
                    [layers_b[j]],
                    null.n_permutations,
                    null.seed,
                    min_shift,
                    kind,  # type: ignore[arg-type]
                    quantile=null.quantile,
                    names_a=[names_a[i]],
                    names_b=[names_b[j]] if names_b else None,
                )
                p[(i, j)] = float(np.asarray(res.p_value).reshape(-1)[0])
                q[(i, j)] = float(np.asarray(res.null_quantile).reshape(-1)[0])
        out.update(p_value=p, null_quantile=q, n_null=null.n_permutations)
    return out


# --------------------------------------------------------------------------------------
# RSA between models: permutation null; RDM vs oracle: noise ceiling across seeds
# --------------------------------------------------------------------------------------


def _layer_keys(arrays: Mapping[str, np.ndarray], label: str) -> list[str]:
    prefix = f"{label}/layer_"
    return sorted(k for k in arrays if k.startswith(prefix) and k[len(prefix) :].isdigit())


def rsa_null_rows(
    rdms: Mapping[str, Mapping[str, np.ndarray]],
    *,
    label: str,
    comparator: str,
    null: NullOptions,
    dataset: str = "",
    layer_names: Mapping[str, Sequence[str]] | None = None,
) -> pd.DataFrame:
    """Condition-label permutation null of the RSA between every pair of distinct stores.

    Rows (analysis ``rdm``, label, variant = comparator, ``n`` = permutations): metric
    ``p_value`` (``(1 + #{null ≥ observed}) / (1 + n)``) and ``null_95th`` for the layer
    pairs of ``null.layers`` (corresponding layers: :func:`corresponding_layers` on
    ``layer_names``, by index without names). The keys match the ``rsa`` rows of
    :func:`~cebra_lens_core.analyses.rdm.rsa_between`.
    """
    names = [n for n in rdms if f"{label}/ids" in rdms[n]]
    layer_names = layer_names or {}
    rows = []
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            ids = rdms[a][f"{label}/ids"]
            if len(ids) < 3 or not np.array_equal(ids, rdms[b][f"{label}/ids"]):
                continue
            ka, kb = _layer_keys(rdms[a], label), _layer_keys(rdms[b], label)
            if null.layers == "all":
                pairs = [(x, y) for x in range(len(ka)) for y in range(len(kb))]
            else:
                na = list(layer_names.get(a, [""] * len(ka)))
                nb = list(layer_names.get(b, [""] * len(kb)))
                if len(na) != len(ka) or len(nb) != len(kb):
                    na, nb = [""] * len(ka), [""] * len(kb)
                pairs = corresponding_layers(na, nb)
            for x, y in pairs:
                da, db = rdms[a][ka[x]], rdms[b][kb[y]]
                if not (np.isfinite(da).all() and np.isfinite(db).all()):
                    continue
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    res = rdm_permutation_null(
                        da, db, null.n_permutations, null.seed, comparator, quantile=null.quantile
                    )
                base = {
                    "analysis": "rdm",
                    "dataset": dataset,
                    "model": a,
                    "layer": x,
                    "other_model": b,
                    "other_layer": y,
                    "label": label,
                    "variant": comparator,
                    "n": null.n_permutations,
                }
                rows.append({**base, "metric": "p_value", "value": float(res.p_value)})
                rows.append({**base, "metric": "null_95th", "value": float(res.null_quantile)})
    return make_rows(rows)


def rdm_noise_ceiling_rows(
    rdms: Mapping[str, Mapping[str, np.ndarray]],
    groups: Mapping[str, Sequence[str]],
    *,
    comparator: str,
    metric_name: str,
    dataset: str = "",
    layer_names: Mapping[str, Sequence[str]] | None = None,
) -> pd.DataFrame:
    """Noise ceiling of the RDM-vs-oracle score of every layer across the seeds of a group.

    For each seed group (stores differing only by seed), label with an oracle
    (``<label>/oracle`` in the arrays) and layer,
    :func:`~cebra_lens_core.stats.noise_ceiling` of the seeds' RDMs: ``lower`` = mean over
    seeds of the similarity to the mean RDM of the *other* seeds, ``upper`` = to the mean of
    all seeds (Nili et al. 2014). Rows analysis ``rdm``, model = group, metric
    ``noise_ceiling_low`` / ``noise_ceiling_high``, variant ``<metric>/<comparator>`` (as the
    ``oracle_similarity`` rows), ``n`` = seeds.
    """
    layer_names = layer_names or {}
    rows = []
    for group, stores in groups.items():
        stores = [s for s in stores if s in rdms]
        if len(stores) < 2:
            continue
        labels = sorted({k[: -len("/oracle")] for k in rdms[stores[0]] if k.endswith("/oracle")})
        for label in labels:
            ids = rdms[stores[0]][f"{label}/ids"]
            if any(
                f"{label}/oracle" not in rdms[s] or not np.array_equal(rdms[s][f"{label}/ids"], ids)
                for s in stores
            ):
                log.info("noise ceiling of %s, %s: seeds have different conditions", group, label)
                continue
            keys = [_layer_keys(rdms[s], label) for s in stores]
            if len({len(k) for k in keys}) != 1:
                continue
            names = list(layer_names.get(stores[0], []))
            for index in range(len(keys[0])):
                mats = [rdms[s][k[index]] for s, k in zip(stores, keys, strict=True)]
                if not all(np.isfinite(m).all() for m in mats):
                    continue
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    nc = noise_ceiling(mats, comparator)
                base = {
                    "analysis": "rdm",
                    "dataset": dataset,
                    "model": group,
                    "layer": index,
                    "layer_name": names[index] if index < len(names) else "",
                    "label": label,
                    "variant": f"{metric_name}/{comparator}",
                    "n": len(stores),
                }
                rows.append({**base, "metric": "noise_ceiling_low", "value": nc.lower})
                rows.append({**base, "metric": "noise_ceiling_high", "value": nc.upper})
    return make_rows(rows)
