"""Snakemake script: concatenate every metric file into results/summary.csv."""

from cebra_lens_core.results import combine, write_rows
from cebra_lens_core.workflow import setup_job

log = setup_job(snakemake)  # noqa: F821 - injected by Snakemake
table = combine(list(snakemake.input))  # noqa: F821
log.info("summary: %d rows from %d files", len(table), len(snakemake.input))  # noqa: F821
write_rows(table, snakemake.output[0])  # noqa: F821
