"""Participation ratio of every layer of a store."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import pandas as pd
import xarray as xr

from cebra_lens_core.analyses.common import dataset_name, select_layer_variables, split_rows
from cebra_lens_core.metrics.cka import stacked_covariance
from cebra_lens_core.metrics.dimensionality import participation_ratios_from_stacked
from cebra_lens_core.results import make_rows


def dimensionality_analysis(
    store: xr.Dataset,
    *,
    name: str,
    split: str = "test",
    layers: Sequence[int | str] | None = None,
) -> pd.DataFrame:
    """PR = tr(C)² / ||C||_F² per layer (C: unit covariance on the split), streamed from the store.

    Rows: analysis ``dimensionality``, metric ``participation_ratio`` (and ``n_units``),
    ``n`` = time points; the store's references (``input``, ``input_rf_mean``) too, with an
    empty ``layer``. ``layers``: restrict to these layers (positions or names).
    """
    sel = split_rows(store, split)
    selected = select_layer_variables(store, layers)
    variables = [var for _, _, var in selected]
    cov = stacked_covariance([store[v].isel(time=sel) for v in variables], names=variables)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        prs = participation_ratios_from_stacked(cov)
    rows = []
    for i, (index, layer_name, v) in enumerate(selected):
        base = {
            "analysis": "dimensionality",
            "dataset": dataset_name(store),
            "model": name,
            "layer": index,
            "layer_name": layer_name,
            "n": cov.n_samples,
        }
        rows.append({**base, "metric": "participation_ratio", "value": float(prs[i])})
        rows.append({**base, "metric": "n_units", "value": float(store[v].shape[1])})
    return make_rows(rows)
