"""Snakemake script: figures comparing models by their settings (config `report_figures`)."""
# `snakemake` (input, output, params, log, threads) is injected by Snakemake.

from pathlib import Path

from cebra_lens_core.atomic import atomic_path
from cebra_lens_core.pipeline.job import setup_job
from cebra_lens_core.plots import comparison
from cebra_lens_core.plots.attribution import (
    attribution_by_training,
    plot_attribution_regularisation,
)
from cebra_lens_core.plots.common import save_figure
from cebra_lens_core.results import load_arrays, load_summary, read_model_sheet

log = setup_job(snakemake)
summary = load_summary(snakemake.input.summary)
# store -> its row of the model sheet (model, group, seed, kind, method, sweep settings)
models = {row["store"]: row for row in read_model_sheet(snakemake.input.models).to_dict("records")}
labels = snakemake.params.labels
scores = comparison.embedding_scores(summary, models, labels)
log.info("embedding scores of %d stores", scores["store"].nunique() if len(scores) else 0)
for name, path in snakemake.output.items():
    if name == "attribution_regularisation_table":
        continue  # written with its figure
    if name == "attribution_regularisation":
        table = attribution_by_training(summary, models)
        with atomic_path(snakemake.output.attribution_regularisation_table) as tmp:
            table.to_csv(tmp, index=False, float_format="%.6g")
        log.info("attribution AUC by training:\n%s", table.to_string(index=False))
        fig = plot_attribution_regularisation(table)
    elif name == "dimension_sweep":
        fig = comparison.plot_dimension_sweep(scores)
    elif name == "architecture_sweep":
        fig = comparison.plot_architecture_sweep(scores)
    elif name == "temperature_sweep":
        fig = comparison.plot_temperature_sweep(scores)
    elif name == "baseline_embeddings":
        embeddings = {Path(p).stem: load_arrays(p) for p in snakemake.input.embeddings}
        fig = comparison.plot_baseline_embeddings(embeddings, models)
    else:
        fig = comparison.plot_hypothesis(summary, models)
    save_figure(fig, path)
