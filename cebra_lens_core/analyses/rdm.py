"""RDM / RSA per layer of a store: condition means, RDM, score against the oracle RDM."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from cebra_lens_core.analyses.common import (
    StoreLabel,
    array_key,
    dataset_name,
    label_conditions,
    layer_views,
    select_labels,
    split_rows,
)
from cebra_lens_core.metrics.conditions import Conditions, condition_means, joint_conditions
from cebra_lens_core.metrics.rdm import (
    compare_rdms,
    joint_oracle_rdm,
    oracle_rdm,
    rdm_from_means,
    rdm_metric_name,
    rdm_similarity_matrix,
)
from cebra_lens_core.results import make_rows
from cebra_lens_core.stats.options import BootstrapOptions
from cebra_lens_core.stats.rdm import rdm_oracle_bootstrap

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
    joint: Sequence[Sequence[str]] = (),
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """RDM of every layer for every label, and its similarity to the oracle RDM.

    Conditions: a discrete label's codes, or a continuous label in ``n_bins`` equal-width
    bins (empty bins dropped). Condition means come from the ``split`` rows (training split
    by default). Oracle: ordinal ``|i − j| / (B − 1)`` for a binned continuous label,
    categorical (0 within, 1 between) for a discrete one; a label with fewer than 3
    conditions gets RDMs but no oracle score (a 2 × 2 RDM has one entry).

    ``joint``: groups of labels whose conditions are taken jointly (e.g.
    ``[["position", "direction"]]``: position bins × running direction, one condition per
    combination with samples; label column ``position+direction``), scored against the
    mean of the per-label oracles
    (:func:`~cebra_lens_core.metrics.rdm.joint_oracle_rdm`).

    With ``bootstrap`` (:class:`~cebra_lens_core.stats.options.BootstrapOptions` or
    the workflow's dict), ``ci_low``/``ci_high`` of every oracle score are its block-bootstrap
    percentile interval over the split's rows, from per-block condition sums
    (:func:`~cebra_lens_core.stats.rdm.rdm_oracle_bootstrap`). ``layers``: restrict
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
    sets = [_label_set(label, n_bins, rows_sel, name) for label in chosen]
    for group in joint or []:
        members = select_labels(store, list(group), where=f"rdm of {name}, joint {list(group)}")
        sets.append(_joint_set(members, n_bins, rows_sel))
    conds = [s.cond for s in sets]
    layer_means = []  # (index, layer_name, [condition means of each label set])
    views = layer_views(store, rows_sel, layers=layers)
    for index, layer_name, X in views:
        means = condition_means(
            X, [c.codes for c in conds], chunk_size=chunk_size, name=f"{name}:{layer_name}"
        )
        layer_means.append((index, layer_name, [m.means for m in means]))
    rows, arrays = [], {}
    for k, condition_set in enumerate(sets):
        label, cond, oracle = condition_set.name, condition_set.cond, condition_set.oracle
        oracle_kind = condition_set.oracle_kind
        if cond.dropped.size:
            log.info("%s: label %s: empty bins %s dropped", name, label, cond.dropped.tolist())
        arrays[f"{label}/ids"] = cond.ids
        arrays[f"{label}/unit"] = np.array(condition_set.unit)
        arrays[f"{label}/names"] = np.array([str(v[1]) for v in views if v[0] is not None])
        if cond.edges is not None:
            arrays[f"{label}/bin_centres"] = cond.bin_centres
        method = default_comparator(oracle_kind) if comparator == "auto" else comparator
        intervals = {}
        if oracle is not None:
            arrays[f"{label}/oracle"] = oracle
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
        for index, layer_name, means_of in layer_means:
            means = means_of[k]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                D = rdm_from_means(means, metric)
            arrays[f"{label}/{array_key(index, layer_name)}"] = D
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
                    "label": label,
                    "variant": f"{metric_name}/{method}",
                    "value": compare_rdms(D, oracle, method),
                    "ci_low": intervals[layer_name].low if layer_name in intervals else np.nan,
                    "ci_high": intervals[layer_name].high if layer_name in intervals else np.nan,
                    "n": cond.n_conditions,
                }
            )
    return make_rows(rows), arrays


@dataclass(frozen=True)
class _ConditionSet:
    """The conditions of one label (or of several labels jointly) and their oracle."""

    name: str
    unit: str
    cond: Conditions
    oracle: np.ndarray | None
    oracle_kind: str


def _label_set(label: StoreLabel, n_bins: int, rows, name: str) -> _ConditionSet:
    cond = label_conditions(label, n_bins, rows)
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
    return _ConditionSet(label.name, label.unit, cond, oracle, oracle_kind)


def _joint_set(labels: Sequence[StoreLabel], n_bins: int, rows) -> _ConditionSet:
    parts = [label_conditions(label, n_bins, rows) for label in labels]
    joint_name = "+".join(label.name for label in labels)
    cond, components = joint_conditions(parts, name=joint_name)
    kinds = ["ordinal" if label.kind == "continuous" else "categorical" for label in labels]
    oracle = None
    if cond.n_conditions >= 3:
        oracle = joint_oracle_rdm(components, kinds, [c.n_bins for c in parts])
    oracle_kind = "ordinal" if set(kinds) == {"ordinal"} else "categorical"
    return _ConditionSet(joint_name, "", cond, oracle, oracle_kind)


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
