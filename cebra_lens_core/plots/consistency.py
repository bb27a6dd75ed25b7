"""Consistency figures: run × run consistency of the embedding, and across layers."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.gridspec import GridSpec

from cebra_lens_core.plots.common import (
    LayerAxis,
    annotate_cells,
    group_colours,
    model_groups,
    short_layer_label,
)


def run_labels(rows: pd.DataFrame) -> dict[str, str]:
    """Tick label of each run: ``seed <k>`` from the rows' ``seed`` column (the model sheet)
    when the run has one (``k >= 0``), else the model name."""
    if "seed" not in rows.columns:
        return {str(m): str(m) for m in rows["model"]}
    labels = {}
    for model, seed in zip(rows["model"], rows["seed"], strict=True):
        known = seed is not None and not pd.isna(seed) and int(seed) >= 0
        labels[str(model)] = f"seed {int(seed)}" if known else str(model)
    return labels


def consistency_matrix_from_summary(rows: pd.DataFrame, layer: int) -> tuple[np.ndarray, list[str]]:
    """The runs × runs consistency matrix (row: predictor run, column: predicted run) of
    ``layer`` from consistency rows of one group; NaN on the diagonal and where missing."""
    part = rows[rows["layer"] == layer]
    runs = sorted(set(part["model"]) | set(part["other_model"]))
    where = {r: k for k, r in enumerate(runs)}
    matrix = np.full((len(runs), len(runs)), np.nan)
    for r in part.itertuples(index=False):
        if r.model != r.other_model:
            matrix[where[r.model], where[r.other_model]] = float(r.value)
    return matrix, runs


def plot_consistency(summary: pd.DataFrame) -> plt.Figure:
    """Consistency across seeds (R² of a linear map between runs, rows analysis
    ``consistency``, metric ``r2``).

    Left: for each group of runs (models that differ only by seed), the runs × runs matrix
    of the last layer (the embedding), annotated; the diagonal is blank. Right: the mean
    over ordered run pairs across layers per group, band = min–max over pairs. Without
    consistency rows, a figure with a short note.
    """
    rows = summary[(summary["analysis"] == "consistency") & (summary["metric"] == "r2")].copy()
    if rows.empty:
        fig, ax = plt.subplots(figsize=(6.0, 1.6))
        ax.text(
            0.5,
            0.5,
            "no consistency results: consistency needs at least two runs\n"
            "(seeds) of one configuration",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
        ax.set_axis_off()
        return fig
    rows["group"] = rows["model"].map(model_groups(rows))
    groups = sorted(rows["group"].unique())
    colours = group_colours(rows)
    labels = run_labels(rows)
    n_cols = math.ceil(math.sqrt(len(groups)))
    n_rows = math.ceil(len(groups) / n_cols)
    max_runs = max(len(set(p["model"]) | set(p["other_model"])) for _, p in rows.groupby("group"))
    cell = 1.2 + 0.45 * max_runs
    fig = plt.figure(
        figsize=(cell * n_cols + 6.8, max(4.2, cell * n_rows + 0.8)), layout="constrained"
    )
    outer = GridSpec(1, 2, figure=fig, width_ratios=[cell * n_cols, 5.6])
    left = outer[0, 0].subgridspec(n_rows, n_cols)
    values = rows["value"].to_numpy(dtype=float)
    vmin = min(0.0, float(np.nanmin(values))) if np.isfinite(values).any() else 0.0
    cmap = plt.get_cmap("viridis").with_extremes(bad="white")
    im = None
    heat_axes = []
    for k, group in enumerate(groups):
        ax = fig.add_subplot(left[k // n_cols, k % n_cols])
        heat_axes.append(ax)
        part = rows[rows["group"] == group]
        last = int(part["layer"].max())
        matrix, runs = consistency_matrix_from_summary(part, last)
        im = ax.imshow(matrix, vmin=vmin, vmax=1.0, cmap=cmap, origin="upper")
        ticks = [labels.get(r, r) for r in runs]
        ax.set_xticks(range(len(runs)), ticks, rotation=45, ha="right", fontsize=7)
        ax.set_yticks(range(len(runs)), ticks, fontsize=7)
        annotate_cells(ax, matrix, vmin)
        name = part.loc[part["layer"] == last, "layer_name"].iloc[0]
        ax.set_title(f"{group}\nembedding: {short_layer_label(last, name)}", fontsize=8)
        if k % n_cols == 0:
            ax.set_ylabel("predictor run", fontsize=8)
        if k // n_cols == n_rows - 1 or k + n_cols >= len(groups):
            ax.set_xlabel("predicted run", fontsize=8)
    cbar = fig.colorbar(im, ax=heat_axes, shrink=0.7, location="left")
    cbar.set_label("consistency (R²)")

    ax = fig.add_subplot(outer[0, 1])
    axis = LayerAxis.from_rows(rows, model_column="group")
    for group in groups:
        part = rows[rows["group"] == group]
        stats = part.groupby("layer")["value"].agg(["mean", "min", "max"]).sort_index()
        n_pairs = int(part.groupby("layer").size().max())
        x = axis.x(group, stats.index)
        (line,) = ax.plot(
            x,
            stats["mean"].to_numpy(),
            marker="o",
            markersize=4,
            color=colours[group],
            label=f"{group} ({n_pairs} pair{'s' if n_pairs > 1 else ''})",
        )
        line.set_gid(group)
        ax.fill_between(x, stats["min"], stats["max"], color=colours[group], alpha=0.18, lw=0)
    axis.apply(ax)
    ax.set_ylim(min(0.0, vmin) - 0.02, 1.02)
    ax.set_ylabel("consistency across seeds (R², linear)")
    ax.set_title("mean over ordered run pairs (band: min–max)", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    fig.suptitle("Consistency of representations across training seeds", fontsize=11)
    return fig
