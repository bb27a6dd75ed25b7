"""The `attribution` generator: determinism and a ground-truth map that matches the data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from cebra_lens_core.data import SOURCES, load_dataset
from cebra_lens_core.data.sources import SYNTHETIC_LABELS
from cebra_lens_core.data.synthetic import ATTRIBUTION_LATENTS, GENERATORS, attribution
from cebra_lens_core.data.types import DataError

SCHEMA = Path(__file__).resolve().parents[3] / "workflow" / "schemas" / "config.schema.yaml"


@pytest.fixture(scope="module")
def dataset():
    return attribution(n_neurons=40, n_sessions=2, seed=3)


def _truth(ds, k=0):
    meta = ds.metadata["sessions"][k]
    return (
        np.array(meta["connectivity"], dtype=bool),
        np.array(meta["driven"], dtype=bool),
        np.array(meta["nuisance_connectivity"], dtype=bool),
    )


def _poly_r2(x: np.ndarray, y: np.ndarray) -> float:
    """R² of a cubic polynomial regression (with pairwise products) of y on the columns of x."""
    cols = [np.ones(len(x))]
    for i in range(x.shape[1]):
        cols += [x[:, i], x[:, i] ** 2, x[:, i] ** 3]
        for j in range(i + 1, x.shape[1]):
            cols.append(x[:, i] * x[:, j])
    features = np.stack(cols, axis=1)
    coef, *_ = np.linalg.lstsq(features, y, rcond=None)
    residual = y - features @ coef
    return 1.0 - residual.var() / y.var()


def test_registered_everywhere():
    assert GENERATORS["attribution"] is attribution
    assert "attribution" in SOURCES
    assert SYNTHETIC_LABELS["attribution"] == ATTRIBUTION_LATENTS
    schema = yaml.safe_load(SCHEMA.read_text())
    assert "attribution" in schema["definitions"]["dataset"]["properties"]["source"]["enum"]
    ds = load_dataset("bench", {"source": "attribution", "params": {"n_neurons": 6}})
    assert ds.name == "bench" and ds.sessions[0].n_neurons == 6
    assert ds.label_names == list(ATTRIBUTION_LATENTS)


def test_deterministic_and_seed_dependent():
    a, b = attribution(n_neurons=12, seed=7), attribution(n_neurons=12, seed=7)
    np.testing.assert_array_equal(a.sessions[0].neural, b.sessions[0].neural)
    assert a.metadata == b.metadata
    for label in ATTRIBUTION_LATENTS:
        np.testing.assert_array_equal(a.sessions[0].labels[label], b.sessions[0].labels[label])
    c = attribution(n_neurons=12, seed=8)
    assert not np.array_equal(a.sessions[0].neural, c.sessions[0].neural)
    assert a.metadata["sessions"][0]["connectivity"] != c.metadata["sessions"][0]["connectivity"]


def test_ground_truth_shape_and_structure(dataset):
    for k, session in enumerate(dataset.sessions):
        connectivity, driven, nuisance = _truth(dataset, k)
        n = session.n_neurons
        assert connectivity.shape == (3, n) and driven.shape == (n,)
        assert nuisance.shape == (dataset.metadata["params"]["n_nuisance"], n)
        np.testing.assert_array_equal(connectivity.any(axis=0), driven)
        assert driven.sum() == round(0.5 * n)
        assert not nuisance[:, driven].any() and nuisance[:, ~driven].any(axis=0).all()
        assert not driven[: driven.sum()].all()  # a random subset, not the first columns
    assert dataset.metadata["latent_names"] == list(ATTRIBUTION_LATENTS)


def test_labels_are_smooth_unit_variance_latents(dataset):
    session = dataset.sessions[0]
    z = np.stack([session.labels[name] for name in ATTRIBUTION_LATENTS], axis=1)
    assert all(dataset.label_info[name].kind == "continuous" for name in ATTRIBUTION_LATENTS)
    np.testing.assert_allclose(z.std(axis=0), 1.0, atol=0.25)
    lag1 = [np.corrcoef(z[:-1, j], z[1:, j])[0, 1] for j in range(3)]
    assert min(lag1) > 0.95
    assert np.abs(np.corrcoef(z.T)[np.triu_indices(3, 1)]).max() < 0.3  # independent latents


def test_data_follow_the_ground_truth():
    """Driven neurons are functions of their latents; nuisance neurons carry no latent signal.

    Nearly white latents (timescale 1) so that chance correlations between smooth processes
    (few effective samples) do not blur the comparison.
    """
    dataset = attribution(n_neurons=40, seed=3, latent_timescale=1.0, nuisance_timescale=1.0)
    session = dataset.sessions[0]
    connectivity, driven, _ = _truth(dataset)
    z = np.stack([session.labels[name] for name in ATTRIBUTION_LATENTS], axis=1)
    r2 = np.array([_poly_r2(z, session.neural[:, i]) for i in range(session.n_neurons)])
    assert r2[~driven].max() < 0.02
    assert np.median(r2[driven]) > 0.6
    # a neuron depends on exactly the latents the map says: dropping a connected latent
    # loses much of the explained variance (no connection has a weight near 0), dropping an
    # unconnected one loses nothing
    for i in np.flatnonzero(driven):
        for j in range(3):
            others = [m for m in range(3) if m != j]
            loss = r2[i] - _poly_r2(z[:, others], session.neural[:, i])
            if connectivity[j, i]:
                assert loss > 0.03, (i, j, loss)
            else:
                assert loss < 0.005, (i, j, loss)


def test_driven_fraction_and_limits():
    ds = attribution(n_neurons=10, driven_fraction=1.0, n_timepoints=200)
    connectivity, driven, nuisance = _truth(ds)
    assert driven.all() and not nuisance.any() and connectivity.any(axis=0).all()
    tiny = attribution(n_neurons=2, driven_fraction=0.01, n_timepoints=50)
    assert _truth(tiny)[1].sum() == 1  # at least one driven and one nuisance neuron
    with pytest.raises(DataError, match="driven_fraction"):
        attribution(driven_fraction=0.0)
    with pytest.raises(DataError, match="n_neurons"):
        attribution(n_neurons=1)
    with pytest.raises(DataError, match="n_nuisance"):
        attribution(n_nuisance=0)


# --------------------------------------------------------------------------- time-only latents


def test_without_time_latents_the_data_are_unchanged():
    """n_time_latents = 0 draws nothing extra: the default benchmark data are what they were
    (pinned values of the first neuron, seed 3)."""
    plain = attribution(n_neurons=12, n_timepoints=100, seed=3)
    explicit = attribution(
        n_neurons=12, n_timepoints=100, seed=3, n_time_latents=0, time_driven_fraction=0.0
    )
    np.testing.assert_array_equal(plain.sessions[0].neural, explicit.sessions[0].neural)
    assert plain.metadata["latent_parts"] == {"behavior": list(ATTRIBUTION_LATENTS)}
    assert plain.label_names == list(ATTRIBUTION_LATENTS)


def test_time_latents_drive_their_own_neurons():
    ds = attribution(
        n_neurons=40,
        n_timepoints=5000,
        seed=2,
        driven_fraction=0.3,
        n_time_latents=2,
        time_driven_fraction=0.3,
        latent_timescale=1.0,
        nuisance_timescale=1.0,
        time_latent_timescale=1.0,
    )
    session, meta = ds.sessions[0], ds.metadata["sessions"][0]
    connectivity = np.array(meta["connectivity"], dtype=bool)
    driven = np.array(meta["driven"], dtype=bool)
    time_driven = np.array(meta["time_driven"], dtype=bool)
    assert connectivity.shape == (5, 40)
    assert ds.metadata["latent_names"] == [*ATTRIBUTION_LATENTS, "time_latent_0", "time_latent_1"]
    assert ds.metadata["latent_parts"]["time"] == ["time_latent_0", "time_latent_1"]
    assert driven.sum() == 12 and time_driven.sum() == 12 and not (driven & time_driven).any()
    np.testing.assert_array_equal(connectivity[3:].any(axis=0), time_driven)
    np.testing.assert_array_equal(connectivity[:3].any(axis=0), driven)
    z = np.stack([session.labels[n] for n in ds.metadata["latent_names"]], axis=1)
    r2_time = np.array([_poly_r2(z[:, 3:], session.neural[:, i]) for i in range(40)])
    r2_behaviour = np.array([_poly_r2(z[:, :3], session.neural[:, i]) for i in range(40)])
    assert np.median(r2_time[time_driven]) > 0.5 and r2_time[~time_driven].max() < 0.02
    assert r2_behaviour[time_driven].max() < 0.02  # time neurons say nothing about behaviour


def test_time_latent_parameters_are_checked():
    with pytest.raises(DataError, match="both"):
        attribution(n_time_latents=2)
    with pytest.raises(DataError, match="both"):
        attribution(time_driven_fraction=0.2)
    with pytest.raises(DataError, match="nuisance"):
        attribution(driven_fraction=0.5, n_time_latents=1, time_driven_fraction=0.5)
