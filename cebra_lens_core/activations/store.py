"""Activation stores: zarr v3 written through xarray, atomically.

A store (``results/activations/{model}.zarr``) holds one data variable per
captured layer (``layer_00`` ...), dims ``(time, layer_XX_unit)``, float32, the
shared ``time`` coordinate, ``label_<name>`` coordinates and the boolean
``train`` coordinate, and provenance attributes. It is written chunk by chunk
(appending along time) into a hidden temporary sibling which is renamed into
place only when complete, so an interrupted job leaves nothing that looks
finished and memory stays bounded for long recordings.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from cebra_lens_core.atomic import atomic_path
from cebra_lens_core.data.types import DataError, LabelInfo, validate_label

_LAYER_RE = re.compile(r"^layer_\d{2,}$")
#: reference "layers" a store may carry beside the encoder's layers, in this order:
#: ``input``, the recording as the encoder sees it (float32 neurons), and ``input_rf_mean``,
#: the input averaged over the encoder's receptive field (conv models only; the fair
#: baseline for a convolutional encoder). Their results rows have an empty ``layer``.
REFERENCE_VARIABLES: tuple[str, ...] = ("input", "input_rf_mean")
#: rows per zarr chunk along time
ZARR_TIME_CHUNK = 8192


def _zarr_kwargs() -> dict:
    return {"zarr_format": 3, "consolidated": False}


def layer_variable(index: int) -> str:
    """Name of the data variable of captured layer ``index`` in an activation store (``layer_00`` ...)."""
    return f"layer_{index:02d}"


def label_coords(
    labels: Mapping[str, np.ndarray] | None,
    label_info: Mapping[str, LabelInfo] | None,
    train: np.ndarray | None,
    n: int,
) -> dict[str, tuple]:
    """The ``label_<name>`` and ``train`` coordinates of a store of ``n`` time points
    (``(dim, values, attrs)`` tuples); labels and the split mask are validated here."""
    coords: dict[str, tuple] = {}
    for name, values in (labels or {}).items():
        info = (label_info or {}).get(name, LabelInfo("continuous"))
        arr = validate_label(values, name, n, info.kind)
        attrs = {"kind": info.kind, "unit": info.unit, "categories": list(info.categories)}
        dtype = np.int64 if info.kind == "discrete" else np.float64
        coords[f"label_{name}"] = ("time", arr.astype(dtype), attrs)
    if train is not None:
        train = np.asarray(train)
        if train.dtype != bool or train.shape != (n,):
            raise DataError(
                f"train mask must be boolean with shape ({n},), got {train.dtype} {train.shape}"
            )
        coords["train"] = ("time", train)
    return coords


def _layer_attrs(layer) -> dict:
    return {
        "layer_index": layer.index,
        "layer_name": layer.name,
        "module_path": layer.module_path,
        "kind": layer.kind,
    }


def chunk_dataset(
    start: int, arrays: Sequence[np.ndarray], layers: Sequence, coords: dict
) -> xr.Dataset:
    """Rows ``[start, start + len(arrays[0]))`` of a store: one variable per captured layer
    (``layers``: :class:`cebra_lens_core.models.layers.LayerInfo`), with the time and label
    coordinates of those rows (``coords`` from :func:`label_coords`)."""
    stop = start + arrays[0].shape[0]
    data_vars = {
        layer_variable(L.index): (
            ("time", f"{layer_variable(L.index)}_unit"),
            a,
            _layer_attrs(L),
        )
        for L, a in zip(layers, arrays, strict=True)
    }
    chunk_coords = {"time": np.arange(start, stop, dtype=np.int64)}
    for name, (dim, values, *rest) in coords.items():
        chunk_coords[name] = (dim, values[start:stop], *rest)
    return xr.Dataset(data_vars, coords=chunk_coords)


def write_zarr(ds: xr.Dataset, path: Path, **kwargs) -> None:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*vlen-utf8.*")
        warnings.filterwarnings("ignore", message=".*Consolidated metadata.*")
        ds.to_zarr(path, **_zarr_kwargs(), **kwargs)


def save_activations(ds: xr.Dataset, path: str | os.PathLike) -> Path:
    """Write an in-memory activation dataset (from ``extract_activations``) to ``path`` atomically."""
    check_store(ds, where=str(path))
    with atomic_path(path) as tmp:
        write_zarr(ds, tmp, mode="w")
        write_manifest(tmp)
    return Path(path)


#: file inside a store listing every file of the store with its size (written last)
MANIFEST = "cebra_lens_manifest.json"
#: files other tools add inside a finished store (Snakemake's directory timestamp)
_FOREIGN_FILES = (".snakemake_timestamp",)


def _store_files(root: Path) -> dict[str, int]:
    files = {}
    for folder, _, names in os.walk(root):
        for name in names:
            rel = os.path.relpath(os.path.join(folder, name), root)
            if rel != MANIFEST and name not in _FOREIGN_FILES:
                files[rel.replace(os.sep, "/")] = os.path.getsize(os.path.join(folder, name))
    return dict(sorted(files.items()))


def write_manifest(root: str | os.PathLike) -> None:
    """List every file of a completely written store with its size (:data:`MANIFEST`)."""
    root = Path(root)
    (root / MANIFEST).write_text(json.dumps(_store_files(root), indent=0) + "\n")


def check_manifest(root: str | os.PathLike) -> None:
    """Raise if a store lost or changed a file since it was written (a truncated or deleted
    chunk: zarr would raise a codec error, or fill a missing chunk silently). Stores without
    a manifest (written by older versions) are not checked. Only file sizes are compared:
    no data is read."""
    root = Path(root)
    listed = root / MANIFEST
    if not listed.exists():
        return
    expected = json.loads(listed.read_text())
    actual = _store_files(root)
    for rel, size in expected.items():
        if rel not in actual or actual[rel] != size:
            what = "is missing" if rel not in actual else f"has {actual[rel]} bytes, not {size}"
            raise ValueError(
                f"activation store {root} is damaged: {rel} {what} (written as listed in "
                f"{MANIFEST}). Delete the store and rerun: Snakemake rebuilds it."
            )


def open_activation_store(path: str | os.PathLike) -> xr.Dataset:
    """Open an activation store lazily (layers are read from disk on access) and check the contract.

    Raises:
        FileNotFoundError: no store at ``path``.
        ValueError: the store does not follow the activation-store contract, or one of its
            files was lost or changed after it was written (:func:`check_manifest`).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"activation store {path} does not exist")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=RuntimeWarning)
        # Snakemake leaves a `.snakemake_timestamp` file in directory outputs
        warnings.filterwarnings("ignore", message=".*snakemake_timestamp.*")
        ds = xr.open_zarr(path, consolidated=False)
    check_manifest(path)
    ds = check_store(ds, where=str(path))
    # data variables in forward order, then the references; coordinates are kept
    ordered = ds[layer_names(ds) + reference_names(ds)]
    ordered.attrs = dict(ds.attrs)
    return ordered


def layer_names(ds: xr.Dataset) -> list[str]:
    """The layer variables of a store in forward order (``layer_00``, ``layer_01`` ...)."""
    return sorted(
        (str(v) for v in ds.data_vars if _LAYER_RE.match(str(v))), key=lambda s: int(s[6:])
    )


def reference_names(ds: xr.Dataset) -> list[str]:
    """The reference variables of a store (``input``, ``input_rf_mean``), those present."""
    return [name for name in REFERENCE_VARIABLES if name in ds.data_vars]


def check_store(ds: xr.Dataset, *, where: str = "activation store") -> xr.Dataset:
    """Check the activation-store contract (layer names, dims, one row per time point)."""
    layers = layer_names(ds)
    if not layers:
        raise ValueError(f"{where}: no layer variables (expected layer_00, layer_01, ...)")
    expected = [f"layer_{i:02d}" for i in range(len(layers))]
    if layers != expected:
        raise ValueError(f"{where}: layer variables {layers} are not consecutive {expected}")
    if "time" not in ds.coords:
        raise ValueError(f"{where}: missing the `time` coordinate")
    for name in layers:
        dims = ds[name].dims
        if dims != ("time", f"{name}_unit"):
            raise ValueError(f"{where}: {name} has dims {dims}, expected ('time', '{name}_unit')")
    return ds


def split_rows(ds: xr.Dataset, split: str) -> np.ndarray | slice:
    """Row selector of the ``train`` / ``test`` split (``all`` for every row).

    Returns a slice when the rows are contiguous (the time-blocked test split is), so
    lazy reads from the zarr store stay sequential.

    Raises:
        ValueError: unknown split name, a split requested from a store without ``train``,
            or an empty split.
    """
    if split == "all":
        return slice(None)
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train', 'test' or 'all', got {split!r}")
    if "train" not in ds.coords:
        raise ValueError("the activation store has no `train` coordinate; use split 'all'")
    mask = np.asarray(ds["train"].values, dtype=bool)
    rows = np.flatnonzero(mask if split == "train" else ~mask)
    if rows.size == 0:
        raise ValueError(f"the {split} split of the activation store is empty")
    if rows[-1] - rows[0] + 1 == rows.size:
        return slice(int(rows[0]), int(rows[-1]) + 1)
    return rows


def select_split(ds: xr.Dataset, split: str) -> xr.Dataset:
    """Rows of the ``train`` or ``test`` split (``all`` for every row); see :func:`split_rows`."""
    return ds.isel(time=split_rows(ds, split))
