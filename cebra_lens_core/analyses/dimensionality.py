"""Participation ratio of every layer of a store."""

from __future__ import annotations

import warnings

import pandas as pd
import xarray as xr

from cebra_lens_core.analyses.common import dataset_name, split_rows
from cebra_lens_core.metrics.cka import stacked_covariance
from cebra_lens_core.metrics.dimensionality import participation_ratios_from_stacked
from cebra_lens_core.results import make_rows
from cebra_lens_core.store import layer_names


def dimensionality_analysis(store: xr.Dataset, *, name: str, split: str = "test") -> pd.DataFrame:
    """PR = tr(C)² / ||C||_F² per layer (C: unit covariance on the split), streamed from the store.

    Rows: analysis ``dimensionality``, metric ``participation_ratio`` (and ``n_units``),
    ``n`` = time points.
    """
    sel = split_rows(store, split)
    variables = layer_names(store)
    layers = [store[v].isel(time=sel) for v in variables]
    cov = stacked_covariance(layers, names=variables)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        prs = participation_ratios_from_stacked(cov)
    rows = []
    for i, v in enumerate(variables):
        base = {
            "analysis": "dimensionality",
            "dataset": dataset_name(store),
            "model": name,
            "layer": i,
            "layer_name": store[v].attrs.get("layer_name", v),
            "n": cov.n_samples,
        }
        rows.append({**base, "metric": "participation_ratio", "value": float(prs[i])})
        rows.append({**base, "metric": "n_units", "value": float(store[v].shape[1])})
    return make_rows(rows)
