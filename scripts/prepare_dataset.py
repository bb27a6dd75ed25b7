"""Snakemake script: load or generate one dataset and save it as .npz."""
# `snakemake` (input, output, params, log, threads) is injected by Snakemake.

from cebra_lens_core.data import load_dataset, save_dataset
from cebra_lens_core.pipeline.job import setup_job

log = setup_job(snakemake)
name = snakemake.wildcards.dataset
dataset = load_dataset(name, snakemake.params.spec)
log.info(
    "dataset %s: %d session(s), shapes %s, labels %s",
    name,
    dataset.n_sessions,
    [s.neural.shape for s in dataset.sessions],
    dataset.label_names,
)
save_dataset(dataset, snakemake.output[0])
