"""The per-store analysis registry: run_store_analysis, array files, unknown analyses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from cebra_lens_core.analyses import (
    ANALYSES_WITH_ARRAYS,
    REGISTRY,
    run_store_analysis,
    store_analyses,
)
from cebra_lens_core.analyses.rdm import rdm_analysis
from cebra_lens_core.plots import FIGURES
from cebra_lens_core.results import COLUMNS, load_arrays, save_arrays
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
    rows, arrays = run_store_analysis("rdm", store, "m", {"enabled": True, "n_bins": 4})
    direct_rows, direct_arrays = rdm_analysis(store, name="m", n_bins=4)
    assert rows.equals(direct_rows)
    assert arrays.keys() == direct_arrays.keys()
    # an analysis' figure-only settings never reach its computation
    figure_only = {"color_label": "pos", "marker_label": "pos"}
    assert set(figure_only) == set(REGISTRY["embedding"].figure_settings)
    with_figure, _ = run_store_analysis(
        "embedding", store, "m", {**OPTIONS["embedding"], **figure_only}
    )
    without, _ = run_store_analysis("embedding", store, "m", OPTIONS["embedding"])
    assert with_figure.equals(without)
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


# --- the registry drives the workflow: it agrees with the schema, figures and captions

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = yaml.safe_load((ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text())
ANALYSIS_BLOCKS = SCHEMA["properties"]["analyses"]["properties"]
REPORT = ROOT / "workflow" / "report"


def test_every_analysis_has_a_config_block_and_every_block_an_analysis():
    assert set(REGISTRY) == set(ANALYSIS_BLOCKS)
    for name, analysis in REGISTRY.items():
        settings = set(ANALYSIS_BLOCKS[name].get("properties", {}))
        assert "enabled" in settings, name
        assert set(analysis.figure_settings) <= settings, name


def test_scopes_and_run_functions():
    scopes = {"store", "store_job", "seed_group", "trained_model", "pair_job"}
    assert {a.scope for a in REGISTRY.values()} <= scopes
    for name, analysis in REGISTRY.items():
        assert (analysis.run is not None) == (analysis.scope == "store"), name
    assert set(store_analyses()) == {n for n, a in REGISTRY.items() if a.scope == "store"}
    assert set(ANALYSES_WITH_ARRAYS) == {"rdm", "embedding", "single_unit"}
    # only attribution runs the encoder (baseline stores have none)
    assert {n for n, a in REGISTRY.items() if a.needs_encoder} == {"attribution"}


def test_every_figure_has_a_drawing_function_and_a_caption():
    summary_figures = {a.summary_figure[0] for a in REGISTRY.values() if a.summary_figure}
    assert summary_figures == set(FIGURES)
    for figure in summary_figures:
        assert (REPORT / f"{figure}.rst").is_file(), figure
    for analysis in REGISTRY.values():
        if analysis.store_figure:
            assert (REPORT / f"{analysis.store_figure[1]}.rst").is_file(), analysis.name


def test_every_store_figure_has_a_drawing_function():
    from cebra_lens_core.plots.models import STORE_FIGURES

    assert set(STORE_FIGURES) == {n for n, a in REGISTRY.items() if a.store_figure}
