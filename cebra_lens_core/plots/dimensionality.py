"""Dimensionality figures: participation ratio across layers."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from cebra_lens_core.plots.common import (
    LayerAxis,
    draw_references,
    group_legend_handles,
    model_styles,
    plot_layer_lines,
    reference_handles,
    reference_rows,
    select_rows,
    without_references,
)


def plot_participation_ratio(summary: pd.DataFrame) -> plt.Figure:
    """Participation ratio (effective number of dimensions) across layers, one line per
    model; models of one group share a colour. The layer width (``n_units`` rows, the upper
    bound of the participation ratio) is marked by grey dashes, once per distinct
    architecture. The recording itself (``input``, and its receptive-field mean) is drawn as
    grey horizontal reference lines."""
    rows = select_rows(summary, "dimensionality", "participation_ratio", "plot_participation_ratio")
    refs = reference_rows(summary, "dimensionality", "participation_ratio")
    widths = without_references(
        summary[(summary["analysis"] == "dimensionality") & (summary["metric"] == "n_units")]
    )
    axis = LayerAxis.from_rows(pd.concat([rows, widths], ignore_index=True))
    styles = model_styles(rows)
    fig, ax = plt.subplots(figsize=(7.6, 4.2), layout="constrained")
    drawn: set[tuple] = set()
    for model, part in widths.groupby("model", sort=True):
        part = part.sort_values("layer")
        x = axis.x(model, part["layer"])
        y = part["value"].to_numpy(dtype=float)
        if (tuple(x), tuple(y)) in drawn:  # the same architecture: one reference line
            continue
        drawn.add((tuple(x), tuple(y)))
        (line,) = ax.plot(x, y, linestyle="none", color="0.5", marker="_", markersize=14, mew=1.5)
        line.set_gid(f"{model}|n_units")
    plot_layer_lines(ax, rows, styles, axis, gid_suffix="participation_ratio")
    drawn_refs = draw_references(ax, refs)
    axis.apply(ax)
    top = np.nanmax(
        np.concatenate(
            [
                rows["value"].to_numpy(dtype=float),
                widths["value"].to_numpy(dtype=float),
                refs["value"].to_numpy(dtype=float),
            ]
        )
    )
    ax.set_ylim(0.0, 1.08 * top)
    ax.set_ylabel("participation ratio\n(effective number of dimensions)")
    ax.grid(alpha=0.3)
    handles = group_legend_handles(rows) + reference_handles(drawn_refs)
    if not widths.empty:
        handles.append(
            Line2D(
                [],
                [],
                color="0.5",
                linestyle="none",
                marker="_",
                markersize=14,
                mew=1.5,
                label="layer width (units)",
            )
        )
    fig.legend(handles=handles, loc="outside right center", fontsize=7)
    n = rows["n"].dropna()
    samples = f" ({int(n.iloc[0])} time points)" if len(n) and n.nunique() == 1 else ""
    ax.set_title(f"Dimensionality of each layer's activity{samples}", fontsize=11)
    return fig
