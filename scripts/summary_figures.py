"""Snakemake script: across-layer figures of every analysis, drawn from summary.csv."""
# `snakemake` (input, output, params, log, threads) is injected by Snakemake.

from cebra_lens_core.pipeline.job import setup_job
from cebra_lens_core.plots import FIGURES
from cebra_lens_core.plots.common import NoRowsError, placeholder_figure, save_figure
from cebra_lens_core.results import join_model_sheet, load_summary, read_model_sheet

log = setup_job(snakemake)
# group, seed and kind of every model come from the model sheet (names are never parsed)
summary = join_model_sheet(
    load_summary(snakemake.input.summary), read_model_sheet(snakemake.input.models)
)


for name, path in snakemake.output.items():
    try:
        figure = FIGURES[name](summary)
    except NoRowsError as err:  # e.g. no oracle score: every class its own condition
        log.warning("%s: %s; writing a figure that says so", name, err)
        figure = placeholder_figure(str(err))
    save_figure(figure, path)
    log.info("wrote %s", path)
