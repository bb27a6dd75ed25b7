"""Snakemake script: layer × layer RSA between all models recorded on the same time points."""
# `snakemake` (input, output, params, log, threads) is injected by Snakemake.

import pandas as pd

from cebra_lens_core.analyses import load_arrays
from cebra_lens_core.analyses.rdm import default_comparator, rsa_between
from cebra_lens_core.results import make_rows, write_rows
from cebra_lens_core.workflow import setup_job

log = setup_job(snakemake)
rdms = {
    name: load_arrays(path)
    for name, path in zip(snakemake.params.stores, snakemake.input, strict=True)
}
labels = sorted({key.split("/")[0] for arrays in rdms.values() for key in arrays})
comparator = snakemake.params.comparator
frames = [
    rsa_between(
        rdms,
        label=label,
        comparator=default_comparator("ordinal") if comparator == "auto" else comparator,
        dataset=snakemake.wildcards.recording,
    )
    for label in labels
]
table = pd.concat(frames, ignore_index=True) if frames else make_rows([])
log.info("RSA between %d models: %d rows", len(rdms), len(table))
write_rows(table, snakemake.output[0])
