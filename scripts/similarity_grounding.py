"""Snakemake script: layer identification and label randomisation of every similarity
measure (results rows) and the model-space map (MDS and clustering, arrays)."""
# `snakemake` (input, output, params, log, threads) is injected by Snakemake.

import pandas as pd

from cebra_lens_core.analyses.similarity_grounding import grounding_rows, model_space
from cebra_lens_core.pipeline.job import setup_job
from cebra_lens_core.results import read_model_sheet, read_rows, save_arrays, write_rows

log = setup_job(snakemake)
inputs = snakemake.input
rows = pd.concat([read_rows(path) for path in [*inputs.similarity, *inputs.cka]], ignore_index=True)
sheet = read_model_sheet(inputs.models)
table = grounding_rows(rows, sheet)
log.info("%d grounding rows", len(table))
save_arrays(
    model_space(rows, sheet, measure=snakemake.params.model_space_measure), snakemake.output.arrays
)
write_rows(table, snakemake.output.table)
