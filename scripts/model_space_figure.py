"""Snakemake script: the model-space figures (MDS and clustering of all models by a shape
metric at the embedding; the MDS map at every layer)."""
# `snakemake` (input, output, params, log, threads) is injected by Snakemake.

from cebra_lens_core.pipeline.job import setup_job
from cebra_lens_core.plots.common import save_figure
from cebra_lens_core.plots.similarity import plot_model_space, plot_model_space_layers
from cebra_lens_core.results import load_arrays

log = setup_job(snakemake)
arrays = load_arrays(snakemake.input[0])
save_figure(plot_model_space(arrays), snakemake.output.embedding)
save_figure(plot_model_space_layers(arrays), snakemake.output.layers)
log.info("wrote %s and %s", snakemake.output.embedding, snakemake.output.layers)
