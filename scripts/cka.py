"""Snakemake script: layer × layer CKA of a group of store pairs (one recording), as results rows."""
# `snakemake` (input, output, params, log, threads) is injected by Snakemake.

from pathlib import Path

from cebra_lens_core.activations.store import open_activation_store
from cebra_lens_core.analyses.cka import cka_rows_for_pairs
from cebra_lens_core.pipeline.job import resolve_device, setup_job
from cebra_lens_core.results import write_rows

log = setup_job(snakemake)
params = snakemake.params
stores = {Path(p).name.removesuffix(".zarr"): open_activation_store(p) for p in snakemake.input}
opts = params.cka
# numpy on the CPU (faster there than torch); torch on a GPU when the config asks for one
device = "cpu" if params.device == "cpu" else resolve_device(params.device)
rows = cka_rows_for_pairs(
    stores,
    [tuple(pair) for pair in params.pairs],
    kinds=opts["kinds"],
    split=opts["split"],
    chunk_size=opts["chunk_size"],
    rbf_max_samples=opts["rbf_max_samples"],
    seed=opts["seed"],
    device=None if device == "cpu" else device,
    bootstrap=params.bootstrap,  # ci_low/ci_high (block bootstrap), statistics.bootstrap
    null=params.nulls,  # p_value / null_95th rows (time-shift null), statistics.nulls
)
log.info("%d CKA values for %d pairs", len(rows), len(params.pairs))
write_rows(rows, snakemake.output[0])
