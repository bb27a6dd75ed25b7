"""Helpers for the Snakemake workflow that need no Snakemake import.

Planning (which activation stores and CKA pairs a config implies) and job setup
(threads, logging) live here so they are unit-tested and the rules stay thin.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np


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
        from cebra_lens_core.data import generator_parameters
        from cebra_lens_core.data.synthetic import NEURONS_PER_SESSION

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
            import h5py

            with h5py.File(path, "r") as handle:
                shape = handle[key].shape
        elif suffix in (".jl", ".pkl", ".p", ".pt", ".pth") and key is not None:
            if path.stat().st_size > _MAX_STARTUP_READ_BYTES:
                return None  # too large to read at start-up: checked when extracting
            from cebra_lens_core.data.files import load_container

            shape = np.shape(load_container(path)[key])
        else:
            return None
    except Exception:  # noqa: BLE001 - unreadable here: the dataset job reports it
        return None
    return int(shape[1]) if len(shape) == 2 else None


def store_model_session(model, dataset_session: int | None) -> int | None:
    """The encoder (model session) a store of ``model`` on ``dataset_session`` uses: the
    config's ``session`` mapping when given, else the dataset session itself."""
    if model.sessions is None:
        return dataset_session
    inverse = {d: k for k, d in model.sessions.items()}
    return inverse[0 if dataset_session is None else dataset_session]


def _dataset_sessions(model, n: int) -> list[int | None]:
    """Dataset sessions a model has stores on (``None``: the one session of a dataset)."""
    if n == 1:
        return [None]
    return sorted(model.sessions.values()) if model.sessions is not None else list(range(n))


def plan_stores(config: Mapping) -> dict[str, tuple[str, int | None]]:
    """Activation stores of a run: store name -> (model name, dataset session id).

    A model on a single-session dataset has one store named like the model
    (session ``None``); on an ``n``-session dataset it has one store per session, named
    ``<model>_session<k>`` (session ``k``). A loaded model with a ``session`` mapping has
    stores on the mapped dataset sessions only.
    """
    stores: dict[str, tuple[str, int | None]] = {}
    expected = 0
    for m in config["_models"]:
        sessions = _dataset_sessions(m, n_sessions(config["datasets"][m.dataset]))
        expected += len(sessions)
        for k in sessions:
            stores[m.name if k is None else f"{m.name}_session{k}"] = (m.name, k)
    if len(stores) != expected:
        from cebra_lens_core.config import ConfigError

        raise ConfigError(
            "two models give activation stores with the same name (a model named "
            "'<other>_session<k>' collides with the sessions of model '<other>'); rename one"
        )
    return stores


def plan_cka_pairs(
    config: Mapping, stores: Mapping[str, tuple[str, int | None]]
) -> list[tuple[str, str]]:
    """CKA jobs as (store_a, store_b) pairs.

    ``cka.pairs: all`` gives every unordered pair of stores recorded on the same
    time points (same dataset and session), each store with itself included, in
    config order. An explicit list of ``[model_a, model_b]`` gives those pairs
    (per session for multi-session datasets).
    """
    models = {m.name: m for m in config["_models"]}
    names = list(stores)

    def same_data(a: str, b: str) -> bool:
        (ma, sa), (mb, sb) = stores[a], stores[b]
        return models[ma].dataset == models[mb].dataset and sa == sb

    spec = config.get("cka", {}).get("pairs", "all")
    if spec == "all":
        return [(a, b) for i, a in enumerate(names) for b in names[i:] if same_data(a, b)]
    pairs: list[tuple[str, str]] = []
    for ma, mb in spec:
        for a in (s for s in names if stores[s][0] == ma):
            for b in (s for s in names if stores[s][0] == mb):
                if same_data(a, b) and (a, b) not in pairs:
                    pairs.append((a, b))
    return pairs


def plan_heatmap_pairs(
    pairs: Sequence[tuple[str, str]], max_heatmaps: int
) -> list[tuple[str, str]]:
    """The pairs that get a layer × layer CKA heatmap: all of them when there are at most
    ``max_heatmaps`` (config ``cka.max_heatmaps``), else none. Many models give
    ``n (n + 1) / 2`` pairs (1,275 for 50): too many figures to read or to draw (about 0.35 s
    each, one job); their values stay in the results table and the corresponding-layers figure.
    """
    if max_heatmaps < 0:
        raise ValueError(f"cka.max_heatmaps must be >= 0, got {max_heatmaps}")
    return list(pairs) if len(pairs) <= max_heatmaps else []


def setup_job(snakemake) -> logging.Logger:
    """Limit BLAS/torch threads to the job's ``threads`` and log to the rule's log file.

    Returns the ``cebra_lens_core`` logger; progress messages go to the log file
    and to stderr.
    """
    threads = max(1, int(getattr(snakemake, "threads", 1) or 1))
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(threads)
    except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
        pass
    try:
        import torch

        torch.set_num_threads(threads)
    except ImportError:  # pragma: no cover
        pass
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    log_files = list(getattr(snakemake, "log", []) or [])
    if log_files:
        Path(log_files[0]).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_files[0], mode="w"))
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )
    logger = logging.getLogger("cebra_lens_core")
    log_uncaught_exceptions(logger)
    logger.info("rule %s, %d thread(s)", getattr(snakemake, "rule", "?"), threads)
    from cebra_lens_core.provenance import make_record, set_job_record

    record = make_record(
        config=getattr(snakemake, "config", None),
        params=job_params(snakemake),
        rule=str(getattr(snakemake, "rule", "") or ""),
    )
    set_job_record(record)
    logger.info("provenance: %s", record)
    return logger


def log_uncaught_exceptions(logger: logging.Logger) -> None:
    """Write an exception that ends the job, with its traceback, into the job's log file
    (Snakemake tells users to look there), then let Python report it as usual."""
    previous = sys.excepthook

    def hook(kind, value, traceback):
        if not issubclass(kind, KeyboardInterrupt):
            logger.critical("the job failed:", exc_info=(kind, value, traceback))
        previous(kind, value, traceback)

    sys.excepthook = hook


def job_params(snakemake) -> dict:
    """The job's named Snakemake ``params`` as a plain dict (what its outputs depend on)."""
    params = getattr(snakemake, "params", None)
    return dict(params.items()) if params is not None and hasattr(params, "items") else {}


def resolve_device(device: str) -> str:
    """Map the config's ``device`` to one torch can use here.

    ``cuda_if_available`` and ``cuda`` fall back to ``cpu`` when no GPU is present
    (``cuda`` with a warning in the log), so GPU-marked rules still run on a laptop.
    """
    import torch

    if device in ("cuda", "cuda_if_available"):
        if torch.cuda.is_available():
            return "cuda"
        if device == "cuda":
            logging.getLogger("cebra_lens_core").warning("no GPU found; running on the CPU")
        return "cpu"
    return device


#: Block length (samples) when the bin width of the data is unknown and none is configured.
DEFAULT_BLOCK_SAMPLES = 50


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
    from cebra_lens_core.data import generator_parameters

    params = {**generator_parameters(source), **dict(dataset_spec.get("params") or {})}
    if source == "visual":
        return 1.0 / float(params["frame_rate_hz"])
    if source == "lorenz":
        return float(params["dt"])
    return float(params.get("bin_width_s", float("nan")))


def resolve_block_length(
    bin_width_s: float | None, block_seconds: float, block_samples: int | None = None
) -> int:
    """Bootstrap block length in samples: ``max(1, round(block_seconds / bin_width_s))``.

    ``block_samples`` (when given) is used as it is, and also when the bin width is unknown
    (``None`` or NaN); without either, :data:`DEFAULT_BLOCK_SAMPLES`.
    """
    if block_samples is not None:
        return max(1, int(block_samples))
    width = float("nan") if bin_width_s is None else float(bin_width_s)
    if not (width > 0 and width < float("inf")):
        return DEFAULT_BLOCK_SAMPLES
    seconds = float(block_seconds)
    if not seconds > 0:
        raise ValueError(f"block length in seconds must be positive, got {block_seconds}")
    return max(1, int(round(seconds / width)))


def bootstrap_params(config: Mapping, dataset: str) -> dict:
    """The ``statistics.bootstrap`` settings of the jobs on ``dataset``, with the block length
    in samples (``block_length``) resolved from the dataset's bin width."""
    opts = dict(config.get("statistics", {}).get("bootstrap", {}))
    if not opts.get("enabled", True):
        return {"enabled": False}
    width = dataset_bin_width(config["datasets"][dataset])
    opts["block_length"] = resolve_block_length(
        width, opts.get("block_seconds", 2.0), opts.get("block_samples")
    )
    opts["bin_width_s"] = None if width != width else width  # NaN -> None
    return opts


def plan_seed_groups(
    config: Mapping, stores: Mapping[str, tuple[str, int | None]]
) -> dict[str, list[str]]:
    """Groups of stores that differ only by training seed (for consistency), with >= 2 runs:
    the seeds of a trained entry, or the checkpoints of a loaded ``files`` entry.

    Key: the group name (``<group>_session<k>`` on multi-session data); value: its stores.
    """
    models = {m.name: m for m in config["_models"]}
    groups: dict[str, list[str]] = {}
    for store, (model, session) in stores.items():
        m = models[model]
        if m.baseline:  # trained seeds and loaded checkpoints (`files`) of one config entry
            continue
        key = m.group if session is None else f"{m.group}_session{session}"
        groups.setdefault(key, []).append(store)
    return {k: v for k, v in groups.items() if len(v) >= 2}


def plan_recordings(
    config: Mapping, stores: Mapping[str, tuple[str, int | None]]
) -> dict[str, list[str]]:
    """Stores grouped by the recording they were extracted from (dataset and session)."""
    models = {m.name: m for m in config["_models"]}
    out: dict[str, list[str]] = {}
    for store, (model, session) in stores.items():
        dataset = models[model].dataset
        key = dataset if session is None else f"{dataset}_session{session}"
        out.setdefault(key, []).append(store)
    return out


def plan_cka_jobs(
    pairs: Sequence[tuple[str, str]],
    recordings: Mapping[str, Sequence[str]],
    stores_per_job: int,
) -> dict[str, list[tuple[str, str]]]:
    """Group CKA pairs into jobs: job name -> the pairs it computes.

    The stores of each recording are cut, in order, into blocks of ``stores_per_job``; one
    job per pair of blocks ``(i <= j)`` computes every planned pair between them from one
    stacked covariance (a job reads each of its stores once). A recording with at most
    ``stores_per_job`` stores is one job named like the recording; otherwise jobs are named
    ``<recording>_block<i>-<j>``. Jobs without planned pairs are dropped.
    """
    if int(stores_per_job) < 1:
        raise ValueError(f"stores_per_job must be >= 1, got {stores_per_job}")
    jobs: dict[str, list[tuple[str, str]]] = {}
    for recording, stores in recordings.items():
        size = int(stores_per_job)
        block = {s: k // size for k, s in enumerate(stores)}
        n_blocks = (len(stores) + size - 1) // size
        for a, b in pairs:
            if a not in block or b not in block:
                continue
            i, j = sorted((block[a], block[b]))
            name = recording if n_blocks == 1 else f"{recording}_block{i}-{j}"
            jobs.setdefault(name, []).append((a, b))
    return jobs


def job_stores(pairs: Sequence[tuple[str, str]]) -> list[str]:
    """The stores a list of pairs reads, each once, in first-use order."""
    return list(dict.fromkeys(s for pair in pairs for s in pair))
