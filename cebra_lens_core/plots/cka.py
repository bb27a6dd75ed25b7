"""CKA figures: layer × layer heatmap of a model pair, corresponding layers across groups."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from cebra_lens_core.plots.common import annotate_cells, short_layer_label


def cka_matrix_from_summary(
    summary: pd.DataFrame, model_a: str, model_b: str, variant: str = "linear"
) -> tuple[np.ndarray, list[str], list[str]]:
    """The (layers_a × layers_b) CKA matrix of a pair from the results table, with tick labels.

    Raises:
        ValueError: no CKA rows for the pair and variant.
    """
    rows = summary[
        (summary["analysis"] == "cka")
        & (summary["model"] == model_a)
        & (summary["other_model"] == model_b)
        & (summary["variant"] == variant)
    ]
    if rows.empty:
        raise ValueError(f"no CKA rows ({variant}) for {model_a} vs {model_b} in the results table")
    n_a = int(rows["layer"].max()) + 1
    n_b = int(rows["other_layer"].max()) + 1
    matrix = np.full((n_a, n_b), np.nan)
    matrix[rows["layer"].astype(int), rows["other_layer"].astype(int)] = rows["value"].to_numpy()
    names_a = rows.drop_duplicates("layer").sort_values("layer")["layer_name"].tolist()
    names_b = _other_layer_names(summary, model_b, n_b)
    labels_a = [short_layer_label(i, n) for i, n in enumerate(names_a)]
    return matrix, labels_a, names_b


def _other_layer_names(summary: pd.DataFrame, model: str, n: int) -> list[str]:
    rows = summary[(summary["analysis"] == "cka") & (summary["model"] == model)]
    names = rows.drop_duplicates("layer").sort_values("layer")["layer_name"].tolist()
    if len(names) != n:
        names = [""] * n
    return [short_layer_label(i, name) for i, name in enumerate(names)]


def plot_cka_heatmap(
    summary: pd.DataFrame, model_a: str, model_b: str, variants: tuple[str, ...] | None = None
) -> plt.Figure:
    """Heatmaps (one panel per CKA variant) of CKA between every layer of ``model_a`` and ``model_b``."""
    available = sorted(
        summary.loc[
            (summary["analysis"] == "cka")
            & (summary["model"] == model_a)
            & (summary["other_model"] == model_b),
            "variant",
        ].unique()
    )
    variants = tuple(v for v in (variants or ("linear", "debiased", "rbf")) if v in available)
    if not variants:
        raise ValueError(f"no CKA rows for {model_a} vs {model_b}")
    fig, axes = plt.subplots(
        1, len(variants), figsize=(4.2 * len(variants) + 0.6, 4.0), squeeze=False
    )
    for ax, variant in zip(axes[0], variants, strict=True):
        matrix, labels_a, labels_b = cka_matrix_from_summary(summary, model_a, model_b, variant)
        vmin = min(0.0, float(np.nanmin(matrix)))
        im = ax.imshow(matrix, vmin=vmin, vmax=1.0, cmap="magma", origin="upper", aspect="auto")
        ax.set_xticks(range(len(labels_b)), labels_b, rotation=60, ha="right", fontsize=7)
        ax.set_yticks(range(len(labels_a)), labels_a, fontsize=7)
        ax.set_xlabel(f"{model_b} layer")
        ax.set_ylabel(f"{model_a} layer")
        ax.set_title(f"{variant} CKA", fontsize=10)
        if matrix.size <= 100:
            annotate_cells(ax, matrix, vmin, fontsize=6)
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    fig.suptitle(f"CKA: {model_a} vs {model_b}", fontsize=11)
    fig.tight_layout()
    return fig


def corresponding_layer_table(
    summary: pd.DataFrame, groups: Mapping[str, str], variant: str = "linear"
) -> pd.DataFrame:
    """CKA of corresponding layers (layer i vs layer i) for every pair of distinct models.

    Only pairs with the same number of layers (and the same layer names where both
    are known) are used. Returns columns ``architecture`` (the layer-name sequence),
    ``group_pair`` ("A vs B", or "within A"), ``layer``, ``layer_name``, ``value``
    (one row per model pair and layer).
    """
    cka = summary[(summary["analysis"] == "cka") & (summary["variant"] == variant)]
    n_layers = (
        pd.concat(
            [cka.groupby("model")["layer"].max(), cka.groupby("other_model")["other_layer"].max()]
        )
        .groupby(level=0)
        .max()
        .astype(int)
        .add(1)
        .to_dict()
    )
    names = (
        cka.drop_duplicates(["model", "layer"])
        .sort_values(["model", "layer"])
        .groupby("model")["layer_name"]
        .agg(tuple)
        .to_dict()
    )
    pairs = cka[(cka["model"] != cka["other_model"]) & (cka["layer"] == cka["other_layer"])]
    rows = []
    for r in pairs.itertuples(index=False):
        seq_a, seq_b = names.get(r.model), names.get(r.other_model)
        if n_layers[r.model] != n_layers[r.other_model] or (seq_a and seq_b and seq_a != seq_b):
            continue
        ga, gb = groups.get(r.model, r.model), groups.get(r.other_model, r.other_model)
        label = f"within {ga}" if ga == gb else " vs ".join(sorted((ga, gb)))
        rows.append(
            {
                "architecture": " → ".join(seq_a or seq_b or ()) or f"{n_layers[r.model]} layers",
                "group_pair": label,
                "layer": int(r.layer),
                "layer_name": r.layer_name,
                "value": r.value,
            }
        )
    return pd.DataFrame(
        rows, columns=["architecture", "group_pair", "layer", "layer_name", "value"]
    )


def plot_corresponding_layers(
    summary: pd.DataFrame, groups: Mapping[str, str], variant: str = "linear"
) -> plt.Figure:
    """CKA of corresponding layers across depth, one panel per architecture depth and one
    line per group pair (mean over model pairs, band = range). Solid: pairs within a group
    (same configuration, different seeds); dashed: pairs across groups."""
    table = corresponding_layer_table(summary, groups, variant)
    if table.empty:
        fig, ax = plt.subplots(figsize=(6.0, 2.0))
        ax.text(
            0.5,
            0.5,
            "no pairs of distinct models with the same layers",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
        ax.set_axis_off()
        return fig
    archs = sorted(table["architecture"].unique(), key=lambda a: (a.count("→"), a))
    fig, axes = plt.subplots(1, len(archs), figsize=(6.5 * len(archs), 4.4), squeeze=False)
    for ax, arch in zip(axes[0], archs, strict=True):
        part_arch = table[table["architecture"] == arch]
        for label, part in sorted(part_arch.groupby("group_pair"), key=lambda kv: kv[0]):
            stats = part.groupby("layer")["value"].agg(["mean", "min", "max"]).sort_index()
            n_pairs = int(part.groupby("layer").size().iloc[0])
            style = "-" if label.startswith("within") else "--"
            (line,) = ax.plot(
                stats.index, stats["mean"], style, marker="o", label=f"{label} ({n_pairs} pairs)"
            )
            ax.fill_between(
                stats.index, stats["min"], stats["max"], color=line.get_color(), alpha=0.15
            )
        names = part_arch.drop_duplicates("layer").sort_values("layer")
        ax.set_xticks(
            names["layer"],
            [
                short_layer_label(i, n)
                for i, n in zip(names["layer"], names["layer_name"], strict=True)
            ],
            rotation=30,
            ha="right",
            fontsize=8,
        )
        ax.set_ylim(min(0.0, float(table["value"].min()) - 0.05), 1.02)
        ax.set_xlabel("layer")
        ax.set_ylabel(f"{variant} CKA, layer i vs layer i")
        ax.set_title(f"{len(names)}-layer models", fontsize=10)
        ax.legend(fontsize=7, loc="lower right")
    fig.suptitle(
        "CKA of corresponding layers (line = mean over model pairs, band = range)", fontsize=11
    )
    fig.tight_layout()
    return fig
