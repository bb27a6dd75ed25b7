"""Snakemake script: training loss curves of all trained models on one figure."""
# `snakemake` (input, output, params, log, threads) is injected by Snakemake.

import pandas as pd

from cebra_lens_core.pipeline.job import setup_job
from cebra_lens_core.plots.common import save_figure
from cebra_lens_core.plots.training import plot_training_loss

setup_job(snakemake)
histories = {
    name: pd.read_csv(path)
    for name, path in zip(snakemake.params.models, snakemake.input.losses, strict=True)
}
save_figure(plot_training_loss(histories), snakemake.output[0])
