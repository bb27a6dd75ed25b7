"""Datasets: synthetic generators, user files, the CEBRA registry; one ``.npz`` on disk.

Entry points:

- :func:`load_dataset` builds a :class:`Dataset` from one entry of the config's ``datasets``;
- :func:`save_dataset` / :func:`read_dataset` store it as a single ``.npz`` (atomic write).

Config entry (``name`` is its key in the config)::

    source: hippocampus | visual | lorenz | circle | attribution | files | registry
    test_fraction: 0.2        # last fraction of every session is the test split
    params: {...}             # synthetic sources: generator parameters (all optional)
    sessions: [...]           # source: files, see cebra_lens_core.data.files
    name: <registry name>     # source: registry, see cebra_lens_core.data.registry
    labels: {...}             # source: registry
    bin_width_s: 0.025        # files / registry: duration of one time bin, optional
"""

from __future__ import annotations

import json
import math
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from cebra_lens_core.atomic import atomic_path
from cebra_lens_core.data.sources import (
    SOURCES,
    available_labels,
    dataset_bin_width,
    dataset_input_widths,
    generator_parameters,
    load_dataset,
    n_sessions,
)
from cebra_lens_core.data.synthetic import circle, hippocampus, lorenz, visual
from cebra_lens_core.data.types import (
    DataError,
    Dataset,
    LabelInfo,
    Session,
    blocked_split,
    validate_label,
    validate_neural,
)
from cebra_lens_core.provenance import NPZ_KEY, current_record

__all__ = [
    "SOURCES",
    "Dataset",
    "DataError",
    "LabelInfo",
    "Session",
    "blocked_split",
    "available_labels",
    "circle",
    "dataset_bin_width",
    "dataset_input_widths",
    "generator_parameters",
    "hippocampus",
    "load_dataset",
    "lorenz",
    "n_sessions",
    "read_dataset",
    "save_dataset",
    "validate_label",
    "validate_neural",
    "visual",
]

FILE_FORMAT = "cebra_lens_core.dataset"
FILE_VERSION = 1


# --------------------------------------------------------------------------- storage


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"metadata value {value!r} of type {type(value).__name__} is not JSON data")


def save_dataset(dataset: Dataset, path: str | os.PathLike) -> Path:
    """Write ``dataset`` to one ``.npz`` file, atomically; return the path.

    Layout: ``s<k>/neural`` (float32 ``(T, N)``), ``s<k>/train`` (bool ``(T,)``),
    ``s<k>/label/<label>`` (float64 or int64 ``(T,)``) for every session ``k``, and ``header``,
    a JSON string with the name, label order and :class:`LabelInfo`, ``bin_width_s`` and
    ``metadata``, and ``provenance`` (JSON: versions and config hash, see
    :mod:`cebra_lens_core.provenance`). The file is written to a temporary sibling and renamed into place, so an
    interrupted write never leaves a file that looks complete. The name is used as given
    (no ``.npz`` is appended).
    """
    dataset.validate()
    arrays: dict[str, np.ndarray] = {}
    for k, session in enumerate(dataset.sessions):
        arrays[f"s{k}/neural"] = np.asarray(session.neural)
        arrays[f"s{k}/train"] = np.asarray(session.train, dtype=bool)
        for label in dataset.label_info:
            arrays[f"s{k}/label/{label}"] = np.asarray(session.labels[label])
    header = {
        "format": FILE_FORMAT,
        "version": FILE_VERSION,
        "name": dataset.name,
        "n_sessions": dataset.n_sessions,
        "labels": list(dataset.label_info),
        "label_info": {
            label: {"kind": info.kind, "unit": info.unit, "categories": list(info.categories)}
            for label, info in dataset.label_info.items()
        },
        "bin_width_s": float(dataset.bin_width_s),
        "metadata": dataset.metadata,
    }
    arrays["header"] = np.array(json.dumps(header, default=_json_default))
    arrays[NPZ_KEY] = np.array(json.dumps(current_record(), sort_keys=True))
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.savez(handle, **arrays)
    return path


def read_dataset(path: str | os.PathLike) -> Dataset:
    """Read a dataset written by :func:`save_dataset` (exact round trip), validated.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        DataError: the file is not a dataset file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"dataset file {path} not found")
    try:
        with np.load(path, allow_pickle=False) as archive:
            header = json.loads(str(archive["header"]))
            if header.get("format") != FILE_FORMAT:
                raise DataError(f"{path} is not a dataset file written by save_dataset")
            sessions = [
                Session(
                    neural=archive[f"s{k}/neural"],
                    labels={label: archive[f"s{k}/label/{label}"] for label in header["labels"]},
                    train=archive[f"s{k}/train"],
                )
                for k in range(header["n_sessions"])
            ]
    except DataError:
        raise
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise DataError(
            f"{path} is not a readable dataset file written by save_dataset ({error})"
        ) from error
    bin_width = header["bin_width_s"]
    return Dataset(
        name=header["name"],
        sessions=sessions,
        label_info={
            label: LabelInfo(
                kind=info["kind"], unit=info["unit"], categories=tuple(info["categories"])
            )
            for label, info in header["label_info"].items()
        },
        bin_width_s=float("nan") if bin_width is None or math.isnan(bin_width) else bin_width,
        metadata=header["metadata"],
    ).validate()
