"""Snakemake script: train one CEBRA model, save it and its loss curve."""
# `snakemake` (input, output, params, log, threads) is injected by Snakemake.

from cebra_lens_core.analyses.goodness_of_fit import goodness_of_fit_rows
from cebra_lens_core.atomic import atomic_path
from cebra_lens_core.data import read_dataset
from cebra_lens_core.models import TrainingSpec, save_model, train_model, training_history
from cebra_lens_core.pipeline.job import resolve_device, setup_job
from cebra_lens_core.progress import ProgressLog
from cebra_lens_core.provenance import write_sidecar
from cebra_lens_core.results import make_rows, write_rows

log = setup_job(snakemake)
params = snakemake.params
spec = TrainingSpec(**params.training, seed=params.seed)
dataset = read_dataset(snakemake.input.dataset)
log.info("training %s on %s: %s", snakemake.wildcards.model, dataset.name, spec)
progress = ProgressLog(f"train {snakemake.wildcards.model}", unit="iterations")
model = train_model(dataset, spec, device=resolve_device(params.device), progress=progress)
history = training_history(model)
log.info(
    "final loss %.4f after %d iterations",
    history["loss"].iloc[-1] if len(history) else float("nan"),
    len(history),
)
write_sidecar(snakemake.output.loss)
with atomic_path(snakemake.output.loss) as tmp:
    history.to_csv(tmp, index=False)
save_model(model, snakemake.output.model)
gof = params.goodness_of_fit
if gof["enabled"]:
    name = snakemake.wildcards.model
    rows = goodness_of_fit_rows(model, dataset, spec, name=name, num_batches=gof["num_batches"])
    for r in rows.itertuples():  # e.g. "goodness_of_fit_bits (test split): 1.2345"
        log.info("%s (%s split): %.4f", r.metric, r.variant, r.value)
else:
    rows = make_rows([])
write_rows(rows, snakemake.output.goodness_of_fit)
