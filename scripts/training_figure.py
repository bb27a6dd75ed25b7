"""Snakemake script: training loss curves of all trained models on one figure."""

import pandas as pd

from cebra_lens_core.plots.common import save_figure
from cebra_lens_core.plots.training import plot_training_loss
from cebra_lens_core.workflow import setup_job

setup_job(snakemake)  # noqa: F821 - injected by Snakemake
histories = {
    name: pd.read_csv(path)
    for name, path in zip(snakemake.params.models, snakemake.input.losses, strict=True)  # noqa: F821
}
save_figure(plot_training_loss(histories), snakemake.output[0])  # noqa: F821
