"""Intra-class, inter-class and inter-repetition distances per layer of a store."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from cebra_lens_core.analyses.common import (
    dataset_name,
    label_conditions,
    layer_views,
    select_labels,
    split_rows,
    store_labels,
)
from cebra_lens_core.metrics.distance import class_distances
from cebra_lens_core.results import make_rows
from cebra_lens_core.stats.distance import distance_bootstrap
from cebra_lens_core.stats.options import BootstrapOptions

log = logging.getLogger(__name__)


def distance_analysis(
    store: xr.Dataset,
    *,
    name: str,
    labels: Sequence[str] | None = None,
    metrics: Sequence[str] = ("cosine", "euclidean"),
    n_bins: int = 10,
    repeat_label: str | None = None,
    split: str = "test",
    chunk_size: int = 65536,
    bootstrap: Mapping | BootstrapOptions | None = None,
    layers: Sequence[int | str] | None = None,
) -> pd.DataFrame:
    """Distances of every layer for every label (conditions as in the RDM analysis).

    Rows: analysis ``distance``, metric ``intra_class`` / ``inter_class`` /
    ``inter_repetition`` (when ``repeat_label`` is given), label, variant = distance
    (``cosine`` or ``euclidean_rms``: root-mean-square Euclidean distance on z-scored
    units), ``n`` = samples. The repeat label itself is not used as a class label.

    Streamed: per layer and label, at most two passes over the layer in chunks of
    ``chunk_size`` rows (per-condition sums, sums of unit vectors and centred sums of squares;
    :func:`~cebra_lens_core.metrics.distance.class_distances`); no ``T × T`` matrix
    and no copy of the whole layer.

    With ``bootstrap``, ``ci_low``/``ci_high`` are block-bootstrap percentile intervals over
    the split's rows from per-block condition sums (one more pass per layer and label;
    :func:`~cebra_lens_core.stats.distance.distance_bootstrap`).

    ``layers``: restrict to these layers (positions or names); the store's references
    (``input``, ``input_rf_mean``) are always measured too, with an empty ``layer``.
    """
    boot = BootstrapOptions.from_config(bootstrap)
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
    views = layer_views(store, rows_sel, layers=layers)
    rows = []
    for label in chosen:
        cond = label_conditions(label, n_bins, rows_sel)
        for index, layer_name, X in views:
            measured = list(metrics)
            try:
                per_metric = class_distances(
                    X,
                    cond,
                    repeats=repeats,
                    metric=measured,
                    chunk_size=chunk_size,
                    name=f"{name}:{layer_name}",
                )
            except ValueError as err:
                # the recording (spike counts) has time bins without a spike: their cosine
                # distance is undefined, so the reference gets no cosine rows
                if index is not None or "all-zero" not in str(err) or measured == ["cosine"]:
                    raise
                measured = [m for m in measured if m != "cosine"]
                log.warning("%s %s: no cosine distances: %s", name, layer_name, err)
                per_metric = class_distances(
                    X,
                    cond,
                    repeats=repeats,
                    metric=measured,
                    chunk_size=chunk_size,
                    name=f"{name}:{layer_name}",
                )
            intervals = {}
            if boot is not None:
                intervals = distance_bootstrap(
                    X,
                    cond.codes,
                    boot,
                    repeats=repeats,
                    metrics=measured,
                    chunk_size=chunk_size,
                    name=f"{name}:{layer_name}",
                )
            for metric in measured:
                d = per_metric["euclidean" if metric == "euclidean_rms" else metric]
                keys = ["intra_class", "inter_class"] + (
                    ["inter_repetition"] if repeats is not None else []
                )
                found = intervals.get("euclidean" if metric == "euclidean_rms" else metric, {})
                for key in keys:
                    interval = found.get(key)
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
                            "ci_low": np.nan if interval is None else interval.low,
                            "ci_high": np.nan if interval is None else interval.high,
                            "n": d["n_samples"],
                        }
                    )
    return make_rows(rows)
