"""CKA figures read the results table; saving is byte-reproducible."""

from __future__ import annotations

import numpy as np
import pytest

from cebra_lens_core.plots.cka import (
    cka_matrix_from_summary,
    corresponding_layer_table,
    plot_cka_heatmap,
    plot_corresponding_layers,
)
from cebra_lens_core.plots.common import save_figure
from cebra_lens_core.results import make_rows


def _summary():
    rows = []
    for a, b in [("x0", "x1"), ("x0", "y0"), ("x0", "x0")]:
        for i in range(3):
            for j in range(3):
                rows.append(
                    {
                        "analysis": "cka",
                        "model": a,
                        "other_model": b,
                        "layer": i,
                        "other_layer": j,
                        "layer_name": f"L{i}",
                        "metric": "cka",
                        "variant": "linear",
                        "value": 1.0 if i == j else 0.1 * (i + j),
                    }
                )
    return make_rows(rows)


def test_matrix_from_summary():
    m, labels_a, labels_b = cka_matrix_from_summary(_summary(), "x0", "x1")
    np.testing.assert_allclose(np.diag(m), 1.0)
    assert m[0, 2] == pytest.approx(0.2) and labels_a[1] == "1 L1"
    with pytest.raises(ValueError, match="no CKA rows"):
        cka_matrix_from_summary(_summary(), "x1", "x0")


def test_corresponding_layers_groups():
    table = corresponding_layer_table(_summary(), {"x0": "x", "x1": "x", "y0": "y"})
    assert set(table["group_pair"]) == {"within x", "x vs y"}
    assert len(table) == 6
    assert table.groupby("group_pair")["within"].all().to_dict() == {
        "within x": True,
        "x vs y": False,
    }


def test_a_group_named_within_is_still_drawn_as_between_groups():
    import matplotlib.pyplot as plt

    fig = plot_corresponding_layers(_summary(), {"x0": "within_a", "x1": "z", "y0": "z"})
    try:
        styles = {ln.get_label(): ln.get_linestyle() for ln in fig.axes[0].get_lines()}
        assert styles == {"within_a vs z (2 pairs)": "--"}
    finally:
        plt.close(fig)


def test_figures_are_byte_identical(tmp_path):
    s = _summary()
    for k in (1, 2):
        save_figure(plot_cka_heatmap(s, "x0", "x1"), tmp_path / f"h{k}.png")
        save_figure(
            plot_corresponding_layers(s, {"x0": "x", "x1": "x", "y0": "y"}), tmp_path / f"c{k}.png"
        )
    assert (tmp_path / "h1.png").read_bytes() == (tmp_path / "h2.png").read_bytes()
    assert (tmp_path / "c1.png").read_bytes() == (tmp_path / "c2.png").read_bytes()


def _many_groups_summary(n_models: int):
    """Every pair of ``n_models`` models, 2 layers; CKA of pair (a, b) = 0.5 + 0.01 (a + b)."""
    rows = []
    for a in range(n_models):
        for b in range(a + 1, n_models):
            for i in range(2):
                rows.append(
                    dict(analysis="cka", model=f"m{a}", other_model=f"m{b}", layer=i)
                    | dict(other_layer=i, layer_name=f"L{i}", metric="cka", variant="linear")
                    | dict(value=0.5 + 0.01 * (a + b))
                )
    return make_rows(rows)


def test_many_group_pairs_are_pooled_into_within_and_between():
    import matplotlib.pyplot as plt

    summary = _many_groups_summary(8)  # 28 pairs
    groups = {f"m{k}": f"g{k // 2}" for k in range(8)}  # 4 groups: 4 within, 6 between pairs
    fig = plot_corresponding_layers(summary, groups, max_lines=3)
    try:
        lines = {ln.get_label(): ln for ln in fig.axes[0].get_lines()}
        assert set(lines) == {"within groups (4 pairs)", "between groups (24 pairs)"}
        within = [0.5 + 0.01 * (2 * g + 2 * g + 1) for g in range(4)]
        np.testing.assert_allclose(lines["within groups (4 pairs)"].get_ydata(), np.mean(within))
        assert lines["within groups (4 pairs)"].get_linestyle() == "-"
        assert lines["between groups (24 pairs)"].get_linestyle() == "--"
    finally:
        plt.close(fig)
    fig = plot_corresponding_layers(summary, groups)  # 10 group pairs <= 12: one line each
    try:
        assert len(fig.axes[0].get_lines()) == 10
    finally:
        plt.close(fig)


def test_corresponding_layers_legend_does_not_cover_the_lines():
    fig = plot_corresponding_layers(_summary(), {"x0": "within_a", "x1": "z", "y0": "z"})
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        legend = ax.get_legend()
        if legend is not None:
            assert not legend.get_window_extent(renderer).overlaps(ax.get_window_extent(renderer))
