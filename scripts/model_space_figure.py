"""Snakemake script: the model-space map (MDS and clustering of all models by a shape metric)."""
# `snakemake` (input, output, params, log, threads) is injected by Snakemake.

from cebra_lens_core.pipeline.job import setup_job
from cebra_lens_core.plots.common import save_figure
from cebra_lens_core.plots.similarity import plot_model_space
from cebra_lens_core.results import load_arrays

log = setup_job(snakemake)
save_figure(plot_model_space(load_arrays(snakemake.input[0])), snakemake.output[0])
log.info("wrote %s", snakemake.output[0])
