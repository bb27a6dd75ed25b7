"""Snakemake script: one figure per model from the arrays of one analysis."""
# `snakemake` (input, output, params, log, threads) is injected by Snakemake.

from cebra_lens_core.pipeline.job import setup_job
from cebra_lens_core.plots.common import save_figure
from cebra_lens_core.plots.models import model_figure
from cebra_lens_core.results import load_arrays

log = setup_job(snakemake)
for model, source, target in zip(
    snakemake.params.models, snakemake.input, snakemake.output, strict=True
):
    fig = model_figure(snakemake.params.kind, load_arrays(source), model, snakemake.params.options)
    save_figure(fig, target)
log.info("wrote %d %s figures", len(snakemake.output), snakemake.params.kind)
