"""Snakemake script: layer × layer CKA between two activation stores, as results rows."""
# `snakemake` (input, output, params, log, threads) is injected by Snakemake.

from cebra_lens_core.analyses.cka import cka_rows
from cebra_lens_core.results import write_rows
from cebra_lens_core.store import open_activation_store
from cebra_lens_core.workflow import setup_job

log = setup_job(snakemake)
params = snakemake.params
a = open_activation_store(snakemake.input.a)
b = a if params.a == params.b else open_activation_store(snakemake.input.b)
opts = params.cka
rows = cka_rows(
    a,
    b,
    name_a=params.a,
    name_b=params.b,
    kinds=opts["kinds"],
    split=opts["split"],
    chunk_size=opts["chunk_size"],
    rbf_max_samples=opts["rbf_max_samples"],
    seed=opts["seed"],
)
log.info("%d CKA values for %s vs %s", len(rows), params.a, params.b)
write_rows(rows, snakemake.output[0])
