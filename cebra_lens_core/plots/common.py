"""Shared figure helpers: headless backend, reproducible saving, and the styling of the
layer-analysis figures (model groups and their colours, read from the ``group`` column the
model sheet adds; layer tick labels; row selection with a clear error)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

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


_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
_LINESTYLES = ("-", "--", ":", "-.")


def model_groups(rows: pd.DataFrame) -> dict[str, str]:
    """``model -> group`` of the rows: their ``group`` column (from the model sheet,
    :func:`cebra_lens_core.results.join_model_sheet`); without it every model is its own group
    (names are never parsed)."""
    models = [str(m) for m in rows["model"]]
    if "group" not in rows.columns:
        return {m: m for m in models}
    groups = [
        str(g) if isinstance(g, str) and g else m
        for m, g in zip(models, rows["group"], strict=True)
    ]
    return dict(zip(models, groups, strict=True))


def group_palette(groups) -> dict[str, tuple]:
    """Colour per group name (sorted names, ``tab10`` then ``tab20``)."""
    names = sorted(set(groups))
    cmap = plt.get_cmap("tab10" if len(names) <= 10 else "tab20")
    return {g: cmap(i % cmap.N) for i, g in enumerate(names)}


def group_colours(rows: pd.DataFrame) -> dict[str, tuple]:
    """Colour per model group of the rows (:func:`group_palette` of their groups)."""
    return group_palette(model_groups(rows).values())


def model_styles(rows: pd.DataFrame) -> dict[str, dict]:
    """Line style per model of the rows: colour from its group; marker and linestyle tell
    the models of one group (its seeds) apart.

    Returns ``model -> {"color", "marker", "linestyle"}`` (keys accepted by ``ax.plot``).
    """
    groups = model_groups(rows)
    colours = group_colours(rows)
    by_group: dict[str, list[str]] = {}
    for m in sorted(groups):
        by_group.setdefault(groups[m], []).append(m)
    styles = {}
    for group, members in by_group.items():
        for k, m in enumerate(members):
            styles[m] = {
                "color": colours[group],
                "marker": _MARKERS[k % len(_MARKERS)],
                "linestyle": _LINESTYLES[k % len(_LINESTYLES)],
            }
    return styles


def select_rows(
    summary: pd.DataFrame, analysis: str, metrics: str | Sequence[str], what: str = ""
) -> pd.DataFrame:
    """Rows of ``analysis`` with one of ``metrics``, without the reference rows (``input``
    ...; :func:`reference_rows` gives those).

    Raises:
        NoRowsError: no such rows (a ``ValueError`` naming the analysis and metric).
    """
    metrics = (metrics,) if isinstance(metrics, str) else tuple(metrics)
    rows = summary[(summary["analysis"] == analysis) & summary["metric"].isin(metrics)]
    rows = without_references(rows)  # drawn as reference lines: see reference_rows
    if rows.empty:
        raise NoRowsError(
            f"{what or 'figure'}: the results table has no rows with analysis {analysis!r} "
            f"and metric {' or '.join(repr(m) for m in metrics)}"
        )
    return rows


def reference_rows(summary: pd.DataFrame, analysis: str, metrics: str | Sequence[str]):
    """The reference rows (``input``, ``input_rf_mean``) of ``analysis`` with ``metrics``."""
    metrics = (metrics,) if isinstance(metrics, str) else tuple(metrics)
    rows = summary[(summary["analysis"] == analysis) & summary["metric"].isin(metrics)]
    return rows[is_reference(rows)]


@dataclass(frozen=True)
class LayerAxis:
    """A shared x axis for values across layers of several models.

    When every model's layer names are unique and all name sequences fit into the longest
    one in order (e.g. a 4-layer model ``conv_in, block_1, conv_out, norm`` and a 6-layer
    model ``conv_in, block_1 … block_3, conv_out, norm``), layers are placed by *name*, so
    the embedding layers line up; otherwise by index, with the names at an index joined by
    ``/``. Tick labels read ``"0 conv_in"`` (index and name) wherever indices agree.
    """

    positions: dict[tuple[str, int], float]
    ticks: list[float]
    labels: list[str]
    xlabel: str

    @classmethod
    def from_rows(cls, rows: pd.DataFrame, model_column: str = "model") -> LayerAxis:
        seqs: dict[str, tuple[list[int], list[str]]] = {}
        rows = rows[rows["layer"].notna()]  # references (input ...) are not on the layer axis
        for model, part in rows.groupby(model_column, sort=True):
            part = part.drop_duplicates("layer").sort_values("layer")
            seqs[str(model)] = (
                part["layer"].astype(int).tolist(),
                part["layer_name"].astype(str).tolist(),
            )
        merged = _merge_layer_names([names for _, names in seqs.values()])
        if merged is not None:
            where = {name: k for k, name in enumerate(merged)}
            positions = {
                (m, i): float(where[n])
                for m, (ls, ns) in seqs.items()
                for i, n in zip(ls, ns, strict=True)
            }
            if all(p == i for (_, i), p in positions.items()):
                labels = [short_layer_label(k, n) for k, n in enumerate(merged)]
                return cls(positions, [float(k) for k in range(len(merged))], labels, "layer")
            return cls(
                positions,
                [float(k) for k in range(len(merged))],
                list(merged),
                "layer (shallower models placed by layer name)",
            )
        positions = {(m, i): float(i) for m, (ls, _) in seqs.items() for i in ls}
        names: dict[int, list[str]] = {}
        for ls, ns in seqs.values():
            for i, n in zip(ls, ns, strict=True):
                if n and n not in names.setdefault(i, []):
                    names[i].append(n)
        ticks = sorted({i for _, i in positions})
        labels = [short_layer_label(i, "/".join(names.get(i, []))) for i in ticks]
        return cls(positions, [float(i) for i in ticks], labels, "layer")

    def x(self, model: str, layers) -> np.ndarray:
        """x positions of ``layers`` of ``model``."""
        return np.array([self.positions[(str(model), int(i))] for i in layers], dtype=float)

    def apply(self, ax: plt.Axes, xlabel: bool = True) -> None:
        """Set the layer ticks (and the axis label) on ``ax``."""
        long = max((len(s) for s in self.labels), default=0) > 6
        ax.set_xticks(
            self.ticks,
            self.labels,
            rotation=35 if long else 0,
            ha="right" if long else "center",
            fontsize=7,
        )
        if xlabel:
            ax.set_xlabel(self.xlabel, fontsize=8 if len(self.xlabel) > 10 else None)


def _merge_layer_names(seqs: Sequence[Sequence[str]]) -> list[str] | None:
    """The longest name sequence if every sequence is an ordered subsequence of it."""
    if not seqs or any(not n or len(set(ns)) != len(ns) for ns in seqs for n in ns):
        return None
    longest = list(max(seqs, key=len))
    for ns in seqs:
        it = iter(longest)
        if not all(n in it for n in ns):
            return None
    return longest


def group_legend_handles(rows: pd.DataFrame, seeds: bool = True) -> list[Line2D]:
    """Legend proxies for the models of the rows: one per model (``seeds``) or one per group
    (colour only, with its number of runs)."""
    groups = model_groups(rows)
    if seeds:
        styles = model_styles(rows)
        return [Line2D([], [], label=m, **styles[m]) for m in sorted(groups)]
    counts: dict[str, int] = {}
    for g in groups.values():
        counts[g] = counts.get(g, 0) + 1
    return [
        Line2D([], [], color=c, lw=2, label=f"{g} ({counts[g]} run{'s' if counts[g] > 1 else ''})")
        for g, c in group_colours(rows).items()
    ]


def plot_layer_lines(
    ax: plt.Axes,
    rows: pd.DataFrame,
    styles: Mapping[str, dict],
    axis: LayerAxis,
    gid_suffix: str = "",
    bands: bool = False,
    **kwargs,
) -> None:
    """One line per model of ``rows`` (value against layer), ``gid`` = ``model[|suffix]``.

    ``bands``: shade ``ci_low``…``ci_high`` (the bootstrap interval) where the rows have one.
    """
    for model, part in rows.groupby("model", sort=True):
        part = part.sort_values("layer")
        x = axis.x(model, part["layer"])
        (line,) = ax.plot(
            x,
            part["value"].to_numpy(dtype=float),
            **{"markersize": 4, "lw": 1.3, "label": model, **styles[model], **kwargs},
        )
        line.set_gid(f"{model}|{gid_suffix}" if gid_suffix else str(model))
        if bands:
            draw_interval_band(ax, x, part, styles[model]["color"])


def draw_interval_band(ax: plt.Axes, x, rows: pd.DataFrame, colour, alpha: float = 0.12) -> bool:
    """Shade ``ci_low``…``ci_high`` of ``rows`` at ``x`` (nothing if no finite interval)."""
    low = rows["ci_low"].to_numpy(dtype=float)
    high = rows["ci_high"].to_numpy(dtype=float)
    ok = np.isfinite(low) & np.isfinite(high)
    if not ok.any():
        return False
    ax.fill_between(np.asarray(x)[ok], low[ok], high[ok], color=colour, alpha=alpha, lw=0)
    return True
