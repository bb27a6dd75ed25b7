"""Shared figure helpers: headless backend, reproducible saving."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from cebra_lens_core.atomic import atomic_path  # noqa: E402

#: PNG metadata fixed so reruns give byte-identical files
_PNG_METADATA = {"Software": None}


def save_figure(fig: plt.Figure, path: str | os.PathLike, dpi: int = 120) -> Path:
    """Save ``fig`` atomically with fixed metadata (byte-identical on rerun) and close it."""
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower() or "png"
    metadata = _PNG_METADATA if fmt == "png" else {"CreationDate": None} if fmt == "pdf" else None
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=fmt, dpi=dpi, metadata=metadata, bbox_inches="tight")
    plt.close(fig)
    return path


def annotate_cells(ax, matrix, vmin: float = 0.0, vmax: float = 1.0, fontsize: int = 7) -> None:
    """Write each finite value of a heatmap into its cell (white on dark, black on light)."""
    import numpy as np

    threshold = vmin + 0.6 * (vmax - vmin)
    for (i, j), v in np.ndenumerate(matrix):
        if np.isfinite(v):
            ax.text(
                j,
                i,
                f"{v:.2f}",
                ha="center",
                va="center",
                fontsize=fontsize,
                color="white" if v < threshold else "black",
            )


def short_layer_label(index: int, name: str) -> str:
    """Axis tick label for a layer: ``"0 conv_in"``."""
    return f"{index} {name}" if name else str(index)
