"""Single units: activity over time and tuning curves, with the variance each label explains."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from cebra_lens_core.analyses.common import (
    dataset_name,
    label_conditions,
    layer_arrays,
    select_labels,
    split_rows,
)
from cebra_lens_core.metrics.conditions import condition_means
from cebra_lens_core.results import make_rows


def tuning_eta_squared(X: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Fraction of each unit's variance explained by the condition means (η², one-way ANOVA):

        η²_u = Σ_c n_c (μ_cu − μ_u)² / Σ_t (x_tu − μ_u)²

    NaN for a constant unit.
    """
    cm = condition_means(X, codes, min_conditions=1)
    mu = X.mean(axis=0)
    between = (cm.counts[:, None] * (cm.means - mu) ** 2).sum(axis=0)
    total = ((X - mu) ** 2).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, between / np.where(total > 0, total, 1.0), np.nan)


def single_unit_analysis(
    store: xr.Dataset,
    *,
    name: str,
    labels: Sequence[str] | None = None,
    n_bins: int = 20,
    max_timepoints: int = 2000,
    split: str = "test",
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Tuning curves (mean activation per condition) of every unit of every layer, the
    η² of each unit per label, and the first ``max_timepoints`` of activity per layer.

    Rows: analysis ``single_unit``, metric ``tuning_eta2_mean`` / ``tuning_eta2_max`` per
    layer and label, ``n`` = units. Arrays: ``activity/layer_XX`` (time × units),
    ``tuning/<label>/layer_XX`` (conditions × units), ``tuning/<label>/x`` (bin centres or
    class codes), ``eta2/<label>/layer_XX``.
    """
    sel = split_rows(store, split)
    layers = layer_arrays(store, sel)
    arrays: dict[str, np.ndarray] = {}
    for index, _, X in layers:
        arrays[f"activity/layer_{index:02d}"] = X[:max_timepoints].astype(np.float32)
    rows = []
    for label in select_labels(store, labels, where=f"single units of {name}"):
        cond = label_conditions(label, n_bins, sel)
        arrays[f"tuning/{label.name}/x"] = cond.bin_centres if cond.edges is not None else cond.ids
        for index, layer_name, X in layers:
            cm = condition_means(X, cond.codes, min_conditions=1)
            eta2 = tuning_eta_squared(X, cond.codes)
            arrays[f"tuning/{label.name}/layer_{index:02d}"] = cm.means.astype(np.float32)
            arrays[f"eta2/{label.name}/layer_{index:02d}"] = eta2
            base = {
                "analysis": "single_unit",
                "dataset": dataset_name(store),
                "model": name,
                "layer": index,
                "layer_name": layer_name,
                "label": label.name,
                "n": X.shape[1],
            }
            rows.append({**base, "metric": "tuning_eta2_mean", "value": float(np.nanmean(eta2))})
            rows.append({**base, "metric": "tuning_eta2_max", "value": float(np.nanmax(eta2))})
    return make_rows(rows), arrays
