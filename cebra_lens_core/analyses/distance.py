"""Intra-class, inter-class and inter-repetition distances per layer of a store."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import xarray as xr

from cebra_lens_core.analyses.common import (
    dataset_name,
    label_conditions,
    layer_arrays,
    select_labels,
    split_rows,
    store_labels,
)
from cebra_lens_core.metrics.distance import class_distances
from cebra_lens_core.results import make_rows


def distance_analysis(
    store: xr.Dataset,
    *,
    name: str,
    labels: Sequence[str] | None = None,
    metrics: Sequence[str] = ("cosine", "euclidean"),
    n_bins: int = 10,
    repeat_label: str | None = None,
    split: str = "test",
) -> pd.DataFrame:
    """Distances of every layer for every label (conditions as in the RDM analysis).

    Rows: analysis ``distance``, metric ``intra_class`` / ``inter_class`` /
    ``inter_repetition`` (when ``repeat_label`` is given), label, variant = distance
    (``cosine`` or ``euclidean_rms``: root-mean-square Euclidean distance on z-scored
    units), ``n`` = samples. The repeat label itself is not used as a class label.
    """
    rows_sel = split_rows(store, split)
    available = store_labels(store)
    repeats = None
    if repeat_label:
        if repeat_label not in available:
            raise ValueError(
                f"distance: repeat_label {repeat_label!r} is not in the store (available: {sorted(available)})"
            )
        repeats = available[repeat_label].values[rows_sel]
    chosen = [
        lab
        for lab in select_labels(store, labels, where=f"distance of {name}")
        if lab.name != repeat_label
    ]
    layers = layer_arrays(store, rows_sel)
    rows = []
    for label in chosen:
        cond = label_conditions(label, n_bins, rows_sel)
        for index, layer_name, X in layers:
            for metric in metrics:
                d = class_distances(X, cond, repeats=repeats, metric=metric)
                keys = ["intra_class", "inter_class"] + (
                    ["inter_repetition"] if repeats is not None else []
                )
                for key in keys:
                    rows.append(
                        {
                            "analysis": "distance",
                            "dataset": dataset_name(store),
                            "model": name,
                            "layer": index,
                            "layer_name": layer_name,
                            "metric": key,
                            "label": label.name,
                            "variant": d["metric"],
                            "value": d[key],
                            "n": d["n_samples"],
                        }
                    )
    return make_rows(rows)
