"""RDM / RSA per layer of a store: condition means, RDM, score against the oracle RDM."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from cebra_lens_core.analyses.common import (
    array_key,
    dataset_name,
    label_conditions,
    layer_views,
    select_labels,
    split_rows,
)
from cebra_lens_core.analyses.uncertainty import BootstrapOptions, rdm_oracle_bootstrap
from cebra_lens_core.metrics.conditions import condition_means_streamed
from cebra_lens_core.metrics.rdm import compare_rdms, oracle_rdm, rdm_from_means, rdm_metric_name
from cebra_lens_core.results import make_rows

log = logging.getLogger(__name__)


def default_comparator(oracle_kind: str) -> str:
    """Spearman for an ordinal oracle; ρ_a for a categorical one (one big tie, METHODS.md)."""
    return "rho_a" if oracle_kind == "categorical" else "spearman"


def rdm_analysis(
    store: xr.Dataset,
    *,
    name: str,
    labels: Sequence[str] | None = None,
    n_bins: int = 10,
    metric: str = "correlation",
    comparator: str = "auto",
    split: str = "train",
    chunk_size: int = 65536,
    bootstrap: Mapping | BootstrapOptions | None = None,
    layers: Sequence[int | str] | None = None,
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """RDM of every layer for every label, and its similarity to the oracle RDM.

    Conditions: a discrete label's codes, or a continuous label in ``n_bins`` equal-width
    bins (empty bins dropped). Condition means come from the ``split`` rows (training split
    by default). Oracle: ordinal ``|i − j| / (B − 1)`` for a binned continuous label,
    categorical (0 within, 1 between) for a discrete one; a label with fewer than 3
    conditions gets RDMs but no oracle score (a 2 × 2 RDM has one entry).

    With ``bootstrap`` (:class:`~cebra_lens_core.analyses.uncertainty.BootstrapOptions` or
    the workflow's dict), ``ci_low``/``ci_high`` of every oracle score are its block-bootstrap
    percentile interval over the split's rows, from per-block condition sums
    (:func:`~cebra_lens_core.analyses.uncertainty.rdm_oracle_bootstrap`). ``layers``: restrict
    to these layers (positions or names); the store's references are always included.

    Returns:
        results rows (analysis ``rdm``, metric ``oracle_similarity``, variant = comparator,
        ``n`` = number of conditions; the store's reference variables give rows with an
        empty ``layer`` and ``layer_name`` ``input`` / ``input_rf_mean``) and arrays
        ``{"<label>/ids", "<label>/layer_XX", "<label>/input", "<label>/names",
        "<label>/oracle", ...}`` with the RDMs for figures, between-model RSA
        and the noise ceiling (``names``: the layer names; ``oracle`` only where a score is
        computed).
    """
    boot = BootstrapOptions.from_config(bootstrap)
    rows_sel = split_rows(store, split)
    metric_name = rdm_metric_name(metric)
    chosen = select_labels(store, labels, where=f"rdm of {name}")
    conds = [label_conditions(label, n_bins, rows_sel) for label in chosen]
    layers = []  # (index, layer_name, [condition means of each label])
    views = layer_views(store, rows_sel, layers=layers)
    for index, layer_name, X in views:
        means = condition_means_streamed(
            X, [c.codes for c in conds], chunk_size=chunk_size, name=f"{name}:{layer_name}"
        )
        layers.append((index, layer_name, [m.means for m in means]))
    rows, arrays = [], {}
    for k, (label, cond) in enumerate(zip(chosen, conds, strict=True)):
        if cond.dropped.size:
            log.info("%s: label %s: empty bins %s dropped", name, label.name, cond.dropped.tolist())
        arrays[f"{label.name}/ids"] = cond.ids
        arrays[f"{label.name}/unit"] = np.array(label.unit)
        arrays[f"{label.name}/names"] = np.array([str(v[1]) for v in views if v[0] is not None])
        if cond.edges is not None:
            arrays[f"{label.name}/bin_centres"] = cond.bin_centres
        oracle_kind = "ordinal" if label.kind == "continuous" else "categorical"
        oracle = None
        if cond.n_conditions >= 3 and oracle_kind == "ordinal":
            oracle = oracle_rdm(cond.ids, kind="ordinal", n_levels=cond.n_bins)
        elif cond.n_conditions >= 3:
            log.info(
                "%s: label %s is discrete with one condition per class: no oracle score",
                name,
                label.name,
            )
        method = default_comparator(oracle_kind) if comparator == "auto" else comparator
        intervals = {}
        if oracle is not None:
            arrays[f"{label.name}/oracle"] = oracle
            if boot is not None:
                found = rdm_oracle_bootstrap(
                    [v[2] for v in views],
                    cond.codes,
                    cond.ids,
                    oracle,
                    boot,
                    metric=metric,
                    method=method,
                    chunk_size=chunk_size,
                    names=[f"{name}:{v[1]}" for v in views],
                )
                intervals = {v[1]: iv for v, iv in zip(views, found, strict=True)}
        for index, layer_name, layer_means in layers:
            means = layer_means[k]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                D = rdm_from_means(means, metric)
            arrays[f"{label.name}/{array_key(index, layer_name)}"] = D
            if oracle is None or not np.isfinite(D).all():
                continue
            rows.append(
                {
                    "analysis": "rdm",
                    "dataset": dataset_name(store),
                    "model": name,
                    "layer": index,
                    "layer_name": layer_name,
                    "metric": "oracle_similarity",
                    "label": label.name,
                    "variant": f"{metric_name}/{method}",
                    "value": compare_rdms(D, oracle, method),
                    "ci_low": intervals[layer_name].low if layer_name in intervals else np.nan,
                    "ci_high": intervals[layer_name].high if layer_name in intervals else np.nan,
                    "n": cond.n_conditions,
                }
            )
    return make_rows(rows), arrays


def rsa_between(
    rdms: dict[str, dict[str, np.ndarray]],
    *,
    label: str,
    comparator: str = "spearman",
    dataset: str = "",
) -> pd.DataFrame:
    """Layer × layer RSA between every pair of stores (RDMs of ``label`` on the same conditions).

    Args:
        rdms: store name -> arrays from :func:`rdm_analysis`.

    Returns rows analysis ``rdm``, metric ``rsa``, variant = comparator, one per layer pair.
    """
    from cebra_lens_core.metrics.rdm import rdm_similarity_matrix

    names = [n for n in rdms if f"{label}/ids" in rdms[n]]
    rows = []
    for i, a in enumerate(names):
        for b in names[i:]:
            if not np.array_equal(rdms[a][f"{label}/ids"], rdms[b][f"{label}/ids"]):
                continue
            la = sorted(k for k in rdms[a] if k.startswith(f"{label}/layer_"))
            lb = sorted(k for k in rdms[b] if k.startswith(f"{label}/layer_"))
            if len(rdms[a][f"{label}/ids"]) < 3:
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                m = rdm_similarity_matrix(
                    [rdms[a][k] for k in la], [rdms[b][k] for k in lb], method=comparator
                )
            for x in range(len(la)):
                for y in range(len(lb)):
                    rows.append(
                        {
                            "analysis": "rdm",
                            "dataset": dataset,
                            "model": a,
                            "layer": x,
                            "other_model": b,
                            "other_layer": y,
                            "metric": "rsa",
                            "label": label,
                            "variant": comparator,
                            "value": float(m[x, y]),
                            "n": len(rdms[a][f"{label}/ids"]),
                        }
                    )
    return make_rows(rows)
