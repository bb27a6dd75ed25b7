"""Snakemake script: the results table as a filterable, sortable HTML page for the report."""
# `snakemake` (input, output, params, log, threads) is injected by Snakemake.

from cebra_lens_core.pipeline.job import setup_job
from cebra_lens_core.results import join_model_sheet, load_summary, read_model_sheet
from cebra_lens_core.results.html import write_summary_html

log = setup_job(snakemake)
table = join_model_sheet(
    load_summary(snakemake.input.summary), read_model_sheet(snakemake.input.models)
)
write_summary_html(table, snakemake.output[0])
log.info("results table page: %d rows", len(table))
