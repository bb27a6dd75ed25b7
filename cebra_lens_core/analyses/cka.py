"""CKA between every layer of two activation stores, as results rows."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pandas as pd
import xarray as xr

from cebra_lens_core.metrics.cka import cka_matrix_result
from cebra_lens_core.results import make_rows
from cebra_lens_core.store import layer_names, select_split

log = logging.getLogger(__name__)


def check_same_time_points(
    a: xr.Dataset, b: xr.Dataset, name_a: str, name_b: str, purpose: str = "CKA"
) -> None:
    """Pairwise comparisons pair rows by time: both stores must cover the same time points.

    Raises:
        ValueError: naming both stores and their lengths.
    """
    ta, tb = a.sizes["time"], b.sizes["time"]
    if ta != tb or not (a["time"].values == b["time"].values).all():
        raise ValueError(
            f"activation stores {name_a} ({ta} time points) and {name_b} ({tb} time points) "
            f"do not cover the same time points; {purpose} needs paired rows (same dataset and session)"
        )


def cka_rows(
    store_a: xr.Dataset,
    store_b: xr.Dataset,
    *,
    name_a: str,
    name_b: str,
    kinds: Sequence[str] = ("linear", "debiased"),
    split: str = "test",
    chunk_size: int = 65536,
    rbf_max_samples: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """Layer × layer CKA of ``store_a`` vs ``store_b`` for each kind, as results rows.

    One row per (layer of a, layer of b, kind): analysis ``cka``, metric ``cka``,
    variant = kind, ``n`` = time points used (after RBF subsampling). When
    ``name_a == name_b`` the symmetric within-model matrix is computed once.
    """
    a = select_split(store_a, split)
    same = name_a == name_b
    b = a if same else select_split(store_b, split)
    check_same_time_points(a, b, name_a, name_b)
    vars_a, vars_b = layer_names(a), layer_names(b)
    layers_a = [a[v] for v in vars_a]
    layers_b = None if same else [b[v] for v in vars_b]
    dataset = str(store_a.attrs.get("dataset_name", store_a.attrs.get("dataset", "")))
    rows = []
    for kind in kinds:
        log.info(
            "%s CKA %s vs %s on %d %s time points", kind, name_a, name_b, a.sizes["time"], split
        )
        result = cka_matrix_result(
            layers_a,
            layers_b,
            kind,
            chunk_size=chunk_size,
            max_samples=rbf_max_samples,
            seed=seed,
            names_a=[f"{name_a}:{v}" for v in vars_a],
            names_b=None if same else [f"{name_b}:{v}" for v in vars_b],
        )
        for i, va in enumerate(vars_a):
            for j in range(len(vars_b)):
                rows.append(
                    {
                        "analysis": "cka",
                        "dataset": dataset,
                        "model": name_a,
                        "layer": i,
                        "layer_name": a[va].attrs.get("layer_name", ""),
                        "other_model": name_b,
                        "other_layer": j,
                        "metric": "cka",
                        "variant": kind,
                        "value": float(result.values[i, j]),
                        "n": int(result.n_samples),
                    }
                )
    return make_rows(rows)
