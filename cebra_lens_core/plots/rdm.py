"""RDM figures: the RDM of every layer and the RDM-vs-oracle score across layers."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import Patch

from cebra_lens_core.plots.common import (
    LayerAxis,
    draw_references,
    group_colours,
    group_legend_handles,
    model_groups,
    model_styles,
    plot_layer_lines,
    reference_handles,
    reference_rows,
    select_rows,
    short_layer_label,
)


def _grid(n: int, max_cols: int = 4) -> tuple[int, int]:
    nrows = math.ceil(n / max_cols)
    return nrows, math.ceil(n / nrows)


# --------------------------------------------------------------------------------------
# RDM figures
# --------------------------------------------------------------------------------------


def plot_layer_rdms(
    arrays: Mapping[str, np.ndarray],
    label: str,
    model: str,
    layer_names: Sequence[str] | None = None,
    metric_name: str = "",
) -> plt.Figure:
    """Small multiples: the RDM (conditions × conditions) of every layer for one label.

    Args:
        arrays: RDM arrays of one model from :func:`cebra_lens_core.analyses.rdm.rdm_analysis`
            (keys ``"<label>/layer_XX"``, ``"<label>/ids"``, ``"<label>/bin_centres"``).
        label: the label whose conditions index the RDMs.
        model: model name (title).
        layer_names: names of the layers in order (panel titles), if known.
        metric_name: the RDM dissimilarity (e.g. ``"correlation"``) for the colourbar.

    All panels share one colour scale. Raises ``ValueError`` if ``arrays`` has no RDM of
    ``label``.
    """
    prefix = f"{label}/layer_"
    keys = sorted(k for k in arrays if k.startswith(prefix) and k[len(prefix) :].isdigit())
    if not keys:
        available = sorted({k.split("/")[0] for k in arrays if "/layer_" in k})
        raise ValueError(
            f"no RDMs of label {label!r} (keys '{label}/layer_XX') for {model}; "
            f"labels with RDMs: {available}"
        )
    rdms = [np.asarray(arrays[k], dtype=float) for k in keys]
    indices = [int(k[len(prefix) :]) for k in keys]
    n_cond = rdms[0].shape[0]
    centres = arrays.get(f"{label}/bin_centres")
    ids = arrays.get(f"{label}/ids")
    unit = str(arrays.get(f"{label}/unit", ""))
    if centres is not None and len(centres) == n_cond:
        tick_text = [f"{float(c):.2f}" for c in centres]
        axis_label = f"{label} (bin centre{', ' + unit if unit else ''})"
    else:
        ids = np.arange(n_cond) if ids is None or len(ids) != n_cond else ids
        tick_text = [str(i) for i in ids]
        axis_label = f"{label} (class)"
    step = max(1, math.ceil(n_cond / 6))
    ticks = list(range(0, n_cond, step))

    finite = np.concatenate([d[np.isfinite(d)] for d in rdms] + [np.zeros(1)])
    vmin, vmax = min(0.0, float(finite.min())), float(finite.max())
    if vmax <= vmin:
        vmax = vmin + 1.0
    cmap = plt.get_cmap("viridis").with_extremes(bad="lightgrey")

    nrows, ncols = _grid(len(rdms))
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(2.5 * ncols + 1.2, 2.5 * nrows + 0.6),
        squeeze=False,
        layout="constrained",
    )
    im = None
    for k, ax in enumerate(axes.flat):
        if k >= len(rdms):
            ax.set_axis_off()
            continue
        im = ax.imshow(rdms[k], vmin=vmin, vmax=vmax, cmap=cmap, origin="upper")
        name = ""
        if layer_names is not None and indices[k] < len(layer_names):
            name = str(layer_names[indices[k]])
        ax.set_title(short_layer_label(indices[k], name) if name else str(indices[k]))
        ax.set_xticks(ticks, [tick_text[t] for t in ticks], rotation=90, fontsize=7)
        ax.set_yticks(ticks, [tick_text[t] for t in ticks], fontsize=7)
        if k % ncols == 0:
            ax.set_ylabel(axis_label, fontsize=8)
        if k // ncols == nrows - 1 or k + ncols >= len(rdms):
            ax.set_xlabel(axis_label, fontsize=8)
    cbar = fig.colorbar(im, ax=axes.ravel().tolist(), shrink=0.8)
    cbar.set_label(f"dissimilarity ({metric_name} distance)" if metric_name else "dissimilarity")
    fig.suptitle(f"RDMs of {model} across layers — conditions: {label}")
    return fig


def plot_oracle_similarity(summary: pd.DataFrame) -> plt.Figure:
    """RDM-vs-oracle score across layers: one panel per label (and variant), every model on
    one axis; models of one group share a colour (seeds differ by marker and linestyle).
    Shaded: the block-bootstrap 95 % interval of each line (``ci_low``/``ci_high``, when
    present); hatched: the noise ceiling of each seed group (``noise_ceiling_low`` …
    ``noise_ceiling_high`` rows), the score range reachable given the variability across
    seeds. The recording itself (``input`` rows, and its receptive-field mean) is drawn as
    grey horizontal reference lines."""
    rows = select_rows(summary, "rdm", "oracle_similarity", "plot_oracle_similarity")
    refs = reference_rows(summary, "rdm", "oracle_similarity")
    drawn_refs: set[str] = set()
    ceiling = summary[
        (summary["analysis"] == "rdm")
        & summary["metric"].isin(["noise_ceiling_low", "noise_ceiling_high"])
    ]
    panels = sorted(rows.groupby(["label", "variant"]).groups)
    styles = model_styles(rows)
    colours = group_colours(pd.concat([rows, ceiling]))
    ceiling_groups = model_groups(ceiling)
    axis = LayerAxis.from_rows(pd.concat([rows, ceiling]) if len(ceiling) else rows)
    fig, axes = plt.subplots(
        1,
        len(panels),
        figsize=(4.6 * len(panels) + 2.4, 3.8),
        squeeze=False,
        layout="constrained",
    )
    any_band = any_ceiling = False
    for ax, (label, variant) in zip(axes[0], panels, strict=True):
        part = rows[(rows["label"] == label) & (rows["variant"] == variant)]
        plot_layer_lines(ax, part, styles, axis, bands=True)
        drawn_refs.update(
            draw_references(ax, refs[(refs["label"] == label) & (refs["variant"] == variant)])
        )
        any_band |= bool(np.isfinite(part["ci_low"].to_numpy(dtype=float)).any())
        nc = ceiling[(ceiling["label"] == label) & (ceiling["variant"] == variant)]
        for group, gpart in nc.groupby("model", sort=True):
            wide = gpart.pivot_table(index="layer", columns="metric", values="value")
            if not {"noise_ceiling_low", "noise_ceiling_high"} <= set(wide.columns):
                continue
            colour = colours.get(ceiling_groups.get(str(group), str(group)), "0.5")
            ax.fill_between(
                axis.x(group, wide.index),
                wide["noise_ceiling_low"].to_numpy(dtype=float),
                wide["noise_ceiling_high"].to_numpy(dtype=float),
                facecolor="none",
                edgecolor=colour,
                hatch="////",
                lw=0.6,
                alpha=0.6,
                gid=f"{group}|noise_ceiling",
            )
            any_ceiling = True
        values = np.concatenate(
            [part["value"].to_numpy(dtype=float), part["ci_low"].to_numpy(dtype=float)]
        )
        low = float(values[np.isfinite(values)].min()) if np.isfinite(values).any() else 0.0
        ax.set_ylim(max(-1.05, min(low, 0.9) - 0.1), 1.02)
        axis.apply(ax)
        ax.set_ylabel(f"similarity to oracle RDM\n({variant})")
        n = part["n"].dropna()
        n_text = f", {int(n.iloc[0])} conditions" if len(n) else ""
        ax.set_title(f"{label}{n_text}", fontsize=10)
        ax.grid(alpha=0.3)
    handles = group_legend_handles(rows)
    if any_band:
        handles.append(
            Patch(facecolor="0.5", alpha=0.25, label="bootstrap interval (ci_low–ci_high)")
        )
    if any_ceiling:
        handles.append(
            Patch(facecolor="none", edgecolor="0.3", hatch="////", label="noise ceiling (seeds)")
        )
    handles += reference_handles(drawn_refs)
    fig.legend(handles=handles, loc="outside right center", fontsize=7)
    fig.suptitle("Similarity of each layer's RDM to the oracle RDM of the label", fontsize=11)
    return fig
