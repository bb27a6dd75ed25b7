"""Snakemake script: attribution maps of one model (session), scored against ground truth."""
# `snakemake` (input, output, params, log, threads) is injected by Snakemake.

from cebra_lens_core.analyses.attribution import attribution_analysis
from cebra_lens_core.data import read_dataset
from cebra_lens_core.models import load_model
from cebra_lens_core.pipeline.job import resolve_device, setup_job
from cebra_lens_core.results import save_arrays, write_rows

log = setup_job(snakemake)
params = snakemake.params
options = dict(params.options)
dataset = read_dataset(snakemake.input.dataset)
model = load_model(snakemake.input.model, device=resolve_device(params.device), trust=params.trust)
rows, arrays = attribution_analysis(
    model,
    dataset,
    name=snakemake.wildcards.store,
    session=params.session,
    model_session=params.model_session,
    **options,
)
save_arrays(arrays, snakemake.output.arrays)
write_rows(rows, snakemake.output.table)
