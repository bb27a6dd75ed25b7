"""Layer-analysis figures read the results table / arrays and plot exactly those values."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgba

from cebra_lens_core.plots.common import LayerAxis, model_groups, model_styles, save_figure
from cebra_lens_core.plots.consistency import plot_consistency
from cebra_lens_core.plots.decoding import plot_decoding
from cebra_lens_core.plots.dimensionality import plot_participation_ratio
from cebra_lens_core.plots.distance import plot_distances
from cebra_lens_core.plots.embedding import plot_embedding
from cebra_lens_core.plots.goodness_of_fit import plot_goodness_of_fit
from cebra_lens_core.plots.rdm import plot_layer_rdms, plot_oracle_similarity
from cebra_lens_core.plots.single_unit import plot_single_units, unit_order
from cebra_lens_core.results import join_model_sheet, make_rows

MODELS = ("a_seed0", "a_seed1", "b_seed0")
NAMES = ("conv_in", "block", "norm")
#: the model sheet of MODELS (and a third seed of `a` for the consistency figure)
SHEET = pd.DataFrame(
    {
        "store": [*MODELS, "a_seed2"],
        "group": ["a", "a", "b", "a"],
        "seed_group": ["a", "a", "b", "a"],
        "seed": [0, 1, 0, 2],
        "kind": ["trained"] * 4,
    }
)


def _with_groups(summary: pd.DataFrame) -> pd.DataFrame:
    """The summary as the figure scripts see it: joined with the model sheet."""
    return join_model_sheet(summary, SHEET)


EMPTY = make_rows([{"analysis": "cka", "model": "a_seed0", "metric": "cka", "value": 1.0}])


def _value(model: str, layer: int, offset: float = 0.0) -> float:
    return round(0.1 * layer + 0.01 * MODELS.index(model) + offset, 6)


def _layer_rows(analysis, metric, value=_value, **extra):
    return [
        {
            "analysis": analysis,
            "dataset": "toy",
            "model": m,
            "layer": i,
            "layer_name": NAMES[i],
            "metric": metric,
            "value": value(m, i),
            **extra,
        }
        for m in MODELS
        for i in range(len(NAMES))
    ]


def _lines(ax) -> dict[str, np.ndarray]:
    return {
        ln.get_gid(): np.asarray(ln.get_ydata(), dtype=float) for ln in ax.lines if ln.get_gid()
    }


def _expected(offset: float = 0.0, model: str = "a_seed0") -> np.ndarray:
    return np.array([_value(model, i, offset) for i in range(len(NAMES))])


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------


def test_groups_share_colours():
    rows = _with_groups(make_rows([{"model": m} for m in MODELS]))
    assert model_groups(rows) == {"a_seed0": "a", "a_seed1": "a", "b_seed0": "b"}
    # without the model sheet names are never parsed: every model is its own group, even
    # one whose name looks like a seed of another (the `within_a` bug)
    plain = make_rows([{"model": m} for m in (*MODELS, "within_a")])
    assert model_groups(plain) == {m: m for m in (*MODELS, "within_a")}
    styles = model_styles(rows)
    assert styles["a_seed0"]["color"] == styles["a_seed1"]["color"] != styles["b_seed0"]["color"]
    assert styles["a_seed0"]["marker"] != styles["a_seed1"]["marker"]


def test_layer_axis_aligns_layers_by_name():
    rows = make_rows(
        [
            {"model": "deep", "layer": i, "layer_name": n}
            for i, n in enumerate(["in", "b1", "b2", "out"])
        ]
        + [{"model": "flat", "layer": i, "layer_name": n} for i, n in enumerate(["in", "out"])]
    )
    axis = LayerAxis.from_rows(rows)
    np.testing.assert_array_equal(axis.x("flat", [0, 1]), [0.0, 3.0])
    assert axis.labels == ["in", "b1", "b2", "out"]
    same = LayerAxis.from_rows(rows[rows["model"] == "deep"])
    assert same.labels[1] == "1 b1"
    # names that do not fit one order: placed by index, names joined
    clash = make_rows(
        [{"model": "p", "layer": i, "layer_name": n} for i, n in enumerate(["x", "y"])]
        + [{"model": "q", "layer": i, "layer_name": n} for i, n in enumerate(["y", "x"])]
    )
    axis = LayerAxis.from_rows(clash)
    assert axis.labels == ["0 x/y", "1 y/x"]
    np.testing.assert_array_equal(axis.x("q", [0, 1]), [0.0, 1.0])


# --------------------------------------------------------------------------------------
# RDM
# --------------------------------------------------------------------------------------


def _rdm_arrays():
    rng = np.random.default_rng(0)
    arrays = {"pos/ids": np.arange(4), "pos/bin_centres": np.array([0.125, 0.375, 0.625, 0.875])}
    for i in range(3):
        m = rng.uniform(0, 1 + i, size=(4, 4))
        m = (m + m.T) / 2
        np.fill_diagonal(m, 0.0)
        arrays[f"pos/layer_{i:02d}"] = m
    arrays["side/ids"] = np.array([0, 1])
    arrays["side/layer_00"] = np.array([[0.0, 1.0], [1.0, 0.0]])
    return arrays


def test_layer_rdms_images_and_shared_scale():
    arrays = _rdm_arrays()
    fig = plot_layer_rdms(arrays, "pos", "a_seed0", layer_names=NAMES)
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == 3
    for i, im in enumerate(images):
        np.testing.assert_allclose(im.get_array(), arrays[f"pos/layer_{i:02d}"])
    assert len({im.get_clim() for im in images}) == 1
    vmax = max(arrays[f"pos/layer_{i:02d}"].max() for i in range(3))
    assert images[0].get_clim() == pytest.approx((0.0, vmax))
    ax = images[0].axes
    assert ax.get_title() == "0 conv_in"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.12", "0.38", "0.62", "0.88"]
    assert "a_seed0" in fig.get_suptitle() and "pos" in fig.get_suptitle()
    plt.close(fig)
    fig = plot_layer_rdms(arrays, "side", "a_seed0")
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["0", "1"]
    plt.close(fig)
    with pytest.raises(ValueError, match="no RDMs of label 'speed'"):
        plot_layer_rdms(arrays, "speed", "a_seed0")


def test_oracle_similarity_lines():
    rows = _layer_rows("rdm", "oracle_similarity", label="pos", variant="correlation/spearman")
    fig = plot_oracle_similarity(_with_groups(make_rows(rows)))
    ax = fig.axes[0]
    lines = _lines(ax)
    assert set(lines) == set(MODELS)
    for m in MODELS:
        np.testing.assert_allclose(lines[m], _expected(model=m))
    colour = {ln.get_gid(): to_rgba(ln.get_color()) for ln in ax.lines if ln.get_gid()}
    assert colour["a_seed0"] == colour["a_seed1"] != colour["b_seed0"]
    assert "correlation/spearman" in ax.get_ylabel()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0 conv_in", "1 block", "2 norm"]
    plt.close(fig)
    with pytest.raises(ValueError, match="'rdm'.*'oracle_similarity'"):
        plot_oracle_similarity(EMPTY)


# --------------------------------------------------------------------------------------
# distances, decoding, dimensionality
# --------------------------------------------------------------------------------------


def test_distances_grid():
    rows = []
    for k, kind in enumerate(("intra_class", "inter_class", "inter_repetition")):
        for label in ("pos", "side"):
            for variant in ("cosine", "euclidean_rms"):
                off = k + (variant == "euclidean_rms") * 10 + (label == "side") * 100
                rows += _layer_rows(
                    "distance",
                    kind,
                    value=lambda m, i, off=off: _value(m, i, off),
                    label=label,
                    variant=variant,
                )
    fig = plot_distances(make_rows(rows))
    grid = [ax for ax in fig.axes if ax.lines]
    assert len(grid) == 3 * 4
    # row 1 (inter_class), column 1 (pos, euclidean_rms)
    lines = _lines(grid[1 * 4 + 1])
    np.testing.assert_allclose(
        lines["b_seed0|inter_class|pos|euclidean_rms"], _expected(11, "b_seed0")
    )
    plt.close(fig)
    with pytest.raises(ValueError, match="'distance'"):
        plot_distances(EMPTY)


def _decoding_summary():
    rows = []
    for variant in ("knn", "ridge", "knn_shuffled", "ridge_shuffled"):
        shuffled = variant.endswith("_shuffled")
        off = -1.0 if shuffled else 0.0
        ci = {"ci_low": -1.2, "ci_high": -0.8} if variant == "knn_shuffled" else {}
        rows += _layer_rows(
            "decoding",
            "r2",
            value=lambda m, i, o=off: _value(m, i, o),
            label="pos",
            variant=variant,
            **ci,
        )
        rows += _layer_rows(
            "decoding",
            "median_abs_error",
            value=lambda m, i, o=off: _value(m, i, 2 + o),
            label="pos",
            variant=variant,
        )
        rows += _layer_rows(
            "decoding",
            "accuracy",
            value=lambda m, i, s=shuffled: _value(m, i, 0.5 - 0.3 * s),
            label="side",
            variant=variant,
        )
        rows += _layer_rows(
            "decoding", "chance_level", value=lambda m, i: 0.55, label="side", variant=variant
        )
    return make_rows(rows)


def test_decoding_lines_controls_and_chance():
    fig = plot_decoding(_with_groups(_decoding_summary()))
    # top row: R² and accuracy; below R²: the decoding error (error rows in the summary)
    ax_r2, ax_acc = (ax for ax in fig.axes if ax.lines and "error" not in ax.get_ylabel())
    assert "R²" in ax_r2.get_ylabel() and "accuracy" in ax_acc.get_ylabel()
    lines = {ln.get_gid(): ln for ln in ax_r2.lines if ln.get_gid()}
    assert len(lines) == len(MODELS) * 4
    np.testing.assert_allclose(lines["a_seed1|knn"].get_ydata(), _expected(model="a_seed1"))
    np.testing.assert_allclose(
        lines["a_seed1|ridge_shuffled"].get_ydata(), _expected(-1.0, "a_seed1")
    )
    assert lines["a_seed0|knn"].get_linestyle() == "-"
    assert lines["a_seed0|ridge"].get_linestyle() == "-."
    assert lines["a_seed0|knn_shuffled"].get_linestyle() == "--"
    assert lines["a_seed0|knn_shuffled"].get_linewidth() < lines["a_seed0|knn"].get_linewidth()
    assert lines["a_seed0|knn"].get_color() == lines["a_seed1|knn"].get_color()
    assert len(ax_r2.collections) == len(MODELS)  # CI bands of knn_shuffled only
    acc = {ln.get_gid(): ln for ln in ax_acc.lines if ln.get_gid()}
    np.testing.assert_allclose(acc["b_seed0|ridge"].get_ydata(), _expected(0.5, "b_seed0"))
    chance = [ln for ln in ax_acc.lines if not ln.get_gid()]
    assert len(chance) == 1 and chance[0].get_linestyle() == ":"
    np.testing.assert_allclose(chance[0].get_ydata(), 0.55)
    plt.close(fig)
    with pytest.raises(ValueError, match="'decoding'.*'r2' or 'accuracy'"):
        plot_decoding(EMPTY)


def test_participation_ratio():
    rows = _layer_rows("dimensionality", "participation_ratio", n=100)
    rows += _layer_rows("dimensionality", "n_units", value=lambda m, i: 32.0 if i < 2 else 8.0)
    fig = plot_participation_ratio(make_rows(rows))
    lines = _lines(fig.axes[0])
    np.testing.assert_allclose(lines["b_seed0|participation_ratio"], _expected(model="b_seed0"))
    widths = [k for k in lines if k.endswith("|n_units")]
    assert len(widths) == 1  # one reference per distinct architecture
    np.testing.assert_allclose(lines[widths[0]], [32, 32, 8])
    plt.close(fig)
    with pytest.raises(ValueError, match="'participation_ratio'"):
        plot_participation_ratio(EMPTY)


# --------------------------------------------------------------------------------------
# consistency, goodness of fit
# --------------------------------------------------------------------------------------


def _consistency_summary():
    runs = ("a_seed0", "a_seed1", "a_seed2")
    rows = [
        {
            "analysis": "consistency",
            "model": x,
            "other_model": y,
            "layer": i,
            "other_layer": i,
            "layer_name": NAMES[i],
            "metric": "r2",
            "variant": "linear",
            "value": 0.5 + 0.1 * i + 0.01 * a + 0.001 * b,
        }
        for i in range(3)
        for a, x in enumerate(runs)
        for b, y in enumerate(runs)
        if a != b
    ]
    return make_rows(rows)


def test_consistency_matrix_and_layers():
    fig = plot_consistency(_with_groups(_consistency_summary()))
    heat = next(ax for ax in fig.axes if ax.images)
    matrix = np.asarray(heat.images[0].get_array().filled(np.nan))
    expected = np.array([[0.7 + 0.01 * a + 0.001 * b for b in range(3)] for a in range(3)])
    np.fill_diagonal(expected, np.nan)
    np.testing.assert_allclose(matrix, expected)
    # runs are labelled by their seed from the model sheet
    assert [t.get_text() for t in heat.get_xticklabels()] == ["seed 0", "seed 1", "seed 2"]
    line_ax = next(ax for ax in fig.axes if ax.lines)
    means = np.array([0.5 + 0.1 * i + (0.01 * 6 + 0.001 * 6) / 6 for i in range(3)])
    np.testing.assert_allclose(_lines(line_ax)["a"], means)
    plt.close(fig)
    fig = plot_consistency(EMPTY)
    assert "no consistency" in fig.axes[0].texts[0].get_text()
    plt.close(fig)


def test_goodness_of_fit_bars():
    rows = [
        {
            "analysis": "goodness_of_fit",
            "model": m,
            "metric": "goodness_of_fit_bits",
            "label": "pos",
            "variant": v,
            "value": 1.0 + k + (0.5 if v == "test" else 0.0),
        }
        for k, m in enumerate(MODELS)
        for v in ("train", "test")
    ]
    rows.append(
        {
            "analysis": "goodness_of_fit",
            "model": "a_seed0",
            "metric": "final_training_loss",
            "variant": "train",
            "value": 9.0,
        }
    )
    fig = plot_goodness_of_fit(make_rows(rows))
    bars = {p.get_gid(): p.get_height() for p in fig.axes[0].patches if p.get_gid()}
    assert len(bars) == 6
    assert bars["a_seed1|train"] == pytest.approx(2.0) and bars["b_seed0|test"] == pytest.approx(
        3.5
    )
    plt.close(fig)
    with pytest.raises(ValueError, match="'goodness_of_fit_bits'"):
        plot_goodness_of_fit(EMPTY)


# --------------------------------------------------------------------------------------
# arrays: embedding, single units
# --------------------------------------------------------------------------------------


def _embedding_arrays(dims: int = 3):
    rng = np.random.default_rng(1)
    return {
        "time": np.arange(50),
        "embedding": rng.normal(size=(50, dims)),
        "tsne": rng.normal(size=(50, 3)),
        "tsne_layer": np.array(2),
        "label/pos": np.linspace(0, 1, 50),
        "label/side": np.repeat([0, 1], 25),
    }


def test_embedding_panels_and_colours():
    arrays = _embedding_arrays()
    fig = plot_embedding(arrays, "a_seed0")
    scatters = [ax.collections[0] for ax in fig.axes if ax.collections and ax.name == "3d"]
    assert len(scatters) == 2
    xs, ys, zs = scatters[0]._offsets3d
    np.testing.assert_allclose(np.column_stack([xs, ys, zs]), arrays["embedding"])
    np.testing.assert_allclose(scatters[1].get_array(), arrays["label/pos"])
    assert any(ax.get_ylabel() == "pos" for ax in fig.axes)  # colourbar
    plt.close(fig)
    fig = plot_embedding(_embedding_arrays(dims=2), "a_seed0", color_label="side")
    flat = next(ax for ax in fig.axes if ax.name != "3d")
    np.testing.assert_allclose(flat.collections[0].get_offsets(), _embedding_arrays(2)["embedding"])
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["0", "1"]
    plt.close(fig)
    with pytest.raises(ValueError, match="no label 'speed'"):
        plot_embedding(arrays, "a_seed0", color_label="speed")
    with pytest.raises(ValueError, match="'embedding' or 'tsne'"):
        plot_embedding({"label/pos": np.zeros(3)}, "a_seed0")


def _single_unit_arrays():
    rng = np.random.default_rng(2)
    return {
        "activity/layer_01": rng.normal(size=(40, 6)).astype(np.float32),
        "tuning/pos/x": np.array([0.1, 0.3, 0.5, 0.7]),
        "tuning/pos/layer_01": rng.normal(size=(4, 6)).astype(np.float32),
        "eta2/pos/layer_01": np.array([0.1, np.nan, 0.9, 0.3, 0.5, 0.2]),
    }


def test_single_units_order_and_tuning():
    arrays = _single_unit_arrays()
    order = unit_order(arrays["eta2/pos/layer_01"])
    np.testing.assert_array_equal(order, [2, 4, 3, 5, 0, 1])
    fig = plot_single_units(arrays, "a_seed0", layer=1, max_units=4)
    heat = next(ax for ax in fig.axes if ax.images)
    np.testing.assert_allclose(heat.images[0].get_array(), arrays["activity/layer_01"][:, order].T)
    tuning_axes = [ax for ax in fig.axes if ax.lines]
    assert len(tuning_axes) == 4
    for ax, unit in zip(tuning_axes, order[:4], strict=True):
        assert ax.lines[0].get_gid() == f"unit {unit}"
        assert f"η² = {arrays['eta2/pos/layer_01'][unit]:.2f}" in ax.get_title()
        np.testing.assert_allclose(ax.lines[0].get_ydata(), arrays["tuning/pos/layer_01"][:, unit])
        np.testing.assert_allclose(ax.lines[0].get_xdata(), arrays["tuning/pos/x"])
    plt.close(fig)
    with pytest.raises(ValueError, match="no single-unit activity of layer 3"):
        plot_single_units(arrays, "a_seed0", layer=3)
    with pytest.raises(ValueError, match="no tuning curves of label 'side'"):
        plot_single_units(arrays, "a_seed0", layer=1, label="side")


def test_single_units_with_many_classes_get_few_ticks():
    """One class per movie frame (900): integer ticks chosen by matplotlib, not 900 labels."""
    rng = np.random.default_rng(0)
    arrays = {
        "activity/layer_01": rng.standard_normal((200, 3)),
        "tuning/frame/x": np.arange(900),
        "tuning/frame/layer_01": rng.standard_normal((900, 3)),
        "eta2/frame/layer_01": np.array([0.1, 0.5, 0.2]),
    }
    fig = plot_single_units(arrays, "m", layer=1)
    tuning_axes = [ax for ax in fig.axes if ax.lines]
    assert len(tuning_axes) == 3
    for ax in tuning_axes:
        ticks = ax.get_xticks()
        assert 2 <= len(ticks) <= 12 and np.all(ticks == np.round(ticks)), ticks
        assert ax.get_xlim() == (-0.5, 899.5)
    plt.close(fig)
    few = {**arrays, "tuning/frame/x": np.arange(5), "tuning/frame/layer_01": np.ones((5, 3))}
    fig = plot_single_units(few, "m", layer=1)
    for ax in (ax for ax in fig.axes if ax.lines):  # every class labelled
        np.testing.assert_array_equal(ax.get_xticks(), np.arange(5))
    plt.close(fig)


# --------------------------------------------------------------------------------------
# reproducibility
# --------------------------------------------------------------------------------------


def test_figures_are_byte_identical(tmp_path):
    makers = {
        "decoding": lambda: plot_decoding(_decoding_summary()),
        "consistency": lambda: plot_consistency(_consistency_summary()),
        "embedding": lambda: plot_embedding(_embedding_arrays(), "a_seed0"),
        "rdms": lambda: plot_layer_rdms(_rdm_arrays(), "pos", "a_seed0"),
    }
    for name, make in makers.items():
        for k in (1, 2):
            save_figure(make(), tmp_path / f"{name}{k}.png")
        assert (tmp_path / f"{name}1.png").read_bytes() == (tmp_path / f"{name}2.png").read_bytes()
