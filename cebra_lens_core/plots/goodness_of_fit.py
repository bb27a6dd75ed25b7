"""Goodness-of-fit figure: CEBRA's InfoNCE-based goodness of fit (bits) per model."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import Patch

from cebra_lens_core.plots.common import model_groups, select_rows

#: bar colour per split; other variants get the next colours of ``tab10``
SPLIT_COLOURS = {"train": "#4c72b0", "test": "#dd8452"}


def plot_goodness_of_fit(summary: pd.DataFrame) -> plt.Figure:
    """Goodness of fit in bits per model (rows analysis ``goodness_of_fit``, metric
    ``goodness_of_fit_bits``): one group of bars per model, the training and test split
    side by side, value printed on each bar. Higher is better; 0 = chance."""
    rows = select_rows(summary, "goodness_of_fit", "goodness_of_fit_bits", "plot_goodness_of_fit")
    groups = model_groups(rows)
    models = sorted(rows["model"].unique(), key=lambda m: (groups[m], m))
    variants = [v for v in SPLIT_COLOURS if (rows["variant"] == v).any()]
    variants += sorted(set(rows["variant"]) - set(variants))
    cmap = plt.get_cmap("tab10")
    colours = {v: SPLIT_COLOURS.get(v, cmap((k + 2) % cmap.N)) for k, v in enumerate(variants)}
    width = 0.8 / len(variants)
    fig, ax = plt.subplots(figsize=(max(5.0, 0.8 * len(models) + 2.5), 4.2), layout="constrained")
    for k, variant in enumerate(variants):
        part = rows[rows["variant"] == variant].drop_duplicates("model", keep="last")
        value = part.set_index("model")["value"].reindex(models).to_numpy(dtype=float)
        x = np.arange(len(models)) + (k - (len(variants) - 1) / 2) * width
        bars = ax.bar(
            x, np.nan_to_num(value), width=width * 0.95, color=colours[variant], label=variant
        )
        for bar, model, v in zip(bars, models, value, strict=True):
            bar.set_gid(f"{model}|{variant}")
            if np.isfinite(v):
                ax.annotate(
                    f"{v:.2f}",
                    (bar.get_x() + bar.get_width() / 2, v),
                    xytext=(0, 2 if v >= 0 else -8),
                    textcoords="offset points",
                    ha="center",
                    fontsize=6,
                )
    ax.axhline(0.0, color="0.3", lw=0.8)
    labels = rows.drop_duplicates("model").set_index("model")["label"].reindex(models)
    ticks = [
        f"{m}\n(labels: {lab})" if lab else m
        for m, lab in zip(models, labels.fillna(""), strict=True)
    ]
    ax.set_xticks(range(len(models)), ticks, rotation=35, ha="right", fontsize=7)
    ax.set_ylabel("goodness of fit (bits)")
    ax.set_title("Goodness of fit of each model (higher is better, 0 = chance)", fontsize=11)
    ax.legend(
        handles=[Patch(color=colours[v], label=f"{v} split") for v in variants],
        fontsize=8,
        loc="upper right",
        bbox_to_anchor=(1.0, 1.0),
    )
    ax.grid(axis="y", alpha=0.3)
    ax.margins(y=0.12)
    return fig
