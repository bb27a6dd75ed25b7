"""Tests for cebra_lens_core.naming."""

from __future__ import annotations

from cebra_lens_core.naming import corresponding_layers, did_you_mean


def test_corresponding_layers_by_name_then_index():
    assert corresponding_layers(["a", "b", "norm"], ["a", "c", "x", "norm"]) == [(0, 0), (2, 3)]
    assert corresponding_layers(["", ""], ["", ""]) == [(0, 0), (1, 1)]
    assert corresponding_layers(["p"], ["q", "r"]) == [(0, 1)]  # embeddings always


def test_session_name_suffixes_only_multi_session_names():
    from cebra_lens_core.naming import session_name

    assert session_name("beh_seed0", None) == "beh_seed0"
    assert session_name("beh_seed0", 0) == "beh_seed0_session0"
    assert session_name("hippocampus", 3) == "hippocampus_session3"


def test_did_you_mean_names_the_closest_choice_or_nothing():
    assert did_you_mean("n_nerons", ["n_neurons", "seed"]) == " — did you mean 'n_neurons'?"
    assert did_you_mean("zzz", ["n_neurons", "seed"]) == ""
    assert did_you_mean("lin", ["linear"], cutoff=0.5) == " — did you mean 'linear'?"
