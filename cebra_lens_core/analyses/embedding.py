"""Embedding views of a store: first embedding dimensions and a seeded 3-D t-SNE of a layer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from cebra_lens_core.activations.store import layer_names
from cebra_lens_core.analyses.common import dataset_name, split_rows, store_labels
from cebra_lens_core.results import make_rows


def sample_rows(n_rows: int, max_samples: int, seed: int) -> np.ndarray:
    """Sorted row indices: all rows, or ``max_samples`` drawn without replacement with ``seed``."""
    if n_rows <= max_samples:
        return np.arange(n_rows)
    return np.sort(np.random.default_rng(seed).choice(n_rows, size=max_samples, replace=False))


def embedding_analysis(
    store: xr.Dataset,
    *,
    name: str,
    tsne_layer: int = -1,
    max_samples: int = 500,
    perplexity: float = 30.0,
    seed: int = 0,
    split: str = "test",
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """First three embedding dimensions and a 3-component t-SNE of one layer, on a seeded
    subsample of the split (at most ``max_samples`` time points, kept in time order).

    Returns rows (analysis ``embedding``, metric ``tsne_kl_divergence``) and arrays
    ``time``, ``embedding`` (n × ≤3), ``tsne`` (n × 3), ``label/<name>``, ``unit/<name>`` (the label's unit, ``""`` if none). t-SNE starts from
    the layer's first 3 principal components, or from a seeded random layout when the layer
    has fewer than 3 units.
    """
    # deferred: scikit-learn, loaded only on this path
    from sklearn.manifold import TSNE

    variables = layer_names(store)
    if not -len(variables) <= int(tsne_layer) < len(variables):
        raise ValueError(
            f"embedding of {name}: tsne_layer={tsne_layer} is out of range for a store with "
            f"{len(variables)} layers (valid: {-len(variables)} to {len(variables) - 1})"
        )
    index = int(tsne_layer) % len(variables)
    sel = split_rows(store, split)
    part = store.isel(time=sel)
    rows_idx = sample_rows(part.sizes["time"], int(max_samples), seed)
    part = part.isel(time=rows_idx)
    arrays: dict[str, np.ndarray] = {"time": np.asarray(part["time"].values)}
    last = np.asarray(part[variables[-1]].values, dtype=np.float64)
    arrays["embedding"] = last[:, :3]
    X = np.asarray(part[variables[index]].values, dtype=np.float64)
    perplexity = float(min(perplexity, max(2.0, (len(X) - 1) / 3.0)))
    tsne = TSNE(
        n_components=3,
        perplexity=perplexity,
        # PCA initialisation needs >= 3 units; a 1- or 2-unit layer (e.g. an embedding of
        # output dimension 1 or 2) starts from a seeded random layout instead
        init="pca" if X.shape[1] >= 3 else "random",
        random_state=seed,
        method="barnes_hut",
        n_jobs=1,
    )
    arrays["tsne"] = tsne.fit_transform(X)
    arrays["tsne_layer"] = np.array(index)
    for label in store_labels(part).values():
        arrays[f"label/{label.name}"] = label.values
        arrays[f"unit/{label.name}"] = np.array(label.unit)
    row = {
        "analysis": "embedding",
        "dataset": dataset_name(store),
        "model": name,
        "layer": index,
        "layer_name": store[variables[index]].attrs.get("layer_name", variables[index]),
        "metric": "tsne_kl_divergence",
        "variant": "tsne3d",
        "value": float(tsne.kl_divergence_),
        "n": len(X),
    }
    return make_rows([row]), arrays
