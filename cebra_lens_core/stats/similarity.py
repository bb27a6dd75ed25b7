r"""Block-bootstrap intervals of the covariance-based similarity measures (shape, CCA).

Every shape and CCA value is a function of the stacked scatter of the scored rows
(:class:`~cebra_lens_core.metrics.cka.StackedCovariance`). A non-overlapping block-bootstrap
replicate (:func:`~cebra_lens_core.stats.resampling.nonoverlapping_block_draws`: ``K`` blocks
of ``L`` consecutive rows, ``K`` drawn with replacement, block ``k`` drawn ``w_k`` times) of
those rows has, with ``u_t = z_t − m`` the rows centred on the global mean ``m`` and per-block
``n_k``, ``s_k = Σ_{t∈k} u_t``, ``S_k = Σ_{t∈k} u_t u_tᵀ``::

    n = Σ_k w_k n_k,   a = Σ_k w_k s_k,   S = Σ_k w_k S_k
    means = m + a / n,   G = S − a aᵀ / n          (scatter about the replicate's own mean)

exactly the stacked covariance of the concatenated drawn rows (the test checks it against
that brute force). The replicate sums ``S`` are accumulated block by block while the rows
are streamed (``B × D × D`` float64 for ``B`` replicates and ``D`` stacked units; the per-block
``S_k`` are never all kept), so memory does not grow with the recording. Centring on ``m``
first keeps the subtraction ``a aᵀ / n`` small (``|a| / n`` is of the order of the standard
error of the mean), as in :mod:`cebra_lens_core.stats.cka`.

The interval is the percentile interval of the measure over the replicates
(:func:`~cebra_lens_core.stats.resampling.percentile_interval`). For the shape metrics scored
on a test split the fit (whitening, rotation on the training split) is held fixed and only the
scored rows are resampled: the interval is the uncertainty of the held-out score given the
fit. It is a resampling interval of the estimate, not a significance test.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from cebra_lens_core.metrics.cka import StackedCovariance
from cebra_lens_core.stats.options import BootstrapOptions
from cebra_lens_core.stats.resampling import block_draws, block_weights, percentile_interval

#: Cap on ``B × D × D`` float64 replicate sums (:func:`covariance_replicates`).
DEFAULT_MAX_REPLICATE_BYTES = 512 * 2**20


def _rows(layers: Sequence[Any], start: int, stop: int) -> np.ndarray:
    return np.concatenate(
        [np.asarray(layer[start:stop], dtype=np.float64) for layer in layers], axis=1
    )


def covariance_replicates(
    layers: Sequence[Any],
    options: BootstrapOptions,
    *,
    chunk_size: int = 65536,
    max_bytes: int = DEFAULT_MAX_REPLICATE_BYTES,
) -> list[StackedCovariance]:
    """The stacked covariance of every block-bootstrap replicate of the rows of ``layers``.

    Args:
        layers: ``(T, d_i)`` layers with the same rows (arrays or lazy zarr-backed layers;
            read twice in chunks of whole blocks).
        options: block length, number of replicates, seed (the same draws for every layer).
        chunk_size: rows read per chunk (rounded to whole blocks).
        max_bytes: refuse more than this many bytes of replicate sums ``8 B D²``.

    Returns:
        ``B`` :class:`~cebra_lens_core.metrics.cka.StackedCovariance` (scatter, means, rows).

    Raises:
        ValueError: layers of different lengths; ``8 B D²`` above ``max_bytes`` (names it).
    """
    n_time = int(layers[0].shape[0])
    if any(int(layer.shape[0]) != n_time for layer in layers):
        raise ValueError(f"layers have different numbers of rows: {[x.shape[0] for x in layers]}")
    widths = [int(layer.shape[1]) for layer in layers]
    width = sum(widths)
    need = 8 * options.n_resamples * width * width
    if need > max_bytes:
        raise ValueError(
            f"bootstrap replicates of {width} stacked units need {need / 2**20:.0f} MiB "
            f"({options.n_resamples} replicates × {width}² × 8 bytes), above {max_bytes / 2**20:.0f}"
            " MiB; use fewer statistics.bootstrap.n_resamples or disable the bootstrap"
        )
    edges, draws, length = block_draws(n_time, options)
    weights = block_weights(draws, len(edges) - 1)  # (B, K)
    rows = max(length, int(chunk_size) // length * length)
    total = np.zeros(width)
    for start in range(0, n_time, rows):
        total += _rows(layers, start, min(start + rows, n_time)).sum(axis=0)
    mean = total / n_time
    sums = np.zeros((len(edges) - 1, width))
    scatter = np.zeros((options.n_resamples, width, width))
    for start in range(0, n_time, rows):
        stop = min(start + rows, n_time)
        u = _rows(layers, start, stop) - mean
        first = start // length
        blocks = range(first, first + int(np.ceil((stop - start) / length)))
        per_block = []
        for k in blocks:
            ub = u[edges[k] - start : edges[k + 1] - start]
            sums[k] = ub.sum(axis=0)
            per_block.append(ub.T @ ub)
        # S_r += Σ_k w_rk S_k for the blocks of this chunk: one (B × nb) @ (nb × D²) product
        stacked = np.stack(per_block).reshape(len(per_block), -1)
        scatter += (weights[:, blocks.start : blocks.stop] @ stacked).reshape(scatter.shape)
    counts = np.diff(edges).astype(np.float64)
    offsets = np.concatenate([[0], np.cumsum(widths)]).astype(np.intp)
    out = []
    for r in range(options.n_resamples):
        n = float(weights[r] @ counts)
        a = weights[r] @ sums
        out.append(
            StackedCovariance(
                scatter=scatter[r] - np.outer(a, a) / n,
                means=mean + a / n,
                offsets=offsets,
                n_samples=int(round(n)),
            )
        )
    return out


def covariance_intervals(
    replicates: Sequence[StackedCovariance],
    statistic: Callable[[StackedCovariance], dict[str, np.ndarray]],
    confidence: float,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Percentile interval of each array ``statistic`` returns, over the replicates:
    ``{name: (low, high)}`` (NaN where every replicate is NaN)."""
    values: dict[str, list[np.ndarray]] = {}
    for cov in replicates:
        for name, value in statistic(cov).items():
            values.setdefault(name, []).append(np.asarray(value, dtype=np.float64))
    return {
        name: tuple(np.asarray(q) for q in percentile_interval(np.stack(v), confidence))
        for name, v in values.items()
    }
