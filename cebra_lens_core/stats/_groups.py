"""Per-block, per-group sums: the sufficient statistics of the block bootstrap of RDM-vs-oracle
scores (:func:`~cebra_lens_core.stats.rdm.rdm_oracle_bootstrap`) and class distances
(:func:`~cebra_lens_core.stats.distance.distance_bootstrap`).

The rows of the split are cut into ``K`` non-overlapping blocks of ``L`` consecutive time
points; one pass over the layer stores, per block and condition (and per block and
(condition, repeat) pair), the count and the sums the metric needs (:class:`BlockGroupSums`).
A replicate draws ``K`` blocks with replacement
(:func:`~cebra_lens_core.stats.resampling.nonoverlapping_block_draws`) and adds the drawn
blocks' sums: it equals the statistic recomputed on the concatenated rows of the drawn blocks
(``block_rows(edges, draws[b])``) to float64 rounding, without touching the data again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from cebra_lens_core.metrics.streaming import DEFAULT_CHUNK_ROWS, as_layer, group_sums, iter_chunks
from cebra_lens_core.stats.options import BATCH_ELEMENTS

__all__ = ["BlockGroupSums", "block_group_sums"]


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
            step = max(1, BATCH_ELEMENTS // max(1, n_pairs * d))
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
        edges: block boundaries (e.g. from
            :func:`~cebra_lens_core.stats.resampling.nonoverlapping_block_draws`).
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
