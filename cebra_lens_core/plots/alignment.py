"""Alignment figures: how well each layer matches the recorded neural activity."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from cebra_lens_core.plots.common import (
    LayerAxis,
    NoRowsError,
    group_legend_handles,
    model_styles,
    plot_layer_lines,
    without_references,
)

#: panels: (analysis, metric or None = the comparator, best-layer metric prefix, y label)
PANELS = (
    ("crsa", None, "crsa", "cRSA: layer RDM vs neural RDM"),
    ("ersa", None, "ersa", "eRSA: predicted vs neural RDM"),
    ("encoding", "mean_pearson_r", "encoding_mean_pearson_r", "encoding: mean r over neurons"),
)
TITLES = {"crsa": "cRSA", "ersa": "eRSA", "encoding": "Encoding regression"}
BEST_MARKER = {"marker": "*", "markersize": 13, "markeredgecolor": "black", "zorder": 4}


def _panel_rows(summary: pd.DataFrame, analysis: str, metric: str | None) -> pd.DataFrame:
    rows = summary[(summary["analysis"] == analysis) & (summary["variant"] == "test")]
    rows = without_references(rows)
    return rows if metric is None else rows[rows["metric"] == metric]


def plot_alignment(summary: pd.DataFrame) -> plt.Figure:
    """cRSA, eRSA and encoding mean Pearson ``r`` (all on the test split) across layers, one
    line per model (models of one group share a colour), and the participation ratio of each
    layer (training split). A star marks each model's best layer for that score: chosen on
    the *training* split, drawn at its *test* score (rows ``best_layer``).

    Raises:
        NoRowsError: the table has no alignment rows.
    """
    panels = [(a, m, b, y, _panel_rows(summary, a, m)) for a, m, b, y in PANELS]
    pr = without_references(
        summary[(summary["analysis"] == "encoding") & (summary["metric"] == "participation_ratio")]
    )
    if all(p[-1].empty for p in panels) and pr.empty:
        raise NoRowsError(
            "plot_alignment: the results table has no rows with analysis 'crsa', 'ersa' or "
            "'encoding' (is analyses.alignment enabled?)"
        )
    everything = pd.concat([p[-1] for p in panels] + [pr], ignore_index=True)
    axis = LayerAxis.from_rows(everything)
    styles = model_styles(everything)
    best = summary[(summary["analysis"] == "best_layer") & (summary["variant"] == "test")]
    n_cols = 2  # a 2 × 2 grid: readable text at the report's width (one row was 2,317 px)
    n_rows = math.ceil((len(panels) + 1) / n_cols)
    fig, grid = plt.subplots(
        n_rows, n_cols, figsize=(4.0 * n_cols + 2.4, 3.4 * n_rows), layout="constrained"
    )
    axes = list(np.ravel(grid))
    for spare in axes[len(panels) + 1 :]:
        spare.set_axis_off()
    axes = axes[: len(panels) + 1]
    for ax, (analysis, _, prefix, ylabel, rows) in zip(axes, panels, strict=False):
        if rows.empty:
            ax.text(0.5, 0.5, f"no {analysis} rows", ha="center", va="center", color="0.4")
            axis.apply(ax)
            continue
        plot_layer_lines(ax, rows, styles, axis, gid_suffix=analysis)
        comparators = sorted(set(rows["metric"])) if analysis != "encoding" else []
        for model, part in best.groupby("model", sort=True):
            mark = part[part["metric"].str.startswith(prefix)]
            if analysis != "encoding":
                mark = mark[mark["metric"].isin([f"{prefix}_{c}" for c in comparators])]
            for r in mark.itertuples():
                (star,) = ax.plot(
                    axis.x(model, [r.layer]),
                    [r.value],
                    color=styles[model]["color"] if model in styles else "0.3",
                    linestyle="none",
                    **BEST_MARKER,
                )
                star.set_gid(f"{model}|best|{analysis}")
        values = rows["value"].to_numpy(dtype=float)
        low = float(np.nanmin(values)) if np.isfinite(values).any() else 0.0
        ax.set_ylim(max(-1.05, min(low, 0.9) - 0.1), 1.02)
        ax.axhline(0.0, color="0.7", lw=0.8, zorder=0)
        suffix = f" ({', '.join(comparators)})" if comparators else " (Pearson)"
        ax.set_ylabel(f"{ylabel}{suffix}", fontsize=9)
        labels = sorted({lab for lab in rows["label"] if lab})
        n = rows["n"].dropna()
        what = f"conditions of {', '.join(labels)}" if labels else "time points"
        n_text = f"{int(n.iloc[0])} {what}" if len(n) and n.nunique() == 1 else what
        ax.set_title(f"{TITLES[analysis]}, test split\n{n_text}", fontsize=9)
        axis.apply(ax)
        ax.grid(alpha=0.3)
    ax = axes[-1]
    if not pr.empty:
        plot_layer_lines(ax, pr, styles, axis, gid_suffix="participation_ratio")
        top = float(np.nanmax(pr["value"].to_numpy(dtype=float)))
        ax.set_ylim(0.0, 1.08 * top if np.isfinite(top) and top > 0 else 1.0)
    ax.set_ylabel("participation ratio\n(effective dimensionality)", fontsize=9)
    ax.set_title("dimensionality, training split", fontsize=9)
    axis.apply(ax)
    ax.grid(alpha=0.3)
    handles = group_legend_handles(everything)
    handles.append(
        Line2D(
            [],
            [],
            color="0.5",
            linestyle="none",
            label="best layer (chosen on train)",
            **{k: v for k, v in BEST_MARKER.items() if k != "zorder"},
        )
    )
    fig.legend(handles=handles, loc="outside right center", fontsize=7)
    fig.suptitle("Alignment of each layer with the recorded neural activity", fontsize=11)
    return fig
