"""Snakemake script: layer × layer CKA between two activation stores, as results rows."""

from cebra_lens_core.analyses.cka import cka_rows
from cebra_lens_core.results import write_rows
from cebra_lens_core.store import open_activation_store
from cebra_lens_core.workflow import setup_job

log = setup_job(snakemake)  # noqa: F821 - injected by Snakemake
params = snakemake.params  # noqa: F821
a = open_activation_store(snakemake.input.a)  # noqa: F821
b = a if params.a == params.b else open_activation_store(snakemake.input.b)  # noqa: F821
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
write_rows(rows, snakemake.output[0])  # noqa: F821
