"""A nonlinear random embedding of the Lorenz attractor: :func:`lorenz`, integrated by
:func:`integrate_lorenz` with the constants ``LORENZ_SIGMA``, ``LORENZ_RHO``, ``LORENZ_BETA``."""

from __future__ import annotations

import numpy as np

from cebra_lens_core.data.synthetic._common import (
    as_float,
    as_int,
    check_fraction,
    neurons_in_session,
    random_connectivity,
    random_nonlinear_embedding,
    session_rng,
    synthetic_dataset,
)
from cebra_lens_core.data.types import DataError, Dataset, LabelInfo

# Lorenz system constants (the classic chaotic regime).
LORENZ_SIGMA = 10.0
LORENZ_RHO = 28.0
LORENZ_BETA = 8.0 / 3.0


def integrate_lorenz(
    initial_state: tuple[float, float, float], n_steps: int, dt: float
) -> np.ndarray:
    """Classical 4th-order Runge–Kutta integration of the Lorenz system.

    Returns:
        ``(n_steps, 3)`` array; row 0 is ``initial_state``, row ``t`` the state at time ``t·dt``.
    """

    def field(x: float, y: float, z: float) -> tuple[float, float, float]:
        return (
            LORENZ_SIGMA * (y - x),
            x * (LORENZ_RHO - z) - y,
            x * y - LORENZ_BETA * z,
        )

    out = np.empty((n_steps, 3))
    x, y, z = (float(v) for v in initial_state)
    h = dt
    for t in range(n_steps):
        out[t] = (x, y, z)
        a = field(x, y, z)
        b = field(x + 0.5 * h * a[0], y + 0.5 * h * a[1], z + 0.5 * h * a[2])
        c = field(x + 0.5 * h * b[0], y + 0.5 * h * b[1], z + 0.5 * h * b[2])
        d = field(x + h * c[0], y + h * c[1], z + h * c[2])
        x += h / 6.0 * (a[0] + 2 * b[0] + 2 * c[0] + d[0])
        y += h / 6.0 * (a[1] + 2 * b[1] + 2 * c[1] + d[1])
        z += h / 6.0 * (a[2] + 2 * b[2] + 2 * c[2] + d[2])
    return out


def lorenz(
    *,
    n_neurons: int = 50,
    n_timepoints: int = 5000,
    dt: float = 0.01,
    noise_sd: float = 0.1,
    connection_prob: float = 0.5,
    burn_in_steps: int = 1000,
    seed: int = 0,
    n_sessions: int = 1,
    test_fraction: float = 0.2,
    name: str = "lorenz",
) -> Dataset:
    """Neurons driven nonlinearly by the 3-D Lorenz attractor.

    Model: ``dx/dt = σ(y − x)``, ``dy/dt = x(ρ − z) − y``, ``dz/dt = xy − βz`` (σ=10, ρ=28,
    β=8/3), integrated by RK4 with step ``dt`` from a random start near the attractor; the first
    ``burn_in_steps`` steps are discarded. The latents are z-scored (``z̃``) and embedded as
    ``r(t) = tanh(z̃(t) W + b) + ε(t)``, ``ε ~ N(0, noise_sd²)``
    (:func:`random_nonlinear_embedding`), where latent ``j`` drives neuron ``i`` only if
    ``connectivity[j][i]`` (probability ``connection_prob``, at least one latent per neuron).
    The connectivity is stored in ``metadata["sessions"][k]["connectivity"]`` (latent × neuron)
    as the ground truth for attribution methods.

    ``T = n_timepoints`` (5000 at the defaults); ``bin_width_s = dt`` (Lorenz time units).

    Labels: ``x``, ``y``, ``z`` (continuous): the Lorenz state itself (not z-scored), so
    ``(x[t+1] − x[t−1]) / (2 dt)`` approximates the vector field.
    """
    n_neurons = as_int("n_neurons", n_neurons, 1)
    n_timepoints = as_int("n_timepoints", n_timepoints, 10)
    dt = as_float("dt", dt)
    if dt > 0.05:
        raise DataError(f"parameter 'dt' must be <= 0.05 for a stable RK4 integration, got {dt}")
    noise_sd = as_float("noise_sd", noise_sd, allow_minimum=True)
    connection_prob = check_fraction("connection_prob", connection_prob)
    burn_in_steps = as_int("burn_in_steps", burn_in_steps, 0)
    seed = as_int("seed", seed, 0)
    n_sessions = as_int("n_sessions", n_sessions, 1)
    test_fraction = as_float("test_fraction", test_fraction)

    sessions, session_meta = [], []
    for k in range(n_sessions):
        rng = session_rng(seed, k)
        n = neurons_in_session(n_neurons, k)
        start = (rng.normal(0.0, 5.0), rng.normal(0.0, 5.0), rng.normal(25.0, 5.0))
        states = integrate_lorenz(start, burn_in_steps + n_timepoints, dt)[burn_in_steps:]
        mean, sd = states.mean(axis=0), states.std(axis=0)
        connectivity = random_connectivity(rng, 3, n, connection_prob)
        rates = random_nonlinear_embedding(rng, (states - mean) / sd, n, connectivity)
        neural = rates + noise_sd * rng.standard_normal(rates.shape)
        labels = {"x": states[:, 0].copy(), "y": states[:, 1].copy(), "z": states[:, 2].copy()}
        sessions.append((neural, labels))
        session_meta.append(
            {
                "n_neurons": n,
                "latent_mean": mean.tolist(),
                "latent_sd": sd.tolist(),
                "connectivity": connectivity.tolist(),
            }
        )

    params = {
        "n_neurons": n_neurons,
        "n_timepoints": n_timepoints,
        "dt": dt,
        "noise_sd": noise_sd,
        "connection_prob": connection_prob,
        "burn_in_steps": burn_in_steps,
        "seed": seed,
        "n_sessions": n_sessions,
        "test_fraction": test_fraction,
    }
    return synthetic_dataset(
        "lorenz",
        name,
        sessions,
        test_fraction,
        label_info={axis: LabelInfo("continuous") for axis in ("x", "y", "z")},
        bin_width_s=dt,
        params=params,
        session_meta=session_meta,
        latent_names=["x", "y", "z"],
    )
