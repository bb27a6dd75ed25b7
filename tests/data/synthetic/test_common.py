"""Every synthetic generator: shapes, split, metadata, determinism, sessions, parameter checks,
and building one through ``load_dataset``."""

from __future__ import annotations

import time

import numpy as np
import pytest

from cebra_lens_core.data import SOURCES, generator_parameters, load_dataset
from cebra_lens_core.data.synthetic import GENERATORS, NEURONS_PER_SESSION
from cebra_lens_core.data.types import DataError

EXPECTED_T = {
    "hippocampus": 4800,
    "visual": 9000,
    "lorenz": 5000,
    "circle": 4000,
    "attribution": 5000,
}
EXPECTED_LABELS = {
    "hippocampus": {"position": "continuous", "direction": "discrete"},
    "visual": {"frame": "discrete", "repeat": "discrete"},
    "lorenz": {"x": "continuous", "y": "continuous", "z": "continuous"},
    "circle": {"angle": "continuous", "latent_x": "continuous", "latent_y": "continuous"},
    "attribution": {f"latent_{j}": "continuous" for j in range(3)},
}


# --------------------------------------------------------------------------- all generators


def test_generators_are_the_synthetic_sources():
    assert set(GENERATORS) <= set(SOURCES)


@pytest.mark.parametrize("source", sorted(GENERATORS))
def test_shapes_dtypes_and_split(defaults, source):
    ds = defaults[source]
    assert ds.n_sessions == 1
    session = ds.sessions[0]
    assert session.neural.shape[0] == EXPECTED_T[source]
    assert session.neural.dtype == np.float32
    assert {k: v.kind for k, v in ds.label_info.items()} == EXPECTED_LABELS[source]
    for label, info in ds.label_info.items():
        expected = np.int64 if info.kind == "discrete" else np.float64
        assert session.labels[label].dtype == expected
    # time-blocked split: the last 20 % is test, contiguous
    t = session.n_timepoints
    assert session.train.sum() == t - round(0.2 * t)
    assert (
        session.train[: t - round(0.2 * t)].all() and not session.train[t - round(0.2 * t) :].any()
    )
    assert np.isfinite(ds.bin_width_s) and ds.bin_width_s > 0


@pytest.mark.parametrize("source", sorted(GENERATORS))
def test_metadata_records_generator_and_every_parameter(defaults, source):
    meta = defaults[source].metadata
    assert meta["generator"] == source
    assert set(generator_parameters(source)) <= set(meta["params"])
    assert meta["params"]["seed"] == 0 and meta["params"]["n_sessions"] == 1
    assert meta["params"]["test_fraction"] == 0.2


@pytest.mark.parametrize("source", sorted(GENERATORS))
def test_same_seed_same_data_other_seed_other_data(defaults, source):
    small = {"n_neurons": 12}
    a = GENERATORS[source](seed=3, **small)
    b = GENERATORS[source](seed=3, **small)
    c = GENERATORS[source](seed=4, **small)
    np.testing.assert_array_equal(a.sessions[0].neural, b.sessions[0].neural)
    for label in a.label_names:
        np.testing.assert_array_equal(a.sessions[0].labels[label], b.sessions[0].labels[label])
    assert not np.array_equal(a.sessions[0].neural, c.sessions[0].neural)


@pytest.mark.parametrize("source", sorted(GENERATORS))
def test_fast_at_defaults_with_four_sessions(source):
    GENERATORS[source](n_neurons=5)  # warm-up (imports, caches)
    start = time.perf_counter()
    ds = GENERATORS[source](n_sessions=4)
    elapsed = time.perf_counter() - start
    assert elapsed < 2.0, f"{source} with 4 sessions took {elapsed:.2f} s"
    assert ds.n_sessions == 4


@pytest.mark.parametrize("source", sorted(GENERATORS))
def test_sessions_are_different_populations_with_the_same_structure(source):
    ds = GENERATORS[source](n_neurons=20, n_sessions=3, seed=1)
    counts = [s.n_neurons for s in ds.sessions]
    assert counts == [20 + NEURONS_PER_SESSION * k for k in range(3)]
    assert [m["n_neurons"] for m in ds.metadata["sessions"]] == counts
    assert all(set(s.labels) == set(ds.label_info) for s in ds.sessions)
    first = ds.sessions[0].neural[:, :20]
    assert not np.array_equal(first, ds.sessions[1].neural[:, :20])
    # session 0 of a multi-session dataset equals the single-session dataset
    single = GENERATORS[source](n_neurons=20, n_sessions=1, seed=1)
    np.testing.assert_array_equal(single.sessions[0].neural, ds.sessions[0].neural)


@pytest.mark.parametrize(
    ("source", "params", "message"),
    [
        ("hippocampus", {"n_neurons": 0}, "n_neurons"),
        ("hippocampus", {"n_neurons": 2.5}, "n_neurons"),
        ("hippocampus", {"field_width_m": -0.1}, "field_width_m"),
        ("hippocampus", {"speed_m_s": "fast"}, "speed_m_s"),
        ("hippocampus", {"speed_m_s": 100.0}, "speed_m_s"),
        ("visual", {"n_repeats": 0}, "n_repeats"),
        ("visual", {"gain_sd": float("nan")}, "gain_sd"),
        ("lorenz", {"dt": 0.5}, "dt"),
        ("lorenz", {"connection_prob": 1.5}, "connection_prob"),
        ("circle", {"seed": -1}, "seed"),
        ("circle", {"n_sessions": True}, "n_sessions"),
    ],
)
def test_invalid_parameters_are_named(source, params, message):
    with pytest.raises(DataError, match=message):
        GENERATORS[source](**params)


# --------------------------------------------------------------------------- load_dataset


def test_load_dataset_passes_params_seed_and_name():
    ds = load_dataset(
        "my_rat", {"source": "hippocampus", "test_fraction": 0.25, "params": {"n_neurons": 7}}
    )
    assert ds.name == "my_rat" and ds.sessions[0].n_neurons == 7
    assert (~ds.sessions[0].train).sum() == 1200
    direct = GENERATORS["hippocampus"](n_neurons=7, test_fraction=0.25, name="my_rat")
    np.testing.assert_array_equal(ds.sessions[0].neural, direct.sessions[0].neural)


def test_load_dataset_unknown_parameter_lists_valid_ones():
    with pytest.raises(DataError) as info:
        load_dataset("rat", {"source": "hippocampus", "params": {"n_neuron": 10}})
    text = str(info.value)
    assert "'n_neuron'" in text and "did you mean 'n_neurons'" in text
    assert "field_width_m" in text  # the valid parameters are listed


def test_load_dataset_unknown_source_suggests_closest():
    with pytest.raises(DataError) as info:
        load_dataset("rat", {"source": "hipocampus"})
    text = str(info.value)
    assert "'hipocampus'" in text and "did you mean 'hippocampus'" in text
    for source in SOURCES:
        assert source in text


def test_load_dataset_missing_source_and_unknown_key():
    with pytest.raises(DataError, match="missing 'source'"):
        load_dataset("rat", {"params": {}})
    with pytest.raises(DataError, match="did you mean 'params'"):
        load_dataset("rat", {"source": "circle", "param": {}})
    with pytest.raises(DataError, match="test_fraction"):
        load_dataset("rat", {"source": "circle", "test_fraction": 1.0})
    with pytest.raises(DataError, match="next to 'source'"):
        load_dataset("rat", {"source": "circle", "params": {"test_fraction": 0.1}})
    with pytest.raises(DataError, match="lorenz.*dt"):
        load_dataset("attractor", {"source": "lorenz", "params": {"dt": -1}})
