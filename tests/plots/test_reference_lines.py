"""The recording itself (rows with an empty layer and layer_name input / input_rf_mean) is
drawn as horizontal reference lines, never as a point of a layer curve."""

from __future__ import annotations

import numpy as np
import pytest

from cebra_lens_core.plots.decoding import plot_decoding
from cebra_lens_core.plots.dimensionality import plot_participation_ratio
from cebra_lens_core.plots.distance import plot_distances
from cebra_lens_core.plots.rdm import plot_oracle_similarity
from cebra_lens_core.results import make_rows


def _rows(analysis, metric, label="", variant="", values=(0.2, 0.5, 0.7), refs=None):
    rows = [
        dict(
            analysis=analysis,
            dataset="d",
            model="m",
            layer=i,
            layer_name=f"l{i}",
            metric=metric,
            label=label,
            variant=variant,
            value=v,
        )
        for i, v in enumerate(values)
    ]
    for name, value in (refs or {"input": 0.9, "input_rf_mean": 0.8}).items():
        rows.append(
            dict(
                analysis=analysis,
                dataset="d",
                model="m",
                layer=None,
                layer_name=name,
                metric=metric,
                label=label,
                variant=variant,
                value=value,
            )
        )
    return rows


def _reference_lines(fig):
    return {
        line.get_gid(): line.get_ydata()[0]
        for ax in fig.axes
        for line in ax.get_lines()
        if str(line.get_gid()).startswith("reference|")
    }


@pytest.mark.parametrize(
    "plot, rows",
    [
        (plot_decoding, _rows("decoding", "r2", "position", "knn")),
        (plot_oracle_similarity, _rows("rdm", "oracle_similarity", "position", "corr/spearman")),
        (plot_distances, _rows("distance", "inter_class", "position", "cosine")),
        (plot_participation_ratio, _rows("dimensionality", "participation_ratio")),
    ],
)
def test_references_are_horizontal_lines(plot, rows):
    fig = plot(make_rows(rows))
    lines = _reference_lines(fig)
    assert lines == {"reference|input": 0.9, "reference|input_rf_mean": 0.8}
    for ax in fig.axes:  # the model's curve has its three layers only
        for line in ax.get_lines():
            if line.get_gid() and not str(line.get_gid()).startswith("reference|"):
                assert len(line.get_xdata()) in (1, 3) and np.isfinite(line.get_xdata()).all()
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "input (recorded neurons)" in legend


def test_decoding_figure_shows_the_error_in_cm_below_r2():
    rows = _rows("decoding", "r2", "position", "knn")
    errors = _rows(
        "decoding",
        "median_abs_error",
        "position",
        "knn",
        values=(0.3, 0.2, 0.13),
        refs={"input": 0.2},
    )
    for row in errors:
        row["unit"] = "m"
    fig = plot_decoding(make_rows(rows + errors))
    error_axis = [ax for ax in fig.axes if "median absolute error" in ax.get_ylabel()]
    assert len(error_axis) == 1 and error_axis[0].get_ylabel() == "median absolute error (cm)"
    curve = [ln for ln in error_axis[0].get_lines() if ln.get_gid() == "m|knn"][0]
    np.testing.assert_allclose(curve.get_ydata(), [30.0, 20.0, 13.0])
    assert _reference_lines(fig)["reference|input"] in (0.9, 20.0)
