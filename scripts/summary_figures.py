"""Snakemake script: across-layer figures of every analysis, drawn from summary.csv."""
# `snakemake` (input, output, params, log, threads) is injected by Snakemake.

from cebra_lens_core.pipeline.job import setup_job
from cebra_lens_core.plots.common import NoRowsError, placeholder_figure, save_figure
from cebra_lens_core.results import join_model_sheet, load_summary, read_model_sheet

log = setup_job(snakemake)
# group, seed and kind of every model come from the model sheet (names are never parsed)
summary = join_model_sheet(
    load_summary(snakemake.input.summary), read_model_sheet(snakemake.input.models)
)


def draw(name):
    if name == "rdm_oracle":
        from cebra_lens_core.plots.rdm import plot_oracle_similarity

        return plot_oracle_similarity(summary)
    if name == "distance":
        from cebra_lens_core.plots.distance import plot_distances

        return plot_distances(summary)
    if name == "decoding":
        from cebra_lens_core.plots.decoding import plot_decoding

        return plot_decoding(summary)
    if name == "dimensionality":
        from cebra_lens_core.plots.dimensionality import plot_participation_ratio

        return plot_participation_ratio(summary)
    if name == "consistency":
        from cebra_lens_core.plots.consistency import plot_consistency

        return plot_consistency(summary)
    if name == "alignment":
        from cebra_lens_core.plots.alignment import plot_alignment

        return plot_alignment(summary)
    if name == "attribution_summary":
        from cebra_lens_core.plots.attribution import plot_attribution_summary

        return plot_attribution_summary(summary)
    from cebra_lens_core.plots.goodness_of_fit import plot_goodness_of_fit

    return plot_goodness_of_fit(summary)


for name, path in snakemake.output.items():
    try:
        figure = draw(name)
    except NoRowsError as err:  # e.g. no oracle score: every class its own condition
        log.warning("%s: %s; writing a figure that says so", name, err)
        figure = placeholder_figure(str(err))
    save_figure(figure, path)
    log.info("wrote %s", path)
