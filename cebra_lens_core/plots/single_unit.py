"""Single-unit figures: activity of a layer's units over time and their tuning curves."""

from __future__ import annotations

import math
from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.gridspec import GridSpec
from matplotlib.ticker import MaxNLocator

#: discrete labels with at most this many classes get one tick per class
MAX_CLASS_TICKS = 12


def unit_order(eta2: np.ndarray) -> np.ndarray:
    """Unit indices by decreasing η² (NaN last, ties in unit order)."""
    eta2 = np.asarray(eta2, dtype=float)
    return np.argsort(-np.where(np.isfinite(eta2), eta2, -np.inf), kind="stable")


def plot_single_units(
    arrays: Mapping[str, np.ndarray],
    model: str,
    layer: int,
    label: str | None = None,
    max_units: int = 16,
) -> plt.Figure:
    """Units of one layer.

    Top: activity of every unit over time (``activity/layer_XX``, time in samples of the
    analysed split), units sorted by η² of ``label`` (most label-tuned unit on top).
    Bottom: tuning curves (mean activation per condition, ``tuning/<label>/layer_XX``
    against ``tuning/<label>/x``) of the ``max_units`` units with the highest η² (fraction
    of the unit's variance explained by the label conditions, in each panel title).

    Args:
        arrays: arrays of :func:`cebra_lens_core.analyses.single_unit.single_unit_analysis`.
        label: the label of the tuning curves (default: the first label found).

    Raises:
        ValueError: no activity of ``layer``, or no tuning of ``label`` for ``layer``.
    """
    key = f"activity/layer_{layer:02d}"
    if key not in arrays:
        layers = sorted(k.split("_")[-1] for k in arrays if k.startswith("activity/layer_"))
        raise ValueError(
            f"plot_single_units: no single-unit activity of layer {layer} ({key!r}) for {model}; "
            f"layers available: {layers}"
        )
    activity = np.asarray(arrays[key], dtype=float)
    labels = [k.split("/")[1] for k in arrays if k.startswith("tuning/") and k.endswith("/x")]
    if label is None and labels:
        label = labels[0]
    tuning = eta2 = x = None
    if label is not None:
        t_key, e_key = f"tuning/{label}/layer_{layer:02d}", f"eta2/{label}/layer_{layer:02d}"
        if t_key not in arrays or e_key not in arrays or f"tuning/{label}/x" not in arrays:
            raise ValueError(
                f"plot_single_units: no tuning curves of label {label!r} for layer {layer} of "
                f"{model}; labels with tuning curves: {labels}"
            )
        tuning = np.asarray(arrays[t_key], dtype=float)
        eta2 = np.asarray(arrays[e_key], dtype=float)
        x = np.asarray(arrays[f"tuning/{label}/x"])
    n_units = activity.shape[1]
    order = unit_order(eta2) if eta2 is not None else np.arange(n_units)
    shown = order[: max(0, int(max_units))] if tuning is not None else order[:0]
    n_cols = min(8, max(1, len(shown)))
    n_rows = math.ceil(len(shown) / n_cols) if len(shown) else 0

    fig = plt.figure(figsize=(12.0, 3.6 + 1.9 * n_rows), layout="constrained")
    grid = GridSpec(1 + n_rows, n_cols, figure=fig, height_ratios=[3.0] + [1.6] * n_rows)

    ax = fig.add_subplot(grid[0, :])
    image = activity[:, order].T
    finite = np.abs(image[np.isfinite(image)])
    limit = float(np.percentile(finite, 99)) if finite.size else 1.0
    limit = limit if limit > 0 else 1.0
    im = ax.imshow(
        image,
        aspect="auto",
        interpolation="nearest",
        cmap="RdBu_r",
        vmin=-limit,
        vmax=limit,
        extent=(-0.5, activity.shape[0] - 0.5, n_units - 0.5, -0.5),
    )
    step = max(1, math.ceil(n_units / 32))
    ax.set_yticks(range(0, n_units, step), [str(u) for u in order[::step]], fontsize=6)
    ax.set_xlabel("time (samples of the analysed split)")
    ax.set_ylabel(f"unit (sorted by η² of {label})" if eta2 is not None else "unit")
    ax.set_title(f"activity of the {n_units} units of layer {layer}", fontsize=10)
    cbar = fig.colorbar(im, ax=ax, pad=0.01)
    cbar.set_label("activation")

    if len(shown):
        discrete = x.dtype.kind in "biu"
        first = None
        for k, unit in enumerate(shown):
            tax = fig.add_subplot(grid[1 + k // n_cols, k % n_cols], sharey=first)
            first = first or tax
            (line,) = tax.plot(
                x,
                tuning[:, unit],
                marker="o",
                markersize=3 if discrete else 2,
                linestyle=":" if discrete else "-",
                lw=1.2,
                color="C0",
            )
            line.set_gid(f"unit {int(unit)}")
            tax.set_title(f"unit {int(unit)}, η² = {eta2[unit]:.2f}", fontsize=7)
            tax.tick_params(labelsize=6)
            if discrete:
                if len(x) <= MAX_CLASS_TICKS:  # every class; otherwise matplotlib's integer ticks
                    tax.set_xticks(x)
                else:  # (thousands of tick labels, e.g. one per movie frame, take minutes to lay out)
                    tax.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
                tax.set_xlim(float(x.min()) - 0.5, float(x.max()) + 0.5)
            if k % n_cols == 0:
                tax.set_ylabel("mean activation", fontsize=7)
            else:
                tax.tick_params(labelleft=False)
            if k // n_cols == n_rows - 1 or k + n_cols >= len(shown):
                tax.set_xlabel(f"{label} (class)" if discrete else label, fontsize=7)
            tax.grid(alpha=0.3)
    label_text = (
        f"; tuning to {label} of the {len(shown)} units with the highest η²" if len(shown) else ""
    )
    fig.suptitle(f"{model}, layer {layer}: single units{label_text}", fontsize=11)
    return fig
