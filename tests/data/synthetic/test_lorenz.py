"""The Lorenz generator: labels follow the Lorenz equations, neurons their connectivity."""

from __future__ import annotations

import numpy as np
import pytest

from cebra_lens_core.data.synthetic import LORENZ_BETA, LORENZ_RHO, LORENZ_SIGMA


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
