"""Planning a run: which activation stores, CKA pairs and jobs a config implies.

Pure functions of the prepared config (:func:`cebra_lens_core.pipeline.config.prepare_config`);
the Snakemake rules call them so the rules stay thin and the plan is unit-tested. Nothing
here imports torch or cebra.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence

from cebra_lens_core.analyses import compute_settings
from cebra_lens_core.data.sources import dataset_bin_width, n_sessions
from cebra_lens_core.naming import session_name
from cebra_lens_core.pipeline.config import ConfigError
from cebra_lens_core.results import SWEEP_SETTINGS
from cebra_lens_core.stats.options import resolve_block_length


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
            stores[session_name(m.name, k)] = (m.name, k)
    if len(stores) != expected:
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
        key = session_name(m.group, session)
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
        key = session_name(dataset, session)
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


#: settings of a config section that steer planning, resources or figures only: a compute
#: job never receives them, so changing one reruns no compute job (only the figures or the
#: plan that use it). Every analysis section also has ``enabled``; an analysis' figure-only
#: settings come from its registry entry (:data:`cebra_lens_core.analyses.REGISTRY`).
#: settings that shape the plan (which jobs, how many threads), not a job's numbers; the
#: figure-only settings of each analysis are in its registry entry
#: (:func:`cebra_lens_core.analyses.compute_settings`)
NOT_JOB_SETTINGS: dict[str, tuple[str, ...]] = {
    "cka": ("max_heatmaps", "stores_per_job", "pairs"),
    "attribution": ("threads",),
}


def job_settings(section: str, settings: Mapping) -> dict:
    """The settings of config section ``section`` (``cka`` or an analysis name) that its
    compute jobs use: all but ``enabled``, the analysis' figure-only settings and
    :data:`NOT_JOB_SETTINGS` (what Snakemake's ``params`` of the job hold, so only a change
    of these reruns it)."""
    kept = compute_settings(section, settings)
    return {k: v for k, v in kept.items() if k not in NOT_JOB_SETTINGS.get(section, ())}


def model_kind(model) -> str:
    """What a model is, for the model sheet: ``baseline`` (PCA, t-SNE, UMAP), ``loaded``
    (a user's file), ``control`` (trained on shuffled labels or time), else ``trained``."""
    if model.baseline:
        return "baseline"
    if model.file is not None:
        return "loaded"
    if model.training.get("control", "none") not in ("none", None, ""):
        return "control"
    return "trained"


def plan_model_sheet(config: Mapping, stores: Mapping[str, tuple[str, int | None]]) -> list[dict]:
    """One row per activation store: what the figures and the report need to know about it
    (``results/models.tsv``; columns :data:`cebra_lens_core.results.MODEL_SHEET_COLUMNS`).

    ``group``: the config entry (models differing only by seed share it); ``seed_group``: the
    key of its seed group (``<group>`` or ``<group>_session<k>``, the ``model`` of noise-ceiling
    rows); ``seed``: training seed, or the checkpoint's index for a ``files`` list (``-1``
    for one loaded file); ``method``: ``cebra`` or the baseline; the sweep settings follow.
    """
    models = {m.name: m for m in config["_models"]}
    rows = []
    for store, (name, session) in stores.items():
        m = models[name]
        rows.append(
            {
                "store": store,
                "model": m.name,
                "group": m.group,
                "seed_group": session_name(m.group, session),
                "seed": m.seed,
                "kind": model_kind(m),
                "method": m.kind,
                "dataset": m.dataset,
                "session": session,
                "model_session": store_model_session(m, session),
                "source_file": m.file or "",
                "sweep_base": m.sweep_base,
                "varied": dict(m.varied),
                **{k: m.training[k] for k in SWEEP_SETTINGS if k in m.training},
            }
        )
    return rows


# --------------------------------------------------------------------------------------
# Resource requests that scale with the data
# --------------------------------------------------------------------------------------

#: (base MB, MB per MB of input) of each rule's memory request; a retry asks ``attempt``
#: times as much. Torch rules start higher (torch and CEBRA take ~1 GB before any data).
MEMORY_MODEL: dict[str, tuple[int, float]] = {
    "train": (2000, 20.0),
    "extract": (2000, 10.0),
    "attribution": (2000, 10.0),
    "dataset": (1000, 10.0),
    "layer_analyses": (1000, 2.0),
    "cka": (1000, 2.0),
    "similarity": (1000, 2.0),
    "similarity_grounding": (1000, 1.0),
    "alignment": (1000, 4.0),
    "consistency": (1000, 2.0),
    "rsa": (1000, 1.0),
    "summary": (1000, 4.0),
}


def input_megabytes(paths: Sequence[str]) -> float:
    """Total size (MB) of the files and folders (zarr stores) in ``paths``; missing ones
    count 0 (a dry run plans before the inputs exist)."""
    total = 0
    for path in map(str, paths):
        if os.path.isdir(path):
            for folder, _, files in os.walk(path):
                total += sum(os.path.getsize(os.path.join(folder, f)) for f in files)
        elif os.path.exists(path):
            total += os.path.getsize(path)
    return total / 2**20


def memory_request(rule: str) -> Callable:
    """Snakemake resource function ``mem_mb`` of ``rule``: ``attempt · (base + per_mb ·
    input MB)`` from :data:`MEMORY_MODEL`, so a small config asks for little and a retry
    after running out of memory asks for more."""
    base, per_mb = MEMORY_MODEL[rule]

    def mem_mb(wildcards, input, attempt: int = 1) -> int:
        return int(math.ceil(max(1, int(attempt)) * (base + per_mb * input_megabytes(input))))

    return mem_mb
