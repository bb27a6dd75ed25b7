"""Distance figures: intra-class, inter-class and inter-repetition distances across layers."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import Patch

from cebra_lens_core.plots.common import (
    LayerAxis,
    draw_references,
    group_legend_handles,
    model_styles,
    plot_layer_lines,
    reference_handles,
    reference_rows,
    select_rows,
)

#: Distance kinds in display order, with a readable description.
KINDS = {
    "intra_class": "within a condition\n(pairs of samples)",
    "inter_class": "between conditions\n(pairs of condition means)",
    "inter_repetition": "between repetitions\n(same condition, different repeats)",
}
#: Readable name of each distance variant (``variant`` column).
VARIANTS = {
    "cosine": "mean cosine distance",
    "euclidean_rms": "RMS Euclidean distance (z-scored units)",
}


def plot_distances(summary: pd.DataFrame) -> plt.Figure:
    """Each distance (rows of panels: intra-class, inter-class, inter-repetition if present)
    across layers, one line per model; columns: label × distance (cosine, Euclidean RMS).
    Panels of one column share the y axis, so within- and between-condition distances can
    be compared directly. Shaded: the block-bootstrap interval (``ci_low``/``ci_high``) of
    each line, where present. The recording itself (``input``, and its receptive-field
    mean) is drawn as grey horizontal reference lines."""
    rows = select_rows(summary, "distance", tuple(KINDS), "plot_distances")
    refs = reference_rows(summary, "distance", tuple(KINDS))
    drawn_refs: set[str] = set()
    kinds = [k for k in KINDS if (rows["metric"] == k).any()]
    order = {v: i for i, v in enumerate(VARIANTS)}
    columns = sorted(
        rows.groupby(["label", "variant"]).groups, key=lambda lv: (lv[0], order.get(lv[1], 99), lv)
    )
    styles = model_styles(rows)
    axis = LayerAxis.from_rows(rows)
    fig, axes = plt.subplots(
        len(kinds),
        len(columns),
        figsize=(3.4 * len(columns) + 2.4, 2.5 * len(kinds) + 0.9),
        squeeze=False,
        sharey="col",
        layout="constrained",
    )
    for c, (label, variant) in enumerate(columns):
        for r, kind in enumerate(kinds):
            ax = axes[r, c]
            part = rows[
                (rows["label"] == label) & (rows["variant"] == variant) & (rows["metric"] == kind)
            ]
            if part.empty:
                ax.text(0.5, 0.5, "not measured", ha="center", va="center", transform=ax.transAxes)
            else:
                plot_layer_lines(
                    ax, part, styles, axis, gid_suffix=f"{kind}|{label}|{variant}", bands=True
                )
                drawn_refs.update(
                    draw_references(
                        ax,
                        refs[
                            (refs["label"] == label)
                            & (refs["variant"] == variant)
                            & (refs["metric"] == kind)
                        ],
                    )
                )
            ax.grid(alpha=0.3)
            if r == 0:
                ax.set_title(f"{label}\n{VARIANTS.get(variant, variant)}", fontsize=9)
            if c == 0:
                ax.set_ylabel(f"{kind.replace('_', '-')}\n{KINDS[kind]}", fontsize=8)
            axis.apply(ax, xlabel=r == len(kinds) - 1)
            if r < len(kinds) - 1:
                ax.tick_params(labelbottom=False)
    handles = group_legend_handles(rows) + reference_handles(drawn_refs)
    if np.isfinite(rows["ci_low"].to_numpy(dtype=float)).any():
        handles.append(
            Patch(facecolor="0.5", alpha=0.25, label="bootstrap interval (ci_low–ci_high)")
        )
    fig.legend(handles=handles, loc="outside right center", fontsize=7)
    fig.suptitle("Distances between representations across layers", fontsize=11)
    return fig
