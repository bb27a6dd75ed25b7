"""Decoding figures: test-split R² / accuracy across layers, and the decoding error."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from cebra_lens_core.plots.common import (
    LayerAxis,
    draw_references,
    group_colours,
    group_legend_handles,
    model_groups,
    reference_handles,
    reference_rows,
    select_rows,
    without_references,
)

#: (linestyle, marker) per decoder; other decoders get the fallback
DECODER_STYLES = {"knn": ("-", "o"), "ridge": ("-.", "s")}
_FALLBACK_STYLE = (":", "^")
SHUFFLED_SUFFIX = "_shuffled"
#: lowest y shown for R² (shuffled controls can be far below 0)
R2_FLOOR = -1.0


def _decoder_of(variant: str) -> tuple[str, bool]:
    shuffled = variant.endswith(SHUFFLED_SUFFIX)
    return (variant[: -len(SHUFFLED_SUFFIX)] if shuffled else variant), shuffled


def _decoders(rows: pd.DataFrame) -> list[str]:
    found = {_decoder_of(v)[0] for v in rows["variant"].unique()}
    return [d for d in DECODER_STYLES if d in found] + sorted(found - set(DECODER_STYLES))


def _draw_lines(
    ax: plt.Axes, part: pd.DataFrame, axis: LayerAxis, colours: Mapping[str, tuple]
) -> None:
    """One line per model × variant; shuffled controls dashed, thin and light; CI bands."""
    groups = model_groups(part)
    for (model, variant), line_rows in part.groupby(["model", "variant"], sort=True):
        line_rows = line_rows.sort_values("layer")
        decoder, shuffled = _decoder_of(variant)
        linestyle, marker = DECODER_STYLES.get(decoder, _FALLBACK_STYLE)
        colour = colours[groups[model]]
        x = axis.x(model, line_rows["layer"])
        y = line_rows["value"].to_numpy(dtype=float)
        style = (
            {"linestyle": "--", "lw": 0.8, "alpha": 0.5, "markersize": 2.5, "zorder": 1}
            if shuffled
            else {"linestyle": linestyle, "lw": 1.4, "markersize": 4, "zorder": 2}
        )
        (line,) = ax.plot(x, y, marker=marker, color=colour, **style)
        line.set_gid(f"{model}|{variant}")
        low = line_rows["ci_low"].to_numpy(dtype=float)
        high = line_rows["ci_high"].to_numpy(dtype=float)
        if np.isfinite(low).any() and np.isfinite(high).any():
            ax.fill_between(x, low, high, color=colour, alpha=0.08 if shuffled else 0.15, lw=0)


def _draw_reference_lines(ax: plt.Axes, refs: pd.DataFrame) -> set[str]:
    """The recording's reference rows of one panel, decoded with the first decoder (kNN when
    present, as the models' solid lines); the shuffled controls are not drawn."""
    decoders = [v for v in _decoders(refs) if v in set(refs["variant"])]
    if not decoders:
        return set()
    return set(draw_references(ax, refs[refs["variant"] == decoders[0]]))


#: units shown scaled in figures: the unit a hippocampus paper reports (cm for positions in m)
DISPLAY_UNITS = {"m": (100.0, "cm")}


def display_unit(unit: str) -> tuple[float, str]:
    """``(factor, unit shown)``: values in ``unit`` times ``factor`` are in the unit shown
    (``m`` -> ``cm``: 100; others unchanged)."""
    return DISPLAY_UNITS.get(unit, (1.0, unit))


def _unit_of(rows: pd.DataFrame) -> str:
    units = sorted({str(u) for u in rows.get("unit", pd.Series(dtype=str)) if str(u)})
    return units[0] if len(units) == 1 else ""


def _scaled(rows: pd.DataFrame, factor: float) -> pd.DataFrame:
    if factor == 1.0:
        return rows
    rows = rows.copy()
    for column in ("value", "ci_low", "ci_high"):
        rows[column] = rows[column].astype(float) * factor
    return rows


def _legend_handles(rows: pd.DataFrame, decoders: list[str], chance: bool) -> list[Line2D]:
    handles = group_legend_handles(rows, seeds=False)
    for d in decoders:
        linestyle, marker = DECODER_STYLES.get(d, _FALLBACK_STYLE)
        handles.append(Line2D([], [], color="0.2", linestyle=linestyle, marker=marker, label=d))
    handles.append(
        Line2D([], [], color="0.2", linestyle="--", lw=0.8, alpha=0.5, label="shuffled labels")
    )
    if chance:
        handles.append(Line2D([], [], color="0.5", linestyle=":", lw=1.5, label="chance level"))
    return handles


def plot_decoding(summary: pd.DataFrame) -> plt.Figure:
    """Decoding across layers, one panel per label: R² on the test split for continuous
    labels, accuracy for discrete ones (chance level dotted grey). Colour: model group
    (seeds of one configuration share it); line style and marker: decoder (kNN solid,
    ridge dash-dot); shuffled-label controls dashed, thin and light. Error bands from
    ``ci_low``/``ci_high`` where present. The recording itself (``input`` rows, and its
    receptive-field mean), decoded with the first decoder, is drawn as grey horizontal
    reference lines. Below each continuous label: the median absolute error on the test
    split in the label's unit (the ``unit`` column; metres shown in cm, the number
    hippocampus papers report)."""
    rows = select_rows(summary, "decoding", ("r2", "accuracy"), "plot_decoding")
    refs = reference_rows(summary, "decoding", ("r2", "accuracy"))
    drawn_refs: set[str] = set()
    panels = sorted(rows.groupby(["label", "metric"]).groups, key=lambda lm: (lm[1] != "r2", lm[0]))
    axis = LayerAxis.from_rows(rows)
    colours = group_colours(rows)
    chance_rows = summary[
        (summary["analysis"] == "decoding") & (summary["metric"] == "chance_level")
    ]
    errors = without_references(
        summary[(summary["analysis"] == "decoding") & (summary["metric"] == "median_abs_error")]
    )
    error_refs = reference_rows(summary, "decoding", "median_abs_error")
    fig, axes = plt.subplots(
        2 if len(errors) else 1,
        len(panels),
        figsize=(4.6 * len(panels) + 2.2, 3.9 * (2 if len(errors) else 1)),
        squeeze=False,
        layout="constrained",
    )
    any_chance = False
    for ax, (label, metric) in zip(axes[0], panels, strict=True):
        part = rows[(rows["label"] == label) & (rows["metric"] == metric)]
        _draw_lines(ax, part, axis, colours)
        drawn_refs |= _draw_reference_lines(
            ax, refs[(refs["label"] == label) & (refs["metric"] == metric)]
        )
        values = part["value"].to_numpy(dtype=float)
        values = values[np.isfinite(values)]
        if metric == "r2":
            ax.axhline(0.0, color="0.7", lw=0.8, zorder=0)
            low = float(values.min()) if values.size else 0.0
            ax.set_ylim(max(R2_FLOOR, min(0.0, low) - 0.05), 1.02)
            if low < R2_FLOOR:
                ax.text(
                    0.02,
                    0.02,
                    f"values below {R2_FLOOR:g} not shown",
                    transform=ax.transAxes,
                    fontsize=7,
                    color="0.4",
                )
            ax.set_ylabel("R² on the test split")
            ax.set_title(f"{label} (continuous)", fontsize=10)
        else:
            chance = chance_rows.loc[chance_rows["label"] == label, "value"].to_numpy(float)
            chance = np.unique(np.round(chance[np.isfinite(chance)], 6))
            for c in chance:
                ax.axhline(c, color="0.5", linestyle=":", lw=1.5, zorder=0)
                any_chance = True
            low = min([*values.tolist(), *chance.tolist(), 1.0])
            ax.set_ylim(max(0.0, low - 0.05), 1.02)
            ax.set_ylabel("accuracy on the test split")
            ax.set_title(f"{label} (discrete)", fontsize=10)
        axis.apply(ax)
        ax.grid(alpha=0.3)
    for column, (label, metric) in enumerate(panels):
        if len(errors) == 0:
            break
        ax = axes[1, column]
        part = errors[errors["label"] == label]
        if metric != "r2" or part.empty:
            ax.set_axis_off()
            continue
        unit = _unit_of(part)
        scale, shown = display_unit(unit)
        _draw_lines(ax, _scaled(part, scale), axis, colours)
        drawn_refs |= _draw_reference_lines(
            ax, _scaled(error_refs[error_refs["label"] == label], scale)
        )
        ax.set_ylim(bottom=0.0)
        ax.set_ylabel(f"median absolute error ({shown or 'label units'})")
        ax.set_title(f"{label}: decoding error (test split)", fontsize=10)
        axis.apply(ax)
        ax.grid(alpha=0.3)
    fig.legend(
        handles=_legend_handles(rows, _decoders(rows), any_chance) + reference_handles(drawn_refs),
        loc="outside right center",
        fontsize=7,
    )
    fig.suptitle("Decoding the labels from each layer", fontsize=11)
    return fig
