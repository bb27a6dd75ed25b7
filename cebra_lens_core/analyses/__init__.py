"""Store-level analyses: read activation stores, call a metric, return results-table rows.

``cebra_lens_core.metrics`` holds the pure maths on arrays; each module here
applies one metric to the layers of activation stores (respecting the split)
and formats the values as rows of the tidy results table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from cebra_lens_core.analyses.decoding import decoding_analysis
from cebra_lens_core.analyses.dimensionality import dimensionality_analysis
from cebra_lens_core.analyses.distance import distance_analysis
from cebra_lens_core.analyses.embedding import embedding_analysis
from cebra_lens_core.analyses.rdm import rdm_analysis
from cebra_lens_core.analyses.single_unit import single_unit_analysis


@dataclass(frozen=True)
class Analysis:
    """What the workflow needs to know about one analysis (config block ``analyses.<name>``,
    rows with ``analysis == name``, figures and captions named after it).

    Attributes:
        name: the analysis' stem (config key, ``analysis`` value of its rows).
        scope: what one job analyses: ``store`` (one activation store, in the shared
            per-store job), ``store_job`` (one store in a job of its own: needs the model or
            the recording), ``seed_group`` (the stores of one seed group), ``trained_model``
            (computed by the training job), ``pair_job`` (the store pairs of one CKA job).
        run: for ``store`` analyses, ``run(store, name=..., **settings)`` returning rows or
            ``(rows, arrays)``.
        arrays: also writes ``<results>/<name>/<store>.npz`` (figure data).
        bootstrapped: takes the ``statistics.bootstrap`` settings (intervals on its rows).
        store_figure: ``(folder, caption, report category)`` of one figure per store
            (``figures/<folder>/<store>.png``, caption ``workflow/report/<caption>.rst``).
        summary_figure: ``(figure, report category)`` of its figure drawn from summary.csv
            (``figures/<figure>.png``, caption ``workflow/report/<figure>.rst``).
        figure_settings: settings of its config block that only its figures use (never
            passed to a compute job, so changing them reruns figures only).
        needs_encoder: runs the model's encoder, so only stores of CEBRA models (not
            baselines) get it.
    """

    name: str
    scope: str
    run: Callable | None = None
    arrays: bool = False
    bootstrapped: bool = False
    store_figure: tuple[str, str, str] | None = None
    summary_figure: tuple[str, str] | None = None
    figure_settings: tuple[str, ...] = ()
    needs_encoder: bool = False


#: every analysis of the workflow, in the order of the config and the report
REGISTRY: dict[str, Analysis] = {
    a.name: a
    for a in (
        Analysis(
            "rdm",
            "store",
            rdm_analysis,
            arrays=True,
            bootstrapped=True,
            store_figure=("rdm", "rdm_layers", "RDM / RSA"),
            summary_figure=("rdm_oracle", "RDM / RSA"),
        ),
        Analysis(
            "distance",
            "store",
            distance_analysis,
            bootstrapped=True,
            summary_figure=("distance", "Distances"),
        ),
        Analysis(
            "decoding",
            "store",
            decoding_analysis,
            bootstrapped=True,
            summary_figure=("decoding", "Decoding"),
        ),
        Analysis(
            "dimensionality",
            "store",
            dimensionality_analysis,
            summary_figure=("dimensionality", "Dimensionality"),
        ),
        Analysis(
            "embedding",
            "store",
            embedding_analysis,
            arrays=True,
            store_figure=("embedding", "embedding", "Embeddings"),
            figure_settings=("color_label", "marker_label"),
        ),
        Analysis(
            "single_unit",
            "store",
            single_unit_analysis,
            arrays=True,
            store_figure=("single_units", "single_unit", "Single units"),
            figure_settings=("plot_layer",),
        ),
        Analysis("consistency", "seed_group", summary_figure=("consistency", "Consistency")),
        Analysis(
            "goodness_of_fit", "trained_model", summary_figure=("goodness_of_fit", "Training")
        ),
        Analysis(
            "attribution",
            "store_job",
            arrays=True,
            store_figure=("attribution", "attribution_maps", "Attribution"),
            summary_figure=("attribution_summary", "Attribution"),
            needs_encoder=True,
        ),
        Analysis(
            "similarity",
            "pair_job",
            summary_figure=("similarity_grounding", "Similarity measures"),
            # read by the grounding job (model-space map), not by the per-pair jobs
            figure_settings=("model_space_measure",),
        ),
        Analysis("alignment", "store_job", arrays=True, summary_figure=("alignment", "Alignment")),
    )
}


def store_analyses() -> dict[str, Callable]:
    """Per-store analyses by config name (``analyses.<name>`` in the config): the
    :data:`REGISTRY` entries of scope ``store``."""
    return {name: a.run for name, a in REGISTRY.items() if a.scope == "store"}


#: per-store analyses that also write arrays (``.npz``) for their figures
ANALYSES_WITH_ARRAYS = tuple(n for n, a in REGISTRY.items() if a.scope == "store" and a.arrays)


def compute_settings(analysis: str, settings: Mapping) -> dict:
    """The settings of config block ``analyses.<analysis>`` that its computation uses: all
    but ``enabled`` and the registry's ``figure_settings`` (only its figures read those)."""
    entry = REGISTRY.get(analysis)
    dropped = {"enabled", *(entry.figure_settings if entry else ())}
    return {k: v for k, v in settings.items() if k not in dropped}


def run_store_analysis(analysis: str, store, name: str, options: Mapping):
    """Run analysis ``analysis`` on one activation store with the config's ``options``
    (``enabled`` and the figure settings of the registry are ignored).

    Returns ``(rows, arrays)``; ``arrays`` is ``None`` for analyses without arrays.
    """
    functions = store_analyses()
    if analysis not in functions:
        raise ValueError(f"unknown analysis {analysis!r}; valid: {sorted(functions)}")
    out = functions[analysis](store, name=name, **compute_settings(analysis, options))
    return out if isinstance(out, tuple) else (out, None)
