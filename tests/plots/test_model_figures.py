"""Per-model figures read as the other figures do: layer names, units, one colour map."""

from __future__ import annotations

import numpy as np

from cebra_lens_core.plots.models import model_figure


def test_rdm_panels_use_layer_names_and_units():
    arrays = {
        "position/ids": np.arange(4),
        "position/bin_centres": np.linspace(0.1, 1.5, 4),
        "position/unit": np.array("m"),
        "position/names": np.array(["conv_in", "norm"]),
        "position/layer_00": np.eye(4),
        "position/layer_01": 1 - np.eye(4),
    }
    fig = model_figure("rdm", arrays, "m", {"metric": "correlation"})
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles[:2] == ["0 conv_in", "1 norm"]
    assert "position (bin centre, m)" in [ax.get_xlabel() for ax in fig.axes]


def test_embedding_colour_by_position_marker_by_direction():
    rng = np.random.default_rng(0)
    arrays = {
        "embedding": rng.normal(size=(40, 3)),
        "tsne": rng.normal(size=(40, 3)),
        "label/position": np.linspace(0, 1.6, 40),
        "unit/position": np.array("m"),
        "label/direction": np.repeat([0, 1], 20),
        "unit/direction": np.array(""),
    }
    fig = model_figure("embedding", arrays, "m", {"color_label": None, "marker_label": None})
    gids = {c.get_gid() for ax in fig.axes for c in ax.collections if c.get_gid()}
    assert {"embedding|direction=0", "embedding|direction=1"} <= gids
    colourbar = [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel() == "position (m)"]
    assert colourbar, "the colour bar names the label and its unit"
    # one colour map for both directions: the same norm on both marker groups
    collections = [c for ax in fig.axes for c in ax.collections if "embedding|" in str(c.get_gid())]
    assert len({(c.norm.vmin, c.norm.vmax) for c in collections}) == 1
