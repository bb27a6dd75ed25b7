"""Comparison figures: the scores they read from the results table and what the sweep plots draw."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from cebra_lens_core.plots import comparison


def _settings(dataset: str, kind: str, dim: int, sweep_base: str) -> dict:
    """A model-sheet row (only the columns the comparison figures read)."""
    return {
        "model": f"{sweep_base}_d{dim}",
        "dataset": dataset,
        "method": kind,
        "kind": "trained" if kind == "cebra" else "baseline",
        "output_dimension": dim,
        "sweep_base": sweep_base if kind == "cebra" else "",
        "varied": {"output_dimension": dim} if kind == "cebra" else {},
    }


def _decoding_rows(store: str, dataset: str, r2_by_layer: dict[int, dict]) -> list[dict]:
    """``r2_by_layer[layer][(label, decoder)] = value`` as rows of the results table."""
    rows = []
    for layer, values in r2_by_layer.items():
        for (label, decoder), value in values.items():
            rows.append(
                dict(analysis="decoding", dataset=dataset, model=store, layer=layer, metric="r2")
                | dict(label=label, variant=decoder, value=value)
            )
        rows.append(  # other metrics of the same layer must be ignored
            dict(analysis="decoding", dataset=dataset, model=store, layer=layer, metric="alpha")
            | dict(label="x", variant="ridge", value=100.0)
        )
    return rows


def _table() -> tuple[pd.DataFrame, dict]:
    rng = np.random.default_rng(0)
    models, rows = {}, []
    for kind, base in (("cebra", "circle"), ("pca", "circle_pca")):
        for dim in (1, 2, 3):
            store = f"{base}_d{dim}"
            models[store] = _settings("circle", kind, dim, base)
            layers = {0: {}} if kind == "pca" else {0: {}, 1: {}, 2: {}}
            for layer in layers:
                for label in ("x", "y"):
                    for decoder in ("ridge", "knn"):
                        layers[layer][(label, decoder)] = float(rng.uniform())
            rows += _decoding_rows(store, "circle", layers)
    return pd.DataFrame(rows), models


def test_embedding_scores_average_the_labels_at_the_last_layer():
    summary, models = _table()
    scores = comparison.embedding_scores(summary, models)
    assert len(scores) == 6 * 2  # stores x decoders
    r2 = summary[summary["metric"] == "r2"]
    for _, row in scores.iterrows():
        mine = r2[(r2["model"] == row["store"]) & (r2["variant"] == row["decoder"])]
        top = mine[mine["layer"] == mine["layer"].max()]
        assert row["r2"] == pytest.approx(top["value"].mean(), abs=1e-15)
        assert row["output_dimension"] == models[row["store"]]["output_dimension"]

    only_x = comparison.embedding_scores(summary, models, labels=["x"])
    one = only_x[(only_x["store"] == "circle_d3") & (only_x["decoder"] == "knn")]["r2"].item()
    want = r2[(r2["model"] == "circle_d3") & (r2["variant"] == "knn") & (r2["label"] == "x")]
    assert one == pytest.approx(want[want["layer"] == 2]["value"].item(), abs=1e-15)


def test_stores_missing_from_the_model_list_are_left_out():
    summary, models = _table()
    del models["circle_d2"]
    assert "circle_d2" not in set(comparison.embedding_scores(summary, models)["store"])


def test_dimension_sweep_draws_each_score_with_a_readable_legend():
    summary, models = _table()
    scores = comparison.embedding_scores(summary, models)
    fig = comparison.plot_dimension_sweep(scores)
    try:
        lines = {
            line.get_label(): line
            for line in fig.axes[0].get_lines()
            if not line.get_label().startswith("_")  # the R² = 0 guide line
        }
        assert set(lines) == {"CEBRA (ridge)", "CEBRA (knn)", "PCA (ridge)", "PCA (knn)"}
        for label, (kind, decoder) in {
            "CEBRA (knn)": ("cebra", "knn"),
            "PCA (ridge)": ("pca", "ridge"),
        }.items():
            want = scores[(scores["method"] == kind) & (scores["decoder"] == decoder)]
            want = want.sort_values("output_dimension")
            np.testing.assert_array_equal(lines[label].get_xdata(), [1, 2, 3])
            np.testing.assert_allclose(lines[label].get_ydata(), want["r2"], atol=1e-15)
    finally:
        plt.close(fig)


def test_several_cebra_sweeps_on_one_dataset_are_named():
    summary, models = _table()
    extra, more = [], {}
    for dim in (1, 2):
        store = f"circle_behavior_d{dim}"
        more[store] = _settings("circle", "cebra", dim, "circle_behavior")
        extra += _decoding_rows(store, "circle", {0: {("x", "ridge"): 0.5, ("x", "knn"): 0.6}})
    scores = comparison.embedding_scores(pd.concat([summary, pd.DataFrame(extra)]), models | more)
    fig = comparison.plot_dimension_sweep(scores)
    try:
        labels = {line.get_label() for line in fig.axes[0].get_lines()}
        assert {"CEBRA circle (ridge)", "CEBRA circle_behavior (knn)"} <= labels
    finally:
        plt.close(fig)
