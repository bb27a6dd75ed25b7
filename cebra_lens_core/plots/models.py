"""Per-model figures from the arrays an analysis saved (dispatch used by the workflow).

:data:`STORE_FIGURES` maps each analysis with a per-store figure (its ``store_figure`` in
:data:`cebra_lens_core.analyses.REGISTRY`) to ``draw(arrays, model, options) -> Figure``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import matplotlib.pyplot as plt
import numpy as np

from cebra_lens_core.plots.attribution import plot_attribution_maps
from cebra_lens_core.plots.embedding import plot_embedding
from cebra_lens_core.plots.rdm import plot_layer_rdms
from cebra_lens_core.plots.single_unit import plot_single_units


def _layer_count(arrays: Mapping[str, np.ndarray], prefix: str) -> int:
    return 1 + max(int(k.rsplit("_", 1)[-1]) for k in arrays if k.startswith(prefix))


def rdm_figure(arrays: Mapping[str, np.ndarray], model: str, options: Mapping) -> plt.Figure:
    """RDMs of every layer for the label with the most conditions (a 2 × 2 RDM of a binary
    label shows little)."""
    labels = sorted({k.split("/")[0] for k in arrays if k.endswith("/ids")})
    if not labels:
        raise ValueError(f"no RDMs stored for {model}")
    label = max(labels, key=lambda lab: (len(arrays[f"{lab}/ids"]), lab))
    names = arrays.get(f"{label}/names")
    return plot_layer_rdms(
        arrays,
        label,
        model,
        layer_names=None if names is None else [str(n) for n in names],
        metric_name=str(options.get("metric", "")),
    )


def embedding_figure(arrays: Mapping[str, np.ndarray], model: str, options: Mapping) -> plt.Figure:
    """First embedding dimensions and the 3-D t-SNE, coloured by ``options["color_label"]``
    (default: a continuous label if there is one), marker by ``options["marker_label"]``
    (default: a discrete label other than the colour, e.g. the running direction; ``""``:
    none)."""
    labels = sorted(k[6:] for k in arrays if k.startswith("label/"))
    color = options.get("color_label")
    if color is None:
        continuous = [lab for lab in labels if arrays[f"label/{lab}"].dtype.kind == "f"]
        color = (continuous or labels or [None])[0]
    marker = options.get("marker_label")
    if marker is None:  # a discrete label (e.g. running direction) other than the colour
        discrete = [
            lab for lab in labels if arrays[f"label/{lab}"].dtype.kind in "iub" and lab != color
        ]
        marker = discrete[0] if discrete else None
    return plot_embedding(arrays, model, color_label=color, marker_label=marker or None)


def single_unit_figure(
    arrays: Mapping[str, np.ndarray], model: str, options: Mapping
) -> plt.Figure:
    """Activity and tuning of the units of ``options["plot_layer"]`` (default: the middle
    layer) for the first configured label (default: the label with the most conditions)."""
    n_layers = _layer_count(arrays, "activity/layer_")
    chosen = options.get("plot_layer")
    if chosen is not None and not -n_layers <= int(chosen) < n_layers:
        raise ValueError(
            f"plot_layer {chosen} is out of range for {model} ({n_layers} layers: -{n_layers}..{n_layers - 1})"
        )
    layer = n_layers // 2 if chosen is None else int(chosen) % n_layers
    labels = list(options.get("labels") or []) or sorted(
        {k.split("/")[1] for k in arrays if k.startswith("tuning/")},
        key=lambda lab: (-len(arrays[f"tuning/{lab}/x"]), lab),  # most conditions first
    )
    return plot_single_units(arrays, model, layer=layer, label=labels[0] if labels else None)


def attribution_figure(
    arrays: Mapping[str, np.ndarray], model: str, options: Mapping
) -> plt.Figure:
    """The attribution maps of every method (neurons × latents)."""
    return plot_attribution_maps(arrays, model)


#: analysis -> ``draw(arrays, model, options)`` of its per-store figure
STORE_FIGURES: dict[str, Callable[[Mapping[str, np.ndarray], str, Mapping], plt.Figure]] = {
    "rdm": rdm_figure,
    "embedding": embedding_figure,
    "single_unit": single_unit_figure,
    "attribution": attribution_figure,
}


def model_figure(
    kind: str, arrays: Mapping[str, np.ndarray], model: str, options: Mapping
) -> plt.Figure:
    """The per-store figure of analysis ``kind`` for one model (:data:`STORE_FIGURES`)."""
    if kind not in STORE_FIGURES:
        raise ValueError(
            f"no per-model figure for analysis {kind!r}; valid: {', '.join(STORE_FIGURES)}"
        )
    return STORE_FIGURES[kind](arrays, model, options)
