"""Figures that compare models by their settings: output dimension, architecture, temperature,
baselines (PCA ...), and hypotheses (which labels a model is trained with).

Every score is read from the results table at each model's last layer (the embedding):
decoding ``r2`` of the continuous labels on the test split, averaged over the labels chosen
(``labels``; default every continuous label decoded), per decoder (``ridge``, ``knn``).
``models`` maps each store to its row of the model sheet (``results/models.tsv``,
:func:`cebra_lens_core.results.read_model_sheet`): ``method`` (cebra, pca ...), sweep settings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from cebra_lens_core.plots.common import without_references

DECODERS = ("ridge", "knn")
_DECODER_STYLE = {"ridge": ("-", "o"), "knn": ("--", "s")}
_BASELINE_COLOURS = {"pca": "0.45", "tsne": "tab:brown", "umap": "tab:pink"}
_BASELINE_NAMES = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}


def embedding_scores(
    summary: pd.DataFrame, models: Mapping[str, Mapping], labels: Sequence[str] = ()
) -> pd.DataFrame:
    """Test-split decoding R² of each store's embedding layer, one row per store × decoder.

    ``r2 = mean over the chosen labels of the label's R²`` (rows ``analysis=decoding,
    metric=r2``, not shuffled, at the store's highest layer index). Columns: ``store``,
    ``decoder``, ``r2`` and every setting in ``models[store]``.
    """
    rows = summary[(summary["analysis"] == "decoding") & (summary["metric"] == "r2")]
    rows = without_references(rows[rows["variant"].isin(DECODERS)])
    if labels:
        rows = rows[rows["label"].isin(list(labels))]
    out = []
    for store, part in rows.groupby("model"):
        if store not in models:
            continue
        top = part[part["layer"] == part["layer"].max()]
        for decoder, d in top.groupby("variant"):
            settings = {k: v for k, v in models[store].items() if k != "store"}
            out.append({"store": store, "decoder": decoder, "r2": d["value"].mean(), **settings})
    return pd.DataFrame(out)


def _datasets(scores: pd.DataFrame) -> list[str]:
    return sorted(scores["dataset"].unique()) if len(scores) else []


def _panels(n: int, width: float = 3.6, height: float = 3.0) -> tuple[plt.Figure, np.ndarray]:
    fig, axes = plt.subplots(1, max(n, 1), figsize=(width * max(n, 1), height), squeeze=False)
    return fig, axes[0]


def _empty(fig: plt.Figure, axes: np.ndarray, what: str) -> plt.Figure:
    axes[0].text(0.5, 0.5, f"no {what} in this run", ha="center", va="center")
    axes[0].set_axis_off()
    return fig


def _sweep(scores: pd.DataFrame, setting: str) -> pd.DataFrame:
    """CEBRA rows of sweeps over ``setting``: the sweep's base model and its variants."""
    if not len(scores):
        return scores
    cebra = scores[(scores["method"] == "cebra") & (scores["sweep_base"] != "")]
    keep = cebra["varied"].map(lambda v: not v or setting in v)
    return cebra[keep]


def _averaged(part: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Mean R² (and min/max over seeds and sessions) per ``by``."""
    return part.groupby(list(by), dropna=False)["r2"].agg(["mean", "min", "max"]).reset_index()


def _sweep_label(name: str, decoder: str, *, baseline: bool, named: bool) -> str:
    """Legend entry of one sweep line: ``PCA (ridge)``, ``CEBRA (knn)``, or with several CEBRA
    sweeps on one dataset ``CEBRA circle_behavior (knn)`` (the sweep's model name)."""
    if baseline:
        return f"{_BASELINE_NAMES.get(name, name)} ({decoder})"
    return f"CEBRA {name} ({decoder})" if named else f"CEBRA ({decoder})"


def plot_dimension_sweep(scores: pd.DataFrame) -> plt.Figure:
    """R² of the embedding vs output dimension, one panel per dataset; CEBRA sweeps in colour
    (ridge solid, kNN dashed), baselines of the same dimension in grey."""
    sweep = _sweep(scores, "output_dimension")
    baselines = scores[scores["method"] != "cebra"] if len(scores) else scores
    datasets = sorted(set(_datasets(sweep)) | set(_datasets(baselines)))
    fig, axes = _panels(len(datasets))
    if not datasets:
        return _empty(fig, axes, "output-dimension sweep")
    for ax, dataset in zip(axes, datasets, strict=False):
        for source, colour_of in ((sweep, None), (baselines, _BASELINE_COLOURS)):
            part = source[source["dataset"] == dataset]
            key = "sweep_base" if colour_of is None else "method"
            several = part[key].nunique() > 1
            for (name, decoder), d in _averaged(part, [key, "decoder", "output_dimension"]).groupby(
                [key, "decoder"]
            ):
                d = d.sort_values("output_dimension")
                linestyle, marker = _DECODER_STYLE[decoder]
                colour = None if colour_of is None else colour_of.get(name, "0.3")
                ax.plot(
                    d["output_dimension"],
                    d["mean"],
                    linestyle=linestyle,
                    marker=marker,
                    color=colour,
                    label=_sweep_label(
                        name, decoder, baseline=colour_of is not None, named=several
                    ),
                )
                ax.fill_between(d["output_dimension"], d["min"], d["max"], alpha=0.12, color=colour)
        ax.set_title(dataset)
        ax.set_xlabel("output dimension")
        ax.set_ylim(min(-0.05, ax.get_ylim()[0]), 1.02)
        ax.axhline(0, color="0.8", lw=0.6, zorder=0)
    axes[0].set_ylabel("test R² of true latents (embedding)")
    axes[-1].legend(fontsize=6, loc="lower right")
    fig.tight_layout()
    return fig


def plot_architecture_sweep(scores: pd.DataFrame) -> plt.Figure:
    """R² of the embedding per architecture (bars: ridge, kNN), one panel per dataset."""
    sweep = _sweep(scores, "architecture")
    datasets = _datasets(sweep)
    fig, axes = _panels(len(datasets), width=max(3.6, 0.5 * sweep["architecture"].nunique() + 1.5))
    if not datasets:
        return _empty(fig, axes, "architecture sweep")
    for ax, dataset in zip(axes, datasets, strict=False):
        avg = _averaged(sweep[sweep["dataset"] == dataset], ["architecture", "decoder"])
        archs = sorted(avg["architecture"].unique())
        x = np.arange(len(archs))
        for j, decoder in enumerate(DECODERS):
            d = avg[avg["decoder"] == decoder].set_index("architecture").reindex(archs)
            ax.bar(x + (j - 0.5) * 0.38, d["mean"], width=0.38, label=decoder)
        ax.set_xticks(x, archs, rotation=60, ha="right", fontsize=7)
        ax.set_title(dataset)
        ax.set_ylim(min(0.0, np.nanmin(avg["mean"]) - 0.05), 1.02)
    axes[0].set_ylabel("test R² of true latents (embedding)")
    axes[-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    return fig


def plot_temperature_sweep(scores: pd.DataFrame) -> plt.Figure:
    """R² vs (fixed) temperature, one panel per dataset; learnable-temperature models as a
    star at their initial temperature."""
    sweep = pd.concat([_sweep(scores, "temperature"), _sweep(scores, "temperature_mode")])
    sweep = sweep.drop_duplicates(subset=["store", "decoder"]) if len(sweep) else sweep
    datasets = _datasets(sweep)
    fig, axes = _panels(len(datasets))
    if not datasets:
        return _empty(fig, axes, "temperature sweep")
    for ax, dataset in zip(axes, datasets, strict=False):
        part = sweep[sweep["dataset"] == dataset]
        for decoder in DECODERS:
            linestyle, marker = _DECODER_STYLE[decoder]
            fixed = _averaged(
                part[(part["temperature_mode"] == "constant") & (part["decoder"] == decoder)],
                ["temperature"],
            ).sort_values("temperature")
            (line,) = ax.plot(
                fixed["temperature"],
                fixed["mean"],
                linestyle=linestyle,
                marker=marker,
                label=f"fixed ({decoder})",
            )
            learned = part[(part["temperature_mode"] == "auto") & (part["decoder"] == decoder)]
            if len(learned):
                ax.scatter(
                    learned["temperature"],
                    learned["r2"],
                    marker="*",
                    s=120,
                    color=line.get_color(),
                    label=f"learnable ({decoder})",
                    zorder=3,
                )
        ax.set_xscale("log")
        ax.set_title(dataset)
        ax.set_xlabel("temperature (learnable: initial value)")
        ax.set_ylim(min(-0.05, ax.get_ylim()[0]), 1.02)
    axes[0].set_ylabel("test R² of true latents (embedding)")
    axes[-1].legend(fontsize=6)
    fig.tight_layout()
    return fig


def plot_baseline_embeddings(
    embeddings: Mapping[str, Mapping[str, np.ndarray]], models: Mapping[str, Mapping]
) -> plt.Figure:
    """Per dataset: the first CEBRA model's embedding beside each baseline of the same output
    dimension (first two dimensions, coloured by the first label)."""
    rows = []
    for dataset in sorted({m["dataset"] for m in models.values()}):
        here = [s for s, m in models.items() if m["dataset"] == dataset and s in embeddings]
        cebra = [s for s in here if models[s]["method"] == "cebra"]
        if not cebra:
            continue
        dim = models[cebra[0]].get("output_dimension")
        baselines = [
            s
            for s in here
            if models[s]["method"] != "cebra" and models[s].get("output_dimension") == dim
        ]
        rows.append([cebra[0], *baselines])
    n_cols = max((len(r) for r in rows), default=1)
    fig, axes = plt.subplots(
        max(len(rows), 1), n_cols, figsize=(3.2 * n_cols, 3.0 * max(len(rows), 1)), squeeze=False
    )
    for ax in axes.ravel():
        ax.set_axis_off()
    for i, row in enumerate(rows):
        for j, store in enumerate(row):
            arrays = embeddings[store]
            emb = np.asarray(arrays["embedding"])
            colour_keys = sorted(k for k in arrays if k.startswith("label/"))
            colour = np.asarray(arrays[colour_keys[0]]) if colour_keys else None
            xy = emb[:, :2] if emb.shape[1] >= 2 else np.c_[np.arange(len(emb)), emb[:, 0]]
            ax = axes[i, j]
            ax.set_axis_on()
            ax.scatter(xy[:, 0], xy[:, 1], c=colour, s=3, cmap="viridis", linewidths=0)
            model = models[store]
            ax.set_title(
                f"{store}\n{model['method']}, d={model.get('output_dimension')}", fontsize=8
            )
            ax.set_xticks([])
            ax.set_yticks([])
    if not rows:
        axes[0, 0].text(0.5, 0.5, "no CEBRA model with a baseline", ha="center")
    fig.tight_layout()
    return fig


def plot_hypothesis(summary: pd.DataFrame, models: Mapping[str, Mapping]) -> plt.Figure:
    """Which labels are encoded: per model, the test-split goodness of fit (bits) and the
    embedding's test decoding score per label (R² for continuous, accuracy for discrete);
    shuffled controls hatched."""
    stores = [s for s in models if models[s]["method"] == "cebra"]
    gof = summary[
        (summary["analysis"] == "goodness_of_fit")
        & (summary["metric"] == "goodness_of_fit_bits")
        & (summary["variant"] == "test")
    ]
    dec = without_references(
        summary[
            (summary["analysis"] == "decoding")
            & (summary["variant"] == "ridge")
            & summary["metric"].isin(["r2", "accuracy"])
        ]
    )
    fig, axes = plt.subplots(1, 2, figsize=(max(7.0, 0.9 * len(stores) + 3), 3.4))
    x = np.arange(len(stores))
    hatches = ["//" if models[s].get("control", "none") != "none" else "" for s in stores]
    bits = [gof.loc[gof["model"] == models[s]["model"], "value"].mean() for s in stores]
    axes[0].bar(x, bits, hatch=hatches, color="tab:blue", edgecolor="white")
    axes[0].set_ylabel("goodness of fit, test (bits)")
    labels = sorted(dec["label"].unique())
    width = 0.8 / max(len(labels), 1)
    for j, label in enumerate(labels):
        values = []
        for s in stores:
            d = dec[(dec["model"] == s) & (dec["label"] == label)]
            values.append(
                d.loc[d["layer"] == d["layer"].max(), "value"].mean() if len(d) else np.nan
            )
        metric = dec.loc[dec["label"] == label, "metric"].iloc[0]
        axes[1].bar(
            x + (j - (len(labels) - 1) / 2) * width, values, width, label=f"{label} ({metric})"
        )
    axes[1].set_ylabel("test decoding from the embedding")
    axes[1].legend(fontsize=7)
    for ax in axes:
        ax.set_xticks(x, stores, rotation=60, ha="right", fontsize=7)
        ax.axhline(0, color="0.6", lw=0.6)
    fig.tight_layout()
    return fig
