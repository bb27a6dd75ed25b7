"""Snakemake script: concatenate every metric file into results/summary.csv."""
# `snakemake` (input, output, params, log, threads) is injected by Snakemake.

from cebra_lens_core.pipeline.job import setup_job
from cebra_lens_core.results import combine, write_rows

log = setup_job(snakemake)
table = combine(list(snakemake.input))
log.info("summary: %d rows from %d files", len(table), len(snakemake.input))
write_rows(table, snakemake.output[0])
