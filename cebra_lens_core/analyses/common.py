"""Shared helpers for store-level analyses: labels of a store, conditions, layer arrays."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import xarray as xr

from cebra_lens_core.activations.store import (  # noqa: F401 - split_rows re-exported
    layer_names,
    reference_names,
    split_rows,
)
from cebra_lens_core.metrics.conditions import Conditions, make_conditions

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
    """The ``label_<name>`` coordinates of a store, with kind/unit/categories from their
    attributes, sorted by name: the order of a store's coordinates after a zarr round trip is
    the order its folder lists them, which differs between runs, and rows must not."""
    out = {}
    for coord in sorted(str(c) for c in store.coords):
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


def select_layer_variables(
    store: xr.Dataset, layers: Sequence[int | str] | None = None, *, references: bool = True
) -> list[tuple[int | None, str, str]]:
    """``(index, layer_name, variable)`` of the layers to analyse, then the references.

    ``layers``: model layers by position (``-1`` = embedding) or by name (``norm``,
    ``block_1`` ...); ``None``/empty = every layer. ``references``: append the store's
    reference variables (``input``, ``input_rf_mean``) with index ``None`` (an empty
    ``layer`` in the results table).

    Raises:
        ValueError: a requested layer is not in the store (names the available ones).
    """
    variables = layer_names(store)
    names = [str(store[v].attrs.get("layer_name", v)) for v in variables]
    chosen = list(range(len(variables)))
    if layers:
        chosen = []
        for wanted in layers:
            if isinstance(wanted, str) and wanted in names:
                position = names.index(wanted)
            elif isinstance(wanted, int) and -len(variables) <= wanted < len(variables):
                position = wanted % len(variables)
            else:
                raise ValueError(
                    f"layer {wanted!r} is not in the store; its layers are "
                    f"{list(enumerate(names))} (give positions or names)"
                )
            if position not in chosen:
                chosen.append(position)
        chosen.sort()
    out: list[tuple[int | None, str, str]] = [(i, names[i], variables[i]) for i in chosen]
    if references:
        out += [(None, str(store[v].attrs.get("layer_name", v)), v) for v in reference_names(store)]
    return out


def layer_views(
    store: xr.Dataset,
    rows: np.ndarray | slice = slice(None),
    *,
    layers: Sequence[int | str] | None = None,
    references: bool = True,
) -> list[tuple[int | None, str, xr.DataArray]]:
    """``(index, layer_name, lazy DataArray)`` for every selected layer on ``rows``; nothing
    is read yet (:func:`select_layer_variables`; references have index ``None``).

    Streamed metrics read the views chunk by chunk (see
    :mod:`cebra_lens_core.metrics.streaming`), so memory stays bounded by one chunk of one
    layer whatever the recording length.
    """
    return [
        (i, layer_name, store[var].isel(time=rows))
        for i, layer_name, var in select_layer_variables(store, layers, references=references)
    ]


def array_key(index: int | None, layer_name: str) -> str:
    """Key of a layer in an analysis' arrays: ``layer_XX``, or the reference's name."""
    return layer_name if index is None else f"layer_{index:02d}"


def dataset_name(store: xr.Dataset) -> str:
    return str(store.attrs.get("dataset_name", store.attrs.get("dataset", "")))
