"""What a dataset entry of the config is: its sources, keys, labels, sessions and bin width.

Everything the pipeline needs to know about a dataset *before* loading it (label names and
kinds of the synthetic generators, session counts, input widths, bin widths, valid keys and
generator parameters) lives here once, next to :func:`load_dataset`, which builds the
:class:`~cebra_lens_core.data.types.Dataset` an entry describes.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from cebra_lens_core.data.files import load_container, load_files
from cebra_lens_core.data.registry import load_registry
from cebra_lens_core.data.synthetic import GENERATORS, NEURONS_PER_SESSION
from cebra_lens_core.data.types import DataError, Dataset
from cebra_lens_core.naming import did_you_mean

#: Every valid ``source`` of a dataset entry.
SOURCES: tuple[str, ...] = (*GENERATORS, "files", "registry")

DEFAULT_TEST_FRACTION = 0.2

COMMON_DATASET_KEYS = ("source", "test_fraction", "description")
SOURCE_KEYS = {
    **{generator: ("params",) for generator in GENERATORS},
    "files": ("sessions", "bin_width_s"),
    "registry": ("name", "labels", "bin_width_s"),
}


def dataset_keys(source: str) -> tuple[str, ...]:
    """The keys a dataset entry of ``source`` may have (common keys first)."""
    return (*COMMON_DATASET_KEYS, *SOURCE_KEYS[source])


# Generator arguments that come from the dataset entry itself, not from ``params``.
_NOT_PARAMS = ("name", "test_fraction")

#: label names each synthetic generator provides (checked before any training)
SYNTHETIC_LABELS = {
    "hippocampus": ("position", "direction"),
    "visual": ("frame", "repeat"),
    "lorenz": ("x", "y", "z"),
    "circle": ("angle", "latent_x", "latent_y"),
    "attribution": ("latent_0", "latent_1", "latent_2"),
}


#: label kinds of the synthetic generators (continuous unless listed)
SYNTHETIC_DISCRETE = {"hippocampus": ("direction",), "visual": ("frame", "repeat")}


def known_kinds(dataset_spec: Mapping, labels: list[str]) -> dict[str, str]:
    """``{label: kind}`` of ``labels`` when they mix continuous and discrete kinds (as far as
    the config tells: synthetic sources and files with ``kind``), else ``{}``."""
    source = dataset_spec["source"]
    if source in SYNTHETIC_LABELS:
        discrete = SYNTHETIC_DISCRETE.get(source, ())
        kinds = {lab: "discrete" if lab in discrete else "continuous" for lab in labels}
    elif source == "files":
        specs = dataset_spec["sessions"][0].get("labels", {})
        kinds = {lab: specs[lab].get("kind", "continuous") for lab in labels if lab in specs}
    else:
        return {}
    return kinds if len(set(kinds.values())) > 1 else {}


def available_labels(dataset_spec: Mapping) -> tuple[str, ...] | None:
    """Label names a dataset spec provides, or ``None`` when only the data can tell."""
    source = dataset_spec["source"]
    if source in SYNTHETIC_LABELS:
        return SYNTHETIC_LABELS[source]
    if source == "files":
        sessions = dataset_spec.get("sessions") or []
        return tuple(sessions[0].get("labels", {})) if sessions else ()
    if source == "registry" and dataset_spec.get("labels"):
        return tuple(dataset_spec["labels"])
    return None  # registry without `labels`: names come from the data (continuous_<j>, discrete)


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


#: largest count (neurons, time points, frames, ...) a synthetic generator accepts
MAX_GENERATOR_COUNT = 10_000_000


def _parameter_problem(key: str, value: Any, default: Any) -> str | None:
    """What is wrong with a generator parameter's value (types follow the defaults: whole
    numbers for counts and seeds, finite numbers otherwise; counts ``n_*`` are positive,
    everything else non-negative), else ``None``."""
    whole = isinstance(default, int) and not isinstance(default, bool)
    if isinstance(value, bool) or not isinstance(value, int | float):
        kind = "a whole number" if whole else "a number"
        return f"must be {kind}, got {value!r}"
    if whole and not isinstance(value, int):
        return f"must be a whole number, got {value!r}"
    if not np.isfinite(value):
        return f"must be a finite number, got {value!r}"
    if key.startswith("n_") and not 1 <= value <= MAX_GENERATOR_COUNT:
        return f"must be between 1 and {MAX_GENERATOR_COUNT:,}, got {value!r}"
    if value < 0:
        return f"must not be negative, got {value!r}"
    return None


def check_dataset_spec(name: str, spec: Any) -> None:
    """Check one dataset entry without loading anything: a mapping with a known ``source``,
    only that source's keys, and (generators) only the generator's parameters.

    Raises:
        DataError: naming the dataset, the bad key or value, the valid ones and the closest
            match.
    """
    if not isinstance(spec, Mapping):
        raise DataError(f"dataset {name!r}: expected a mapping with a 'source' key, got {spec!r}")
    source = spec.get("source")
    if source is None:
        raise DataError(f"dataset {name!r}: missing 'source'; choose one of {list(SOURCES)}")
    if source not in SOURCES:
        raise DataError(
            f"dataset {name!r}: unknown source {source!r}; valid sources are "
            f"{list(SOURCES)}{did_you_mean(source, SOURCES)}"
        )
    allowed = dataset_keys(source)
    misplaced = sorted(str(key) for key in spec if key not in allowed)
    if misplaced:
        raise DataError(
            f"dataset {name!r}: keys {misplaced} do not apply to source {source!r}; valid "
            f"keys are {list(allowed)}{did_you_mean(misplaced[0], allowed)}"
        )
    if source not in GENERATORS:
        return
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
                f"parameters are {valid}{did_you_mean(key, valid)}"
            )
        problem = _parameter_problem(key, params[key], generator_parameters(source)[key])
        if problem:
            raise DataError(f"dataset {name!r} (source {source!r}): params.{key} {problem}")


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
    check_dataset_spec(name, spec)
    source = spec["source"]
    test_fraction = _test_fraction(name, spec)

    if source in GENERATORS:
        params = spec.get("params") or {}
        try:
            return GENERATORS[source](**params, name=name, test_fraction=test_fraction)
        except DataError as error:
            raise DataError(f"dataset {name!r} (source {source!r}): {error}") from None

    if source == "files":
        return load_files(
            name,
            spec.get("sessions"),
            test_fraction=test_fraction,
            base_dir=base_dir,
            bin_width_s=_bin_width(name, spec),
        )

    return load_registry(
        name,
        spec.get("name"),
        spec.get("labels"),
        test_fraction=test_fraction,
        bin_width_s=_bin_width(name, spec),
    )


def n_sessions(dataset_spec: Mapping) -> int:
    """Number of recording sessions a dataset spec yields (known before loading it)."""
    source = dataset_spec["source"]
    if source == "files":
        return len(dataset_spec["sessions"])
    if source == "registry":
        return 1
    return int(dataset_spec.get("params", {}).get("n_sessions", 1))


def dataset_input_widths(dataset_spec: Mapping, base: str | os.PathLike = ".") -> list[int | None]:
    """Neurons of each session of a dataset spec, as far as known before loading the data.

    Synthetic generators: ``n_neurons`` (+ 5 per further session); ``files``: the array's
    shape read from the file header for ``.npy``, ``.npz`` and HDF5 arrays, from the loaded
    object for ``.jl``/``.pkl``/``.pt`` files up to 256 MiB (or the number of ``columns``);
    ``None`` where only loading the data would tell (other formats, registry).
    """
    source = dataset_spec["source"]
    if source == "registry":
        return [None]
    if source != "files":
        params = {**generator_parameters(source), **dict(dataset_spec.get("params") or {})}
        n = int(params["n_neurons"])
        return [n + NEURONS_PER_SESSION * k for k in range(n_sessions(dataset_spec))]
    return [_neural_width(session["neural"], base) for session in dataset_spec["sessions"]]


#: pickled recordings (``.jl``, ``.pkl``, ``.pt``) up to this size are read at start-up to
#: learn their width; larger ones are checked by the extraction job
_MAX_STARTUP_READ_BYTES = 256 * 2**20


def _neural_width(spec: Mapping, base: str | os.PathLike) -> int | None:
    if spec.get("columns"):
        return len(spec["columns"])
    path = Path(spec["file"]).expanduser()
    path = path if path.is_absolute() else Path(base) / path
    suffix, key = path.suffix.lower(), spec.get("key")
    try:
        if suffix == ".npy":
            shape = np.load(path, mmap_mode="r").shape
        elif suffix == ".npz" and key is not None:
            with np.load(path) as archive:
                shape = archive[key].shape
        elif suffix in (".h5", ".hdf5") and key is not None:
            import h5py  # deferred: HDF5 support is only needed for .h5 recordings

            with h5py.File(path, "r") as handle:
                shape = handle[key].shape
        elif suffix in (".jl", ".pkl", ".p", ".pt", ".pth") and key is not None:
            if path.stat().st_size > _MAX_STARTUP_READ_BYTES:
                return None  # too large to read at start-up: checked when extracting
            shape = np.shape(load_container(path)[key])
        else:
            return None
    except Exception:  # noqa: BLE001 - unreadable here: the dataset job reports it
        return None
    return int(shape[1]) if len(shape) == 2 else None


def dataset_bin_width(dataset_spec: Mapping) -> float:
    """Duration of one time bin in seconds, known before loading the data (NaN if unknown).

    Synthetic generators: their ``bin_width_s`` parameter (``1 / frame_rate_hz`` for
    ``visual``, ``dt`` for ``lorenz``, in the system's time units); ``files`` / ``registry``:
    the dataset's ``bin_width_s``.
    """
    source = dataset_spec["source"]
    if source in ("files", "registry"):
        value = dataset_spec.get("bin_width_s")
        return float("nan") if value is None else float(value)
    params = {**generator_parameters(source), **dict(dataset_spec.get("params") or {})}
    if source == "visual":
        return 1.0 / float(params["frame_rate_hz"])
    if source == "lorenz":
        return float(params["dt"])
    return float(params.get("bin_width_s", float("nan")))
