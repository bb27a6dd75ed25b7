"""Shared helpers for store-level analyses: labels of a store, conditions, layer arrays."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import xarray as xr

from cebra_lens_core.metrics.conditions import Conditions, make_conditions
from cebra_lens_core.store import layer_names, split_rows  # noqa: F401 - re-exported

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoreLabel:
    """One label coordinate of an activation store."""

    name: str
    values: np.ndarray
    kind: str
    unit: str
    categories: tuple[str, ...]


def store_labels(store: xr.Dataset) -> dict[str, StoreLabel]:
    """The ``label_<name>`` coordinates of a store, with kind/unit/categories from their attributes."""
    out = {}
    for coord in store.coords:
        name = str(coord)
        if not name.startswith("label_"):
            continue
        da = store[name]
        kind = da.attrs.get("kind") or (
            "discrete" if np.issubdtype(da.dtype, np.integer) else "continuous"
        )
        out[name[6:]] = StoreLabel(
            name[6:],
            np.asarray(da.values),
            str(kind),
            str(da.attrs.get("unit", "")),
            tuple(da.attrs.get("categories", []) or ()),
        )
    return out


def select_labels(
    store: xr.Dataset, requested: Sequence[str] | None, *, where: str
) -> list[StoreLabel]:
    """Labels to analyse: ``requested`` (all when empty/None), checked against the store.

    Raises:
        ValueError: a requested label is not in the store (names the available ones).
    """
    available = store_labels(store)
    if not requested:
        return list(available.values())
    missing = [name for name in requested if name not in available]
    if missing:
        raise ValueError(
            f"{where}: labels {missing} are not in the activation store "
            f"(available: {sorted(available)})"
        )
    return [available[name] for name in requested]


def label_conditions(
    label: StoreLabel, n_bins: int, rows: np.ndarray | slice | None = None
) -> Conditions:
    """Conditions of ``label`` on ``rows``: discrete codes as they are, continuous values in
    ``n_bins`` equal-width bins over the label's range on the *whole* recording (so bins are
    the same for every split)."""
    values = label.values if rows is None else label.values[rows]
    if label.kind == "discrete":
        return make_conditions(values, "discrete", name=label.name)
    lo, hi = float(np.min(label.values)), float(np.max(label.values))
    return make_conditions(
        values, "continuous", n_bins=n_bins, value_range=(lo, hi), name=label.name
    )


def layer_arrays(
    store: xr.Dataset, rows: np.ndarray | slice = slice(None)
) -> list[tuple[int, str, np.ndarray]]:
    """``(index, layer_name, float64 array)`` for every layer on ``rows``."""
    out = []
    for i, var in enumerate(layer_names(store)):
        data = np.asarray(store[var].isel(time=rows).values, dtype=np.float64)
        out.append((i, str(store[var].attrs.get("layer_name", var)), data))
    return out


def layer_views(
    store: xr.Dataset, rows: np.ndarray | slice = slice(None)
) -> list[tuple[int, str, xr.DataArray]]:
    """``(index, layer_name, lazy DataArray)`` for every layer on ``rows``; nothing is read yet.

    Streamed metrics read the views chunk by chunk (see
    :mod:`cebra_lens_core.metrics.streaming`), so memory stays bounded by one chunk of one
    layer whatever the recording length.
    """
    return [
        (i, str(store[var].attrs.get("layer_name", var)), store[var].isel(time=rows))
        for i, var in enumerate(layer_names(store))
    ]


def dataset_name(store: xr.Dataset) -> str:
    return str(store.attrs.get("dataset_name", store.attrs.get("dataset", "")))
