"""The xCEBRA benchmark figure and table (attribution AUC by training and part) and the
per-part training curves."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from scipy import stats  # noqa: E402

from cebra_lens_core.plots.attribution import (  # noqa: E402
    attribution_by_training,
    plot_attribution_regularisation,
    training_name,
)
from cebra_lens_core.plots.training import plot_training_loss  # noqa: E402

MODELS = {
    "reg_seed0": {"conditional": "xcebra", "regularizer_weight": 0.1},
    "reg_seed1": {"conditional": "xcebra", "regularizer_weight": 0.1},
    "reg_seed2": {"conditional": "xcebra", "regularizer_weight": 0.1},
    "plain_seed0": {"conditional": "xcebra", "regularizer_weight": 0.0},
    "behaviour_seed0": {"conditional": "behavior", "regularizer_weight": None},
}


def _summary() -> pd.DataFrame:
    rows = []
    values = {"reg_seed0": 0.9, "reg_seed1": 0.8, "reg_seed2": 0.95, "plain_seed0": 0.6}
    values["behaviour_seed0"] = 0.7
    for model, v in values.items():
        for label, offset in (
            ("behavior:entries", 0.0),
            ("time:entries", -0.1),
            ("behavior:neuron_max", 0.5),
            ("entries", 0.5),
        ):
            rows.append(
                {
                    "analysis": "attribution",
                    "model": model,
                    "metric": "auc",
                    "label": label,
                    "variant": "jacobian",
                    "value": v + offset,
                }
            )
        rows.append({**rows[-1], "metric": "gap_minmax", "label": "behavior:entries"})
    return pd.DataFrame(rows)


def test_training_names_come_from_the_model_sheet():
    assert training_name(MODELS["reg_seed0"]) == "xCEBRA, λ=0.1"
    assert training_name(MODELS["plain_seed0"]) == "xCEBRA, λ=0"
    assert training_name(MODELS["behaviour_seed0"]) == "CEBRA-Behavior"
    assert training_name({}) == "loaded model"


def test_table_means_and_t_intervals_over_seeds():
    table = attribution_by_training(_summary(), MODELS)
    assert set(table["part"]) == {"behavior", "time"} and set(table["level"]) == {"entries"}
    reg = table[(table["training"] == "xCEBRA, λ=0.1") & (table["part"] == "behavior")].iloc[0]
    values = np.array([0.9, 0.8, 0.95])
    half = stats.t.ppf(0.975, 2) * values.std(ddof=1) / np.sqrt(3)
    assert reg["n"] == 3 and reg["mean"] == pytest.approx(values.mean())
    assert reg["ci_low"] == pytest.approx(values.mean() - half)
    assert reg["ci_high"] == pytest.approx(values.mean() + half)
    assert reg["values"] == "0.9000;0.8000;0.9500"
    time = table[(table["training"] == "xCEBRA, λ=0.1") & (table["part"] == "time")].iloc[0]
    assert time["mean"] == pytest.approx(values.mean() - 0.1)
    single = table[table["training"] == "xCEBRA, λ=0"].iloc[0]
    assert single["n"] == 1 and np.isnan(single["ci_low"])
    # whole-map rows (no part) are not part of the comparison
    assert len(table) == 3 * 2


def test_figure_has_a_panel_per_part_and_a_bar_per_training():
    table = attribution_by_training(_summary(), MODELS)
    fig = plot_attribution_regularisation(table)
    axes = fig.axes
    assert [ax.get_title() for ax in axes] == ["behavior latents", "time latents"]
    heights = sorted(round(p.get_height(), 4) for p in axes[0].patches)
    assert heights == sorted(round(h, 4) for h in (0.6, 0.7, np.mean([0.9, 0.8, 0.95])))
    plt.close(fig)
    empty = plot_attribution_regularisation(
        attribution_by_training(
            pd.DataFrame(columns=["analysis", "model", "metric", "label", "variant", "value"]),
            MODELS,
        )
    )
    plt.close(empty)


def test_training_figure_adds_part_and_regulariser_panels():
    n = 5
    plain = pd.DataFrame(
        {"iteration": range(1, n + 1), "loss": np.linspace(5, 4, n), "temperature": 1.0}
    )
    xcebra = plain.assign(
        loss_behavior=np.linspace(3, 2, n),
        loss_time=np.linspace(3, 2.5, n),
        regularizer_behavior=[np.nan, np.nan, 0.5, 0.4, 0.3],
        regularizer_time=[np.nan, np.nan, 0.6, 0.5, 0.4],
        regularizer_weight=[np.nan, np.nan, 0.0, 0.05, 0.1],
    )
    fig = plot_training_loss({"cebra": plain, "x": xcebra})
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == [
        "Training loss",
        "xCEBRA: InfoNCE of each part",
        "xCEBRA: Jacobian regulariser",
    ]
    assert len(fig.axes[1].lines) == 2 and len(fig.axes[2].lines) == 2  # weight not drawn
    plt.close(fig)
    only = plot_training_loss({"cebra": plain})
    assert len(only.axes) == 1
    plt.close(only)
