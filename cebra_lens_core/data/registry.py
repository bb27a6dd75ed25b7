"""Datasets of the CEBRA registry (:mod:`cebra.datasets`), loaded by name.

Config (``source: registry``)::

    name: rat-hippocampus-single-achilles
    labels:
      position:  {columns: [0], kind: continuous, unit: m}
      direction: {columns: [1], kind: discrete}          # column 1 of the continuous index
      trial:     {index: discrete, kind: discrete}       # the discrete index

CEBRA keeps its datasets under ``CEBRA_DATADIR`` (default ``./data``) and downloads missing
files on first use. Each label is one column of the dataset's ``continuous_index`` (the default
when it has one) or its ``discrete_index`` (``index: discrete``). Without a ``labels`` entry,
every continuous column becomes a label ``continuous_<j>`` and the discrete index a label
``discrete``. Multi-session registry datasets give one session per recording.

Offline, or when the download fails, a :class:`DataError` says where CEBRA looked and how to
provide the files; downloads time out instead of hanging.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import os
import warnings
from collections.abc import Iterator, Mapping
from difflib import get_close_matches
from typing import Any

import numpy as np

from cebra_lens_core.data.types import (
    DataError,
    Dataset,
    LabelInfo,
    Session,
    blocked_split,
    validate_label,
)
from cebra_lens_core.naming import did_you_mean

#: Seconds to wait for the data server to answer (connect, read) before giving up.
DOWNLOAD_TIMEOUT_S = (10.0, 60.0)

LABEL_KEYS = ("columns", "index", "kind", "unit", "categories")
INDEX_KINDS = ("continuous", "discrete")


def _import_cebra_datasets() -> Any:
    """Import :mod:`cebra.datasets` (slow: a few seconds), explaining a missing dependency."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # deferred: cebra (imports torch), loaded only on this path
            import cebra.datasets
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise DataError(
            f"cannot import cebra.datasets ({error}); install the optional dependencies with "
            "pip install 'cebra[datasets]'"
        ) from error
    return cebra.datasets


def data_directory() -> str:
    """Where CEBRA looks for registry data: ``$CEBRA_DATADIR``, else CEBRA's default (``data``).

    Read at call time: :mod:`cebra.datasets` reads the variable once, at import.
    """
    env = os.environ.get("CEBRA_DATADIR")
    if env:
        return os.path.abspath(env)
    datasets = _import_cebra_datasets()
    return os.path.abspath(datasets.get_datapath())


def registry_options() -> list[str]:
    """Every dataset name of the CEBRA registry."""
    return list(_import_cebra_datasets().get_options())


def check_name(registry_name: str) -> None:
    """Raise a DataError for a name the CEBRA registry does not know, suggesting close ones."""
    options = registry_options()
    if registry_name in options:
        return
    close = get_close_matches(str(registry_name), options, n=5, cutoff=0.6)
    hint = (
        f" Closest names: {close}."
        if close
        else " Examples: " + ", ".join(o for o in options if not o[-1].isdigit())[:300] + " …"
    )
    raise DataError(
        f"{registry_name!r} is not a CEBRA registry dataset "
        f"(cebra.datasets.get_options() lists {len(options)} names).{hint}"
    )


def _registered_class(registry_name: str) -> type | None:
    try:
        # deferred: cebra (imports torch), loaded only on this path
        from cebra.registry import _Registry

        for module, entries in (_Registry._instance or {}).items():
            if getattr(module, "__name__", module) == "cebra.datasets" and registry_name in entries:
                return entries[registry_name][0]
    except Exception:  # noqa: BLE001 - private API; only used to pass ``root``
        return None
    return None


def _accepts(cls: type | None, argument: str) -> bool:
    if cls is None:
        return False
    try:
        return argument in inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return False


@contextlib.contextmanager
def download_timeout(timeout: tuple[float, float] | None = None) -> Iterator[None]:
    """Give CEBRA's downloader a network timeout (default :data:`DOWNLOAD_TIMEOUT_S`).

    ``cebra.data.assets`` calls ``requests.get(url, stream=True)`` without a timeout, which can
    block forever behind a firewall that drops packets. Inside this context the module sees a
    ``requests`` whose ``get`` defaults to ``timeout``.
    """
    try:
        # deferred: cebra (imports torch), loaded only on this path
        import cebra.data.assets as assets
    except ImportError:  # pragma: no cover
        yield
        return
    real = getattr(assets, "requests", None)
    if real is None or not hasattr(real, "get"):  # pragma: no cover - other CEBRA versions
        yield
        return

    class _RequestsWithTimeout:
        def __getattr__(self, attribute: str) -> Any:
            return getattr(real, attribute)

        get = staticmethod(
            functools.partial(real.get, timeout=timeout if timeout else DOWNLOAD_TIMEOUT_S)
        )

    assets.requests = _RequestsWithTimeout()
    try:
        yield
    finally:
        assets.requests = real


def _download_error(registry_name: str, root: str, error: BaseException) -> DataError:
    return DataError(
        f"could not load or download the CEBRA dataset {registry_name!r}: "
        f"{type(error).__name__}: {error}\n"
        f"CEBRA looks for its files under {root} (set by the environment variable "
        "CEBRA_DATADIR; cebra.datasets.get_datapath() without it) and downloads missing files "
        "when online.\n"
        "To fix: run once with internet access, or copy the dataset files into that folder "
        "(or point CEBRA_DATADIR at a folder that has them), or export the arrays and use "
        "`source: files`."
    )


def init_registry_dataset(registry_name: str) -> Any:
    """``cebra.datasets.init(registry_name)`` with the data root read now, failing fast offline.

    Raises:
        DataError: unknown name (with close matches), or the data could not be loaded or
            downloaded (naming the data folder and how to fix it).
    """
    datasets = _import_cebra_datasets()
    check_name(registry_name)
    root = data_directory()
    kwargs = {"root": root} if _accepts(_registered_class(registry_name), "root") else {}
    try:
        with download_timeout(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return datasets.init(registry_name, **kwargs)
    except DataError:
        raise
    except Exception as error:  # noqa: BLE001 - network, checksum, missing file, parsing...
        raise _download_error(registry_name, root, error) from None


def _to_numpy(tensor: Any) -> np.ndarray | None:
    if tensor is None:
        return None
    if hasattr(tensor, "detach"):
        tensor = tensor.detach().cpu().numpy()
    return np.asarray(tensor)


def _sessions_of(dataset: Any) -> list[Any]:
    """The single-session datasets inside a (possibly multi-session) CEBRA dataset."""
    if hasattr(dataset, "num_sessions") and hasattr(dataset, "get_session"):
        return [dataset.get_session(k) for k in range(dataset.num_sessions)]
    return [dataset]


def _default_label_specs(session: Any) -> dict[str, dict]:
    specs: dict[str, dict] = {}
    continuous = _to_numpy(getattr(session, "continuous_index", None))
    if continuous is not None:
        continuous = continuous.reshape(len(continuous), -1)
        for j in range(continuous.shape[1]):
            specs[f"continuous_{j}"] = {"columns": [j], "index": "continuous"}
    if _to_numpy(getattr(session, "discrete_index", None)) is not None:
        specs["discrete"] = {"index": "discrete", "kind": "discrete"}
    return specs


def _label_from_index(
    session: Any, label: str, spec: Mapping, n_timepoints: int, where: str
) -> tuple[np.ndarray, LabelInfo]:
    where_label = f"{where}, label {label!r}"
    if not isinstance(spec, Mapping):
        raise DataError(f"{where_label}: expected a mapping like {{columns: [0]}}, got {spec!r}")
    for key in spec:
        if key not in LABEL_KEYS:
            hint = did_you_mean(key, LABEL_KEYS)
            raise DataError(f"{where_label}: unknown key {key!r}; valid: {list(LABEL_KEYS)}{hint}")
    continuous = _to_numpy(getattr(session, "continuous_index", None))
    discrete = _to_numpy(getattr(session, "discrete_index", None))
    index_kind = spec.get("index", "continuous" if continuous is not None else "discrete")
    if index_kind not in INDEX_KINDS:
        raise DataError(
            f"{where_label}: index must be one of {list(INDEX_KINDS)}, got {index_kind!r}"
        )
    index = continuous if index_kind == "continuous" else discrete
    if index is None:
        raise DataError(f"{where_label}: the dataset has no {index_kind} index")
    index = index.reshape(len(index), -1)
    columns = spec.get("columns")
    if columns is None:
        if index.shape[1] != 1:
            raise DataError(
                f"{where_label}: the {index_kind} index has {index.shape[1]} columns; "
                "pick one with columns: [c]"
            )
        columns = [0]
    if isinstance(columns, int):
        columns = [columns]
    if (
        len(columns) != 1
        or not isinstance(columns[0], int)
        or not (-index.shape[1] <= columns[0] < index.shape[1])
    ):
        raise DataError(
            f"{where_label}: columns must be one column index in 0 … {index.shape[1] - 1} of "
            f"the {index_kind} index, got {columns!r}"
        )
    values = index[:, columns[0]]
    kind = spec.get("kind", "continuous" if index_kind == "continuous" else "discrete")
    if kind not in ("continuous", "discrete"):
        raise DataError(f"{where_label}: kind must be 'continuous' or 'discrete', got {kind!r}")
    validate_label(values, label, n_timepoints, kind, where=where)
    values = values.astype(np.int64 if kind == "discrete" else np.float64)
    info = LabelInfo(
        kind=kind,
        unit=str(spec.get("unit", "") or ""),
        categories=tuple(str(c) for c in spec.get("categories") or ()),
    )
    return values, info


def load_registry(
    name: str,
    registry_name: str,
    labels: Mapping[str, Mapping] | None = None,
    *,
    test_fraction: float = 0.2,
    bin_width_s: float = float("nan"),
) -> Dataset:
    """Load ``registry_name`` from :mod:`cebra.datasets` as a :class:`Dataset` named ``name``.

    Neural data becomes float32 ``(T, N)``; each label one column of the continuous or discrete
    index (see the module docstring).
    """
    if not isinstance(registry_name, str) or not registry_name:
        raise DataError(
            f"dataset {name!r}: 'name' must be a CEBRA registry name such as "
            "'rat-hippocampus-single-achilles'"
        )
    if labels is not None and not isinstance(labels, Mapping):
        raise DataError(f"dataset {name!r}: 'labels' must map label names to specs, got {labels!r}")
    cebra_dataset = init_registry_dataset(registry_name)
    sessions, label_info = [], None
    for k, session in enumerate(_sessions_of(cebra_dataset)):
        where = f"dataset {name!r} (CEBRA {registry_name!r}), session {k}"
        neural = _to_numpy(getattr(session, "neural", None))
        if neural is None:
            raise DataError(f"{where}: the CEBRA dataset has no .neural array")
        neural = neural.reshape(len(neural), -1).astype(np.float32)
        specs = labels if labels is not None else _default_label_specs(session)
        values, infos = {}, {}
        for label, spec in specs.items():
            values[str(label)], infos[str(label)] = _label_from_index(
                session, str(label), spec, len(neural), where
            )
        label_info = infos if label_info is None else label_info
        sessions.append(
            Session(neural=neural, labels=values, train=blocked_split(len(neural), test_fraction))
        )
    # deferred: cebra (imports torch), loaded only on this path
    import cebra

    return Dataset(
        name=name,
        sessions=sessions,
        label_info=label_info or {},
        bin_width_s=float(bin_width_s),
        metadata={
            "source": "registry",
            "registry_name": registry_name,
            "labels": {str(k): dict(v) for k, v in (labels or {}).items()},
            "data_directory": data_directory(),
            "cebra_version": str(getattr(cebra, "__version__", "")),
            "test_fraction": float(test_fraction),
        },
    ).validate()
