"""The per-store analysis registry: run_store_analysis, array files, unknown analyses."""

from __future__ import annotations

import numpy as np
import pytest

from cebra_lens_core.analyses import (
    ANALYSES_WITH_ARRAYS,
    load_arrays,
    run_store_analysis,
    save_arrays,
    store_analyses,
)
from cebra_lens_core.analyses.rdm import rdm_analysis
from cebra_lens_core.results import COLUMNS
from tests.analyses.stores import make_store

T, N_TRAIN = 160, 100

#: small options so that every analysis runs quickly on the toy store
OPTIONS = {
    "rdm": {"n_bins": 4},
    "distance": {"n_bins": 4},
    "decoding": {"decoders": ["ridge"]},
    "dimensionality": {},
    "embedding": {"max_samples": 30, "perplexity": 5},
    "single_unit": {"n_bins": 4, "max_timepoints": 10},
}


@pytest.fixture(scope="module")
def store():
    rng = np.random.default_rng(0)
    pos = rng.uniform(0, 1, T)
    side = (pos > 0.5).astype(np.int64)
    layers = [
        pos[:, None] * rng.normal(size=4) + 0.1 * rng.normal(size=(T, 4)),
        rng.normal(size=(T, 3)),
    ]
    labels = {"pos": (pos, "continuous"), "side": (side, "discrete", ["l", "r"])}
    return make_store(layers, np.arange(T) < N_TRAIN, labels)


def test_registry_names():
    assert set(store_analyses()) == set(OPTIONS)
    assert set(ANALYSES_WITH_ARRAYS) <= set(store_analyses())


@pytest.mark.parametrize("analysis", sorted(OPTIONS))
def test_run_store_analysis(store, analysis):
    rows, arrays = run_store_analysis(analysis, store, "m", OPTIONS[analysis])
    assert tuple(rows.columns) == COLUMNS
    assert len(rows) > 0
    assert set(rows["model"]) == {"m"} and set(rows["dataset"]) == {"toy"}
    assert set(rows["analysis"]) == {analysis}
    if analysis in ANALYSES_WITH_ARRAYS:
        assert isinstance(arrays, dict) and arrays
        assert all(isinstance(v, np.ndarray) for v in arrays.values())
    else:
        assert arrays is None


def test_workflow_options_are_not_passed_to_the_analysis(store):
    options = {"enabled": True, "color_label": "pos", "plot_layer": 1, "n_bins": 4}
    rows, arrays = run_store_analysis("rdm", store, "m", options)
    direct_rows, direct_arrays = rdm_analysis(store, name="m", n_bins=4)
    assert rows.equals(direct_rows)
    assert arrays.keys() == direct_arrays.keys()
    # options the analysis does not know are an error, not silently ignored
    with pytest.raises(TypeError, match="bogus"):
        run_store_analysis("rdm", store, "m", {"bogus": 1})


def test_unknown_analysis(store):
    with pytest.raises(ValueError, match=r"unknown analysis 'cka'.*'decoding'.*'rdm'"):
        run_store_analysis("cka", store, "m", {})


def test_save_and_load_arrays_round_trip(store, tmp_path):
    _, arrays = run_store_analysis("rdm", store, "m", {"n_bins": 4})
    arrays = {
        **arrays,
        "scalar": np.array(3),
        "nested/deeper/f32": np.arange(6, dtype=np.float32).reshape(2, 3),
        "ints": np.array([1, 2, 3], dtype=np.int64),
    }
    path = save_arrays(arrays, tmp_path / "out" / "rdm.npz")
    assert path == tmp_path / "out" / "rdm.npz" and path.exists()
    assert [p.name for p in path.parent.iterdir()] == ["rdm.npz"]  # no temporary left behind
    loaded = load_arrays(path)
    assert loaded.keys() == arrays.keys()
    for key, value in arrays.items():
        assert loaded[key].dtype == value.dtype and loaded[key].shape == value.shape
        np.testing.assert_array_equal(loaded[key], value)
    assert "pos/layer_00" in loaded and loaded["pos/layer_00"].shape == (4, 4)
    # overwriting replaces the file
    save_arrays({"only": np.zeros(2)}, path)
    assert list(load_arrays(path)) == ["only"]


def test_load_missing_arrays(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_arrays(tmp_path / "missing.npz")
