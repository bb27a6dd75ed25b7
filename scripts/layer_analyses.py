"""Snakemake script: every enabled per-layer analysis of one activation store."""
# `snakemake` (input, output, params, log, threads) is injected by Snakemake.

from pathlib import Path

from cebra_lens_core.activations.store import open_activation_store
from cebra_lens_core.analyses import (
    REGISTRY,
    run_store_analysis,
)
from cebra_lens_core.pipeline.job import setup_job
from cebra_lens_core.results import save_arrays, write_rows

log = setup_job(snakemake)
name = Path(snakemake.input[0]).name.removesuffix(".zarr")
store = open_activation_store(snakemake.input[0])
arrays_out = iter(snakemake.output.arrays)
for analysis, table in zip(snakemake.params.analyses, snakemake.output.tables, strict=True):
    options = dict(snakemake.params.options[analysis])
    if REGISTRY[analysis].bootstrapped:  # block-bootstrap intervals (statistics.bootstrap)
        options["bootstrap"] = snakemake.params.bootstrap
    rows, arrays = run_store_analysis(analysis, store, name, options)
    log.info("%s of %s: %d rows", analysis, name, len(rows))
    if REGISTRY[analysis].arrays:
        save_arrays(arrays, next(arrays_out))
    write_rows(rows, table)
