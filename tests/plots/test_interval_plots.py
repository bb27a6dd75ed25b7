"""Figures draw the bootstrap intervals, noise ceilings and significance marks of the table."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from cebra_lens_core.plots.cka import (
    cka_matrix_from_summary,
    corresponding_layer_table,
    plot_cka_heatmap,
    plot_corresponding_layers,
)
from cebra_lens_core.plots.distance import plot_distances
from cebra_lens_core.plots.rdm import plot_oracle_similarity
from cebra_lens_core.results import make_rows

MODELS = ("a_seed0", "a_seed1", "b_seed0")
NAMES = ("conv_in", "block", "norm")


def _rows(analysis, metric, with_ci=True, **extra):
    out = []
    for k, m in enumerate(MODELS):
        for i, name in enumerate(NAMES):
            v = 0.2 * i + 0.05 * k
            out.append(
                {
                    "analysis": analysis,
                    "model": m,
                    "layer": i,
                    "layer_name": name,
                    "metric": metric,
                    "value": v,
                    "ci_low": v - 0.05 if with_ci else np.nan,
                    "ci_high": v + 0.05 if with_ci else np.nan,
                    **extra,
                }
            )
    return out


def _bands(ax):
    return [c for c in ax.collections if c.get_gid() is None]


def test_oracle_figure_draws_interval_bands_and_noise_ceiling():
    kw = dict(label="pos", variant="correlation/spearman")
    rows = _rows("rdm", "oracle_similarity", **kw)
    ceiling = [
        {
            "analysis": "rdm",
            "model": "a",
            "layer": i,
            "layer_name": name,
            "metric": metric,
            "value": value,
            "n": 2,
            **kw,
        }
        for i, name in enumerate(NAMES)
        for metric, value in (("noise_ceiling_low", 0.7), ("noise_ceiling_high", 0.9))
    ]
    fig = plot_oracle_similarity(make_rows(rows + ceiling))
    ax = fig.axes[0]
    assert len(_bands(ax)) == len(MODELS)
    hatched = [c for c in ax.collections if c.get_gid() == "a|noise_ceiling"]
    assert len(hatched) == 1 and hatched[0].get_hatch() == "////"
    assert {ln.get_gid() for ln in ax.lines if ln.get_gid()} == set(MODELS)  # ceiling: no line
    plt.close(fig)
    fig = plot_oracle_similarity(make_rows(_rows("rdm", "oracle_similarity", False, **kw)))
    assert not fig.axes[0].collections  # no interval, no band
    plt.close(fig)


def test_distance_figure_draws_bands():
    rows = _rows("distance", "intra_class", label="pos", variant="cosine")
    fig = plot_distances(make_rows(rows))
    assert len(_bands(fig.axes[0])) == len(MODELS)
    plt.close(fig)


def _cka_summary(p_within=0.01, p_between=0.4):
    rows = []
    for a, b, p in [("x0", "x1", p_within), ("x0", "y0", p_between), ("x0", "x0", None)]:
        for i in range(3):
            for j in range(3):
                base = {
                    "analysis": "cka",
                    "model": a,
                    "other_model": b,
                    "layer": i,
                    "other_layer": j,
                    "layer_name": f"L{i}",
                    "variant": "linear",
                }
                v = 0.9 if i == j else 0.1 * (i + j)
                rows.append(
                    {
                        **base,
                        "metric": "cka",
                        "value": v,
                        "ci_low": v - 0.1,
                        "ci_high": v + 0.02,
                        "n": 100,
                    }
                )
                if p is not None and i == j:
                    rows.append({**base, "metric": "p_value", "value": p, "n": 99})
                    rows.append({**base, "metric": "null_95th", "value": 0.3, "n": 99})
    return make_rows(rows)


def test_cka_figures_ignore_null_rows_and_mark_significant_layers():
    summary = _cka_summary()
    matrix, _, _ = cka_matrix_from_summary(summary, "x0", "x1")
    np.testing.assert_allclose(np.diag(matrix), 0.9)  # p_value / null rows not mixed in
    table = corresponding_layer_table(summary, {"x0": "x", "x1": "x", "y0": "y"})
    assert len(table) == 6 and set(table["p_value"].round(2)) == {0.01, 0.4}
    fig = plot_corresponding_layers(summary, {"x0": "x", "x1": "x", "y0": "y"})
    ax = fig.axes[0]
    stars = [ln for ln in ax.lines if ln.get_gid() == "within x|significant"]
    assert len(stars) == 1 and len(stars[0].get_xdata()) == 3
    assert not [ln for ln in ax.lines if ln.get_gid() == "x vs y|significant"]
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    assert np.isclose(band.min(), 0.8)  # the lowest ci_low of the pairs
    plt.close(fig)
    fig = plot_cka_heatmap(summary, "x0", "x1")
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "0.90*" in texts and "0.10" in texts
    plt.close(fig)
