"""Provenance of every output: software versions and the hash of the config that produced it.

A record is a flat ``str -> str`` mapping::

    {"cebra_lens_core": "0.1.0", "cebra": "0.6.1", "torch": "2.13.0", "numpy": "...",
     "python": "3.11.9", "config_hash": "<16 hex>", "params_hash": "<16 hex>", "rule": "cka"}

``config_hash`` hashes the whole run configuration, ``params_hash`` the settings the job
itself received (its Snakemake ``params``): two outputs with the same ``params_hash`` were
made with the same settings even if other parts of the config changed. Nothing time- or
host-dependent goes in, so reruns still give byte-identical files.

Where it is kept, by output type (read any of them back with :func:`read_provenance`):

- zarr activation stores: the store's attributes;
- ``.npz`` files: a ``provenance`` entry (a JSON string);
- ``.png`` figures: PNG text chunks (``tEXt``), one per key;
- every other file (CSV tables, model ``.pt`` files): a sidecar ``<file>.provenance.json``.

Outside Snakemake the record holds the versions only; a workflow job sets the full record once
with :func:`set_job_record` (done by :func:`cebra_lens_core.pipeline.job.setup_job`).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from cebra_lens_core.atomic import atomic_path

#: suffix of the sidecar file that carries the record of a CSV / model file
SIDECAR_SUFFIX = ".provenance.json"
#: key of the record inside ``.npz`` files
NPZ_KEY = "provenance"

_job_record: dict[str, str] | None = None


def software_versions() -> dict[str, str]:
    """Versions of the packages that determine the numbers: ours, cebra, torch, numpy, scipy,
    scikit-learn, zarr and python (read from the installed metadata; nothing is imported)."""
    versions = {}
    for package in ("cebra_lens_core", "cebra", "torch", "numpy", "scipy", "scikit-learn", "zarr"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    versions["python"] = platform.python_version()
    return versions


def config_hash(*parts: Any) -> str:
    """Short SHA-256 (16 hex digits) of the sorted-key JSON form of ``parts`` (what an output
    was made from; ``json.dumps(parts, sort_keys=True, default=str)``)."""
    text = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def hash_settings(settings: Any) -> str:
    """Short SHA-256 (16 hex digits) of the sorted-key JSON form of ``settings``."""
    return config_hash(settings)


def make_record(
    config: Mapping | None = None, params: Any = None, rule: str = ""
) -> dict[str, str]:
    """A provenance record: versions, plus hashes of ``config`` and ``params`` when given.

    Keys of ``config`` that start with ``_`` (derived bookkeeping) are left out of the hash.
    """
    record = software_versions()
    if config is not None:
        record["config_hash"] = hash_settings(
            {k: v for k, v in config.items() if not str(k).startswith("_")}
        )
    if params is not None:
        record["params_hash"] = hash_settings(params)
    if rule:
        record["rule"] = str(rule)
    return record


def set_job_record(record: Mapping[str, str] | None) -> None:
    """Make ``record`` the default for every output this process writes (``None`` resets)."""
    global _job_record
    _job_record = dict(record) if record is not None else None


def current_record() -> dict[str, str]:
    """The record set by :func:`set_job_record`, or the software versions alone."""
    return dict(_job_record) if _job_record is not None else software_versions()


def sidecar_path(path: str | os.PathLike) -> Path:
    """``<path>.provenance.json``: where the record of a CSV or model file is kept."""
    path = Path(path)
    return path.with_name(path.name + SIDECAR_SUFFIX)


def write_sidecar(path: str | os.PathLike, record: Mapping[str, str] | None = None) -> Path:
    """Write the record of ``path`` (default: :func:`current_record`) next to it, atomically."""
    record = current_record() if record is None else dict(record)
    side = sidecar_path(path)
    with atomic_path(side) as tmp:
        Path(tmp).write_text(json.dumps(record, sort_keys=True, indent=1) + "\n")
    return side


def png_text(record: Mapping[str, str] | None = None) -> dict[str, str]:
    """PNG text chunks for a figure: ``{"cebra_lens_core:<key>": value}``."""
    record = current_record() if record is None else record
    return {f"cebra_lens_core:{k}": str(v) for k, v in sorted(record.items())}


def read_provenance(path: str | os.PathLike) -> dict[str, str]:
    """The provenance record of any output written by this package.

    Raises:
        FileNotFoundError: the output (or, for CSV/model files, its sidecar) does not exist.
        ValueError: the output carries no provenance record.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"output {path} does not exist")
    if path.is_dir():  # zarr store
        # deferred: zarr, loaded only on this path
        import zarr

        attrs = dict(zarr.open_group(str(path), mode="r").attrs)
        record = attrs.get("provenance")
        if not isinstance(record, dict):
            raise ValueError(f"{path}: store attributes carry no 'provenance' record")
        return {str(k): str(v) for k, v in record.items()}
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as data:
            if NPZ_KEY not in data.files:
                raise ValueError(f"{path}: no '{NPZ_KEY}' entry (written before provenance?)")
            return json.loads(str(data[NPZ_KEY]))
    if path.suffix == ".png":
        # deferred: Pillow, loaded only on this path
        from PIL import Image

        with Image.open(path) as image:
            text = getattr(image, "text", {}) or {}
        record = {
            k.removeprefix("cebra_lens_core:"): v
            for k, v in text.items()
            if k.startswith("cebra_lens_core:")
        }
        if not record:
            raise ValueError(f"{path}: the PNG has no cebra_lens_core text chunks")
        return record
    side = sidecar_path(path)
    if not side.exists():
        raise FileNotFoundError(f"{path} has no provenance sidecar {side.name}")
    return json.loads(side.read_text())
