"""Similarity-measure figures: which measure to trust (grounding tests) and the model space.

:func:`plot_similarity_grounding` reads the rows ``analysis == "similarity_grounding"`` of the
results table (``variant`` = measure, ``label`` = its family); :func:`plot_model_space` reads
the arrays of the grounding job (``similarity_grounding/model_space.npz``: MDS coordinates,
distances and average-linkage clustering per layer).
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from scipy.cluster.hierarchy import dendrogram

from cebra_lens_core.plots.common import NoRowsError, group_palette, placeholder_figure

#: ``analysis`` of the grounding rows
ANALYSIS = "similarity_grounding"
#: bar colour per measure family (the ``label`` of the grounding rows); others: ``tab10``
FAMILY_COLOURS = {
    "cka": "#4c72b0",
    "shape": "#dd8452",
    "cca": "#55a868",
    "neighbourhood": "#c44e52",
    "crossnobis": "#8172b3",
}
#: marker per store kind (model sheet ``kind``); other kinds: ``D``
KIND_MARKERS = {"trained": "o", "control": "X", "baseline": "s", "loaded": "^"}


def family_colours(families) -> dict[str, object]:
    """Colour of each family: :data:`FAMILY_COLOURS`, unknown ones the next ``tab10`` colours
    (sorted names)."""
    cmap = plt.get_cmap("tab10")
    unknown = sorted(set(families) - set(FAMILY_COLOURS))
    return {
        **FAMILY_COLOURS,
        **{f: cmap((5 + k) % cmap.N) for k, f in enumerate(unknown)},
    }


def pooled_values(rows: pd.DataFrame, metric: str) -> pd.DataFrame:
    """One row per measure (index ``variant``) of ``metric``: the pooled row (``model`` =
    ``""``) where present, else the ``n``-weighted mean of the measure's rows
    (``Σ n·value / Σ n``, no interval). Columns ``value, ci_low, ci_high, n, family``."""
    part = rows[rows["metric"] == metric]
    out = {}
    for measure, group in part.groupby("variant", sort=True):
        pooled = group[group["model"].astype(str) == ""]
        if len(pooled):
            r = pooled.iloc[0]
            out[measure] = (r["value"], r["ci_low"], r["ci_high"], r["n"], r["label"])
            continue
        n = pd.to_numeric(group["n"], errors="coerce").fillna(0).to_numpy(dtype=float)
        v = group["value"].to_numpy(dtype=float)
        ok = np.isfinite(v) & (n > 0)
        value = float((n[ok] * v[ok]).sum() / n[ok].sum()) if ok.any() else np.nan
        out[measure] = (value, np.nan, np.nan, int(n.sum()), group["label"].iloc[0])
    return pd.DataFrame.from_dict(
        out, orient="index", columns=["value", "ci_low", "ci_high", "n", "family"]
    )


def measure_ranking(accuracy: pd.DataFrame, passes: pd.DataFrame) -> list[str]:
    """Measures sorted best first: by layer-identification accuracy (descending, NaN last),
    then by label-randomisation pass fraction, then by name."""
    measures = sorted(set(accuracy.index) | set(passes.index))

    def key(m: str) -> tuple[float, float, str]:
        a = accuracy["value"].get(m, np.nan)
        p = passes["value"].get(m, np.nan)
        return (-a if np.isfinite(a) else np.inf, -p if np.isfinite(p) else np.inf, m)

    return sorted(measures, key=key)


def draw_fraction_bars(
    ax: plt.Axes, values: pd.DataFrame, order: list[str], colours: Mapping, tag: str
) -> None:
    """Horizontal bars of ``values`` (fractions) in ``order`` (top to bottom), Wilson
    interval as error bars where finite, ``gid`` = ``<measure>|<tag>``; measures without a
    value get a dash."""
    y = np.arange(len(order))[::-1]
    for pos, measure in zip(y, order, strict=True):
        if measure not in values.index or not np.isfinite(values.at[measure, "value"]):
            ax.text(0.01, pos, "–", va="center", fontsize=8, color="0.4")
            continue
        r = values.loc[measure]
        (bar,) = ax.barh(pos, r["value"], height=0.7, color=colours[r["family"]])
        bar.set_gid(f"{measure}|{tag}")
        low, high = r["ci_low"], r["ci_high"]
        if np.isfinite(low) and np.isfinite(high):
            ax.errorbar(
                r["value"],
                pos,
                xerr=[[r["value"] - low], [high - r["value"]]],
                fmt="none",
                ecolor="0.2",
                capsize=2,
                lw=0.9,
            )
    ax.set_yticks(y, order, fontsize=8)
    ax.set_xlim(0.0, 1.02)
    ax.set_ylim(-0.6, len(order) - 0.4)
    ax.grid(axis="x", alpha=0.3)


def draw_chance(ax: plt.Axes, chance: pd.DataFrame, order: list[str]) -> bool:
    """Dashed chance line(s) of layer identification: one vertical line when every measure
    has the same chance, else a dashed tick at each measure's bar. False without chance rows."""
    values = chance["value"].reindex(order).to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    if not finite.size:
        return False
    if np.allclose(finite, finite[0], rtol=0, atol=1e-12):
        line = ax.axvline(finite[0], color="0.3", ls="--", lw=1.0)
        line.set_gid("chance")
        return True
    for pos, measure, value in zip(np.arange(len(order))[::-1], order, values, strict=True):
        if np.isfinite(value):
            (line,) = ax.plot([value, value], [pos - 0.45, pos + 0.45], color="0.3", ls="--")
            line.set_gid(f"chance|{measure}")
    return True


def plot_similarity_grounding(summary: pd.DataFrame) -> plt.Figure:
    """Which similarity measure to trust on these models (rows ``similarity_grounding``).

    Left: layer identification accuracy of every measure (the pooled rows, ``model`` = ``""``,
    metric ``layer_identification_accuracy``; Wilson 95 % interval), best first, dashed line
    at chance (metric ``layer_identification_chance``, omitted without it). Right: the
    fraction of label-randomisation tests passed (``label_randomisation_pass``) in the same
    order. Bars are coloured by family (``label``). A panel without rows shows a note.

    Raises:
        NoRowsError: no grounding rows (a ``ValueError``).
    """
    rows = summary[summary["analysis"] == ANALYSIS]
    accuracy = pooled_values(rows, "layer_identification_accuracy")
    passes = pooled_values(rows, "label_randomisation_pass")
    if accuracy.empty and passes.empty:
        raise NoRowsError(
            "plot_similarity_grounding: the results table has no rows with analysis "
            f"{ANALYSIS!r} and metric 'layer_identification_accuracy' or "
            "'label_randomisation_pass' (is analyses.similarity enabled, with >= 2 seeds?)"
        )
    order = measure_ranking(accuracy, passes)
    families = [*accuracy["family"], *passes["family"]]
    colours = family_colours(families)
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(9.5, max(3.0, 1.6 + 0.32 * len(order))), sharey=True, layout="constrained"
    )
    chance = False
    if accuracy.empty:
        left.text(
            0.5,
            0.5,
            "no layer-identification test:\nno seed group with >= 2 trained seeds",
            ha="center",
            va="center",
            transform=left.transAxes,
            color="0.4",
            fontsize=8,
        )
    else:
        draw_fraction_bars(left, accuracy, order, colours, "layer_identification")
        chance = draw_chance(left, pooled_values(rows, "layer_identification_chance"), order)
    left.set_xlabel("layer identification accuracy")
    left.set_title("same layer of another seed is the best match", fontsize=9)
    if passes.empty:
        right.text(
            0.5,
            0.5,
            "no label-randomisation test:\nno control model with a trained\n"
            "counterpart of >= 2 seeds",
            ha="center",
            va="center",
            transform=right.transAxes,
            color="0.4",
            fontsize=8,
        )
        if accuracy.empty:
            right.set_yticks([])
    else:
        draw_fraction_bars(right, passes, order, colours, "label_randomisation")
    right.set_xlabel("label randomisation: tests passed")
    right.set_title("trained seed closer than the shuffled-label control", fontsize=9)
    if accuracy.empty and not passes.empty:
        right.tick_params(labelleft=True)
    for ax in (left, right):
        ax.tick_params(axis="y", labelsize=8)
    used = [f for f in colours if f in set(families)]
    handles = [Patch(color=colours[f], label=f) for f in used]
    if chance:
        handles.append(Line2D([], [], color="0.3", ls="--", lw=1.0, label="chance (1 / layers)"))
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncol=len(handles),
        fontsize=8,
        title="family",
        title_fontsize=8,
    )
    fig.suptitle("Grounding of the similarity measures (higher is better)", fontsize=11)
    return fig


# --------------------------------------------------------------------------- model space


def model_space_layer(arrays: Mapping[str, np.ndarray], layer: str) -> str:
    """The layer key to draw: ``layer``, or the only key when there is one.

    Raises:
        ValueError: no arrays, or ``layer`` is not a key (names the keys).
    """
    if not arrays or "layers" not in arrays:
        raise ValueError(
            "plot_model_space: no model-space arrays (expected the keys 'layers', 'stores', "
            "'groups', 'kinds' and '<layer>__mds' ... of analyses.similarity_grounding.model_space)"
        )
    keys = [str(k) for k in np.atleast_1d(arrays["layers"])]
    if layer in keys:
        return layer
    if len(keys) == 1:
        return keys[0]
    raise ValueError(f"plot_model_space: layer {layer!r} is not in the model space; layers: {keys}")


def store_groups_and_kinds(arrays: Mapping[str, np.ndarray]) -> tuple[dict, dict]:
    """``store -> group`` (the store itself when it has none) and ``store -> kind`` from the
    arrays of ``model_space``."""
    stores = list(map(str, arrays["stores"]))
    group_of = {s: g or s for s, g in zip(stores, map(str, arrays["groups"]), strict=True)}
    kind_of = dict(zip(stores, map(str, arrays["kinds"]), strict=True))
    return group_of, kind_of


def draw_model_points(
    ax: plt.Axes,
    arrays: Mapping[str, np.ndarray],
    key: str,
    colours: Mapping[str, tuple],
    *,
    size: float,
    annotate: bool,
) -> None:
    """The MDS points of layer ``key``: colour = group, marker = kind, ``gid`` = store."""
    group_of, kind_of = store_groups_and_kinds(arrays)
    stores = [str(s) for s in arrays[f"{key}__stores"]]
    coords = np.asarray(arrays[f"{key}__mds"], dtype=float)
    for (x, y), store in zip(coords, stores, strict=True):
        ax.scatter(
            x,
            y,
            s=size,
            color=colours[group_of.get(store, store)],
            marker=KIND_MARKERS.get(kind_of.get(store, ""), "D"),
            edgecolors="black",
            linewidths=0.5,
            zorder=3,
        ).set_gid(store)
        if annotate:
            ax.annotate(store, (x, y), xytext=(4, 4), textcoords="offset points", fontsize=7)


def model_legend_handles(colours: Mapping[str, tuple], kinds) -> list:
    """Legend entries: a patch per group colour, a marker per (non-empty) kind."""
    handles = [Patch(color=colours[g], label=g) for g in colours]
    handles += [
        Line2D([], [], ls="", marker=KIND_MARKERS.get(k, "D"), color="0.4", label=k)
        for k in sorted(set(kinds))
        if k
    ]
    return handles


def plot_model_space(arrays: Mapping[str, np.ndarray], layer: str = "embedding") -> plt.Figure:
    """Every model placed by one distance (the arrays of ``model_space``): left, the 2-D
    classical MDS map of ``layer`` (colour = group, marker = kind, each point labelled with
    its store); right, the average-linkage dendrogram of the same distances. The title names
    the measure and the fraction of positive eigenvalue mass the two MDS axes hold.

    Raises:
        ValueError: no arrays, or ``layer`` is not a layer key (and there are several).
    """
    if "layers" in arrays and not np.atleast_1d(arrays["layers"]).size:
        return placeholder_figure(
            "no model space: fewer than two models share the measure's values at any layer"
        )
    key = model_space_layer(arrays, layer)
    measure = str(arrays.get("measure", "distance"))
    stores = [str(s) for s in arrays[f"{key}__stores"]]
    group_of, kind_of = store_groups_and_kinds(arrays)
    colours = group_palette([group_of.get(s, s) for s in stores])
    explained = float(arrays[f"{key}__mds_explained"])
    fig, (ax, tree) = plt.subplots(
        1,
        2,
        figsize=(11.0, max(4.2, 0.3 * len(stores) + 1.5)),
        gridspec_kw={"width_ratios": [1.3, 1.0]},
        layout="constrained",
    )
    draw_model_points(ax, arrays, key, colours, size=60, annotate=True)
    ax.set_xlabel("MDS 1")
    ax.set_ylabel("MDS 2")
    ax.set_aspect("equal", adjustable="datalim")
    ax.grid(alpha=0.3)
    ax.set_title(f"classical MDS ({explained:.0%} of the positive eigenvalue mass)", fontsize=9)
    kinds = [kind_of.get(s, "") for s in stores]
    ax.legend(handles=model_legend_handles(colours, kinds), fontsize=7, loc="best")
    result = dendrogram(
        np.asarray(arrays[f"{key}__linkage"], dtype=float),
        labels=stores,
        orientation="left",
        ax=tree,
        no_plot=False,
        link_color_func=lambda _: "0.3",
    )
    for tick in tree.get_yticklabels():
        tick.set_color(colours[group_of.get(tick.get_text(), tick.get_text())])
        tick.set_fontsize(8)
    tree.set_xlabel(f"{measure} (average linkage)")
    tree.set_title("hierarchical clustering", fontsize=9)
    tree.set_gid("|".join(result["ivl"]))
    fig.suptitle(
        f"Model space at layer {key}: {measure}, MDS explains {explained:.0%}", fontsize=11
    )
    return fig


def plot_model_space_layers(arrays: Mapping[str, np.ndarray]) -> plt.Figure:
    """The MDS map of the models at every layer key of ``model_space`` (small multiples in
    depth order, the same colours by group and markers by kind as :func:`plot_model_space`):
    where along the depth models of one group come together or split apart."""
    layers = [str(k) for k in np.atleast_1d(arrays.get("layers", np.array([])))]
    if not layers:
        return placeholder_figure(
            "no model space: fewer than two models share the measure's values at any layer"
        )
    measure = str(arrays.get("measure", "distance"))
    group_of, kind_of = store_groups_and_kinds(arrays)
    colours = group_palette(group_of.values())
    n_cols = min(len(layers), 5)
    n_rows = int(np.ceil(len(layers) / n_cols))
    fig, axes = plt.subplots(
        n_rows, n_cols, figsize=(3.0 * n_cols, 3.0 * n_rows + 0.8), layout="constrained"
    )
    axes = np.atleast_1d(axes).reshape(-1)
    for ax, key in zip(axes, layers, strict=False):
        draw_model_points(ax, arrays, key, colours, size=40, annotate=False)
        explained = float(arrays[f"{key}__mds_explained"])
        ax.set_title(f"{key} (MDS keeps {explained:.0%})", fontsize=9)
        ax.set_aspect("equal", adjustable="datalim")
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    for ax in axes[len(layers) :]:
        ax.set_axis_off()
    handles = model_legend_handles(colours, kind_of.values())
    fig.legend(handles=handles, loc="outside lower center", ncol=min(6, len(handles)), fontsize=7)
    fig.suptitle(f"Model space at every layer: classical MDS of {measure}", fontsize=11)
    return fig
