"""Snakemake script: alignment of every layer of one activation store with the recording."""
# `snakemake` (input, output, params, log, threads) is injected by Snakemake.

from pathlib import Path

from cebra_lens_core.activations.store import open_activation_store
from cebra_lens_core.analyses.alignment import alignment_analysis, session_neural
from cebra_lens_core.data import read_dataset
from cebra_lens_core.pipeline.job import setup_job
from cebra_lens_core.results import save_arrays, write_rows

log = setup_job(snakemake)
name = Path(snakemake.input.store).name.removesuffix(".zarr")
dataset = read_dataset(snakemake.input.dataset)
neural = session_neural(dataset, snakemake.params.session, source=snakemake.input.dataset)
rows, arrays = alignment_analysis(
    open_activation_store(snakemake.input.store),
    neural,
    snakemake.params.options,
    name,
    label_order=list(dataset.label_info),
)
log.info("alignment of %s: %d rows", name, len(rows))
save_arrays(arrays, snakemake.output.arrays)
write_rows(rows, snakemake.output.table)
