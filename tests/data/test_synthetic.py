"""Synthetic generators: determinism, label ranges and the ground-truth structure they promise."""

from __future__ import annotations

import time

import numpy as np
import pytest

from cebra_lens_core.data import SOURCES, generator_parameters, load_dataset
from cebra_lens_core.data.synthetic import (
    GENERATORS,
    LORENZ_BETA,
    LORENZ_RHO,
    LORENZ_SIGMA,
    NEURONS_PER_SESSION,
)
from cebra_lens_core.data.types import DataError


def lorenz_derivative(state: np.ndarray) -> np.ndarray:
    """Reference: the Lorenz vector field, vectorised (the generator integrates it with RK4)."""
    x, y, z = state[..., 0], state[..., 1], state[..., 2]
    return np.stack(
        [
            LORENZ_SIGMA * (y - x),
            x * (LORENZ_RHO - z) - y,
            x * y - LORENZ_BETA * z,
        ],
        axis=-1,
    )


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


@pytest.fixture(scope="module")
def defaults():
    """Each generator at its defaults (built once for the module)."""
    return {name: generator() for name, generator in GENERATORS.items()}


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
    assert "'n_neuron'" in text and "Did you mean 'n_neurons'" in text
    assert "field_width_m" in text  # the valid parameters are listed


def test_load_dataset_unknown_source_suggests_closest():
    with pytest.raises(DataError) as info:
        load_dataset("rat", {"source": "hipocampus"})
    text = str(info.value)
    assert "'hipocampus'" in text and "Did you mean 'hippocampus'" in text
    for source in SOURCES:
        assert source in text


def test_load_dataset_missing_source_and_unknown_key():
    with pytest.raises(DataError, match="missing 'source'"):
        load_dataset("rat", {"params": {}})
    with pytest.raises(DataError, match="Did you mean 'params'"):
        load_dataset("rat", {"source": "circle", "param": {}})
    with pytest.raises(DataError, match="test_fraction"):
        load_dataset("rat", {"source": "circle", "test_fraction": 1.0})
    with pytest.raises(DataError, match="next to 'source'"):
        load_dataset("rat", {"source": "circle", "params": {"test_fraction": 0.1}})
    with pytest.raises(DataError, match="lorenz.*dt"):
        load_dataset("attractor", {"source": "lorenz", "params": {"dt": -1}})


# --------------------------------------------------------------------------- hippocampus


def test_hippocampus_position_and_direction(defaults):
    ds = defaults["hippocampus"]
    s = ds.sessions[0]
    position, direction = s.labels["position"], s.labels["direction"]
    assert position.min() >= 0.0 and position.max() <= 1.6
    assert position.max() - position.min() > 1.5  # the rat covers the track
    assert set(np.unique(direction)) == {0, 1}
    assert ds.label_info["direction"].categories == ("right", "left")
    assert ds.label_info["position"].unit == "m"
    step = np.diff(position)
    moving = np.abs(step) > 0
    assert moving.mean() > 0.5
    # direction 0 ("right") means moving towards +x
    np.testing.assert_array_equal(direction[:-1][moving] == 0, step[moving] > 0)
    # many laps, realistic speed (m/s while running)
    assert ds.metadata["sessions"][0]["n_laps"] >= 15
    speed = np.abs(step[moving]) / ds.bin_width_s
    assert 0.25 < np.median(speed) < 0.75
    # spike counts
    counts = s.neural
    assert np.all(counts >= 0) and np.all(counts == np.round(counts))
    rate_hz = counts.mean() / ds.bin_width_s
    assert 0.5 < rate_hz < 5.0


def test_hippocampus_place_fields_peak_at_their_centres(defaults):
    ds = defaults["hippocampus"]
    s = ds.sessions[0]
    meta = ds.metadata["sessions"][0]
    centres = np.array(meta["field_centres_m"])
    preferred = np.array(meta["preferred_direction"])
    width = ds.metadata["params"]["field_width_m"]
    edges = np.linspace(0.0, 1.6, 33)
    middles = 0.5 * (edges[:-1] + edges[1:])
    position_bin = np.clip(np.digitize(s.labels["position"], edges) - 1, 0, 31)
    hits = 0
    for i in range(s.n_neurons):
        own = s.labels["direction"] == preferred[i]
        tuning = np.array([s.neural[own & (position_bin == b), i].mean() for b in range(32)])
        hits += abs(middles[np.nanargmax(tuning)] - centres[i]) <= width
        # no field in the other running direction: mean rate there is near baseline
        other = s.neural[~own, i].mean() / ds.bin_width_s
        assert other < 2.0
    assert hits >= 0.9 * s.n_neurons


# --------------------------------------------------------------------------- visual


def _by_repeat(ds, neuron_slice=slice(None)):
    s = ds.sessions[0]
    n_frames = ds.metadata["params"]["n_frames"]
    n_repeats = ds.metadata["params"]["n_repeats"]
    order = np.lexsort((s.labels["frame"], s.labels["repeat"]))
    return s.neural[order][:, neuron_slice].reshape(n_repeats, n_frames, -1)


def test_visual_labels(defaults):
    s = defaults["visual"].sessions[0]
    np.testing.assert_array_equal(s.labels["frame"], np.tile(np.arange(900), 10))
    np.testing.assert_array_equal(s.labels["repeat"], np.repeat(np.arange(10), 900))
    assert np.all(s.neural >= 0)
    assert defaults["visual"].bin_width_s == pytest.approx(1 / 30)
    # with the default split the last two repeats are the test set
    assert set(np.unique(s.labels["repeat"][~s.train])) == {8, 9}


def test_visual_repeats_are_correlated_but_not_identical(defaults):
    responses = _by_repeat(defaults["visual"])  # (repeat, frame, neuron)
    a, b = responses[0].ravel(), responses[1].ravel()
    assert np.corrcoef(a, b)[0, 1] > 0.6
    assert not np.allclose(a, b)
    # frame identity is what drives the responses: correlation across different frames is low
    shifted = np.roll(responses[1], 300, axis=0).ravel()
    assert np.corrcoef(a, shifted)[0, 1] < np.corrcoef(a, b)[0, 1] - 0.3


def test_visual_repeat_gain_changes_each_neurons_amplitude():
    def log_gain_spread(gain_sd):
        ds = GENERATORS["visual"](gain_sd=gain_sd, drift_sd=0.0, noise_sd=0.0, n_repeats=6)
        mean_per_repeat = _by_repeat(ds).mean(axis=1)  # (repeat, neuron)
        ratio = np.log(mean_per_repeat[1:] / mean_per_repeat[:-1])
        return ratio.std()

    assert log_gain_spread(0.0) < 0.01  # identical repeats without gain changes or drift
    assert 0.15 < log_gain_spread(0.2) < 0.45  # ≈ 0.2·√2 for two independent gains


# --------------------------------------------------------------------------- Lorenz


def test_lorenz_labels_follow_the_lorenz_equations(defaults):
    ds = defaults["lorenz"]
    dt = ds.metadata["params"]["dt"]
    s = ds.sessions[0]
    state = np.stack([s.labels["x"], s.labels["y"], s.labels["z"]], axis=1)
    finite_difference = (state[2:] - state[:-2]) / (2 * dt)
    field = lorenz_derivative(state[1:-1])
    error = np.linalg.norm(finite_difference - field, axis=1)
    scale = np.linalg.norm(field, axis=1).mean()
    assert np.median(error) / scale < 0.01
    assert np.max(error) / scale < 0.1
    # chaotic attractor, not a fixed point: both wings visited
    assert state[:, 0].min() < -10 and state[:, 0].max() > 10
    assert (LORENZ_SIGMA, LORENZ_RHO, LORENZ_BETA) == (10.0, 28.0, pytest.approx(8 / 3))


def test_lorenz_derivative_formula():
    state = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(lorenz_derivative(state), [10.0, 1 * 25 - 2, 2 - 8.0])


def test_lorenz_neurons_encode_the_latents_through_their_connectivity(defaults):
    ds = defaults["lorenz"]
    s = ds.sessions[0]
    connectivity = np.array(ds.metadata["sessions"][0]["connectivity"])
    assert connectivity.shape == (3, s.n_neurons)
    assert connectivity.any(axis=0).all()
    assert 0.2 < connectivity.mean() < 0.9
    # a neuron driven by one latent only is a function of that latent: it is better
    # predicted from its own latent than from the others (nearest-neighbour in 1-D)
    latents = np.stack([s.labels[a] for a in "xyz"], axis=1)
    single = np.flatnonzero(connectivity.sum(axis=0) == 1)
    assert single.size > 0
    for i in single[:5]:
        own = int(np.flatnonzero(connectivity[:, i])[0])
        scores = []
        for j in range(3):
            order = np.argsort(latents[:, j])
            y = s.neural[order, i]
            scores.append(np.mean((y[1:] - y[:-1]) ** 2))  # roughness along latent j
        assert np.argmin(scores) == own


# --------------------------------------------------------------------------- circle


def test_circle_latents_lie_on_the_unit_circle(defaults):
    ds = defaults["circle"]
    s = ds.sessions[0]
    x, y, angle = s.labels["latent_x"], s.labels["latent_y"], s.labels["angle"]
    np.testing.assert_allclose(np.hypot(x, y), 1.0, atol=1e-12)
    assert angle.min() >= 0 and angle.max() < 2 * np.pi
    np.testing.assert_allclose(np.mod(np.arctan2(y, x), 2 * np.pi), angle, atol=1e-9)
    # a smooth walk that still visits the whole circle
    step = np.angle(np.exp(1j * np.diff(angle)))
    assert np.abs(step).max() < 0.3
    sectors = np.unique(np.floor(angle / (np.pi / 4)))
    assert sectors.size == 8
    assert ds.label_info["angle"].unit == "rad"


def test_noisy_circle_moves_the_latents_off_the_circle():
    s = GENERATORS["circle"](latent_noise_sd=0.1).sessions[0]
    radius = np.hypot(s.labels["latent_x"], s.labels["latent_y"])
    assert 0.05 < radius.std() < 0.2


def test_circle_neurons_are_tuned_to_the_angle(defaults):
    s = defaults["circle"].sessions[0]
    angle = s.labels["angle"]
    sector = np.floor(angle / (2 * np.pi / 16)).astype(int)
    tuning = np.stack([s.neural[sector == k].mean(axis=0) for k in range(16)])
    # between-sector variance dominates the within-sector noise for most neurons
    explained = tuning.var(axis=0) / s.neural.var(axis=0)
    assert np.median(explained) > 0.5
