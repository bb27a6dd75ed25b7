"""Training curves."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd


def plot_training_loss(histories: Mapping[str, pd.DataFrame]) -> plt.Figure:
    """Loss (InfoNCE) against iteration for every model on one axis; temperature in a second
    panel when any model learned it (``temperature_mode: auto``). xCEBRA models add a panel
    with the InfoNCE of each part (``loss_<part>``; solid: behaviour, dashed: time) and one
    with the Jacobian regulariser of each part (``regularizer_<part>``, blank before its
    warm-up starts).

    Args:
        histories: model name -> frame with columns ``iteration``, ``loss``, ``temperature``
            (xCEBRA: also ``loss_<part>``, ``regularizer_<part>``).
    """
    learned = any(
        len(h) and np.ptp(h["temperature"].to_numpy(dtype=float)) > 0 for h in histories.values()
    )
    parts = any(c.startswith("loss_") for h in histories.values() for c in h.columns)
    n_panels = 1 + learned + 2 * parts
    fig, axes = plt.subplots(1, n_panels, figsize=(4.6 * n_panels + 2.4, 4.2), squeeze=False)
    if parts:
        _plot_part_curves(axes[0, 1 + learned], axes[0, 2 + learned], histories)
    ax = axes[0, 0]
    for name, h in histories.items():
        if len(h):
            ax.plot(h["iteration"], h["loss"], lw=1.0, label=name)
    ax.set_xlabel("iteration")
    ax.set_ylabel("training loss (InfoNCE)")
    ax.set_title("Training loss")
    if histories:
        ax.legend(fontsize=7)
    if learned:
        ax2 = axes[0, 1]
        for name, h in histories.items():
            ax2.plot(h["iteration"], h["temperature"], lw=1.0, label=name)
        ax2.set_xlabel("iteration")
        ax2.set_ylabel("temperature")
        ax2.set_title("Learned temperature")
    fig.tight_layout()
    return fig


def _plot_part_curves(loss_ax: plt.Axes, reg_ax: plt.Axes, histories: Mapping[str, pd.DataFrame]):
    """xCEBRA: per-part InfoNCE and Jacobian regulariser curves, one colour per model."""
    colours = plt.get_cmap("tab10")
    styles = {"behavior": "-", "time": "--"}
    for k, (name, h) in enumerate(histories.items()):
        for column in h.columns:
            for prefix, ax in (("loss_", loss_ax), ("regularizer_", reg_ax)):
                part = column[len(prefix) :] if column.startswith(prefix) else None
                if part is None or part == "weight":
                    continue
                values = h[column].to_numpy(dtype=float)
                if np.isfinite(values).any():
                    ax.plot(
                        h["iteration"],
                        values,
                        styles.get(part, ":"),
                        color=colours(k % 10),
                        lw=1.0,
                        label=f"{name} ({part})",
                    )
    loss_ax.set_title("xCEBRA: InfoNCE of each part")
    loss_ax.set_ylabel("InfoNCE (without the regulariser)")
    reg_ax.set_title("xCEBRA: Jacobian regulariser")
    reg_ax.set_ylabel("½‖J‖² estimate per part")
    for ax in (loss_ax, reg_ax):
        ax.set_xlabel("iteration")
        if ax.has_data():
            ax.legend(fontsize=6)
