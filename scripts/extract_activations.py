"""Snakemake script: per-layer activations of one model (session) into a zarr store.

Baselines (`kind: pca` ...) are fitted here and stored as a one-layer store."""
# `snakemake` (input, output, params, log, threads) is injected by Snakemake.

from cebra_lens_core.activations.baselines import write_baseline_store
from cebra_lens_core.data import DataError, read_dataset
from cebra_lens_core.pipeline.job import resolve_device, setup_job

log = setup_job(snakemake)
info = dict(snakemake.params.info)
dataset = read_dataset(snakemake.input.dataset)
session = info["session"]
recording = dataset.sessions[0 if session is None else session]
attrs = {**{k: ("" if v is None else v) for k, v in info.items()}, "dataset_name": dataset.name}
labels = dict(labels=recording.labels, label_info=dataset.label_info, train=recording.train)
log.info(
    "%s %s (dataset session %s, model session %s): %s time points × %d neurons",
    "fitting baseline" if info["kind"] != "cebra" else "extracting",
    info["model"],
    session,
    info["model_session"],
    *recording.neural.shape,
)
if info["kind"] != "cebra":
    write_baseline_store(
        snakemake.output[0],
        info["kind"],
        recording.neural,
        info["output_dimension"],
        seed=info["seed"],
        attrs={**attrs, "session_id": -1 if session is None else session},
        **labels,
    )
else:
    # deferred: torch and cebra, imported only for CEBRA models (not for baselines)
    from cebra_lens_core.activations import write_activation_store
    from cebra_lens_core.models import load_model

    model = load_model(
        snakemake.input.model,
        device=resolve_device(snakemake.params.device),
        trust=snakemake.params.trust,
    )
    model_session = info["model_session"]
    if model_session is None and model.num_sessions_ is not None:
        model_session = 0  # a multi-session model with a single session
    try:
        write_activation_store(
            snakemake.output[0],
            model,
            recording.neural,
            model_session,
            chunk_size=snakemake.params.chunk_size,
            attrs=attrs,
            references=snakemake.params.references,
            capture=snakemake.params.capture,
            **labels,
        )
    except DataError as err:  # e.g. neuron count: name the model file
        raise DataError(f"model file {snakemake.input.model}: {err}") from None
