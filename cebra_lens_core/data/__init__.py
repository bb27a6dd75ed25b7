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

import inspect
import json
import math
import os
import zipfile
from collections.abc import Mapping
from difflib import get_close_matches
from pathlib import Path
from typing import Any

import numpy as np

from cebra_lens_core.atomic import atomic_path
from cebra_lens_core.data.synthetic import GENERATORS, circle, hippocampus, lorenz, visual
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
    "circle",
    "generator_parameters",
    "hippocampus",
    "load_dataset",
    "lorenz",
    "read_dataset",
    "save_dataset",
    "validate_label",
    "validate_neural",
    "visual",
]

#: Every valid ``source`` of a dataset entry.
SOURCES: tuple[str, ...] = (*GENERATORS, "files", "registry")

DEFAULT_TEST_FRACTION = 0.2

_COMMON_KEYS = ("source", "test_fraction", "description")
_SOURCE_KEYS = {
    **{generator: ("params",) for generator in GENERATORS},
    "files": ("sessions", "bin_width_s"),
    "registry": ("name", "labels", "bin_width_s"),
}
# Generator arguments that come from the dataset entry itself, not from ``params``.
_NOT_PARAMS = ("name", "test_fraction")

FILE_FORMAT = "cebra_lens_core.dataset"
FILE_VERSION = 1


# --------------------------------------------------------------------------- loading


def _suggest(value: Any, choices: list[str] | tuple[str, ...]) -> str:
    close = get_close_matches(str(value), list(choices), n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


def generator_parameters(source: str) -> dict[str, Any]:
    """Parameter name -> default value of a synthetic generator (what ``params`` accepts)."""
    signature = inspect.signature(GENERATORS[source])
    return {
        name: parameter.default
        for name, parameter in signature.parameters.items()
        if name not in _NOT_PARAMS
    }


def _test_fraction(name: str, spec: Mapping) -> float:
    value = spec.get("test_fraction", DEFAULT_TEST_FRACTION)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        raise DataError(
            f"dataset {name!r}: test_fraction must be a number strictly between 0 and 1, "
            f"got {value!r}"
        )
    return float(value)


def _bin_width(name: str, spec: Mapping) -> float:
    value = spec.get("bin_width_s")
    if value is None:
        return float("nan")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise DataError(f"dataset {name!r}: bin_width_s must be a positive number, got {value!r}")
    return float(value)


def load_dataset(
    name: str, spec: Mapping[str, Any], *, base_dir: str | os.PathLike | None = None
) -> Dataset:
    """Build the dataset described by one config entry, validated.

    Args:
        name: the dataset's key in the config (used in file names and the results table).
        spec: the entry: ``source`` plus the keys of that source (see the module docstring).
        base_dir: folder that relative file paths of ``source: files`` are relative to
            (default: the working directory).

    Raises:
        DataError: unknown source, key or parameter (listing the valid ones and the closest
            match), or any problem with the data itself.
    """
    if not isinstance(spec, Mapping):
        raise DataError(f"dataset {name!r}: expected a mapping with a 'source' key, got {spec!r}")
    source = spec.get("source")
    if source is None:
        raise DataError(f"dataset {name!r}: missing 'source'; choose one of {list(SOURCES)}")
    if source not in SOURCES:
        raise DataError(
            f"dataset {name!r}: unknown source {source!r}; valid sources are "
            f"{list(SOURCES)}.{_suggest(source, SOURCES)}"
        )
    allowed = (*_COMMON_KEYS, *_SOURCE_KEYS[source])
    for key in spec:
        if key not in allowed:
            raise DataError(
                f"dataset {name!r} (source {source!r}): unknown key {key!r}; valid keys are "
                f"{list(allowed)}.{_suggest(key, allowed)}"
            )
    test_fraction = _test_fraction(name, spec)

    if source in GENERATORS:
        params = spec.get("params") or {}
        if not isinstance(params, Mapping):
            raise DataError(f"dataset {name!r}: 'params' must be a mapping, got {params!r}")
        valid = list(generator_parameters(source))
        for key in params:
            if key in _NOT_PARAMS:
                raise DataError(
                    f"dataset {name!r}: {key!r} is not a generator parameter; "
                    + (
                        "put test_fraction next to 'source', not under 'params'"
                        if key == "test_fraction"
                        else "the dataset name is its key in the config"
                    )
                )
            if key not in valid:
                raise DataError(
                    f"dataset {name!r}: unknown parameter {key!r} for source {source!r}; valid "
                    f"parameters are {valid}.{_suggest(key, valid)}"
                )
        try:
            return GENERATORS[source](**params, name=name, test_fraction=test_fraction)
        except DataError as error:
            raise DataError(f"dataset {name!r} (source {source!r}): {error}") from None

    if source == "files":
        from cebra_lens_core.data.files import load_files

        return load_files(
            name,
            spec.get("sessions"),
            test_fraction=test_fraction,
            base_dir=base_dir,
            bin_width_s=_bin_width(name, spec),
        )

    from cebra_lens_core.data.registry import load_registry

    return load_registry(
        name,
        spec.get("name"),
        spec.get("labels"),
        test_fraction=test_fraction,
        bin_width_s=_bin_width(name, spec),
    )


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
