"""Attribution figures: latent × neuron maps per method, AUC and time per method."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from cebra_lens_core.plots.common import annotate_cells

#: display order and short titles of the methods
_TITLES = {
    "jacobian": "Jacobian",
    "jacobian_inv_lsq": "pseudo-inverse (lstsq)",
    "jacobian_inv_svd": "pseudo-inverse (SVD)",
    "neuron_gradient": "neuron gradient",
    "feature_ablation": "feature ablation",
    "integrated_gradients": "integrated gradients",
    "gradient_shap": "gradient SHAP",
}


def _methods(arrays: Mapping[str, np.ndarray]) -> list[str]:
    found = [k[4:] for k in arrays if k.startswith("map/") and not k.endswith("_signed")]
    return sorted(found, key=lambda m: (list(_TITLES).index(m) if m in _TITLES else 99, m))


def plot_attribution_maps(arrays: Mapping[str, np.ndarray], model: str) -> plt.Figure:
    """One heatmap per method of the mean |attribution| (rows: latents or embedding
    dimensions, columns: neurons), each scaled to its own maximum; with a ground truth its
    map comes first and neurons are ordered driven-first so both can be compared by eye."""
    methods = _methods(arrays)
    if not methods:
        raise ValueError(f"no attribution maps stored for {model}")
    truth = arrays.get("ground_truth")
    rows = [str(r) for r in arrays.get("row_names", [])]
    n_neurons = arrays[f"map/{methods[0]}"].shape[1]
    order = np.arange(n_neurons)
    if truth is not None:
        order = np.lexsort((np.arange(n_neurons), -truth.astype(int).sum(axis=0)))
    panels = ([("ground truth", truth.astype(float))] if truth is not None else []) + [
        (_TITLES.get(m, m), arrays[f"map/{m}"]) for m in methods
    ]
    fig, axes = plt.subplots(
        len(panels),
        1,
        figsize=(min(14, 3 + 0.12 * n_neurons), 1.0 + 1.1 * len(panels)),
        squeeze=False,
        sharex=True,
    )
    for ax, (title, matrix) in zip(axes[:, 0], panels, strict=True):
        m = np.abs(matrix[:, order])
        scale = np.nanmax(m) if np.isfinite(m).any() and np.nanmax(m) > 0 else 1.0
        ax.imshow(
            m / scale,
            aspect="auto",
            cmap="Greys" if title == "ground truth" else "viridis",
            vmin=0,
            vmax=1,
            interpolation="nearest",
        )
        ax.set_yticks(
            range(m.shape[0]), rows if len(rows) == m.shape[0] else range(m.shape[0]), fontsize=7
        )
        ax.set_title(title, fontsize=9, loc="left")
    axes[-1, 0].set_xlabel("neuron" + (" (driven neurons first)" if truth is not None else ""))
    fig.suptitle(
        f"{model}: mean |attribution| per method (each panel scaled to its maximum)", fontsize=10
    )
    fig.tight_layout()
    return fig


def plot_attribution_summary(summary: pd.DataFrame) -> plt.Figure:
    """Left (with a ground truth): ROC-AUC per method (bars: mean over models, dots: models;
    level ``entries`` when maps are aligned to latents, else ``neuron_max``). Right: how much
    the methods agree (Spearman correlation of their |maps|, mean over models)."""
    att = summary[summary["analysis"] == "attribution"]
    if att.empty:
        raise ValueError("no rows with analysis 'attribution' in the results table")
    auc = att[att["metric"] == "auc"]
    level = ""
    if not auc.empty:
        level = "entries" if (auc["label"] == "entries").any() else "neuron_max"
        auc = auc[auc["label"] == level]
    agreement = att[att["metric"] == "method_agreement"]
    order = lambda ms: sorted(ms, key=lambda m: (list(_TITLES).index(m) if m in _TITLES else 99, m))  # noqa: E731
    panels = (["auc"] if not auc.empty else []) + (["agreement"] if not agreement.empty else [])
    if not panels:
        raise ValueError("no attribution AUC or method-agreement rows in the results table")
    fig, axes = plt.subplots(1, len(panels), figsize=(6.0 * len(panels), 4.6), squeeze=False)
    for ax, panel in zip(axes[0], panels, strict=True):
        if panel == "auc":
            methods = order(auc["variant"].unique())
            x = np.arange(len(methods))
            ax.bar(
                x,
                [auc.loc[auc["variant"] == m, "value"].mean() for m in methods],
                color="tab:blue",
                alpha=0.6,
            )
            for i, m in enumerate(methods):
                values = auc.loc[auc["variant"] == m, "value"].to_numpy()
                ax.plot(
                    np.full(values.size, i) + np.linspace(-0.15, 0.15, values.size),
                    values,
                    "k.",
                    ms=4,
                )
            ax.axhline(0.5, color="grey", ls=":", lw=1)
            ax.set_ylim(0, 1.02)
            ax.set_xticks(
                x, [_TITLES.get(m, m) for m in methods], rotation=30, ha="right", fontsize=8
            )
            ax.set_ylabel(f"ROC-AUC vs ground truth ({level})")
            ax.set_title("How well each method finds the driving neurons", fontsize=10)
        else:
            methods = order(set(agreement["variant"]) | set(agreement["label"]))
            mean = agreement.groupby(["variant", "label"])["value"].mean()
            matrix = np.array(
                [[1.0 if a == b else mean.get((a, b), np.nan) for b in methods] for a in methods]
            )
            im = ax.imshow(matrix, vmin=-1, vmax=1, cmap="RdBu_r")
            names = [_TITLES.get(m, m) for m in methods]
            ax.set_xticks(range(len(methods)), names, rotation=30, ha="right", fontsize=8)
            ax.set_yticks(range(len(methods)), names, fontsize=8)
            annotate_cells(ax, matrix, -1.0, 1.0)
            fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="Spearman ρ of |maps|")
            ax.set_title("Agreement between methods (mean over models)", fontsize=10)
    fig.tight_layout()
    return fig


def training_name(settings: Mapping) -> str:
    """How a model was trained, from its model-sheet row: ``xCEBRA, λ=0.1`` (λ: the Jacobian
    regulariser weight; ``λ=0``: unregularised) or ``CEBRA-<conditional>``."""
    conditional = str(settings.get("conditional") or "")
    if conditional == "xcebra":
        weight = settings.get("regularizer_weight")
        weight = 0.0 if weight is None or pd.isna(weight) else float(weight)
        return f"xCEBRA, λ={weight:g}"
    return f"CEBRA-{conditional.capitalize()}" if conditional else "loaded model"


def attribution_by_training(summary: pd.DataFrame, models: Mapping[str, Mapping]) -> pd.DataFrame:
    """Per-part attribution AUC of every model, averaged over seeds per training.

    Reads rows ``analysis=attribution, metric=auc`` whose ``label`` is ``<part>:<level>``
    (part-wise scores, :func:`cebra_lens_core.analyses.attribution.attribution_analysis`),
    level ``entries`` (``neuron_max`` where a part has no entry-level rows). For each
    training (:func:`training_name` of the model sheet row), part, level and method:
    ``mean`` over models (seeds), ``sd``, ``n`` and the 95 % Student-t interval
    ``mean ± t_{0.975, n−1} · sd / √n`` (``ci_low``/``ci_high``, NaN for ``n = 1``), and
    ``values`` (the per-model AUCs, ``;``-joined).
    """
    # deferred: scipy, loaded only on this path
    from scipy.stats import t as student_t

    auc = summary[(summary["analysis"] == "attribution") & (summary["metric"] == "auc")]
    auc = auc[auc["label"].astype(str).str.contains(":")]
    columns = ["training", "part", "level", "method", "mean", "sd", "n", "ci_low", "ci_high"]
    if auc.empty:
        return pd.DataFrame(columns=[*columns, "values"])
    auc = auc.assign(
        part=auc["label"].str.split(":").str[0],
        level=auc["label"].str.split(":").str[1],
        training=[training_name(models.get(m, {})) for m in auc["model"]],
    )
    keep = []
    for _, part in auc.groupby("part"):
        level = "entries" if (part["level"] == "entries").any() else "neuron_max"
        keep.append(part[part["level"] == level])
    rows = []
    for (training, part, level, method), g in pd.concat(keep).groupby(
        ["training", "part", "level", "variant"]
    ):
        values = g.sort_values("model")["value"].to_numpy(dtype=float)
        n = values.size
        mean = float(values.mean())
        sd = float(values.std(ddof=1)) if n > 1 else float("nan")
        half = float(student_t.ppf(0.975, n - 1) * sd / np.sqrt(n)) if n > 1 else float("nan")
        rows.append(
            {
                "training": training,
                "part": part,
                "level": level,
                "method": method,
                "mean": mean,
                "sd": sd,
                "n": n,
                "ci_low": mean - half,
                "ci_high": mean + half,
                "values": ";".join(f"{v:.4f}" for v in values),
            }
        )
    return pd.DataFrame(rows)


def plot_attribution_regularisation(table: pd.DataFrame) -> plt.Figure:
    """ROC-AUC of each attribution method against the ground truth, by training (bars:
    mean over seeds, error bars: 95 % t-interval, dots: seeds), one panel per embedding part
    (the paper's headline figure: regularised vs unregularised training).

    Args:
        table: :func:`attribution_by_training`.
    """
    if table.empty:
        fig, ax = plt.subplots(figsize=(6, 3))
        ax.text(0.5, 0.5, "no part-wise attribution scores", ha="center", va="center")
        ax.set_axis_off()
        return fig
    parts = sorted(table["part"].unique(), key=lambda p: (p != "behavior", p))
    trainings = sorted(table["training"].unique())
    methods = sorted(
        table["method"].unique(),
        key=lambda m: (list(_TITLES).index(m) if m in _TITLES else 99, m),
    )
    colours = plt.get_cmap("tab10")
    width = 0.8 / max(len(trainings), 1)
    fig, axes = plt.subplots(1, len(parts), figsize=(6.2 * len(parts), 4.6), squeeze=False)
    for ax, part in zip(axes[0], parts, strict=True):
        rows = table[table["part"] == part]
        for j, training in enumerate(trainings):
            for i, method in enumerate(methods):
                r = rows[(rows["training"] == training) & (rows["method"] == method)]
                if r.empty:
                    continue
                r = r.iloc[0]
                x = i + (j - (len(trainings) - 1) / 2) * width
                err = None
                if np.isfinite(r["ci_low"]):
                    err = [[r["mean"] - r["ci_low"]], [r["ci_high"] - r["mean"]]]
                ax.bar(
                    x,
                    r["mean"],
                    width,
                    yerr=err,
                    color=colours(j),
                    alpha=0.75,
                    capsize=2,
                    label=training if i == 0 else None,
                )
                seeds = [float(v) for v in str(r["values"]).split(";") if v]
                ax.plot(np.full(len(seeds), x), seeds, "k.", ms=3)
        ax.axhline(0.5, color="grey", ls=":", lw=1)
        ax.set_ylim(0, 1.02)
        ax.set_xticks(
            range(len(methods)),
            [_TITLES.get(m, m) for m in methods],
            rotation=30,
            ha="right",
            fontsize=8,
        )
        level = rows["level"].iloc[0] if len(rows) else ""
        ax.set_ylabel(f"ROC-AUC vs ground truth ({level})")
        ax.set_title(f"{part} latents", fontsize=10)
        ax.legend(fontsize=7, loc="lower right")
    fig.suptitle("Attribution by training: does the Jacobian regulariser help?", fontsize=11)
    fig.tight_layout()
    return fig
