"""User recordings read from files through :func:`cebra.load_data`.

Config (``source: files``)::

    sessions:
      - neural: {file: rec1.npz, key: neural}            # (time, neurons)
        labels:
          position:  {file: rec1.npz, key: behavior, columns: [0], kind: continuous, unit: m}
          direction: {key: behavior, columns: [1], kind: discrete, categories: [right, left]}

Every format :func:`cebra.load_data` reads is accepted (``.npy``, ``.npz``, ``.h5``/``.hdf5``
arrays and pandas DataFrames, ``.mat`` v5 and v7.3, ``.jl``, ``.pkl``, ``.pt``, ``.csv``,
Excel). ``key`` picks an array in a file holding several and is required there, for neural
data and labels alike (the error lists the keys the file holds); ``columns`` picks columns, by
position for arrays and by name for DataFrames (and for CSV files with a header row). A label
without ``file`` is read from its session's neural file; a label equal to a column of the
neural data is refused (it was read from the wrong array). ``.jl``, ``.pkl`` and ``.pt`` files
are read fully into memory (joblib files are not memory-mapped). Relative paths are resolved against
``base_dir`` (default: the working directory).

Everything is checked before the dataset is built; every error names the session, the label,
the file and the key involved.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cebra_lens_core.data.types import (
    DataError,
    Dataset,
    LabelInfo,
    Session,
    blocked_split,
    validate_label,
    validate_neural,
)
from cebra_lens_core.naming import did_you_mean

ARRAY_KEYS = ("file", "key", "columns")
LABEL_KEYS = (*ARRAY_KEYS, "kind", "unit", "categories")
SESSION_KEYS = ("neural", "labels")
LABEL_KINDS = ("continuous", "discrete")

_H5_SUFFIXES = (".h5", ".hdf5", ".hdf", ".h")
_SINGLE_ARRAY_SUFFIXES = (".npy", ".csv")
# pickled containers (CEBRA's ``.jl`` datasets are dicts like {"spikes": ..., "position": ...})
_CONTAINER_SUFFIXES = (".jl", ".pkl", ".p", ".pt", ".pth")


# --------------------------------------------------------------------------- spec checks


def _check_keys(spec: Mapping, allowed: Sequence[str], where: str) -> None:
    """Raise a DataError for keys of ``spec`` outside ``allowed`` (with a close-match hint)."""
    for key in spec:
        if key not in allowed:
            hint = did_you_mean(key, allowed)
            raise DataError(f"{where}: unknown key {key!r}; valid keys are {list(allowed)}{hint}")


def _as_mapping(spec: Any, where: str, example: str) -> Mapping:
    if isinstance(spec, (str, os.PathLike)):
        return {"file": spec}
    if not isinstance(spec, Mapping):
        raise DataError(f"{where}: expected a mapping like {example}, got {spec!r}")
    return spec


def _columns_list(columns: Any, where: str) -> list | None:
    if columns is None:
        return None
    if isinstance(columns, (str, int)) and not isinstance(columns, bool):
        return [columns]
    if (
        isinstance(columns, Sequence)
        and columns
        and all(isinstance(c, (str, int)) and not isinstance(c, bool) for c in columns)
    ):
        return list(columns)
    raise DataError(
        f"{where}: columns must be a column index or name, or a non-empty list of them, "
        f"got {columns!r}"
    )


def _resolve(file: Any, base_dir: Path, where: str) -> Path:
    if not isinstance(file, (str, os.PathLike)) or not str(file):
        raise DataError(f"{where}: 'file' must be a path, got {file!r}")
    path = Path(file).expanduser()
    if not path.is_absolute():
        path = base_dir / path
    if not path.is_file():
        state = "is a directory, not a file" if path.is_dir() else "does not exist"
        raise DataError(f"{where}: file {str(file)!r} {state} (looked for {path})")
    return path


# --------------------------------------------------------------------------- key inspection


def available_keys(path: Path) -> list[str] | None:
    """Names of the arrays stored in ``path``, or None when the format has no keys / is unreadable.

    ``.npz``: ``np.load(...).files``; HDF5 (and MAT v7.3): every dataset and group path;
    ``.mat`` v5: :func:`scipy.io.whosmat`; ``.jl``/``.pkl``/``.pt`` dicts and Excel sheets:
    their keys.
    """
    suffix = path.suffix.lower()
    try:
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as archive:
                return list(archive.files)
        if suffix in _H5_SUFFIXES:
            return _h5_keys(path)
        if suffix == ".mat":
            # deferred: scipy, loaded only on this path
            import scipy.io

            try:
                return [name for name, _, _ in scipy.io.whosmat(str(path))]
            except (NotImplementedError, ValueError):
                return _h5_keys(path)  # MAT v7.3 files are HDF5
        if suffix in _CONTAINER_SUFFIXES:
            loaded = load_container(path)
            return [str(k) for k in loaded] if isinstance(loaded, Mapping) else None
        if suffix in (".xls", ".xlsx", ".xlsm"):
            import pandas as pd  # deferred: pandas only for CSV/TSV recordings

            return [str(k) for k in pd.ExcelFile(path).sheet_names]
    except Exception:  # noqa: BLE001 - listing keys is best effort, the load reports errors
        return None
    return None


def load_container(path: Path) -> Any:
    """The object stored in a ``.jl`` (joblib), ``.pkl``/``.p`` (pickle) or ``.pt``/``.pth``
    (torch, tensors only) file, read fully into memory.

    joblib files are read without memory-mapping: ``cebra.load_data`` maps them, and joblib
    then warns that arrays in CEBRA's own ``.jl`` datasets are "not byte aligned" and "may
    cause segmentation faults" (with an array dump); reading them into memory is safe.
    """
    suffix = path.suffix.lower()
    if suffix == ".jl":
        # deferred: joblib, only for .jl files
        import joblib

        return joblib.load(path)
    if suffix in (".pt", ".pth"):
        import torch  # heavy import: only for torch data files

        return torch.load(path, map_location="cpu", weights_only=True)
    with open(path, "rb") as handle:
        return pickle.load(handle)


def _h5_keys(path: Path) -> list[str]:
    # deferred: h5py, only for HDF5 files
    import h5py

    names: list[str] = []
    with h5py.File(path, "r") as handle:
        for key, item in handle.items():
            names.append(key)
            if isinstance(item, h5py.Group) and "pandas_type" not in item.attrs:
                item.visit(lambda sub, prefix=key: names.append(f"{prefix}/{sub}"))
    return names


def _is_h5_dataframe(path: Path, key: str | None) -> bool:
    """True when ``key`` of an HDF5 file is a group (a pandas DataFrame written by ``to_hdf``)."""
    if path.suffix.lower() not in _H5_SUFFIXES or key is None:
        return False
    # deferred: h5py, only for HDF5 files
    import h5py

    with h5py.File(path, "r") as handle:
        return isinstance(handle.get(key), h5py.Group)


def _check_key(path: Path, key: Any, where: str) -> None:
    """Check ``key`` against the arrays stored in ``path`` before reading.

    Raises a DataError if the key is absent (listing the keys present), if a file holding
    several arrays was given no key, or if a key was given for a single-array format.
    """
    suffix = path.suffix.lower()
    if suffix in _SINGLE_ARRAY_SUFFIXES:
        if key is not None:
            raise DataError(
                f"{where}: {path} is a {suffix} file holding a single array; remove key {key!r}"
            )
        return
    if suffix not in (".npz", *_H5_SUFFIXES, ".mat", *_CONTAINER_SUFFIXES):
        return  # keys of other formats (Excel sheets) are checked by the reader itself
    keys = available_keys(path)
    if keys is None:
        if key is not None and suffix in _CONTAINER_SUFFIXES:
            raise DataError(
                f"{where}: {path} holds a single object, not a dict of arrays; remove key {key!r}"
            )
        return
    if key is None:
        top_level = [k for k in keys if "/" not in k]
        if len(top_level) > 1:
            raise DataError(
                f"{where}: {path} holds several arrays ({_key_listing(top_level)}); "
                "say which one with key: <name>"
            )
    elif str(key) not in keys:
        raise DataError(
            f"{where}: key {key!r} not found in {path}; the file holds {_key_listing(keys)}"
        )


def _key_listing(keys: list[str] | None) -> str:
    if not keys:
        return "no readable arrays"
    shown = ", ".join(repr(k) for k in keys[:30])
    more = f" (and {len(keys) - 30} more)" if len(keys) > 30 else ""
    return f"the keys {shown}{more}"


# --------------------------------------------------------------------------- reading


def read_array(
    file: str | os.PathLike,
    key: str | None = None,
    columns: Sequence[int | str] | None = None,
    *,
    base_dir: str | os.PathLike | None = None,
    where: str = "",
) -> np.ndarray:
    """Read one array from ``file`` with :func:`cebra.load_data`, checked and column-selected.

    Args:
        file: path (relative to ``base_dir``, default the working directory).
        key: the array inside a multi-array file (npz/h5/mat/jl/pkl key, Excel sheet).
        columns: columns to keep: positions for plain arrays, names for DataFrames and CSV
            files with a header row (positions also work there).
        where: context for error messages (which session / label the file belongs to).

    Returns:
        The numeric array (float64 or integer), columns already selected.

    Raises:
        DataError: missing file, unknown key (listing the keys present), unknown column,
            non-numeric content, or any error of the underlying reader, naming file and key.
    """
    prefix = where or "reading data"
    path = _resolve(file, Path(base_dir) if base_dir is not None else Path.cwd(), prefix)
    where_key = f"{prefix} ({path}{'' if key is None else f', key {key!r}'})"
    _check_key(path, key, prefix)
    columns = _columns_list(columns, where_key)
    if path.suffix.lower() in _CONTAINER_SUFFIXES:
        try:
            loaded = load_container(path)
            if key is not None:
                loaded = loaded[key]
        except Exception as error:  # noqa: BLE001 - re-raised with the file and the keys present
            raise _read_error(error, path, where_key, key) from error
        array, header = _to_numeric(loaded, where_key)
        return array if columns is None else select_columns(array, columns, header, where_key)

    import cebra  # heavy import: only when user files are actually read

    pass_columns = columns if _is_h5_dataframe(path, key) else None
    try:
        loaded = _load(cebra, path, key, pass_columns)
    except Exception as error:  # noqa: BLE001 - re-raised with the file and the keys present
        if pass_columns is None or not all(isinstance(c, int) for c in pass_columns):
            raise _read_error(error, path, where_key, key) from error
        # integer positions into a DataFrame with named columns: select after loading
        try:
            loaded = _load(cebra, path, key, None)
        except Exception as error2:  # noqa: BLE001
            raise _read_error(error2, path, where_key, key) from error2
    else:
        if pass_columns is not None:
            columns = None  # already selected by the DataFrame reader
    array, header = _to_numeric(loaded, where_key)
    if columns is not None:
        array = select_columns(array, columns, header, where_key)
    return array


def _read_error(error: Exception, path: Path, where: str, key: Any = None) -> DataError:
    keys = available_keys(path)
    if key is not None and keys is not None and str(key) in keys:
        return DataError(
            f"{where}: key {key!r} is present but could not be read as a numeric array "
            f"({type(error).__name__}: {error}); neural data and labels must be numeric "
            "(give a text label as integer codes with `categories` naming them)"
        )
    listing = f"; the file holds {_key_listing(keys)}" if keys is not None else ""
    return DataError(f"{where}: could not read the data ({type(error).__name__}: {error}){listing}")


def _is_mat_v73(path: Path) -> bool:
    """MATLAB v7.3 files are HDF5 files with a 512-byte MATLAB header."""
    if path.suffix.lower() != ".mat":
        return False
    # deferred: h5py, only for HDF5 files
    import h5py

    return h5py.is_hdf5(path)


def _load(cebra: Any, path: Path, key: Any, columns: list | None) -> Any:
    """``cebra.load_data``; MAT v7.3 through CEBRA's HDF5 reader, transposed to MATLAB's order.

    (``cebra.load_data`` 0.6.1 fails on v7.3 files: its MAT reader calls the HDF5 reader with a
    missing argument. HDF5 stores MATLAB's column-major arrays transposed.)
    """
    if _is_mat_v73(path):
        # deferred: cebra (imports torch), loaded only on this path
        from cebra.data.load import _H5pyLoader

        return np.asarray(_H5pyLoader.load(str(path), key, None)).T
    return cebra.load_data(str(path), key=key, columns=columns)


def _to_numeric(loaded: Any, where: str) -> tuple[np.ndarray, list[str] | None]:
    """Convert what the reader returned to a numeric array; split off a CSV header row."""
    if hasattr(loaded, "detach"):  # torch tensor
        loaded = loaded.detach().cpu().numpy()
    header = None
    if hasattr(loaded, "columns") and hasattr(loaded, "to_numpy"):  # pandas DataFrame
        header, loaded = [str(c) for c in loaded.columns], loaded.to_numpy()
    array = np.asarray(loaded)
    if header is None and array.dtype == object and array.ndim == 2 and array.shape[0] > 1:
        first_row = array[0]
        if all(isinstance(v, str) for v in first_row):
            header, array = [str(v).strip() for v in first_row], array[1:]
    if array.dtype == bool:
        array = array.astype(np.int64)
    if not np.issubdtype(array.dtype, np.number):
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError) as error:
            raise DataError(
                f"{where}: the data is not numeric (dtype {array.dtype}); "
                "expected a numeric array (a CSV may have one header row and no index column)"
            ) from error
    return array, header


def select_columns(
    array: np.ndarray, columns: list[int | str], header: list[str] | None, where: str
) -> np.ndarray:
    """Keep ``columns`` of a 2-D array: integer positions, or names from ``header``."""
    if array.ndim != 2:
        raise DataError(
            f"{where}: columns {columns} were given but the data has shape {array.shape}; "
            "columns need a 2-D (time × columns) array"
        )
    positions = []
    for column in columns:
        if isinstance(column, str):
            if header is None or column not in header:
                names = f"; the columns are named {header}" if header else ""
                raise DataError(
                    f"{where}: no column named {column!r}{names}; use a 0-based column position"
                )
            positions.append(header.index(column))
        else:
            if not -array.shape[1] <= column < array.shape[1]:
                raise DataError(
                    f"{where}: column {column} is out of range for data with "
                    f"{array.shape[1]} columns (shape {array.shape})"
                )
            positions.append(column)
    return array[:, positions]


# --------------------------------------------------------------------------- sessions


def _label_info(spec: Mapping, where: str) -> LabelInfo:
    kind = spec.get("kind", "continuous")
    if kind not in LABEL_KINDS:
        raise DataError(f"{where}: kind must be one of {list(LABEL_KINDS)}, got {kind!r}")
    unit = spec.get("unit", "") or ""
    categories = spec.get("categories") or ()
    if isinstance(categories, str) or not isinstance(categories, Sequence):
        raise DataError(f"{where}: categories must be a list of names, got {categories!r}")
    if kind == "continuous" and categories:
        raise DataError(f"{where}: categories only apply to kind: discrete labels")
    return LabelInfo(kind=kind, unit=str(unit), categories=tuple(str(c) for c in categories))


def read_label(
    spec: Mapping,
    label: str,
    neural_shape: tuple[int, int],
    default_file: Any,
    *,
    base_dir: Path,
    where: str,
) -> tuple[np.ndarray, LabelInfo]:
    """Read and check one label: 1-D, one value per neural time bin, integer codes if discrete."""
    n_timepoints = neural_shape[0]
    where_label = f"{where}, label {label!r}"
    spec = _as_mapping(spec, where_label, "{file: behaviour.npz, key: position, kind: continuous}")
    _check_keys(spec, LABEL_KEYS, where_label)
    info = _label_info(spec, where_label)
    file = spec.get("file", default_file)
    values = read_array(
        file, spec.get("key"), spec.get("columns"), base_dir=base_dir, where=where_label
    )
    source = f"{file}" + ("" if spec.get("key") is None else f", key {spec.get('key')!r}")
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1:
        raise DataError(
            f"{where_label} ({source}) has shape {values.shape}; a label must be one value per "
            "time point: pick one column with columns: [c] or define one label per column"
        )
    if values.shape[0] != n_timepoints:
        transposed = values.shape[0] == neural_shape[1]
        hint = (
            f"; the neural array has shape {neural_shape}: is it stored neurons × time? "
            "It must be time × neurons"
            if transposed
            else "; labels need one value per time bin"
        )
        raise DataError(
            f"{where_label} ({source}) has {values.shape[0]} values but the neural data "
            f"has {n_timepoints} time points{hint}"
        )
    validate_label(values, label, n_timepoints, info.kind, where=f"{where} ({source})")
    if info.kind == "discrete":
        values = values.astype(np.int64)
        if info.categories and (values.min() < 0 or values.max() >= len(info.categories)):
            raise DataError(
                f"{where_label} ({source}) has codes {sorted(set(values.tolist()))[:10]} but "
                f"{len(info.categories)} categories {list(info.categories)}; codes must be "
                f"0 … {len(info.categories) - 1}"
            )
    else:
        values = values.astype(np.float64)
    return values, info


def read_session(
    spec: Mapping, index: int, *, base_dir: Path, dataset: str
) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, LabelInfo]]:
    """Read the neural array and labels of one session entry of the config."""
    where = f"dataset {dataset!r}, session {index}"
    if not isinstance(spec, Mapping):
        raise DataError(f"{where}: expected a mapping with 'neural' and 'labels', got {spec!r}")
    _check_keys(spec, SESSION_KEYS, where)
    if "neural" not in spec:
        raise DataError(f"{where}: missing 'neural' (e.g. neural: {{file: rec.npz, key: neural}})")
    neural_spec = _as_mapping(spec["neural"], f"{where}, neural", "{file: rec.npz, key: neural}")
    _check_keys(neural_spec, ARRAY_KEYS, f"{where}, neural")
    if "file" not in neural_spec:
        raise DataError(f"{where}, neural: missing 'file'")
    neural = read_array(
        neural_spec["file"],
        neural_spec.get("key"),
        neural_spec.get("columns"),
        base_dir=base_dir,
        where=f"{where}, neural",
    )
    key = neural_spec.get("key")
    source = f"{neural_spec['file']}" + ("" if key is None else f", key {key!r}")
    if neural.ndim != 2:
        raise DataError(
            f"{where}, neural ({source}): expected a 2-D array (time × neurons), got shape "
            f"{neural.shape}" + (" (reshape a single neuron to (T, 1))" if neural.ndim == 1 else "")
        )
    validate_neural(neural, where=f"{where}, neural ({source})")

    labels_spec = spec.get("labels") or {}
    if not isinstance(labels_spec, Mapping):
        raise DataError(f"{where}: 'labels' must map label names to specs, got {labels_spec!r}")
    labels, infos = {}, {}
    for label, label_spec in labels_spec.items():
        labels[str(label)], infos[str(label)] = read_label(
            label_spec,
            str(label),
            neural.shape,
            neural_spec["file"],
            base_dir=base_dir,
            where=where,
        )
        check_label_not_neural(labels[str(label)], neural, f"{where}, label {str(label)!r}")
    return neural.astype(np.float32), labels, infos


def check_label_not_neural(values: np.ndarray, neural: np.ndarray, where: str) -> None:
    """Refuse a label whose values equal one column of the neural data exactly.

    Such a label was almost certainly read from the wrong array (e.g. the neural array of a
    file holding several, through a missing or wrong ``key``); training on it and calling
    it behaviour would give silently wrong results.
    """
    same = np.flatnonzero(np.all(neural == np.asarray(values)[:, None], axis=0))
    if same.size:
        raise DataError(
            f"{where}: its values are identical to column {int(same[0])} of the neural data "
            f"(neuron {int(same[0])}); a label cannot be a recorded neuron. Check the label's "
            "`file`, `key` and `columns`: it was probably read from the neural array"
        )


def load_files(
    name: str,
    sessions: Sequence[Mapping],
    *,
    test_fraction: float = 0.2,
    base_dir: str | os.PathLike | None = None,
    bin_width_s: float = float("nan"),
) -> Dataset:
    """Build a :class:`Dataset` from user files, one config entry per session.

    Sessions may have different neuron counts but must define the same labels with the same
    kind, unit and categories.

    Raises:
        DataError: naming the dataset, session, label, file and key at fault.
    """
    if isinstance(sessions, Mapping) or not isinstance(sessions, Sequence) or not sessions:
        raise DataError(
            f"dataset {name!r}: 'sessions' must be a non-empty list, one entry per recording "
            "session (each with 'neural' and 'labels')"
        )
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    built, label_info = [], None
    for index, spec in enumerate(sessions):
        neural, labels, infos = read_session(spec, index, base_dir=base, dataset=name)
        if label_info is None:
            label_info = infos
        elif infos != label_info:
            raise DataError(
                f"dataset {name!r}, session {index}: labels {_describe(infos)} differ from "
                f"session 0's {_describe(label_info)}; every session needs the same labels"
            )
        built.append(
            Session(neural=neural, labels=labels, train=blocked_split(len(neural), test_fraction))
        )
    metadata = {
        "source": "files",
        "base_dir": str(base),
        "sessions": [_plain(spec) for spec in sessions],
        "test_fraction": float(test_fraction),
    }
    return Dataset(
        name=name,
        sessions=built,
        label_info=label_info or {},
        bin_width_s=float(bin_width_s),
        metadata=metadata,
    ).validate()


def _describe(infos: Mapping[str, LabelInfo]) -> str:
    return "{" + ", ".join(f"{k}: {v.kind}" for k, v in infos.items()) + "}"


def _plain(value: Any) -> Any:
    """The config entry as JSON-compatible data (paths as strings)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value
