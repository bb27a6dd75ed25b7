"""Single units: activity over time and tuning curves, with the variance each label explains."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from cebra_lens_core.analyses.common import (
    dataset_name,
    label_conditions,
    layer_views,
    select_labels,
    split_rows,
)
from cebra_lens_core.metrics.conditions import ConditionMeans, condition_means
from cebra_lens_core.metrics.streaming import iter_chunks
from cebra_lens_core.results import make_rows


def tuning_curves(
    X: Any, codes: list[np.ndarray], chunk_size: int = 65536, name: str = "X"
) -> list[tuple[ConditionMeans, np.ndarray]]:
    """Tuning curves (condition means) and η² of every unit, per label, read in chunks.

    η² is the fraction of each unit's variance explained by the condition means (one-way
    ANOVA)::

        η²_u = Σ_c n_c (μ_cu − μ_u)² / Σ_t (x_tu − μ_u)²

    NaN for a constant unit. ``codes``: one integer condition array per label (one pass
    over ``X`` for all of them, a second for the total sum of squares).
    """
    if not codes:
        return []
    cms = condition_means(X, codes, chunk_size=chunk_size, min_conditions=1, name=name)
    counts, means = cms[0].counts, cms[0].means
    mu = (counts[:, None] * means).sum(axis=0) / counts.sum()
    total = np.zeros(int(X.shape[1]))
    for _, _, chunk in iter_chunks(X, chunk_size, name=name):
        total += np.square(chunk - mu).sum(axis=0)
    out = []
    for cm in cms:
        between = (cm.counts[:, None] * (cm.means - mu) ** 2).sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            eta2 = np.where(total > 0, between / np.where(total > 0, total, 1.0), np.nan)
        out.append((cm, eta2))
    return out


def single_unit_analysis(
    store: xr.Dataset,
    *,
    name: str,
    labels: Sequence[str] | None = None,
    n_bins: int = 20,
    max_timepoints: int = 2000,
    split: str = "test",
    chunk_size: int = 65536,
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Tuning curves (mean activation per condition) of every unit of every layer, the
    η² of each unit per label, and the first ``max_timepoints`` of activity per layer.

    Rows: analysis ``single_unit``, metric ``tuning_eta2_mean`` / ``tuning_eta2_max`` per
    layer and label, ``n`` = units. Arrays: ``activity/layer_XX`` (time × units),
    ``tuning/<label>/layer_XX`` (conditions × units), ``tuning/<label>/x`` (bin centres or
    class codes), ``eta2/<label>/layer_XX``.

    Streamed: per layer, two passes in chunks of ``chunk_size`` rows (condition sums of every
    label, then the centred total sum of squares), so memory stays bounded by one chunk.
    """
    sel = split_rows(store, split)
    chosen = select_labels(store, labels, where=f"single units of {name}")
    conds = [label_conditions(label, n_bins, sel) for label in chosen]
    arrays: dict[str, np.ndarray] = {}
    layers = []  # (index, layer_name, n_units, [(condition means, eta2) per label])
    for index, layer_name, X in layer_views(store, sel, references=False):
        arrays[f"activity/layer_{index:02d}"] = np.asarray(X[:max_timepoints], dtype=np.float32)
        stats = tuning_curves(X, [c.codes for c in conds], chunk_size, f"{name}:{layer_name}")
        layers.append((index, layer_name, int(X.shape[1]), stats))
    rows = []
    for k, (label, cond) in enumerate(zip(chosen, conds, strict=True)):
        arrays[f"tuning/{label.name}/x"] = cond.bin_centres if cond.edges is not None else cond.ids
        for index, layer_name, n_units, stats in layers:
            cm, eta2 = stats[k]
            arrays[f"tuning/{label.name}/layer_{index:02d}"] = cm.means.astype(np.float32)
            arrays[f"eta2/{label.name}/layer_{index:02d}"] = eta2
            base = {
                "analysis": "single_unit",
                "dataset": dataset_name(store),
                "model": name,
                "layer": index,
                "layer_name": layer_name,
                "label": label.name,
                "n": n_units,
            }
            rows.append({**base, "metric": "tuning_eta2_mean", "value": float(np.nanmean(eta2))})
            rows.append({**base, "metric": "tuning_eta2_max", "value": float(np.nanmax(eta2))})
    return make_rows(rows), arrays
