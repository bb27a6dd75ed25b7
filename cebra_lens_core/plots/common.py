"""Shared figure helpers: headless backend, reproducible saving."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from cebra_lens_core.atomic import atomic_path  # noqa: E402
from cebra_lens_core.provenance import png_text  # noqa: E402

#: PNG metadata fixed so reruns give byte-identical files
_PNG_METADATA = {"Software": None}


def save_figure(fig: plt.Figure, path: str | os.PathLike, dpi: int = 120) -> Path:
    """Save ``fig`` atomically with fixed metadata (byte-identical on rerun) and close it."""
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower() or "png"
    if fmt == "png":  # versions and config hash as PNG text chunks (see provenance)
        metadata = {**_PNG_METADATA, **png_text()}
    else:
        metadata = {"CreationDate": None} if fmt == "pdf" else None
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=fmt, dpi=dpi, metadata=metadata, bbox_inches="tight")
    plt.close(fig)
    return path


class NoRowsError(ValueError):
    """The results table has no rows for a figure (the analysis gave no values in this run)."""


def placeholder_figure(message: str) -> plt.Figure:
    """A small figure that states why there is nothing to draw (keeps the report complete)."""
    fig, ax = plt.subplots(figsize=(5, 1.6))
    ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True, fontsize=9)
    ax.set_axis_off()
    return fig


def annotate_cells(
    ax, matrix, vmin: float = 0.0, vmax: float = 1.0, fontsize: int = 7, marks=None
) -> None:
    """Write each finite value of a heatmap into its cell (white on dark, black on light);
    ``marks`` (same shape, bool) appends ``*`` (e.g. significant cells)."""
    threshold = vmin + 0.6 * (vmax - vmin)
    for (i, j), v in np.ndenumerate(matrix):
        if np.isfinite(v):
            star = "*" if marks is not None and bool(marks[i, j]) else ""
            ax.text(
                j,
                i,
                f"{v:.2f}{star}",
                ha="center",
                va="center",
                fontsize=fontsize,
                color="white" if v < threshold else "black",
            )


def short_layer_label(index: int, name: str) -> str:
    """Axis tick label for a layer: ``"0 conv_in"``."""
    return f"{index} {name}" if name else str(index)


#: layer names of the reference rows (the recording itself; empty ``layer``), and how
#: figures draw and name them
REFERENCE_STYLES = {
    "input": {"color": "0.25", "linestyle": (0, (6, 2)), "label": "input (recorded neurons)"},
    "input_rf_mean": {
        "color": "0.55",
        "linestyle": (0, (2, 2)),
        "label": "input averaged over the receptive field",
    },
}


def is_reference(rows: pd.DataFrame) -> pd.Series:
    """Rows of the reference layers (``input``, ``input_rf_mean``: empty ``layer``)."""
    if "layer" not in rows or "layer_name" not in rows:  # a partial table: no references
        return pd.Series(False, index=rows.index)
    return rows["layer"].isna() & rows["layer_name"].isin(list(REFERENCE_STYLES))


def without_references(rows: pd.DataFrame) -> pd.DataFrame:
    return rows[~is_reference(rows)]


def draw_references(ax: plt.Axes, rows: pd.DataFrame, **line_kwargs) -> list[str]:
    """Horizontal reference lines for the reference rows among ``rows`` (one panel's rows):
    per dataset and reference, the mean over the stores that carry it (the recording is the
    same for every model of a dataset and session; the receptive-field mean differs only
    between architectures). Returns the reference names drawn (for the legend)."""
    refs = rows[is_reference(rows)]
    drawn = []
    for (_dataset, name), part in refs.groupby(["dataset", "layer_name"], sort=True):
        value = float(np.nanmean(part["value"].to_numpy(dtype=float)))
        if not np.isfinite(value):
            continue
        style = {k: v for k, v in REFERENCE_STYLES[name].items() if k != "label"}
        line = ax.axhline(value, lw=1.2, zorder=1, **{**style, **line_kwargs})
        line.set_gid(f"reference|{name}")
        drawn.append(str(name))
    return sorted(set(drawn))


def reference_handles(names) -> list:
    """Legend proxies of the reference lines ``names``."""
    # deferred: matplotlib, loaded only on this path
    from matplotlib.lines import Line2D

    return [
        Line2D([], [], lw=1.2, **REFERENCE_STYLES[name])
        for name in REFERENCE_STYLES
        if name in names
    ]
