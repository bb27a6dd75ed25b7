# Shared setup: validated config, model/store/pair bookkeeping, paths.
import os

from cebra_lens_core.analyses import REGISTRY
from cebra_lens_core.pipeline.config import ConfigError, prepare_config
from cebra_lens_core.provenance import config_hash, software_versions
from cebra_lens_core.pipeline.plan import (
    bootstrap_params,
    job_settings,
    job_stores,
    memory_request,
    plan_cka_jobs,
    plan_cka_pairs,
    plan_heatmap_pairs,
    plan_model_sheet,
    plan_recordings,
    plan_seed_groups,
    plan_stores,
    store_model_session,
)

# one BLAS/OpenMP thread per job unless a rule asks for more (oversubscription is slow)
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

try:
    CFG = prepare_config(config, workflow.source_path("../schemas/config.schema.yaml"))
    STORES = plan_stores(CFG)  # store name -> (model name, session id or None)
except (ConfigError, FileNotFoundError) as _err:
    raise WorkflowError(f"configuration error: {_err}") from None

# versions of the packages that determine the numbers: a param of every rule, so that a new
# version of this package, cebra, torch, numpy, scipy, scikit-learn or zarr reruns its jobs
# (stale activations or tables are never reused after an upgrade)
SOFTWARE = software_versions()
R = CFG["results_dir"].rstrip("/")
# logs mirror the results folder: logs/results/... (absolute results_dir: <results_dir>/logs)
LOGS = f"{R}/logs" if os.path.isabs(R) else f"logs/{R}"
MODELS = {m.name: m for m in CFG["_models"]}
MODEL_SHEET = plan_model_sheet(CFG, STORES)  # results/models.tsv: one row per store
# report subcategory of each store's figures: its model group (seeds of one model together)
STORE_GROUP = {row["store"]: str(row["group"]) for row in MODEL_SHEET}
PAIRS = plan_cka_pairs(CFG, STORES)  # list of (store_a, store_b)
HEATMAP_PAIRS = plan_heatmap_pairs(PAIRS, CFG["cka"]["max_heatmaps"])
if len(HEATMAP_PAIRS) < len(PAIRS):
    logger.warning(
        f"{len(PAIRS)} CKA model pairs > cka.max_heatmaps ({CFG['cka']['max_heatmaps']}): "
        "no per-pair heatmaps; every value is in summary.csv and cka_corresponding_layers.png"
    )
# conda environments for --sdm conda: GPU rules get the CUDA build when the device asks for it
ENV_CPU = "../../envs/cebra-cpu.yaml"
ENV_GPU = "../../envs/cebra-gpu.yaml" if CFG["device"].startswith("cuda") else ENV_CPU


wildcard_constraints:
    dataset="[A-Za-z0-9][A-Za-z0-9_.-]*",
    recording="[A-Za-z0-9][A-Za-z0-9_.-]*",
    ckajob="[A-Za-z0-9][A-Za-z0-9_.-]*",
    group="[A-Za-z0-9][A-Za-z0-9_.-]*",
    model="[A-Za-z0-9][A-Za-z0-9.-]*(_[A-Za-z0-9.-]+)*",
    store="[A-Za-z0-9][A-Za-z0-9.-]*(_[A-Za-z0-9.-]+)*",
    a="[A-Za-z0-9][A-Za-z0-9.-]*(_[A-Za-z0-9.-]+)*",
    b="[A-Za-z0-9][A-Za-z0-9.-]*(_[A-Za-z0-9.-]+)*",


def dataset_files(wildcards):
    """User data files of a `source: files` dataset (reruns when they change)."""
    spec = CFG["datasets"][wildcards.dataset]
    if spec["source"] != "files":
        return []
    files = []
    for session in spec["sessions"]:
        files.append(session["neural"]["file"])
        files += [
            lab["file"] for lab in session.get("labels", {}).values() if lab.get("file")
        ]
    return sorted(set(files))


def model_file(wildcards):
    """The trained model of the workflow, the user's file for `file:` models, nothing for
    baselines (fitted inside the extract job)."""
    m = MODELS[STORES[wildcards.store][0]]
    if m.baseline:
        return []
    return m.file if m.file else f"{R}/models/{m.name}.pt"


def store_dataset(wildcards):
    return f"{R}/datasets/{MODELS[STORES[wildcards.store][0]].dataset}.npz"


def store_params(wildcards):
    model_name, session = STORES[wildcards.store]
    m = MODELS[model_name]
    dataset = CFG["datasets"][m.dataset]
    return {
        "model": m.name,
        "group": m.group,
        "kind": m.kind,
        "dataset": m.dataset,
        "session": session,
        "model_session": store_model_session(m, session),
        "seed": m.seed,
        "source_file": m.file or "",
        "output_dimension": m.training.get("output_dimension") if m.baseline else None,
        "config_hash": config_hash(
            dataset, m.training, m.file, m.kind, CFG["extraction"]
        ),
    }


def trained_models():
    return [m for m in CFG["_models"] if m.trained]


def cka_outputs():
    return [f"{R}/cka/{job}.csv" for job in CKA_JOBS]


def all_outputs():
    return [
        f"{R}/models.tsv",
        *[f"{R}/activations/{s}.zarr" for s in STORES],
        *cka_outputs(),
        f"{R}/summary.csv",
        f"{R}/summary.html",
        *[f"{R}/figures/cka/{a}__{b}.png" for a, b in HEATMAP_PAIRS],
        *([f"{R}/figures/cka_corresponding_layers.png"] if PAIRS else []),
        *([f"{R}/figures/training_loss.png"] if trained_models() else []),
        *analysis_figures(),
    ]


ANALYSES = CFG["analyses"]
# stores of CEBRA models: what analyses that run the encoder get (baselines have none)
ENCODER_STORES = [s for s, (m, _) in STORES.items() if not MODELS[m].baseline]
# the analyses of the shared per-store job, in registry order
STORE_ANALYSES = [
    a
    for a, spec in REGISTRY.items()
    if spec.scope == "store" and ANALYSES[a]["enabled"]
]
CONSISTENCY_GROUPS = (
    plan_seed_groups(CFG, STORES) if ANALYSES["consistency"]["enabled"] else {}
)
RECORDINGS = plan_recordings(
    CFG, STORES
)  # dataset[_session<k>] -> stores on those time points
# CKA pairs grouped into jobs (one stacked covariance per job): job name -> pairs
CKA_JOBS = plan_cka_jobs(PAIRS, RECORDINGS, CFG["cka"]["stores_per_job"])

# statistics (config `statistics`): only the settings a rule uses enter its params, so a
# change reruns exactly the jobs that use it (bootstrap: cka, layer_analyses; nulls: cka,
# rsa; noise ceiling: rsa)
STATISTICS = CFG["statistics"]
NULLS = STATISTICS["nulls"] if STATISTICS["nulls"]["enabled"] else {"enabled": False}
# stores differing only by seed (also when the consistency analysis is off): noise ceiling
SEED_GROUPS = plan_seed_groups(CFG, STORES)
BOOTSTRAPPED = {a for a, spec in REGISTRY.items() if spec.bootstrapped}


def store_bootstrap(wildcards):
    """Bootstrap settings of a store's analyses (block length from its dataset's bin width)."""
    if not BOOTSTRAPPED & set(STORE_ANALYSES):
        return {"enabled": False}
    return bootstrap_params(CFG, MODELS[STORES[wildcards.store][0]].dataset)


def cka_job_bootstrap(wildcards):
    """Bootstrap settings of a CKA job (its stores share one recording)."""
    store = job_stores(CKA_JOBS[wildcards.ckajob])[0]
    return bootstrap_params(CFG, MODELS[STORES[store][0]].dataset)


def recording_seed_groups(wildcards):
    """Seed groups of one recording (for the noise ceiling), or none when it is off."""
    if not STATISTICS["noise_ceiling"]["enabled"]:
        return {}
    stores = set(RECORDINGS[wildcards.recording])
    return {g: members for g, members in SEED_GROUPS.items() if set(members) <= stores}


def analysis_tables():
    """Every small results file the summary concatenates (per-store analyses, seed groups,
    RSA of each recording, then the analyses with jobs of their own, in registry order).
    """
    files = cka_outputs()
    files += [f"{R}/{a}/{s}.csv" for a in STORE_ANALYSES for s in STORES]
    files += [f"{R}/consistency/{g}.csv" for g in analysis_units("consistency")]
    if "rdm" in STORE_ANALYSES:
        files += [f"{R}/rsa/{r}.csv" for r in RECORDINGS]
    files += [f"{R}/similarity/{job}.csv" for job in analysis_units("similarity")]
    if analysis_units("similarity"):
        files.append(f"{R}/similarity_grounding/grounding.csv")
    for name, analysis in REGISTRY.items():
        if analysis.scope in ("trained_model", "store_job"):
            files += [f"{R}/{name}/{unit}.csv" for unit in analysis_units(name)]
    return files


def analysis_units(name):
    """What analysis `name` runs on in this run (empty: it is off or has nothing to do)."""
    if not ANALYSES[name]["enabled"]:
        return []
    scope = REGISTRY[name].scope
    if scope == "seed_group":
        return list(CONSISTENCY_GROUPS)
    if scope == "trained_model":
        return [m.name for m in trained_models()]
    if scope == "pair_job":
        return list(CKA_JOBS)
    return ENCODER_STORES if REGISTRY[name].needs_encoder else list(STORES)


def analysis_figures():
    """Every figure of the analyses (from the registry), then the comparison figures."""
    figures = []
    for name, analysis in REGISTRY.items():
        units = analysis_units(name)
        if not units:
            continue
        if analysis.store_figure:
            folder = analysis.store_figure[0]
            figures += [f"{R}/figures/{folder}/{s}.png" for s in units]
        if analysis.summary_figure:
            figures.append(f"{R}/figures/{analysis.summary_figure[0]}.png")
    if analysis_units("similarity"):
        figures += [
            f"{R}/figures/model_space.png",
            f"{R}/figures/model_space_layers.png",
        ]
    figures += [f"{R}/figures/comparison/{name}.png" for name in CFG["report_figures"]]
    return figures
