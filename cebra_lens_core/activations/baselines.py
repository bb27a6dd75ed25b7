"""Baseline embeddings (PCA, t-SNE, UMAP) stored as single-layer "models".

A baseline is fitted to one recording and written as an activation store with one layer,
``layer_00`` (named after the method), so every analysis, table and figure treats it like a
CEBRA model. Methods:

- ``pca``: principal components of the z-scored neural data, fitted on the training split
  only (``sklearn.decomposition.PCA``, full SVD): ``Y = ((X − μ_train) / σ_train) V_d``.
- ``umap``: UMAP (``umap-learn``, when installed) fitted on the training split, then
  ``transform`` of every time point.
- ``tsne``: t-SNE (``sklearn.manifold.TSNE``). t-SNE has no out-of-sample transform, so it
  embeds all time points at once (labels are never used; the test rows still only inform the
  layout, as in CEBRA's own baseline comparisons). Limited to ``TSNE_MAX_SAMPLES`` rows.

Every method is seeded; the same inputs give the same store.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import xarray as xr

from cebra_lens_core.activations.store import label_coords, save_activations
from cebra_lens_core.data.types import DataError, LabelInfo, validate_neural
from cebra_lens_core.provenance import current_record

#: baseline methods and whether they need an optional package
BASELINES = ("pca", "tsne", "umap")
#: t-SNE is O(T log T) in time but needs all rows at once; refuse longer recordings
TSNE_MAX_SAMPLES = 20_000


def available(method: str) -> bool:
    """Whether ``method`` can run here (``umap`` needs the ``umap-learn`` package)."""
    if method == "umap":
        return importlib.util.find_spec("umap") is not None
    return method in BASELINES


def check_method(method: str) -> str:
    """Return ``method`` if it is a known, installed baseline; raise ``ValueError`` otherwise."""
    if method not in BASELINES:
        raise ValueError(f"unknown baseline {method!r}; valid baselines: {list(BASELINES)}")
    if not available(method):
        raise ValueError(
            f"baseline {method!r} needs the package 'umap-learn' (pip install umap-learn)"
        )
    return method


def _zscore_from(x: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``(x − mean) / sd`` with mean and SD of ``x[rows]`` (constant neurons: SD 1)."""
    mean = x[rows].mean(axis=0)
    sd = x[rows].std(axis=0)
    return (x - mean) / np.where(sd > 0, sd, 1.0)


def fit_baseline(
    method: str,
    neural: np.ndarray,
    n_components: int,
    train: np.ndarray | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Embed ``neural`` (T × N) into ``n_components`` dimensions with a baseline method.

    Args:
        method: ``pca``, ``tsne`` or ``umap``.
        neural: recording, time × neurons.
        n_components: output dimension (``<= N`` for PCA).
        train: boolean training mask (``None`` = every row); PCA and UMAP are fitted on it.
        seed: random state of the method.

    Returns:
        ``(T, n_components)`` float32 embedding, one row per time point.

    Raises:
        ValueError / DataError: unknown method, bad dimension, empty training split, NaN.
    """
    method = check_method(method)
    x = validate_neural(neural, where=f"baseline {method}").astype(np.float64)
    n_time, n_neurons = x.shape
    if int(n_components) < 1:
        raise ValueError(f"n_components must be >= 1, got {n_components}")
    rows = np.ones(n_time, bool) if train is None else np.asarray(train, dtype=bool)
    if rows.shape != (n_time,):
        raise DataError(f"train mask has shape {rows.shape}, expected ({n_time},)")
    if rows.sum() < 2:
        raise DataError(f"baseline {method}: the training split has {rows.sum()} rows; need >= 2")
    z = _zscore_from(x, rows)
    if method == "pca":
        # deferred: scikit-learn, loaded only on this path
        from sklearn.decomposition import PCA

        if n_components > min(n_neurons, int(rows.sum())):
            raise ValueError(
                f"PCA with {n_components} components needs at least that many neurons and "
                f"training rows; the recording has {n_neurons} neurons, {int(rows.sum())} rows"
            )
        pca = PCA(n_components=int(n_components), svd_solver="full", random_state=seed)
        pca.fit(z[rows])
        out = pca.transform(z)
    elif method == "umap":
        # deferred: umap-learn (optional), loaded only on this path
        import umap

        reducer = umap.UMAP(n_components=int(n_components), random_state=seed)
        reducer.fit(z[rows])
        out = reducer.transform(z)
    else:
        # deferred: scikit-learn, loaded only on this path
        from sklearn.manifold import TSNE

        if n_time > TSNE_MAX_SAMPLES:
            raise ValueError(
                f"t-SNE embeds all {n_time} time points at once; the limit is "
                f"{TSNE_MAX_SAMPLES} (use pca or umap for long recordings)"
            )
        tsne = TSNE(
            n_components=int(n_components),
            random_state=seed,
            init="pca",
            method="barnes_hut" if n_components < 4 else "exact",
            perplexity=min(30.0, (n_time - 1) / 3.0),
        )
        out = tsne.fit_transform(z)
    return np.ascontiguousarray(out, dtype=np.float32)


def baseline_dataset(
    method: str,
    embedding: np.ndarray,
    *,
    labels: Mapping[str, np.ndarray] | None = None,
    label_info: Mapping[str, LabelInfo] | None = None,
    train: np.ndarray | None = None,
    attrs: Mapping | None = None,
):
    """An activation-store ``xarray.Dataset`` with one layer (``layer_00`` = the embedding)."""
    n_time, width = embedding.shape
    coords = {"time": np.arange(n_time, dtype=np.int64)}
    coords.update(label_coords(labels, label_info, train, n_time))
    layer = xr.Variable(
        ("time", "layer_00_unit"),
        embedding,
        attrs={"layer_index": 0, "layer_name": method, "module_path": "", "kind": "baseline"},
    )
    ds = xr.Dataset({"layer_00": layer}, coords=coords)
    ds.attrs.update(
        {
            "architecture": method,
            "solver": "baseline",
            "output_dimension": int(width),
            "layer_names": [method],
            "layer_module_paths": [""],
            "layer_kinds": ["baseline"],
            "layer_widths": [int(width)],
            "provenance": current_record(),
            **dict(attrs or {}),
        }
    )
    return ds


def write_baseline_store(
    path: str | os.PathLike,
    method: str,
    neural: np.ndarray,
    n_components: int,
    *,
    seed: int = 0,
    labels: Mapping[str, np.ndarray] | None = None,
    label_info: Mapping[str, LabelInfo] | None = None,
    train: np.ndarray | None = None,
    attrs: Mapping | None = None,
) -> Path:
    """Fit a baseline on ``neural`` and write it as a one-layer activation store, atomically."""
    neural = validate_neural(neural, where=f"baseline {method}")
    label_coords(labels, label_info, train, len(neural))  # labels checked before fitting
    embedding = fit_baseline(method, neural, n_components, train=train, seed=seed)
    ds = baseline_dataset(
        method, embedding, labels=labels, label_info=label_info, train=train, attrs=attrs
    )
    return save_activations(ds, path)
