"""CEBRA consistency across seeds, for every layer (not only the embedding)."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping

import pandas as pd
import xarray as xr

from cebra_lens_core.activations.store import layer_names
from cebra_lens_core.analyses.cka import check_same_time_points
from cebra_lens_core.analyses.common import dataset_name, split_rows
from cebra_lens_core.metrics.consistency import consistency_matrix
from cebra_lens_core.results import make_rows

log = logging.getLogger(__name__)


def consistency_analysis(stores: Mapping[str, xr.Dataset], *, split: str = "test") -> pd.DataFrame:
    """Consistency (R² of a linear map, fitted and scored on the split as in CEBRA) between
    every ordered pair of stores, layer by layer (layer i of run a → layer i of run b).

    The stores must be runs of one configuration that differ only by seed (same layers,
    same time points). Rows: analysis ``consistency``, metric ``r2``, variant ``linear``,
    model = predictor run, other_model = predicted run.
    """
    names = list(stores)
    if len(names) < 2:
        raise ValueError(f"consistency needs at least 2 runs, got {names}")
    first = stores[names[0]]
    variables = layer_names(first)
    for other in names[1:]:
        check_same_time_points(first, stores[other], names[0], other, purpose="consistency")
        if layer_names(stores[other]) != variables:
            raise ValueError(
                f"runs {names[0]} and {other} have different layers; consistency compares the same architecture"
            )
    sel = split_rows(first, split)
    rows = []
    for i, v in enumerate(variables):
        embeddings = [stores[n][v].isel(time=sel) for n in names]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", RuntimeWarning)
            m = consistency_matrix(embeddings, names=[f"{n}:{v}" for n in names])
        for message in dict.fromkeys(str(w.message) for w in caught):  # e.g. dropped units
            log.warning("consistency, layer %s: %s", first[v].attrs.get("layer_name", v), message)
        for a, na in enumerate(names):
            for b, nb in enumerate(names):
                if a == b:
                    continue
                rows.append(
                    {
                        "analysis": "consistency",
                        "dataset": dataset_name(first),
                        "model": na,
                        "layer": i,
                        "layer_name": first[v].attrs.get("layer_name", v),
                        "other_model": nb,
                        "other_layer": i,
                        "metric": "r2",
                        "variant": "linear",
                        "value": float(m[a, b]),
                        "n": int(embeddings[0].sizes["time"]),
                    }
                )
    return make_rows(rows)
