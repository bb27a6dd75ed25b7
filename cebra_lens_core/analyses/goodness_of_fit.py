"""Goodness of fit of a trained CEBRA model (InfoNCE in bits, CEBRA's definition)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cebra_lens_core.data.types import Dataset
from cebra_lens_core.models.train import TrainingSpec, label_arrays, seeded_cebra
from cebra_lens_core.naming import session_name
from cebra_lens_core.results import make_rows


def goodness_of_fit_rows(
    model, dataset: Dataset, spec: TrainingSpec, *, name: str, num_batches: int = 100
) -> pd.DataFrame:
    """Goodness of fit (bits) on the training and test split of every session.

    Uses ``cebra.sklearn.metrics.goodness_of_fit_score`` (log(batch size) minus the InfoNCE
    loss, in bits) with the model's own sampling distribution, seeded by ``spec.seed``.
    Higher is better; 0 means no better than chance. The training curve's last value is
    reported too (metric ``final_training_loss``).

    Rows: analysis ``goodness_of_fit``, metric ``goodness_of_fit_bits``, variant
    ``train``/``test``, label = the training labels joined by ``+`` (``time`` for CEBRA-Time).
    """
    if getattr(model, "parts_", None):
        return _xcebra_rows(model, dataset, name)
    # deferred: cebra (imports torch), loaded only on this path
    import cebra.integrations.sklearn.metrics as cebra_metrics

    rows = []
    multi = dataset.n_sessions > 1
    label = "+".join(spec.labels) if spec.labels else "time"
    for k, session in enumerate(dataset.sessions):
        for variant, mask in (("train", session.train), ("test", ~session.train)):
            X = session.neural[mask].astype(np.float32)
            y = label_arrays(dataset, spec.labels, k, mask)
            with seeded_cebra(spec.seed):
                gof = cebra_metrics.goodness_of_fit_score(
                    model, X, *y, session_id=k if multi else None, num_batches=int(num_batches)
                )
            rows.append(
                {
                    "analysis": "goodness_of_fit",
                    "dataset": dataset.name,
                    "model": session_name(name, k if multi else None),
                    "metric": "goodness_of_fit_bits",
                    "label": label,
                    "variant": variant,
                    "value": float(gof),
                    "n": int(mask.sum()),
                }
            )
    rows += _final_loss_rows(dataset, name, [(label, model.solver_.log.get("total", []))])
    return make_rows(rows)


def _xcebra_rows(model, dataset: Dataset, name: str) -> pd.DataFrame:
    """xCEBRA: CEBRA's goodness of fit needs a ``cebra.CEBRA`` estimator, so only the final
    training loss of each part (``label`` = part, InfoNCE without the regulariser) and of
    the optimised total (``label`` = ``total``) are reported."""
    curves = [(p, model.log_.get(f"loss_{p}", [])) for p in model.parts_]
    curves.append(("total", model.log_.get("total", [])))
    return make_rows(_final_loss_rows(dataset, name, curves))


def _final_loss_rows(dataset: Dataset, name: str, curves: list[tuple[str, list]]) -> list[dict]:
    """One ``final_training_loss`` row (last value, ``n`` = iterations) per non-empty curve."""
    rows = []
    for label, curve in curves:
        loss = np.asarray(curve, dtype=float)
        if loss.size:
            rows.append(
                {
                    "analysis": "goodness_of_fit",
                    "dataset": dataset.name,
                    "model": name,
                    "metric": "final_training_loss",
                    "label": label,
                    "variant": "train",
                    "value": float(loss[-1]),
                    "n": int(loss.size),
                }
            )
    return rows
