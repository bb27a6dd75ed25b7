"""Helpers for the Snakemake workflow that need no Snakemake import.

Planning (which activation stores and CKA pairs a config implies) and job setup
(threads, logging) live here so they are unit-tested and the rules stay thin.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from pathlib import Path


def n_sessions(dataset_spec: Mapping) -> int:
    """Number of recording sessions a dataset spec yields (known before loading it)."""
    source = dataset_spec["source"]
    if source == "files":
        return len(dataset_spec["sessions"])
    if source == "registry":
        return 1
    return int(dataset_spec.get("params", {}).get("n_sessions", 1))


def plan_stores(config: Mapping) -> dict[str, tuple[str, int | None]]:
    """Activation stores of a run: store name -> (model name, session id).

    A model on a single-session dataset has one store named like the model
    (session ``None``); on an ``n``-session dataset it has ``n`` stores named
    ``<model>_session<k>`` (session ``k``).
    """
    stores: dict[str, tuple[str, int | None]] = {}
    for m in config["_models"]:
        n = n_sessions(config["datasets"][m.dataset])
        if n == 1:
            stores[m.name] = (m.name, None)
        else:
            for k in range(n):
                stores[f"{m.name}_session{k}"] = (m.name, k)
    if len(stores) != sum(n_sessions(config["datasets"][m.dataset]) for m in config["_models"]):
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
    logger.info("rule %s, %d thread(s)", getattr(snakemake, "rule", "?"), threads)
    return logger


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


def plan_seed_groups(
    config: Mapping, stores: Mapping[str, tuple[str, int | None]]
) -> dict[str, list[str]]:
    """Groups of stores that differ only by training seed (for consistency), with >= 2 runs.

    Key: the group name (``<group>_session<k>`` on multi-session data); value: its stores.
    """
    models = {m.name: m for m in config["_models"]}
    groups: dict[str, list[str]] = {}
    for store, (model, session) in stores.items():
        m = models[model]
        if not m.trained:
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
