"""A nonlinear random embedding of a point moving around a circle: :func:`circle`."""

from __future__ import annotations

import numpy as np

from cebra_lens_core.data.synthetic._common import (
    as_float,
    as_int,
    neurons_in_session,
    random_nonlinear_embedding,
    session_rng,
    smooth_noise,
    synthetic_dataset,
)
from cebra_lens_core.data.types import Dataset, LabelInfo


def circle(
    *,
    n_neurons: int = 50,
    n_timepoints: int = 4000,
    noise_sd: float = 0.1,
    latent_noise_sd: float = 0.0,
    angular_speed: float = 0.05,
    speed_timescale: float = 50.0,
    bin_width_s: float = 0.01,
    seed: int = 0,
    n_sessions: int = 1,
    test_fraction: float = 0.2,
    name: str = "circle",
) -> Dataset:
    """Neurons driven nonlinearly by a point moving smoothly around the unit circle.

    Model: angular velocity ``ω(t) = angular_speed · u(t)`` with ``u`` smooth unit-variance
    noise of timescale ``speed_timescale`` steps (so ``angular_speed`` is the typical speed in
    rad per time step); angle ``θ(t) = θ0 + Σ_{s<t} ω(s)``, ``θ0 ~ U(0, 2π)``. Latent point
    ``p(t) = (cos θ, sin θ) + η(t)``, ``η ~ N(0, latent_noise_sd² I)`` (a "noisy circle" when
    ``latent_noise_sd > 0``). Neural activity ``r(t) = tanh(p(t) W + b) + ε(t)``,
    ``ε ~ N(0, noise_sd²)`` (:func:`random_nonlinear_embedding`, both latents drive every
    neuron: cosine-like direction tuning, as for head-direction cells).

    ``T = n_timepoints`` (4000 at the defaults).

    Labels: ``angle`` (continuous, rad, wrapped to ``[0, 2π)``), ``latent_x`` and ``latent_y``
    (continuous, the latent point ``p`` including any latent noise).
    """
    n_neurons = as_int("n_neurons", n_neurons, 1)
    n_timepoints = as_int("n_timepoints", n_timepoints, 10)
    noise_sd = as_float("noise_sd", noise_sd, allow_minimum=True)
    latent_noise_sd = as_float("latent_noise_sd", latent_noise_sd, allow_minimum=True)
    angular_speed = as_float("angular_speed", angular_speed)
    speed_timescale = as_float("speed_timescale", speed_timescale, allow_minimum=True)
    bin_width_s = as_float("bin_width_s", bin_width_s)
    seed = as_int("seed", seed, 0)
    n_sessions = as_int("n_sessions", n_sessions, 1)
    test_fraction = as_float("test_fraction", test_fraction)

    sessions, session_meta = [], []
    for k in range(n_sessions):
        rng = session_rng(seed, k)
        n = neurons_in_session(n_neurons, k)
        velocity = angular_speed * smooth_noise(rng, n_timepoints, 1, speed_timescale)[:, 0]
        theta = rng.uniform(0.0, 2 * np.pi) + np.concatenate([[0.0], np.cumsum(velocity[:-1])])
        point = np.stack([np.cos(theta), np.sin(theta)], axis=1)
        point = point + latent_noise_sd * rng.standard_normal(point.shape)
        connectivity = np.ones((2, n), dtype=bool)
        rates = random_nonlinear_embedding(rng, point, n, connectivity)
        neural = rates + noise_sd * rng.standard_normal(rates.shape)
        labels = {
            "angle": np.mod(theta, 2 * np.pi),
            "latent_x": point[:, 0].copy(),
            "latent_y": point[:, 1].copy(),
        }
        sessions.append((neural, labels))
        session_meta.append({"n_neurons": n})

    params = {
        "n_neurons": n_neurons,
        "n_timepoints": n_timepoints,
        "noise_sd": noise_sd,
        "latent_noise_sd": latent_noise_sd,
        "angular_speed": angular_speed,
        "speed_timescale": speed_timescale,
        "bin_width_s": bin_width_s,
        "seed": seed,
        "n_sessions": n_sessions,
        "test_fraction": test_fraction,
    }
    return synthetic_dataset(
        "circle",
        name,
        sessions,
        test_fraction,
        label_info={
            "angle": LabelInfo("continuous", unit="rad"),
            "latent_x": LabelInfo("continuous"),
            "latent_y": LabelInfo("continuous"),
        },
        bin_width_s=bin_width_s,
        params=params,
        session_meta=session_meta,
    )
