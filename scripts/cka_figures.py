"""Snakemake script: CKA heatmap per model pair, CKA of corresponding layers across groups."""

from cebra_lens_core.plots.cka import plot_cka_heatmap, plot_corresponding_layers
from cebra_lens_core.plots.common import save_figure
from cebra_lens_core.results import load_summary
from cebra_lens_core.workflow import setup_job

log = setup_job(snakemake)  # noqa: F821 - injected by Snakemake
summary = load_summary(snakemake.input.summary)  # noqa: F821
for (a, b), path in zip(snakemake.params.pairs, snakemake.output.heatmaps, strict=True):  # noqa: F821
    save_figure(plot_cka_heatmap(summary, a, b), path)
save_figure(
    plot_corresponding_layers(summary, snakemake.params.groups),  # noqa: F821
    snakemake.output.corresponding,  # noqa: F821
)
log.info("wrote %d heatmaps", len(snakemake.output.heatmaps))  # noqa: F821
