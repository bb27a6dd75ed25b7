"""Snakemake script: CKA heatmap per model pair, CKA of corresponding layers across groups."""
# `snakemake` (input, output, params, log, threads) is injected by Snakemake.

from cebra_lens_core.pipeline.job import setup_job
from cebra_lens_core.plots.cka import plot_cka_heatmap, plot_corresponding_layers
from cebra_lens_core.plots.common import save_figure
from cebra_lens_core.results import load_summary, read_model_sheet

log = setup_job(snakemake)
summary = load_summary(snakemake.input.summary)
sheet = read_model_sheet(snakemake.input.models)
groups = dict(zip(sheet["store"], sheet["group"], strict=True))
for (a, b), path in zip(snakemake.params.pairs, snakemake.output.heatmaps, strict=True):
    save_figure(plot_cka_heatmap(summary, a, b), path)
save_figure(
    plot_corresponding_layers(summary, groups),
    snakemake.output.corresponding,
)
log.info("wrote %d heatmaps", len(snakemake.output.heatmaps))
