"""Snakemake script: layer × layer RSA between all models recorded on the same time points,
its condition-permutation null (p-values) and the noise ceiling of the RDM-vs-oracle scores
across the seeds of each seed group."""
# `snakemake` (input, output, params, log, threads) is injected by Snakemake.

import pandas as pd

from cebra_lens_core.analyses.rdm import default_comparator, rsa_between
from cebra_lens_core.analyses.rsa import rdm_noise_ceiling_rows, rsa_null_rows
from cebra_lens_core.metrics.rdm import rdm_metric_name
from cebra_lens_core.pipeline.job import setup_job
from cebra_lens_core.results import load_arrays, make_rows, write_rows
from cebra_lens_core.stats.options import NullOptions

log = setup_job(snakemake)
params = snakemake.params
rdms = {name: load_arrays(path) for name, path in zip(params.stores, snakemake.input, strict=True)}
labels = sorted(
    {key[: -len("/ids")] for arrays in rdms.values() for key in arrays if key.endswith("/ids")}
)
layer_names = {
    name: [str(n) for n in arrays[f"{labels[0]}/names"]]
    for name, arrays in rdms.items()
    if labels and f"{labels[0]}/names" in arrays
}
recording = snakemake.wildcards.recording
# the RDM-vs-oracle scores use an ordinal oracle: Spearman unless a comparator is set
comparator = default_comparator("ordinal") if params.comparator == "auto" else params.comparator
null = NullOptions.from_config(params.nulls)
frames = []
for label in labels:
    frames.append(rsa_between(rdms, label=label, comparator=comparator, dataset=recording))
    if null is not None:
        frames.append(
            rsa_null_rows(
                rdms,
                label=label,
                comparator=comparator,
                null=null,
                dataset=recording,
                layer_names=layer_names,
            )
        )
if params.seed_groups:
    frames.append(
        rdm_noise_ceiling_rows(
            rdms,
            params.seed_groups,
            comparator=comparator,
            metric_name=rdm_metric_name(params.rdm_metric),
            dataset=recording,
            layer_names=layer_names,
        )
    )
table = pd.concat(frames, ignore_index=True) if frames else make_rows([])
log.info("RSA between %d models: %d rows", len(rdms), len(table))
write_rows(table, snakemake.output[0])
