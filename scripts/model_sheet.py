"""Snakemake script: the model sheet results/models.tsv (one row per activation store)."""
# `snakemake` (input, output, params, log, threads) is injected by Snakemake.

from cebra_lens_core.pipeline.job import setup_job
from cebra_lens_core.results import write_model_sheet

log = setup_job(snakemake)
write_model_sheet(snakemake.params.rows, snakemake.output[0])
log.info("model sheet: %d stores", len(snakemake.params.rows))
