"""RDM figures: the RDM of every layer, RDM-vs-oracle score across layers, layer × layer RSA.

Also holds the small styling helpers shared by the layer-analysis figures (model groups and
their colours, read from the ``group`` column the model sheet adds; layer tick labels; row
selection with a clear error).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from cebra_lens_core.plots.common import (
    NoRowsError,
    annotate_cells,
    draw_references,
    is_reference,
    reference_handles,
    short_layer_label,
    without_references,
)

_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
_LINESTYLES = ("-", "--", ":", "-.")


# --------------------------------------------------------------------------------------
# Shared helpers (used by the other layer-analysis figure modules)
# --------------------------------------------------------------------------------------


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


def group_colours(rows: pd.DataFrame) -> dict[str, tuple]:
    """Colour per model group of the rows (sorted group names, ``tab10`` then ``tab20``)."""
    groups = sorted(set(model_groups(rows).values()))
    cmap = plt.get_cmap("tab10" if len(groups) <= 10 else "tab20")
    return {g: cmap(i % cmap.N) for i, g in enumerate(groups)}


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


def layer_names_of(summary: pd.DataFrame, model: str) -> dict[int, str]:
    """``layer index -> layer name`` of ``model`` from any row of the table that names it."""
    rows = summary[
        (summary["model"] == model) & (summary["layer_name"] != "") & summary["layer"].notna()
    ]
    return {int(r.layer): str(r.layer_name) for r in rows.drop_duplicates("layer").itertuples()}


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


def rsa_matrix_from_summary(
    summary: pd.DataFrame, model_a: str, model_b: str, label: str, variant: str | None = None
) -> tuple[np.ndarray, str]:
    """The (layers_a × layers_b) RSA matrix of a pair and its variant (comparator).

    Rows stored as ``(model_b, model_a)`` are transposed.

    Raises:
        ValueError: no RSA rows for the pair and label.
    """
    rsa = summary[
        (summary["analysis"] == "rdm") & (summary["metric"] == "rsa") & (summary["label"] == label)
    ]
    if variant is not None:
        rsa = rsa[rsa["variant"] == variant]
    rows = rsa[(rsa["model"] == model_a) & (rsa["other_model"] == model_b)]
    transpose = False
    if rows.empty:
        rows = rsa[(rsa["model"] == model_b) & (rsa["other_model"] == model_a)]
        transpose = True
    if rows.empty:
        raise ValueError(
            f"no rows with analysis 'rdm', metric 'rsa' for {model_a} vs {model_b} "
            f"and label {label!r} in the results table"
        )
    variant = sorted(rows["variant"].unique())[0]
    rows = rows[rows["variant"] == variant]
    matrix = np.full((int(rows["layer"].max()) + 1, int(rows["other_layer"].max()) + 1), np.nan)
    matrix[rows["layer"].astype(int), rows["other_layer"].astype(int)] = rows["value"].to_numpy(
        dtype=float
    )
    return (matrix.T if transpose else matrix), variant


def plot_rsa_matrix(summary: pd.DataFrame, model_a: str, model_b: str, label: str) -> plt.Figure:
    """Layer × layer RSA heatmap (similarity of the RDMs of ``label``) of two models."""
    matrix, variant = rsa_matrix_from_summary(summary, model_a, model_b, label)
    names_a, names_b = layer_names_of(summary, model_a), layer_names_of(summary, model_b)
    labels_a = [short_layer_label(i, names_a.get(i, "")) for i in range(matrix.shape[0])]
    labels_b = [short_layer_label(i, names_b.get(i, "")) for i in range(matrix.shape[1])]
    fig, ax = plt.subplots(
        figsize=(1.2 + 0.62 * matrix.shape[1] + 1.6, 1.2 + 0.55 * matrix.shape[0] + 0.8),
        layout="constrained",
    )
    vmin = min(0.0, float(np.nanmin(matrix))) if np.isfinite(matrix).any() else 0.0
    im = ax.imshow(matrix, vmin=vmin, vmax=1.0, cmap="magma", origin="upper", aspect="auto")
    ax.set_xticks(range(len(labels_b)), labels_b, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(labels_a)), labels_a, fontsize=8)
    ax.set_xlabel(f"{model_b} layer")
    ax.set_ylabel(f"{model_a} layer")
    if matrix.size <= 144:
        annotate_cells(ax, matrix, vmin)
    cbar = fig.colorbar(im, ax=ax, shrink=0.9)
    cbar.set_label(f"RSA ({variant} correlation between the RDMs)")
    ax.set_title(f"RSA of {label} RDMs\n{model_a} vs {model_b}", fontsize=10)
    return fig
