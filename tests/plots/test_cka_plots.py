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


def test_figures_are_byte_identical(tmp_path):
    s = _summary()
    for k in (1, 2):
        save_figure(plot_cka_heatmap(s, "x0", "x1"), tmp_path / f"h{k}.png")
        save_figure(
            plot_corresponding_layers(s, {"x0": "x", "x1": "x", "y0": "y"}), tmp_path / f"c{k}.png"
        )
    assert (tmp_path / "h1.png").read_bytes() == (tmp_path / "h2.png").read_bytes()
    assert (tmp_path / "c1.png").read_bytes() == (tmp_path / "c2.png").read_bytes()
