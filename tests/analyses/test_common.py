"""Shared helpers of the store analyses."""

from __future__ import annotations

import numpy as np
import xarray as xr

from cebra_lens_core.analyses.common import select_labels, store_labels


def _store(label_order):
    n = 6
    coords = {"time": np.arange(n), "train": ("time", np.arange(n) < 4)}
    values = {"position": np.linspace(0, 1, n), "direction": np.arange(n) % 2}
    for name in label_order:
        coords[f"label_{name}"] = ("time", values[name], {"kind": "continuous"})
    return xr.Dataset({"layer_00": (("time", "layer_00_unit"), np.zeros((n, 2)))}, coords=coords)


def test_labels_come_in_name_order_whatever_the_coordinate_order():
    """A zarr store lists its coordinates in the order its folder does (differs between runs):
    the labels, and so the rows of every analysis, must not follow it."""
    forward, backward = _store(["position", "direction"]), _store(["direction", "position"])
    assert list(forward.coords)[-2:] != list(backward.coords)[-2:]
    assert list(store_labels(forward)) == list(store_labels(backward)) == ["direction", "position"]
    assert [lab.name for lab in select_labels(backward, None, where="x")] == [
        "direction",
        "position",
    ]
    np.testing.assert_array_equal(store_labels(backward)["direction"].values, np.arange(6) % 2)
