"""Uncertainty of decoding scores (:mod:`cebra_lens_core.metrics.decoding`).

:func:`decoding_bootstrap`: the decoder is fitted once; the *test* rows' predictions are
resampled with the circular block bootstrap
(:func:`~cebra_lens_core.stats.resampling.block_bootstrap_indices`) and the score
recomputed. The interval is conditional on the fitted decoder (the variability of training
is not in it).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cebra_lens_core.stats.options import BATCH_ELEMENTS, BootstrapOptions
from cebra_lens_core.stats.resampling import Interval, block_bootstrap_indices

__all__ = ["decoding_bootstrap"]


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
    (:func:`~cebra_lens_core.stats.resampling.block_bootstrap_indices`) and the scores recomputed
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
    step = max(1, BATCH_ELEMENTS // max(1, n * (1 if discrete else y.shape[1])))
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
    return {
        key: Interval.from_replicates(reps[:, j], options.confidence, length)
        for j, key in enumerate(keys)
    }
