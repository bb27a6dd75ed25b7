"""Training curves."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd


def plot_training_loss(histories: Mapping[str, pd.DataFrame]) -> plt.Figure:
    """Loss (InfoNCE) against iteration for every model on one axis; temperature in a second
    panel when any model learned it (``temperature_mode: auto``).

    Args:
        histories: model name -> frame with columns ``iteration``, ``loss``, ``temperature``.
    """
    learned = any(
        len(h) and np.ptp(h["temperature"].to_numpy(dtype=float)) > 0 for h in histories.values()
    )
    fig, axes = plt.subplots(
        1, 2 if learned else 1, figsize=(11 if learned else 7, 4.2), squeeze=False
    )
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
