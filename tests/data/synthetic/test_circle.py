"""The circle generator: latents on the unit circle, neurons tuned to the angle."""

from __future__ import annotations

import numpy as np

from cebra_lens_core.data.synthetic import GENERATORS


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
