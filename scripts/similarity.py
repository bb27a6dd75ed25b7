"""Snakemake script: shape, CCA, neighbourhood and crossnobis measures between the layers
of the store pairs of one CKA job, as results rows."""
# `snakemake` (input, output, params, log, threads) is injected by Snakemake.

from pathlib import Path

from cebra_lens_core.activations.store import open_activation_store
from cebra_lens_core.analyses.similarity import similarity_rows_for_pairs
from cebra_lens_core.pipeline.job import setup_job
from cebra_lens_core.results import write_rows

log = setup_job(snakemake)
params = snakemake.params
stores = {Path(p).name.removesuffix(".zarr"): open_activation_store(p) for p in snakemake.input}
pairs = [tuple(pair) for pair in params.pairs]
# ci_low/ci_high of the shape and CCA rows: block bootstrap (statistics.bootstrap)
rows = similarity_rows_for_pairs(stores, pairs, bootstrap=params.bootstrap, **params.options)
log.info("%d similarity values for %d pairs", len(rows), len(pairs))
write_rows(rows, snakemake.output[0])
