"""Small in-memory activation stores for the analysis tests."""

from __future__ import annotations

import numpy as np
import xarray as xr


def make_store(layers, train, labels, unit: str = "m") -> xr.Dataset:
    """Store with ``layer_XX`` variables and ``label_<name>`` coords carrying kind/unit/categories.

    ``labels`` maps a name to ``(values, kind)`` or ``(values, kind, categories)``;
    continuous labels get ``unit``.
    """
    data = {
        f"layer_{i:02d}": (("time", f"layer_{i:02d}_unit"), a, {"layer_name": f"l{i}"})
        for i, a in enumerate(layers)
    }
    coords = {"time": np.arange(len(train)), "train": ("time", np.asarray(train, dtype=bool))}
    for name, (values, kind, *categories) in labels.items():
        dtype = np.int64 if kind == "discrete" else np.float64
        attrs = {
            "kind": kind,
            "unit": unit if kind == "continuous" else "",
            "categories": list(categories[0]) if categories else [],
        }
        coords[f"label_{name}"] = ("time", np.asarray(values, dtype=dtype), attrs)
    return xr.Dataset(data, coords=coords, attrs={"dataset_name": "toy"})
