"""The alignment figure plots exactly the test-split values of the table and marks the best
layer (chosen on the training split) at its test score."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from cebra_lens_core.plots.alignment import plot_alignment
from cebra_lens_core.plots.common import NoRowsError, save_figure
from cebra_lens_core.results import make_rows

MODELS = ("a_seed0", "b_seed0")
NAMES = ("conv_in", "block", "norm")


def _rows():
    rows = []
    for k, model in enumerate(MODELS):
        base = {"dataset": "toy", "model": model}
        for i, name in enumerate(NAMES):
            layer = {**base, "layer": i, "layer_name": name}
            for split, shift in (("train", 0.5), ("test", 0.0)):
                for analysis, metric, label in (
                    ("crsa", "spearman", "position"),
                    ("ersa", "spearman", "position"),
                    ("encoding", "mean_pearson_r", ""),
                ):
                    value = 0.1 * i + 0.01 * k + shift + (0.2 if analysis == "ersa" else 0.0)
                    rows.append(
                        {
                            **layer,
                            "analysis": analysis,
                            "metric": metric,
                            "label": label,
                            "variant": split,
                            "value": value,
                            "n": 10,
                        }
                    )
            rows.append(
                {
                    **layer,
                    "analysis": "encoding",
                    "metric": "participation_ratio",
                    "variant": "train",
                    "value": 3.0 + i,
                    "n": 100,
                }
            )
        # chosen on train: layer 0 for cRSA (its test value is not the best test value)
        rows.append(
            {
                **base,
                "analysis": "best_layer",
                "layer": 0,
                "layer_name": "conv_in",
                "metric": "crsa_spearman",
                "label": "position",
                "variant": "test",
                "value": 0.01 * k,
                "n": 3,
            }
        )
    return make_rows(rows)


def _lines(ax) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    return {
        ln.get_gid(): (np.asarray(ln.get_xdata(), float), np.asarray(ln.get_ydata(), float))
        for ln in ax.lines
        if ln.get_gid()
    }


def test_alignment_figure_draws_test_values_and_best_layer(tmp_path):
    fig = plot_alignment(_rows())
    axes = fig.axes
    assert len(axes) == 4
    crsa_lines = _lines(axes[0])
    np.testing.assert_allclose(crsa_lines["a_seed0|crsa"][1], [0.0, 0.1, 0.2])  # test split
    np.testing.assert_allclose(_lines(axes[1])["b_seed0|ersa"][1], [0.21, 0.31, 0.41])
    np.testing.assert_allclose(_lines(axes[2])["a_seed0|encoding"][1], [0.0, 0.1, 0.2])
    np.testing.assert_allclose(_lines(axes[3])["a_seed0|participation_ratio"][1], [3, 4, 5])
    x, y = crsa_lines["b_seed0|best|crsa"]
    assert x.tolist() == [0.0] and y.tolist() == pytest.approx([0.01])
    assert not any("best" in gid for gid in _lines(axes[1]))  # no eRSA best-layer rows
    assert "spearman" in axes[0].get_ylabel()
    save_figure(fig, tmp_path / "alignment.png")
    assert (tmp_path / "alignment.png").stat().st_size > 0
    plt.close("all")


def test_alignment_figure_without_rows_says_so():
    empty = make_rows([{"analysis": "cka", "model": "a", "metric": "cka", "value": 1.0}])
    with pytest.raises(NoRowsError, match="analyses.alignment"):
        plot_alignment(empty)


def test_alignment_figure_is_readable_at_report_width():
    """One row of four panels was 2,317 px wide with tiny text; a 2 × 2 grid fits."""
    fig = plot_alignment(_rows())
    width_px = fig.get_figwidth() * 120  # save_figure's dpi
    assert width_px <= 1400
    assert sum(1 for ax in fig.axes if ax.get_visible() and ax.axison) == 4
