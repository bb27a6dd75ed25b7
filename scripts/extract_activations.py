"""Snakemake script: per-layer activations of one model (session) into a zarr store."""
# `snakemake` (input, output, params, log, threads) is injected by Snakemake.

from cebra_lens_core.data import read_dataset
from cebra_lens_core.models import load_model
from cebra_lens_core.store import write_activation_store
from cebra_lens_core.workflow import resolve_device, setup_job

log = setup_job(snakemake)
info = dict(snakemake.params.info)
dataset = read_dataset(snakemake.input.dataset)
session = info["session"]
recording = dataset.sessions[0 if session is None else session]
model = load_model(
    snakemake.input.model,
    device=resolve_device(snakemake.params.device),
    trust=snakemake.params.trust,
)
log.info(
    "extracting %s (session %s): %s time points × %d neurons",
    info["model"],
    session,
    *recording.neural.shape,
)
write_activation_store(
    snakemake.output[0],
    model,
    recording.neural,
    session,
    labels=recording.labels,
    label_info=dataset.label_info,
    train=recording.train,
    chunk_size=snakemake.params.chunk_size,
    attrs={**{k: ("" if v is None else v) for k, v in info.items()}, "dataset_name": dataset.name},
)
