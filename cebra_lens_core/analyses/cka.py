"""CKA between every layer of two activation stores, as results rows."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from cebra_lens_core.activations.store import layer_names, reference_names, select_split
from cebra_lens_core.metrics.cka import DEFAULT_MAX_SAMPLES, cka_matrix
from cebra_lens_core.naming import corresponding_layers
from cebra_lens_core.results import make_rows
from cebra_lens_core.stats.cka import cka_pair_statistics
from cebra_lens_core.stats.options import BootstrapOptions, NullOptions

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
    rbf_max_samples: int = DEFAULT_MAX_SAMPLES,
    seed: int = 0,
    device=None,
) -> pd.DataFrame:
    """Layer × layer CKA of ``store_a`` vs ``store_b`` for each kind, as results rows.

    One row per (layer of a, layer of b, kind): analysis ``cka``, metric ``cka``,
    variant = kind, ``n`` = time points used (after RBF subsampling). When
    ``name_a == name_b`` the symmetric within-model matrix is computed once. ``device``:
    ``None`` (numpy) or a torch device for the linear/debiased kinds (see
    :func:`~cebra_lens_core.metrics.cka.cka_matrix`).
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
        result = cka_matrix(
            layers_a,
            layers_b,
            kind,
            chunk_size=chunk_size,
            max_samples=rbf_max_samples,
            seed=seed,
            names_a=[f"{name_a}:{v}" for v in vars_a],
            names_b=None if same else [f"{name_b}:{v}" for v in vars_b],
            device=None if kind == "rbf" else device,
            return_result=True,
        )
        rows += _matrix_rows(result.values, int(result.n_samples), kind, dataset, a, name_a, name_b)
    return make_rows(rows)


def _matrix_rows(
    values: np.ndarray,
    n: int,
    kind: str,
    dataset: str,
    store_a: xr.Dataset,
    name_a: str,
    name_b: str,
) -> list[dict]:
    """Results rows of one layer × layer CKA matrix (``values[i, j]``: layer i of a, j of b)."""
    names = [store_a[v].attrs.get("layer_name", "") for v in layer_names(store_a)]
    return [
        {
            "analysis": "cka",
            "dataset": dataset,
            "model": name_a,
            "layer": i,
            "layer_name": names[i],
            "other_model": name_b,
            "other_layer": j,
            "metric": "cka",
            "variant": kind,
            "value": float(values[i, j]),
            "n": n,
        }
        for i in range(values.shape[0])
        for j in range(values.shape[1])
    ]


def cka_rows_for_pairs(
    stores: Mapping[str, xr.Dataset],
    pairs: Sequence[tuple[str, str]],
    *,
    kinds: Sequence[str] = ("linear", "debiased"),
    split: str = "test",
    chunk_size: int = 65536,
    rbf_max_samples: int = DEFAULT_MAX_SAMPLES,
    seed: int = 0,
    device=None,
    bootstrap: Mapping | BootstrapOptions | None = None,
    null: Mapping | NullOptions | None = None,
) -> pd.DataFrame:
    """Layer × layer CKA for several store pairs from one stacked covariance per kind.

    The layers of every store named in ``pairs`` are stacked into one ``Z`` and
    ``G = ZᵀZ`` is accumulated in a single pass over the rows, so a job reads each store
    once however many pairs it has (CKA_ij needs only the blocks ``G_ii``, ``G_jj``,
    ``G_ij``: the values equal :func:`cka_rows` pair by pair). Rows as in :func:`cka_rows`,
    for each pair ``(a, b)`` in the given order. Memory: ``8 (Σd)²`` bytes for ``G``.

    Statistics (``linear`` and ``debiased`` kinds; pair by pair, see
    :func:`~cebra_lens_core.stats.cka.cka_pair_statistics`):

    - ``bootstrap``: ``ci_low``/``ci_high`` of every CKA value = non-overlapping block
      bootstrap percentile interval (:func:`~cebra_lens_core.stats.cka_bootstrap`). It is
      biased upwards near 0 and is **not** a significance test.
    - ``null``: for pairs of two different stores, the circular time-shift null
      (:func:`~cebra_lens_core.stats.cka_shift_null`) of the corresponding layer pairs
      (``null.layers: corresponding``, :func:`corresponding_layers`) or of all of them:
      extra rows metric ``p_value`` and ``null_95th`` with the keys of the CKA row
      (variant = kind, ``n`` = null draws).
    """
    boot = BootstrapOptions.from_config(bootstrap)
    nulls = NullOptions.from_config(null)
    names = list(dict.fromkeys(s for pair in pairs for s in pair))
    missing = [n for n in names if n not in stores]
    if missing:
        raise ValueError(f"pairs name stores {missing} that were not given (have {list(stores)})")
    selected = {n: select_split(stores[n], split) for n in names}
    first = names[0]
    for n in names[1:]:
        check_same_time_points(selected[first], selected[n], first, n)
    offsets, layers, labels = {}, [], []
    for n in names:
        variables = layer_names(selected[n])
        offsets[n] = (len(layers), variables)
        layers += [selected[n][v] for v in variables]
        labels += [f"{n}:{v}" for v in variables]
    if sum(layer.size * 4 for layer in layers) <= _IN_MEMORY_BYTES:  # float32 stores
        layers = [np.asarray(layer.values) for layer in layers]  # read once, not per pass
    rows = []
    for kind in kinds:
        log.info(
            "%s CKA of %d stores (%d pairs, %d layers) on %d %s time points",
            kind,
            len(names),
            len(pairs),
            len(layers),
            selected[first].sizes["time"],
            split,
        )
        result = cka_matrix(
            layers,
            None,
            kind,
            chunk_size=chunk_size,
            max_samples=rbf_max_samples,
            seed=seed,
            names_a=labels,
            device=None if kind == "rbf" else device,
            return_result=True,
        )
        for a, b in pairs:
            (start_a, vars_a), (start_b, vars_b) = offsets[a], offsets[b]
            dataset = str(stores[a].attrs.get("dataset_name", stores[a].attrs.get("dataset", "")))
            block = result.values[start_a : start_a + len(vars_a), start_b : start_b + len(vars_b)]
            rows += _matrix_rows(block, int(result.n_samples), kind, dataset, selected[a], a, b)
    if boot is not None or nulls is not None:
        rows = _add_statistics(
            rows, selected, layers, offsets, pairs, kinds, boot, nulls, chunk_size
        )
    for n in dict.fromkeys(a for a, b in pairs if a == b):
        rows += reference_cka_rows(selected[n], n, kinds, chunk_size, rbf_max_samples, seed)
    return make_rows(rows)


def reference_cka_rows(
    store: xr.Dataset,
    name: str,
    kinds: Sequence[str],
    chunk_size: int = 65536,
    rbf_max_samples: int = DEFAULT_MAX_SAMPLES,
    seed: int = 0,
) -> list[dict]:
    """CKA of every layer of a store against its reference variables (``input``,
    ``input_rf_mean``): rows with ``model == other_model``, an empty ``layer``,
    ``layer_name`` = the reference and ``other_layer`` = the layer (no intervals)."""
    references = reference_names(store)
    if not references:
        return []
    variables = layer_names(store)
    dataset = str(store.attrs.get("dataset_name", store.attrs.get("dataset", "")))
    rows = []
    for kind in kinds:
        result = cka_matrix(
            [store[r] for r in references],
            [store[v] for v in variables],
            kind,
            chunk_size=chunk_size,
            max_samples=rbf_max_samples,
            seed=seed,
            names_a=[f"{name}:{r}" for r in references],
            names_b=[f"{name}:{v}" for v in variables],
            return_result=True,
        )
        rows += [
            {
                "analysis": "cka",
                "dataset": dataset,
                "model": name,
                "layer": None,
                "layer_name": reference,
                "other_model": name,
                "other_layer": j,
                "metric": "cka",
                "variant": kind,
                "value": float(result.values[i, j]),
                "n": int(result.n_samples),
            }
            for i, reference in enumerate(references)
            for j in range(len(variables))
        ]
    return rows


#: Stores of one job are read into memory for the statistics up to this many bytes.
_IN_MEMORY_BYTES = 1 << 30


def _add_statistics(
    rows: list[dict],
    selected: Mapping[str, xr.Dataset],
    layers: Sequence[Any],
    offsets: Mapping[str, tuple[int, list[str]]],
    pairs: Sequence[tuple[str, str]],
    kinds: Sequence[str],
    boot: BootstrapOptions | None,
    nulls: NullOptions | None,
    chunk_size: int,
) -> list[dict]:
    """Fill ``ci_low``/``ci_high`` of the CKA rows and append the null rows (``layers``: the
    stacked layers of every store, in memory when they fit in ``_IN_MEMORY_BYTES``)."""

    def layers_of(name: str) -> list:
        start, variables = offsets[name]
        return list(layers[start : start + len(variables)])

    index = {
        (r["model"], r["other_model"], r["variant"], r["layer"], r["other_layer"]): r for r in rows
    }
    extra = []
    for a, b in pairs:
        va, vb = offsets[a][1], offsets[b][1]
        names_a = [str(selected[a][v].attrs.get("layer_name", "")) for v in va]
        names_b = [str(selected[b][v].attrs.get("layer_name", "")) for v in vb]
        same = a == b
        layer_pairs = None
        if nulls is not None and not same and nulls.layers == "corresponding":
            layer_pairs = corresponding_layers(names_a, names_b)
        log.info("CKA statistics %s vs %s (%s)", a, b, ", ".join(kinds))
        per_kind = cka_pair_statistics(
            layers_of(a),
            None if same else layers_of(b),
            kinds,
            bootstrap=boot,
            null=None if same else nulls,
            names_a=[f"{a}:{v}" for v in va],
            names_b=None if same else [f"{b}:{v}" for v in vb],
            layer_pairs=layer_pairs,
            chunk_size=chunk_size,
        )
        for kind, stats in per_kind.items():
            if "low" in stats:
                for i in range(len(va)):
                    for j in range(len(vb)):
                        row = index[(a, b, kind, i, j)]
                        row["ci_low"] = float(stats["low"][i, j])
                        row["ci_high"] = float(stats["high"][i, j])
            for (i, j), p in stats.get("p_value", {}).items():
                base = {**index[(a, b, kind, i, j)], "n": int(stats["n_null"])}
                base.pop("ci_low", None)
                base.pop("ci_high", None)
                extra.append({**base, "metric": "p_value", "value": p})
                extra.append(
                    {**base, "metric": "null_95th", "value": stats["null_quantile"][(i, j)]}
                )
    return rows + extra
