"""Attribution maps of one model (session) with scores against the dataset's ground truth."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd

from cebra_lens_core.data.types import Dataset
from cebra_lens_core.results import make_rows

log = logging.getLogger(__name__)


def ground_truth(dataset: Dataset, session: int) -> tuple[np.ndarray | None, list[str]]:
    """The boolean latent × neuron map of a synthetic dataset and the label name of each row.

    Generators with known neuron → latent dependence (``attribution``, ``lorenz``) ship it as
    ``metadata["sessions"][k]["connectivity"]`` with row names ``metadata["latent_names"]``;
    other datasets have none (``None, []``).
    """
    sessions = dataset.metadata.get("sessions") or []
    if session >= len(sessions) or "connectivity" not in sessions[session]:
        return None, []
    truth = np.asarray(sessions[session]["connectivity"], dtype=bool)
    names = list(dataset.metadata.get("latent_names") or [])
    return truth, names


def latent_parts(dataset: Dataset) -> dict[str, list[str]]:
    """Groups of ground-truth latents by embedding part, e.g. ``{"behavior": [...], "time":
    [...]}`` (``metadata["latent_parts"]`` of the ``attribution`` generator); ``{}`` if none."""
    return {p: list(names) for p, names in (dataset.metadata.get("latent_parts") or {}).items()}


def part_label(part: str, level: str) -> str:
    """``label`` of a per-part score row: ``"<part>:<level>"``, e.g. ``"behavior:entries"``."""
    return f"{part}:{level}"


def method_agreement(maps: dict[str, np.ndarray]) -> list[tuple[str, str, float]]:
    """Spearman correlation between the |maps| of every pair of methods (both orders).

    Tells whether methods agree on which neurons matter when no ground truth exists.
    """
    # deferred: scipy, loaded only on this path
    from scipy.stats import spearmanr

    methods = [m for m in maps if not m.endswith("_signed")]
    out = []
    for a in methods:
        for b in methods:
            if a != b:
                rho = spearmanr(np.abs(maps[a]).ravel(), np.abs(maps[b]).ravel()).statistic
                out.append((a, b, float(rho)))
    return out


def attribution_analysis(
    model,
    dataset: Dataset,
    *,
    name: str,
    session: int | None = None,
    model_session: int | None = None,
    methods: Sequence[str] | None = None,
    max_samples: int = 500,
    batch_size: int = 128,
    seed: int = 0,
    align_to_latents: bool = True,
    ig_steps: int = 25,
    shap_samples: int = 5,
    device=None,
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Attribution maps of every method on a seeded sample of the session's time points.

    With a ground-truth map whose latents are labels of the dataset and
    ``align_to_latents``, the maps are those of the latents read out linearly from the
    embedding (least squares on the training split; CEBRA's latents are identifiable only
    up to such a map), so each row is one true latent and every entry can be scored.
    Without it, the maps are embedding dimension × neuron and scores use the per-neuron
    maximum over dimensions.

    Rows: analysis ``attribution``, variant = method; metric ``auc`` and the gap statistics
    (``gap_minmax`` = min connected − max non-connected, ``gap_mean`` ...) with ``label`` =
    the scoring level (``entries``: every latent × neuron entry; ``neuron_max`` / ``neuron_norm``:
    one score per neuron vs "driven by any latent").

    Parts: when the dataset groups its latents by part (``metadata["latent_parts"]``, e.g.
    behaviour and time-only latents), every group is also scored on its own rows of the
    aligned maps, with ``label = "<part>:<level>"`` (``behavior:entries``, ``time:neuron_max``;
    no ``neuron_norm``). For an xCEBRA model (``model.parts_``) the read-out is fitted part by
    part (:func:`~cebra_lens_core.metrics.attribution.block_readout`): behaviour latents from
    the behaviour dimensions, time latents from the time dimensions, so the rows of a part are
    the attribution of that part of the embedding. Other models read every latent from the
    whole embedding. The pseudo-inverse is always that of the whole aligned Jacobian, split
    into rows afterwards (the paper's per-part maps). The time of each method on this
    machine, in the job log only, since it is not reproducible); ``method_agreement``
    (Spearman correlation of two methods' |maps|, other method in ``label``);
    ``moore_penrose_fraction`` for the pseudo-inverse methods. ``device``: where the maps are
    computed (``None``: where the model is; see :mod:`cebra_lens_core.devices`).
    ``session`` is the dataset session, ``model_session`` the encoder that analyses it
    (default: the same number; a one-session model on a one-session dataset: ``None``).
    """
    # deferred: torch (attribution runs the encoder); the other analyses stay torch-free
    from cebra_lens_core.metrics.attribution import (
        DEFAULT_METHODS,
        block_readout,
        compute_attribution,
        score_attribution,
    )

    # deferred: torch (the encoder of a fitted CEBRA model)
    from cebra_lens_core.models.encoder import get_encoder

    k = 0 if session is None else int(session)
    recording = dataset.sessions[k]
    encoder_session = session if model_session is None else model_session
    if encoder_session is None and getattr(model, "num_sessions_", None) is not None:
        encoder_session = 0  # a multi-session model with one session
    truth, latent_names = ground_truth(dataset, k)
    groups = {
        p: names
        for p, names in latent_parts(dataset).items()
        if names and all(lab in latent_names for lab in names)
    }
    readout = None
    if (
        truth is not None
        and align_to_latents
        and latent_names
        and all(lab in recording.labels for lab in latent_names)
    ):
        train = recording.train
        embedding = model.transform(recording.neural[train], session_id=encoder_session)
        latents = np.stack([recording.labels[lab] for lab in latent_names], axis=1)[train]
        model_parts = getattr(model, "parts_", None) or {}
        blocks = [
            (model_parts[p], [latent_names.index(lab) for lab in names])
            for p, names in groups.items()
            if p in model_parts
        ]
        readout = block_readout(embedding, latents, blocks)  # no blocks: the whole embedding
    result = compute_attribution(
        get_encoder(model, encoder_session),
        recording.neural,
        methods=tuple(methods or DEFAULT_METHODS),
        max_samples=max_samples,
        seed=seed,
        batch_size=batch_size,
        readout=readout,
        ig_steps=ig_steps,
        shap_samples=shap_samples,
        device=device,
    )
    base = {
        "analysis": "attribution",
        "dataset": dataset.name,
        "model": name,
        "n": result.n_samples,
    }
    rows = []
    scored: list[tuple[str | None, list[dict]]] = []
    if truth is not None:
        scored.append((None, score_attribution(result, truth)))
        if readout is not None and len(groups) > 1:
            for part, names in groups.items():
                indices = [latent_names.index(lab) for lab in names]
                scored.append((part, score_attribution(result, truth, rows=indices)))
    for part, scores in scored:
        for score in scores:
            level = score["level"] if part is None else part_label(part, score["level"])
            for metric, value in score.items():
                if metric in ("method", "level"):
                    continue
                rows.append(
                    {
                        **base,
                        "metric": metric,
                        "label": level,
                        "variant": score["method"],
                        "value": value,
                    }
                )
    # time per method goes to the log only: the results table holds reproducible values
    log.info(
        "%s: seconds per method: %s", name, {m: round(s, 3) for m, s in result.timings.items()}
    )
    for a, b, rho in method_agreement(result.maps):
        rows.append({**base, "metric": "method_agreement", "label": b, "variant": a, "value": rho})
    for method, check in result.moore_penrose.items():
        rows.append(
            {
                **base,
                "metric": "moore_penrose_fraction",
                "variant": method,
                "value": check["fraction"],
            }
        )
    arrays: dict[str, np.ndarray] = {f"map/{m}": v for m, v in result.maps.items()}
    arrays["sample_indices"] = result.sample_indices
    n_rows = next(iter(result.maps.values())).shape[0]
    arrays["row_names"] = np.array(
        latent_names if readout is not None else [f"dim {d}" for d in range(n_rows)]
    )
    if truth is not None:
        arrays["ground_truth"] = truth
    if readout is None and getattr(model, "parts_", None):  # xCEBRA: the part of each dimension
        arrays["row_parts"] = np.array(
            [next(p for p, (a, b) in model.parts_.items() if a <= d < b) for d in range(n_rows)]
        )
    if readout is not None and groups:
        part_of = {lab: p for p, names in groups.items() for lab in names}
        arrays["row_parts"] = np.array([part_of.get(lab, "") for lab in latent_names])
    log.info(
        "%s: attribution with %s on %d samples (%s)",
        name,
        result.methods,
        result.n_samples,
        "aligned to latents" if readout is not None else "embedding dimensions",
    )
    return make_rows(rows), arrays
