"""Per-layer decoding of labels from a store, with shuffled-label controls."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from cebra_lens_core.analyses.common import dataset_name, layer_arrays, select_labels, split_rows
from cebra_lens_core.metrics.decoding import decode
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
) -> pd.DataFrame:
    """Decode labels from every layer: fit on the training split, score on the test split.

    Continuous labels are decoded jointly (R² and median absolute error per label, mean R²);
    each discrete label separately (accuracy, chance level). Every decoding is repeated with
    permuted training labels (one per seed in ``shuffle_seeds``) as a control, variant
    ``<decoder>_shuffled``; with several seeds the control row holds the mean and
    ``ci_low``/``ci_high`` the min/max over seeds.
    """
    train_rows, test_rows = split_rows(store, "train"), split_rows(store, "test")
    chosen = select_labels(store, labels, where=f"decoding of {name}")
    continuous = [lab for lab in chosen if lab.kind == "continuous"]
    discrete = [lab for lab in chosen if lab.kind == "discrete"]
    targets = []
    if continuous:
        targets.append((continuous, np.stack([lab.values for lab in continuous], axis=1)))
    targets += [([lab], lab.values) for lab in discrete]
    train_layers = layer_arrays(store, train_rows)
    test_layers = layer_arrays(store, test_rows)
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
                options = dict(
                    decoder=decoder,
                    kind=kind,
                    label_names=names,
                    validation_fraction=validation_fraction,
                )
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    result = decode(X_train, y_train, X_test, y_test, **options)
                    controls = [
                        decode(
                            X_train,
                            y_train,
                            X_test,
                            y_test,
                            **options,
                            shuffle_labels=True,
                            seed=int(seed),
                        )
                        for seed in shuffle_seeds
                    ]
                for r in result.records():
                    rows.append({**base, **r, "variant": decoder})
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
