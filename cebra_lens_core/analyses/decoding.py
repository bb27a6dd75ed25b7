"""Per-layer decoding of labels from a store, with shuffled-label controls."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from cebra_lens_core.analyses.common import dataset_name, layer_views, select_labels, split_rows
from cebra_lens_core.analyses.uncertainty import BootstrapOptions, decoding_bootstrap
from cebra_lens_core.metrics.decoding import DEFAULT_KNN_MAX_SAMPLES, decode_streamed
from cebra_lens_core.results import make_rows

log = logging.getLogger(__name__)


def decoding_analysis(
    store: xr.Dataset,
    *,
    name: str,
    labels: Sequence[str] | None = None,
    decoders: Sequence[str] = ("knn", "ridge"),
    validation_fraction: float = 0.2,
    shuffle_seeds: Sequence[int] = (0,),
    knn_max_samples: int | None = DEFAULT_KNN_MAX_SAMPLES,
    knn_seed: int = 0,
    chunk_size: int = 65536,
    bootstrap: Mapping | BootstrapOptions | None = None,
) -> pd.DataFrame:
    """Decode labels from every layer: fit on the training split, score on the test split.

    Continuous labels are decoded jointly (R² and median absolute error per label, mean R²);
    each discrete label separately (accuracy, chance level). Every decoding is repeated with
    permuted training labels (one per seed in ``shuffle_seeds``) as a control, variant
    ``<decoder>_shuffled``; with several seeds the control row holds the mean and
    ``ci_low``/``ci_high`` the min/max over seeds.

    Layers are read from the store chunk by chunk
    (:func:`~cebra_lens_core.metrics.decoding.decode_streamed`): ridge exactly from
    sufficient statistics, kNN on at most ``knn_max_samples`` training rows (a subsample
    seeded with ``knn_seed`` when the training split is longer; ``None``: no cap), so memory
    stays bounded whatever the recording length. The decoding and its controls share each
    pass over the layer.

    With ``bootstrap``, the rows of the decoders themselves (variant ``<decoder>``: ``r2``,
    ``mean_r2``, ``median_abs_error``, ``accuracy``) get ``ci_low``/``ci_high`` = the
    circular block-bootstrap percentile interval of the test score, from resampling the
    test rows' predictions of the decoder fitted once
    (:func:`~cebra_lens_core.analyses.uncertainty.decoding_bootstrap`). The control rows keep
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
    train_layers = layer_views(store, train_rows)
    test_layers = layer_views(store, test_rows)
    rows = []
    for labs, y in targets:
        y_train, y_test = y[train_rows], y[test_rows]
        names = [lab.name for lab in labs]
        kind = labs[0].kind
        for (index, layer_name, X_train), (_, _, X_test) in zip(
            train_layers, test_layers, strict=True
        ):
            base = {
                "analysis": "decoding",
                "dataset": dataset_name(store),
                "model": name,
                "layer": index,
                "layer_name": layer_name,
            }
            for decoder in decoders:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    result, controls = decode_streamed(
                        X_train,
                        y_train,
                        X_test,
                        y_test,
                        decoder,
                        kind=kind,
                        label_names=names,
                        validation_fraction=validation_fraction,
                        shuffle_seeds=[int(seed) for seed in shuffle_seeds],
                        knn_max_samples=knn_max_samples,
                        knn_seed=knn_seed,
                        chunk_size=chunk_size,
                    )
                intervals = {}
                if boot is not None:
                    intervals = decoding_bootstrap(
                        y_test, result.predictions, names, boot, discrete=kind == "discrete"
                    )
                for r in result.records():
                    row = {**base, **r, "variant": decoder}
                    interval = intervals.get((r["metric"], r["label"]))
                    if interval is not None:
                        row.update(ci_low=interval.low, ci_high=interval.high)
                    rows.append(row)
                if controls:
                    per_seed = [c.records() for c in controls]
                    for k, r in enumerate(per_seed[0]):
                        if r["metric"] in ("k", "alpha"):  # a mean hyperparameter means little
                            continue
                        values = np.array([recs[k]["value"] for recs in per_seed])
                        row = {
                            **base,
                            **r,
                            "variant": f"{decoder}_shuffled",
                            "value": float(values.mean()),
                        }
                        if len(values) > 1:
                            row.update(ci_low=float(values.min()), ci_high=float(values.max()))
                        rows.append(row)
        log.info("%s: decoded %s from %d layers", name, names, len(train_layers))
    return make_rows(rows)
