"""CKA figures: layer × layer heatmap of a model pair, corresponding layers across groups."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from cebra_lens_core.plots.common import annotate_cells, short_layer_label, without_references


def cka_matrix_from_summary(
    summary: pd.DataFrame, model_a: str, model_b: str, variant: str = "linear"
) -> tuple[np.ndarray, list[str], list[str]]:
    """The (layers_a × layers_b) CKA matrix of a pair from the results table, with tick labels.

    Raises:
        ValueError: no CKA rows for the pair and variant.
    """
    rows = _pair_rows(summary, model_a, model_b, variant)
    if rows.empty:
        raise ValueError(f"no CKA rows ({variant}) for {model_a} vs {model_b} in the results table")
    n_a = int(rows["layer"].max()) + 1
    n_b = int(rows["other_layer"].max()) + 1
    matrix = np.full((n_a, n_b), np.nan)
    matrix[rows["layer"].astype(int), rows["other_layer"].astype(int)] = rows["value"].to_numpy()
    names_a = rows.drop_duplicates("layer").sort_values("layer")["layer_name"].tolist()
    names_b = _other_layer_names(summary, model_b, n_b)
    labels_a = [short_layer_label(i, n) for i, n in enumerate(names_a)]
    return matrix, labels_a, names_b


def _pair_rows(
    summary: pd.DataFrame, model_a: str, model_b: str, variant: str, metric: str = "cka"
) -> pd.DataFrame:
    """Rows of one CKA pair, variant and metric (``cka``, ``p_value`` or ``null_95th``);
    the rows against the input references are not part of the layer × layer matrix."""
    rows = summary[
        (summary["analysis"] == "cka")
        & (summary["metric"] == metric)
        & (summary["model"] == model_a)
        & (summary["other_model"] == model_b)
        & (summary["variant"] == variant)
    ]
    return without_references(rows)


def significance_matrix(
    summary: pd.DataFrame, model_a: str, model_b: str, variant: str, shape, alpha: float = 0.05
) -> np.ndarray | None:
    """``(La, Lb)`` bool: CKA above its time-shift null (``p_value <= alpha``), or ``None``
    when the table has no p-values for the pair."""
    rows = _pair_rows(summary, model_a, model_b, variant, "p_value")
    if rows.empty:
        return None
    marks = np.zeros(shape, dtype=bool)
    ok = (rows["layer"] < shape[0]) & (rows["other_layer"] < shape[1])
    rows = rows[ok]
    marks[rows["layer"].astype(int), rows["other_layer"].astype(int)] = (
        rows["value"].to_numpy(dtype=float) <= alpha
    )
    return marks


def _other_layer_names(summary: pd.DataFrame, model: str, n: int) -> list[str]:
    rows = summary[
        (summary["analysis"] == "cka") & (summary["metric"] == "cka") & (summary["model"] == model)
    ]
    rows = without_references(rows)
    names = rows.drop_duplicates("layer").sort_values("layer")["layer_name"].tolist()
    if len(names) != n:
        names = [""] * n
    return [short_layer_label(i, name) for i, name in enumerate(names)]


def plot_cka_heatmap(
    summary: pd.DataFrame, model_a: str, model_b: str, variants: tuple[str, ...] | None = None
) -> plt.Figure:
    """Heatmaps (one panel per CKA variant) of CKA between every layer of ``model_a`` and
    ``model_b``; ``*`` after a value: above its circular time-shift null (``p ≤ 0.05``, where
    the table has ``p_value`` rows)."""
    available = sorted(
        summary.loc[
            (summary["analysis"] == "cka")
            & (summary["metric"] == "cka")
            & (summary["model"] == model_a)
            & (summary["other_model"] == model_b),
            "variant",
        ].unique()
    )
    variants = tuple(v for v in (variants or ("linear", "debiased", "rbf")) if v in available)
    if not variants:
        raise ValueError(f"no CKA rows for {model_a} vs {model_b}")
    fig, axes = plt.subplots(
        1, len(variants), figsize=(4.2 * len(variants) + 0.6, 4.0), squeeze=False
    )
    for ax, variant in zip(axes[0], variants, strict=True):
        matrix, labels_a, labels_b = cka_matrix_from_summary(summary, model_a, model_b, variant)
        vmin = min(0.0, float(np.nanmin(matrix)))
        im = ax.imshow(matrix, vmin=vmin, vmax=1.0, cmap="magma", origin="upper", aspect="auto")
        ax.set_xticks(range(len(labels_b)), labels_b, rotation=60, ha="right", fontsize=7)
        ax.set_yticks(range(len(labels_a)), labels_a, fontsize=7)
        ax.set_xlabel(f"{model_b} layer")
        ax.set_ylabel(f"{model_a} layer")
        ax.set_title(f"{variant} CKA", fontsize=10)
        if matrix.size <= 100:
            marks = significance_matrix(summary, model_a, model_b, variant, matrix.shape)
            annotate_cells(ax, matrix, vmin, fontsize=6, marks=marks)
            if marks is not None:
                ax.text(
                    0.0,
                    -0.02,
                    "* p ≤ 0.05, time-shift null",
                    transform=ax.transAxes,
                    ha="left",
                    va="top",
                    fontsize=6,
                    color="0.3",
                )
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    fig.suptitle(f"CKA: {model_a} vs {model_b}", fontsize=11)
    fig.tight_layout()
    return fig


def corresponding_layer_table(
    summary: pd.DataFrame, groups: Mapping[str, str], variant: str = "linear"
) -> pd.DataFrame:
    """CKA of corresponding layers (layer i vs layer i) for every pair of distinct models.

    Only pairs with the same number of layers (and the same layer names where both
    are known) are used. Returns columns ``architecture`` (the layer-name sequence),
    ``group_pair`` ("A vs B", or "within A"), ``within`` (both models in one group),
    ``layer``, ``layer_name``, ``value``,
    ``ci_low``, ``ci_high`` (bootstrap interval) and ``p_value`` (time-shift null; NaN
    where not computed), one row per model pair and layer.
    """
    rows_v = without_references(
        summary[(summary["analysis"] == "cka") & (summary["variant"] == variant)]
    )
    cka = rows_v[rows_v["metric"] == "cka"]
    pvals = {
        (r.model, r.other_model, int(r.layer), int(r.other_layer)): float(r.value)
        for r in rows_v[rows_v["metric"] == "p_value"].itertuples(index=False)
    }
    n_layers = (
        pd.concat(
            [cka.groupby("model")["layer"].max(), cka.groupby("other_model")["other_layer"].max()]
        )
        .groupby(level=0)
        .max()
        .astype(int)
        .add(1)
        .to_dict()
    )
    names = (
        cka.drop_duplicates(["model", "layer"])
        .sort_values(["model", "layer"])
        .groupby("model")["layer_name"]
        .agg(tuple)
        .to_dict()
    )
    pairs = cka[(cka["model"] != cka["other_model"]) & (cka["layer"] == cka["other_layer"])]
    rows = []
    for r in pairs.itertuples(index=False):
        seq_a, seq_b = names.get(r.model), names.get(r.other_model)
        if n_layers[r.model] != n_layers[r.other_model] or (seq_a and seq_b and seq_a != seq_b):
            continue
        ga, gb = groups.get(r.model, r.model), groups.get(r.other_model, r.other_model)
        label = f"within {ga}" if ga == gb else " vs ".join(sorted((ga, gb)))
        rows.append(
            {
                "architecture": " → ".join(seq_a or seq_b or ()) or f"{n_layers[r.model]} layers",
                "group_pair": label,
                "within": ga == gb,
                "layer": int(r.layer),
                "layer_name": r.layer_name,
                "value": r.value,
                "ci_low": r.ci_low,
                "ci_high": r.ci_high,
                "p_value": pvals.get(
                    (r.model, r.other_model, int(r.layer), int(r.other_layer)), np.nan
                ),
            }
        )
    columns = ["architecture", "group_pair", "within", "layer", "layer_name", "value"]
    return pd.DataFrame(rows, columns=columns + ["ci_low", "ci_high", "p_value"])


def plot_corresponding_layers(
    summary: pd.DataFrame,
    groups: Mapping[str, str],
    variant: str = "linear",
    max_lines: int = 12,
) -> plt.Figure:
    """CKA of corresponding layers across depth, one panel per architecture depth and one
    line per group pair (mean over model pairs). Band: the range over model pairs of their
    block-bootstrap intervals (``ci_low``…``ci_high``) when the table has them, else the
    range of the values. Star: every model pair of the line is above its circular
    time-shift null at that layer (``p ≤ 0.05``). Solid: pairs within a group (same
    configuration, different seeds); dashed: pairs across groups. A panel with more than
    ``max_lines`` group pairs (many groups) pools them into "within groups" and "between
    groups"."""
    table = corresponding_layer_table(summary, groups, variant)
    if table.empty:
        fig, ax = plt.subplots(figsize=(6.0, 2.0))
        ax.text(
            0.5,
            0.5,
            "no pairs of distinct models with the same layers",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
        ax.set_axis_off()
        return fig
    with_ci = bool(np.isfinite(table["ci_low"].to_numpy(dtype=float)).any())
    with_p = bool(np.isfinite(table["p_value"].to_numpy(dtype=float)).any())
    archs = sorted(table["architecture"].unique(), key=lambda a: (a.count("→"), a))
    fig, axes = plt.subplots(
        1, len(archs), figsize=(6.5 * len(archs), 5.2), squeeze=False, layout="constrained"
    )
    for ax, arch in zip(axes[0], archs, strict=True):
        part_arch = table[table["architecture"] == arch]
        if part_arch["group_pair"].nunique() > max_lines:
            pooled = np.where(part_arch["within"], "within groups", "between groups")
            part_arch = part_arch.assign(group_pair=pooled)
        for label, part in sorted(part_arch.groupby("group_pair"), key=lambda kv: kv[0]):
            stats = part.groupby("layer").agg(
                mean=("value", "mean"),
                low=("ci_low" if with_ci else "value", "min"),
                high=("ci_high" if with_ci else "value", "max"),
                p_max=("p_value", lambda p: p.max() if p.notna().all() else np.nan),
            )
            stats = stats.sort_index()
            n_pairs = int(part.groupby("layer").size().iloc[0])
            style = "-" if part["within"].iloc[0] else "--"
            (line,) = ax.plot(
                stats.index, stats["mean"], style, marker="o", label=f"{label} ({n_pairs} pairs)"
            )
            ax.fill_between(
                stats.index, stats["low"], stats["high"], color=line.get_color(), alpha=0.15
            )
            significant = stats[stats["p_max"] <= 0.05]
            if len(significant):
                ax.plot(
                    significant.index,
                    significant["mean"],
                    linestyle="none",
                    marker="*",
                    markersize=11,
                    color=line.get_color(),
                    markeredgecolor="black",
                    markeredgewidth=0.5,
                    gid=f"{label}|significant",
                )
        names = part_arch.drop_duplicates("layer").sort_values("layer")
        ax.set_xticks(
            names["layer"],
            [
                short_layer_label(i, n)
                for i, n in zip(names["layer"], names["layer_name"], strict=True)
            ],
            rotation=30,
            ha="right",
            fontsize=8,
        )
        lowest = table["ci_low" if with_ci else "value"].min()
        ax.set_ylim(min(0.0, float(lowest) - 0.05), 1.02)
        ax.set_xlabel("layer")
        ax.set_ylabel(f"{variant} CKA, layer i vs layer i")
        ax.set_title(f"{len(names)}-layer models", fontsize=10)
        # below the axes: inside, the legend covered the lines of the deep layers
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.3), ncols=2)
    band = "range of the pairs' bootstrap intervals" if with_ci else "range"
    star = "; ★ all pairs p ≤ 0.05 (time-shift null)" if with_p else ""
    fig.suptitle(
        f"CKA of corresponding layers (line = mean over model pairs, band = {band}{star})",
        fontsize=11,
    )
    return fig
