"""Snakemake script: consistency across seeds of one model group, every layer."""
# `snakemake` (input, output, params, log, threads) is injected by Snakemake.

from cebra_lens_core.activations.store import open_activation_store
from cebra_lens_core.analyses.consistency import consistency_analysis
from cebra_lens_core.pipeline.job import setup_job
from cebra_lens_core.results import write_rows

log = setup_job(snakemake)
stores = {
    name: open_activation_store(path)
    for name, path in zip(snakemake.params.stores, snakemake.input, strict=True)
}
rows = consistency_analysis(stores, split=snakemake.params.split)
log.info("consistency of %s: %d rows", list(stores), len(rows))
write_rows(rows, snakemake.output[0])
