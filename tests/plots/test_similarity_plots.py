"""Similarity figures draw the grounding rows and the model-space arrays they are given."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_rgba
from scipy.cluster.hierarchy import linkage
from scipy.spatial.distance import pdist, squareform

from cebra_lens_core.plots.similarity import (
    FAMILY_COLOURS,
    plot_model_space,
    plot_model_space_layers,
    plot_similarity_grounding,
)
from cebra_lens_core.results import make_rows

#: measure -> (family, accuracy, pass fraction)
MEASURES = {
    "cka_linear": ("cka", 0.75, 1.0),
    "procrustes_angular": ("shape", 1.0, 0.5),
    "svcca": ("cca", 0.25, 0.0),
}


def grounding(control: bool = True, chance: bool = True):
    rows = []
    for measure, (family, acc, passed) in MEASURES.items():
        base = {"analysis": "similarity_grounding", "variant": measure, "label": family}
        rows.append(
            {
                **base,
                "model": "",
                "metric": "layer_identification_accuracy",
                "value": acc,
                "ci_low": acc - 0.1 if acc > 0.1 else 0.0,
                "ci_high": min(1.0, acc + 0.1),
                "n": 8,
            }
        )
        rows.append({**base, "model": "g", "metric": "layer_identification_accuracy", "value": 0.0})
        if chance:
            rows.append(
                {**base, "model": "", "metric": "layer_identification_chance", "value": 0.25}
            )
        if control:
            rows.append(
                {**base, "model": "", "metric": "label_randomisation_pass", "value": passed, "n": 4}
            )
    return make_rows(rows)


def bars(ax) -> dict[str, object]:
    return {p.get_gid(): p for p in ax.patches if p.get_gid()}


def test_grounding_bars_best_first_with_chance_and_family_colours():
    fig = plot_similarity_grounding(grounding())
    left, right = fig.axes[:2]
    names = [t.get_text() for t in left.get_yticklabels()]
    ticks = sorted(zip(left.get_yticks(), names, strict=True))
    # the best measure is the top bar
    assert [name for _, name in ticks[::-1]] == ["procrustes_angular", "cka_linear", "svcca"]
    acc = bars(left)
    assert acc["procrustes_angular|layer_identification"].get_width() == 1.0
    assert acc["svcca|layer_identification"].get_width() == 0.25
    assert acc["cka_linear|layer_identification"].get_facecolor() == to_rgba(FAMILY_COLOURS["cka"])
    assert [line.get_xdata()[0] for line in left.lines if line.get_gid() == "chance"] == [0.25]
    passed = bars(right)
    assert passed["cka_linear|label_randomisation"].get_width() == 1.0
    y = {m: passed[f"{m}|label_randomisation"].get_y() for m in MEASURES}
    assert y["procrustes_angular"] > y["cka_linear"] > y["svcca"]  # same order as the left
    plt.close(fig)


def test_grounding_without_control_or_chance_notes_the_missing_panel():
    fig = plot_similarity_grounding(grounding(control=False, chance=False))
    left, right = fig.axes[:2]
    assert not [line for line in left.lines if line.get_gid() == "chance"]
    assert not bars(right)
    assert any("no label-randomisation test" in t.get_text() for t in right.texts)
    plt.close(fig)


def test_grounding_without_rows_raises():
    with pytest.raises(ValueError, match="similarity_grounding"):
        plot_similarity_grounding(make_rows([{"analysis": "cka", "metric": "cka", "value": 1.0}]))


POINTS = np.array([[0.0, 0.0], [1.0, 0.2], [0.3, 1.5], [2.0, 1.0]])
STORES = ["a0", "a1", "b0", "c"]


def space(layers=("block_1", "embedding")):
    d = squareform(pdist(POINTS))
    arrays = {
        "measure": np.asarray("procrustes_angular"),
        "layers": np.asarray(layers, dtype=str),
        "stores": np.asarray(STORES),
        "groups": np.asarray(["a", "a", "b", "c"]),
        "kinds": np.asarray(["trained", "trained", "trained", "control"]),
    }
    for key in layers:
        arrays[f"{key}__stores"] = np.asarray(STORES)
        arrays[f"{key}__distances"] = d
        arrays[f"{key}__mds"] = POINTS - POINTS.mean(axis=0)
        arrays[f"{key}__mds_explained"] = np.asarray(0.875)
        arrays[f"{key}__linkage"] = linkage(pdist(POINTS), method="average")
    return arrays


def test_model_space_scatter_and_dendrogram():
    fig = plot_model_space(space())
    ax, tree = fig.axes[:2]
    points = {c.get_gid(): c for c in ax.collections if c.get_gid()}
    assert sorted(points) == sorted(STORES)
    np.testing.assert_allclose(points["c"].get_offsets()[0], POINTS[3] - POINTS.mean(axis=0))
    assert points["a0"].get_facecolor()[0].tolist() == points["a1"].get_facecolor()[0].tolist()
    assert {t.get_text() for t in ax.texts} == set(STORES)
    leaves = {t.get_text() for t in tree.get_yticklabels()}
    assert leaves == set(STORES)
    title = fig._suptitle.get_text()
    assert "procrustes_angular" in title and "88%" in title and "embedding" in title
    plt.close(fig)


def test_model_space_single_layer_and_unknown_layer():
    fig = plot_model_space(space(layers=("embedding",)), layer="norm")
    assert "layer embedding" in fig._suptitle.get_text()
    plt.close(fig)
    with pytest.raises(ValueError, match="block_1"):
        plot_model_space(space(), layer="norm")


def test_model_space_empty_input_raises():
    with pytest.raises(ValueError, match="no model-space arrays"):
        plot_model_space({})


def test_grounding_chance_per_measure_and_missing_identification():
    rows = grounding()
    chance = (rows["metric"] == "layer_identification_chance") & (rows["variant"] == "svcca")
    rows.loc[chance, "value"] = 0.5
    fig = plot_similarity_grounding(rows)
    gids = {line.get_gid(): line.get_xdata()[0] for line in fig.axes[0].lines}
    assert gids["chance|svcca"] == 0.5 and gids["chance|cka_linear"] == 0.25
    plt.close(fig)
    only_control = rows[rows["metric"] == "label_randomisation_pass"]
    fig = plot_similarity_grounding(only_control)
    left, right = fig.axes[:2]
    assert any("no layer-identification test" in t.get_text() for t in left.texts)
    assert len(bars(right)) == 3
    plt.close(fig)


def test_model_space_layers_one_panel_per_layer_in_depth_order():
    layers = ("conv_in", "block_1", "norm", "embedding")
    fig = plot_model_space_layers(space(layers=layers))
    drawn = [ax for ax in fig.axes if ax.axison]
    assert [ax.get_title().split(" (")[0] for ax in drawn] == list(layers)
    for ax in drawn:
        points = {c.get_gid(): c for c in ax.collections if c.get_gid()}
        assert sorted(points) == sorted(STORES)
        np.testing.assert_allclose(points["b0"].get_offsets()[0], POINTS[2] - POINTS.mean(axis=0))
    assert "88%" in drawn[0].get_title()
    labels = {t.get_text() for t in fig.legends[0].get_texts()}
    assert {"a", "b", "c", "control", "trained"} <= labels
    plt.close(fig)
    empty = plot_model_space_layers({"layers": np.asarray([], dtype=str)})
    assert "no model space" in " ".join(t.get_text() for ax in empty.axes for t in ax.texts)
    plt.close(empty)
