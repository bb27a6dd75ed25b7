"""Setting up one Snakemake job: threads, logging, provenance, the device it runs on.

Every script in ``scripts/`` starts with :func:`setup_job`.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from cebra_lens_core.provenance import current_record, make_record, set_job_record


def setup_job(snakemake) -> logging.Logger:
    """Limit BLAS/torch threads to the job's ``threads`` and log to the rule's log file.

    Imports neither torch nor cebra (about 1 s of every job's start-up): the thread
    limits go into ``OMP_NUM_THREADS``/``MKL_NUM_THREADS``/``OPENBLAS_NUM_THREADS``, which
    torch reads when a model job imports it, and :func:`resolve_device` (every job that
    runs a model calls it) caps torch's threads again explicitly.

    Returns the ``cebra_lens_core`` logger; progress messages go to the log file
    and to stderr.
    """
    threads = max(1, int(getattr(snakemake, "threads", 1) or 1))
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)
    try:
        from threadpoolctl import threadpool_limits  # deferred: optional (ships with sklearn)

        threadpool_limits(threads)
    except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
        pass
    if "torch" in sys.modules:  # already imported: cap it now; otherwise it reads the env
        limit_torch_threads(threads)
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
    record = make_record(
        config=getattr(snakemake, "config", None),
        params=job_params(snakemake),
        rule=str(getattr(snakemake, "rule", "") or ""),
    )
    set_job_record(record)
    logger.info("provenance: %s", record)
    return logger


def limit_torch_threads(threads: int | None = None) -> None:
    """Cap torch's intra-op threads at ``threads`` (default: the job's ``OMP_NUM_THREADS``)."""
    import torch  # deferred: heavy; only jobs that run a model need it

    torch.set_num_threads(threads or max(1, int(os.environ.get("OMP_NUM_THREADS", "1") or 1)))


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
    """Map the config's ``device`` to one torch can use here, and say which one it is.

    ``cuda_if_available`` and ``cuda`` fall back to ``cpu`` when no GPU is visible to the
    job, so GPU-marked rules still run on a laptop. The job's log names the device it runs
    on (the GPU's name, or ``cpu``) and, on a fallback, warns with the job's
    ``CUDA_VISIBLE_DEVICES``; the provenance record of every output of the job carries
    ``device``, ``device_name``, ``device_requested`` (and ``device_fallback`` on a
    fallback).
    """
    import torch  # deferred: heavy; only jobs that run a model resolve a device

    limit_torch_threads()
    logger = logging.getLogger("cebra_lens_core")
    resolved = device
    if device in ("cuda", "cuda_if_available", "auto"):
        resolved = "cuda" if torch.cuda.is_available() else "cpu"
    name = (
        torch.cuda.get_device_name(torch.device(resolved)) if resolved.startswith("cuda") else "cpu"
    )
    fields = {"device": resolved, "device_name": name, "device_requested": device}
    if resolved == "cpu" and device != "cpu":
        visible = os.environ.get("CUDA_VISIBLE_DEVICES", "<unset>")
        fields["device_fallback"] = f"no GPU visible (CUDA_VISIBLE_DEVICES={visible})"
        logger.warning(
            "device %r requested but no GPU is visible to this job (CUDA_VISIBLE_DEVICES=%s, "
            "torch.cuda.is_available() is False): running on the CPU",
            device,
            visible,
        )
    logger.info("device: %s (%s; requested %s)", resolved, name, device)
    set_job_record({**current_record(), **fields})
    return resolved
