"""Tests for cebra_lens_core.naming."""

from __future__ import annotations

from cebra_lens_core.naming import corresponding_layers


def test_corresponding_layers_by_name_then_index():
    assert corresponding_layers(["a", "b", "norm"], ["a", "c", "x", "norm"]) == [(0, 0), (2, 3)]
    assert corresponding_layers(["", ""], ["", ""]) == [(0, 0), (1, 1)]
    assert corresponding_layers(["p"], ["q", "r"]) == [(0, 1)]  # embeddings always
