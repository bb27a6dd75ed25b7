"""Per-layer decoding of labels from a store, with shuffled-label controls."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from cebra_lens_core.analyses.common import dataset_name, layer_views, select_labels, split_rows
from cebra_lens_core.metrics.decoding import (
    DEFAULT_ALPHAS,
    DEFAULT_K_GRID,
    DEFAULT_KNN_MAX_SAMPLES,
    DEFAULT_N_FOLDS,
    DecodingResult,
    decode,
)
from cebra_lens_core.results import make_rows
from cebra_lens_core.stats.decoding import decoding_bootstrap
from cebra_lens_core.stats.options import BootstrapOptions

log = logging.getLogger(__name__)

#: Default seeds of the shuffled-label controls (one draw scatters widely; see
#: :mod:`cebra_lens_core.metrics.decoding`).
DEFAULT_SHUFFLE_SEEDS: tuple[int, ...] = (0, 1, 2, 3, 4)
#: Rows of a decoding that describe the hyperparameter choice, not a score.
_CHOICE_METRICS = ("k", "alpha", "at_grid_edge")


def decoding_analysis(
    store: xr.Dataset,
    *,
    name: str,
    labels: Sequence[str] | None = None,
    decoders: Sequence[str] = ("knn", "ridge"),
    n_folds: int = DEFAULT_N_FOLDS,
    k_grid: Sequence[int] = DEFAULT_K_GRID,
    alphas: Sequence[float] = DEFAULT_ALPHAS,
    shuffle_seeds: Sequence[int] = DEFAULT_SHUFFLE_SEEDS,
    knn_max_samples: int | None = DEFAULT_KNN_MAX_SAMPLES,
    knn_seed: int = 0,
    chunk_size: int = 65536,
    bootstrap: Mapping | BootstrapOptions | None = None,
    layers: Sequence[int | str] = (),
) -> pd.DataFrame:
    """Decode labels from every layer: fit on the training split, score on the test split.

    ``layers``: restrict to these layers (positions or names); the store's references
    (``input``, ``input_rf_mean``) are always decoded too, as rows with an empty ``layer``.

    Continuous labels are decoded jointly (R² and median absolute error per label, mean R²);
    each discrete label separately (accuracy, chance level). ``k`` (kNN, from ``k_grid``) and
    ``alpha`` (ridge, from ``alphas``) are chosen by blocked cross-validation over
    ``n_folds`` contiguous folds of the training split, then the decoder is refitted on the
    whole training split (:func:`~cebra_lens_core.metrics.decoding.decode`). Rows:

    - variant ``<decoder>``: ``r2``, ``median_abs_error`` (``unit`` = the label's unit, the
      store's ``label_<name>`` attribute), ``mean_r2`` / ``accuracy``, ``chance_level``,
      ``majority_accuracy``; ``n`` = test rows. ``k`` / ``alpha``: the chosen value, and
      ``at_grid_edge``: ``-1`` when it is the smallest, ``+1`` the largest candidate
      evaluated (``k`` above the reference rows of a cross-validation fit are not), ``0``
      inside the grid; at an edge a warning names the model, layer, decoder, label(s),
      value and grid (widen the grid).
    - variant ``<decoder>_shuffled``: the same decoding with permuted training labels, one
      per seed of ``shuffle_seeds`` (each choosing its own ``k`` / ``alpha`` by the same
      cross-validation): ``value`` = mean over the shuffles, ``ci_low``/``ci_high`` =
      their min/max (with several seeds), ``n`` = the number of shuffles (as for the
      null rows of other analyses, where ``n`` counts null draws). No hyperparameter rows.

    Layers are read from the store chunk by chunk
    (:func:`~cebra_lens_core.metrics.decoding.decode`): ridge exactly from
    sufficient statistics, kNN on at most ``knn_max_samples`` training rows (a subsample
    seeded with ``knn_seed`` when the training split is longer; ``None``: no cap), so memory
    stays bounded whatever the recording length. The decoding and its controls share each
    pass over the layer.

    With ``bootstrap``, the rows of the decoders themselves (variant ``<decoder>``: ``r2``,
    ``mean_r2``, ``median_abs_error``, ``accuracy``) get ``ci_low``/``ci_high`` = the
    circular block-bootstrap percentile interval of the test score, from resampling the
    test rows' predictions of the decoder fitted once
    (:func:`~cebra_lens_core.stats.decoding.decoding_bootstrap`). The control rows keep
    their meaning (range over shuffle seeds); hyperparameter and chance rows get none.
    """
    boot = BootstrapOptions.from_config(bootstrap)
    train_rows, test_rows = split_rows(store, "train"), split_rows(store, "test")
    chosen = select_labels(store, labels, where=f"decoding of {name}")
    continuous = [lab for lab in chosen if lab.kind == "continuous"]
    discrete = [lab for lab in chosen if lab.kind == "discrete"]
    targets = []
    if continuous:
        targets.append((continuous, np.stack([lab.values for lab in continuous], axis=1)))
    targets += [([lab], lab.values) for lab in discrete]
    units = {lab.name: lab.unit for lab in chosen}
    train_layers = layer_views(store, train_rows, layers=layers)
    test_layers = layer_views(store, test_rows, layers=layers)
    options = dict(
        n_folds=n_folds,
        k_grid=k_grid,
        alphas=alphas,
        shuffle_seeds=[int(seed) for seed in shuffle_seeds],
        knn_max_samples=knn_max_samples,
        knn_seed=knn_seed,
        chunk_size=chunk_size,
    )
    # layer by layer, so the kNN cross-validation neighbours of a layer (label-independent)
    # serve all its labels; rows are returned label by label, then layer by layer
    per_target: list[list[dict]] = [[] for _ in targets]
    for (index, layer_name, X_train), (_, _, X_test) in zip(train_layers, test_layers, strict=True):
        base = {
            "analysis": "decoding",
            "dataset": dataset_name(store),
            "model": name,
            "layer": index,
            "layer_name": layer_name,
        }
        knn_cache: dict = {}
        for t, (labs, y) in enumerate(targets):
            for decoder in decoders:
                per_target[t] += _decoder_rows(
                    base,
                    X_train,
                    X_test,
                    y[train_rows],
                    y[test_rows],
                    labs,
                    decoder,
                    units,
                    boot,
                    knn_cache,
                    options,
                )
    for labs, _ in targets:
        names = [lab.name for lab in labs]
        log.info("%s: decoded %s from %d layers", name, names, len(train_layers))
    rows = [row for target_rows in per_target for row in target_rows]
    return make_rows(rows)


def decoding_records(result: DecodingResult) -> list[dict[str, Any]]:
    """The metrics of one decoding as rows ``{"metric", "label", "value", "n"}`` (``n`` = test rows).

    Continuous: ``r2`` and ``median_abs_error`` per label and ``mean_r2`` (label ``""``
    when there are several labels, else the label's name). Discrete: ``accuracy``,
    ``chance_level`` and ``majority_accuracy``. Always, per label: ``k`` or ``alpha``
    (the chosen value) and ``at_grid_edge`` (:attr:`DecodingResult.grid_edge`: −1 lowest,
    +1 highest evaluated candidate, 0 inside the grid).
    """
    rows: list[dict[str, Any]] = []

    def add(metric: str, label: str, value: float) -> None:
        rows.append({"metric": metric, "label": label, "value": float(value), "n": result.n_test})

    if result.kind == "continuous":
        assert result.r2 is not None and result.median_abs_error is not None
        for name, r2, mae in zip(
            result.label_names, result.r2, result.median_abs_error, strict=True
        ):
            add("r2", name, r2)
            add("median_abs_error", name, mae)
        joint = result.label_names[0] if len(result.label_names) == 1 else ""
        add("mean_r2", joint, result.mean_r2)  # type: ignore[arg-type]
    else:
        name = result.label_names[0]
        add("accuracy", name, result.accuracy)  # type: ignore[arg-type]
        add("chance_level", name, result.chance_level)  # type: ignore[arg-type]
        add("majority_accuracy", name, result.majority_accuracy)  # type: ignore[arg-type]
    for name in result.label_names:
        add(result.param_name, name, result.param)
        add("at_grid_edge", name, result.grid_edge)
    return rows


def _decoder_rows(
    base: dict,
    X_train,
    X_test,
    y_train: np.ndarray,
    y_test: np.ndarray,
    labs: Sequence,
    decoder: str,
    units: Mapping[str, str],
    boot: BootstrapOptions | None,
    knn_cache: dict,
    options: Mapping,
) -> list[dict]:
    """Rows of one decoder on one layer and label group: the decoding and its controls."""
    names = [lab.name for lab in labs]
    kind = labs[0].kind
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = decode(
            X_train,
            y_train,
            X_test,
            y_test,
            decoder,
            kind=kind,
            label_names=names,
            knn_cache=knn_cache,
            **options,
        )
    intervals = {}
    if boot is not None:
        intervals = decoding_bootstrap(
            y_test, result.predictions, names, boot, discrete=kind == "discrete"
        )
    if result.grid_edge:
        side = "smallest" if result.grid_edge < 0 else "largest"
        log.warning(
            "%s layer %s (%s), %s of %s: chosen %s = %g is the %s candidate of the evaluated "
            "grid %s and scores higher than its neighbour; the optimum may lie outside the "
            "grid (widen analyses.decoding.%s)",
            base["model"],
            base["layer"],
            base["layer_name"],
            decoder,
            names,
            result.param_name,
            result.param,
            side,
            result.grid.tolist(),
            "k_grid" if result.param_name == "k" else "alphas",
        )
    rows = []
    for r in decoding_records(result):
        row = {**base, **r, "variant": decoder}
        if r["metric"] == "median_abs_error":
            row["unit"] = units[r["label"]]
        interval = intervals.get((r["metric"], r["label"]))
        if interval is not None:
            row.update(ci_low=interval.low, ci_high=interval.high)
        rows.append(row)
    controls = result.controls
    if controls:
        per_seed = [decoding_records(c) for c in controls]
        for k, r in enumerate(per_seed[0]):
            if r["metric"] in _CHOICE_METRICS:  # a mean hyperparameter means little
                continue
            values = np.array([recs[k]["value"] for recs in per_seed])
            row = {
                **base,
                **r,
                "variant": f"{decoder}_shuffled",
                "value": float(values.mean()),
                "n": len(values),  # shuffles, as null draws elsewhere
            }
            if r["metric"] == "median_abs_error":
                row["unit"] = units[r["label"]]
            if len(values) > 1:
                row.update(ci_low=float(values.min()), ci_high=float(values.max()))
            rows.append(row)
    return rows
