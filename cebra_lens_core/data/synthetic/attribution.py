"""A known subset of neurons driven nonlinearly by three smooth latents, the rest by
independent nuisance processes (ground truth for attribution maps): :func:`attribution`."""

from __future__ import annotations

import numpy as np

from cebra_lens_core.data.synthetic._common import (
    as_float,
    as_int,
    check_fraction,
    neurons_in_session,
    random_connectivity,
    session_rng,
    smooth_noise,
    synthetic_dataset,
)
from cebra_lens_core.data.types import DataError, Dataset, LabelInfo

#: Label names of :func:`attribution` (the behavioural latents, in ground-truth row order).
ATTRIBUTION_LATENTS = ("latent_0", "latent_1", "latent_2")


def _bounded_weights(rng: np.random.Generator, connectivity: np.ndarray) -> np.ndarray:
    """Weights ``±U(0.5, 1.5) / √c_i`` where ``connectivity`` is True, 0 elsewhere.

    Unlike the Gaussian weights of :func:`random_nonlinear_embedding`, no connection is
    close to 0, so every True entry of the ground truth has a visible effect.
    """
    inputs_per_neuron = np.maximum(connectivity.sum(axis=0), 1)
    magnitude = rng.uniform(0.5, 1.5, connectivity.shape)
    sign = rng.choice([-1.0, 1.0], connectivity.shape)
    return sign * magnitude * connectivity / np.sqrt(inputs_per_neuron)


def attribution(
    *,
    n_neurons: int = 50,
    n_timepoints: int = 5000,
    driven_fraction: float = 0.5,
    connection_prob: float = 0.5,
    n_nuisance: int = 3,
    latent_timescale: float = 20.0,
    nuisance_timescale: float = 20.0,
    noise_sd: float = 0.1,
    bin_width_s: float = 0.01,
    seed: int = 0,
    n_sessions: int = 1,
    test_fraction: float = 0.2,
    name: str = "attribution",
) -> Dataset:
    """Attribution benchmark: a known subset of neurons is driven by 3 behavioural latents.

    Model, per session (``n = n_neurons + 5·k`` neurons):

    - latents ``z(t) ∈ R³``: smooth stationary Gaussian processes (unit variance, Gaussian
      autocorrelation of ``latent_timescale`` time steps, :func:`smooth_noise`), the labels
      ``latent_0``, ``latent_1``, ``latent_2``;
    - nuisance ``u(t) ∈ R^{n_nuisance}``: independent smooth processes of the same kind with
      timescale ``nuisance_timescale``, not given as labels;
    - ``round(driven_fraction · n)`` neurons (at least one, and at least one left over when
      ``driven_fraction < 1``; a random subset, not the first columns) are *driven*:
      ``r_i(t) = tanh(z(t) W + b)_i + ε``, latent ``j`` driving neuron ``i`` where
      ``connectivity[j][i]`` is True (probability ``connection_prob``, at least one latent
      per driven neuron, :func:`random_connectivity`);
    - every other neuron is a *nuisance* neuron, ``r_i(t) = tanh(u(t) V + b)_i + ε``, driven by
      the nuisance processes only (each by at least one, probability 0.5), so it carries as
      much temporal structure as a driven neuron but no information about ``z``;
    - weights ``W_ji, V_ki = ±U(0.5, 1.5) / √c_i`` where connected (``c_i`` inputs of neuron
      ``i``; random sign), 0 elsewhere, so every connection has a visible effect and the
      input to tanh has about unit variance; ``b_i ~ N(0, 0.5²)``;
    - ``ε ~ N(0, noise_sd²)`` independently per neuron and time step.

    Ground truth, in ``metadata["sessions"][k]``: ``connectivity`` (``3 × n`` booleans,
    latent × neuron, row ``j`` = label ``latent_j``; all False for nuisance neurons),
    ``driven`` (``n`` booleans, True where any latent drives the neuron) and
    ``nuisance_connectivity`` (``n_nuisance × n``).

    With behaviour-contrastive training on the latents, positive pairs sampled at
    ``time_offsets = 1`` are mostly neighbouring time points, which share the smooth
    nuisance, so the model also encodes the nuisance neurons; use larger ``time_offsets``
    (e.g. 10) so that positive pairs match in ``z`` but not in ``u``.

    ``T = n_timepoints`` (5000 at the defaults). Labels: ``latent_0``, ``latent_1``,
    ``latent_2`` (continuous, unit variance).
    """
    n_neurons = as_int("n_neurons", n_neurons, 2)
    n_timepoints = as_int("n_timepoints", n_timepoints, 10)
    driven_fraction = check_fraction("driven_fraction", driven_fraction)
    if driven_fraction == 0.0:
        raise DataError("parameter 'driven_fraction' must be > 0 (no neuron would be driven)")
    connection_prob = check_fraction("connection_prob", connection_prob)
    n_nuisance = as_int("n_nuisance", n_nuisance, 1)
    latent_timescale = as_float("latent_timescale", latent_timescale, allow_minimum=True)
    nuisance_timescale = as_float("nuisance_timescale", nuisance_timescale, allow_minimum=True)
    noise_sd = as_float("noise_sd", noise_sd, allow_minimum=True)
    bin_width_s = as_float("bin_width_s", bin_width_s)
    seed = as_int("seed", seed, 0)
    n_sessions = as_int("n_sessions", n_sessions, 1)
    test_fraction = as_float("test_fraction", test_fraction)
    n_latents = len(ATTRIBUTION_LATENTS)

    sessions, session_meta = [], []
    for k in range(n_sessions):
        rng = session_rng(seed, k)
        n = neurons_in_session(n_neurons, k)
        n_driven = int(round(driven_fraction * n))
        n_driven = n if driven_fraction == 1.0 else min(max(n_driven, 1), n - 1)
        driven = np.zeros(n, dtype=bool)
        driven[rng.permutation(n)[:n_driven]] = True
        latents = smooth_noise(rng, n_timepoints, n_latents, latent_timescale)
        nuisance = smooth_noise(rng, n_timepoints, n_nuisance, nuisance_timescale)
        connectivity = np.zeros((n_latents, n), dtype=bool)
        connectivity[:, driven] = random_connectivity(rng, n_latents, n_driven, connection_prob)
        nuisance_connectivity = np.zeros((n_nuisance, n), dtype=bool)
        nuisance_connectivity[:, ~driven] = random_connectivity(rng, n_nuisance, n - n_driven, 0.5)
        rates = np.tanh(
            latents @ _bounded_weights(rng, connectivity)
            + nuisance @ _bounded_weights(rng, nuisance_connectivity)
            + rng.normal(0.0, 0.5, n)
        )
        neural = rates + noise_sd * rng.standard_normal(rates.shape)
        labels = {label: latents[:, j].copy() for j, label in enumerate(ATTRIBUTION_LATENTS)}
        sessions.append((neural, labels))
        session_meta.append(
            {
                "n_neurons": n,
                "connectivity": connectivity.tolist(),
                "driven": driven.tolist(),
                "nuisance_connectivity": nuisance_connectivity.tolist(),
            }
        )

    params = {
        "n_neurons": n_neurons,
        "n_timepoints": n_timepoints,
        "driven_fraction": driven_fraction,
        "connection_prob": connection_prob,
        "n_nuisance": n_nuisance,
        "latent_timescale": latent_timescale,
        "nuisance_timescale": nuisance_timescale,
        "noise_sd": noise_sd,
        "bin_width_s": bin_width_s,
        "seed": seed,
        "n_sessions": n_sessions,
        "test_fraction": test_fraction,
    }
    return synthetic_dataset(
        "attribution",
        name,
        sessions,
        test_fraction,
        label_info={label: LabelInfo("continuous") for label in ATTRIBUTION_LATENTS},
        bin_width_s=bin_width_s,
        params=params,
        session_meta=session_meta,
        latent_names=list(ATTRIBUTION_LATENTS),
    )
