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


def time_latent_names(n: int) -> list[str]:
    """Label names of the time-only latents of :func:`attribution`: ``time_latent_0`` ..."""
    return [f"time_latent_{j}" for j in range(int(n))]


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
    n_time_latents: int = 0,
    time_driven_fraction: float = 0.0,
    time_latent_timescale: float = 50.0,
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

    Time-only latents (the xCEBRA benchmark, Schneider et al. 2025; off by default): with
    ``n_time_latents = m > 0``, ``m`` further smooth processes ``z_time(t)`` (timescale
    ``time_latent_timescale``) drive another ``round(time_driven_fraction · n)`` neurons, drawn
    from the non-driven ones, in the same way (``tanh`` of bounded random weights, each
    neuron by at least one of them). They are *not* behaviour: a model trained on the
    behaviour labels should not need them, while time-contrastive learning finds them
    because they are slow. Give the nuisance processes a short ``nuisance_timescale`` (e.g. 1)
    so that the nuisance neurons carry no structure at the scale of ``time_offsets``. The
    time latents are stored as labels ``time_latent_0`` ... (for scoring only; train the
    behaviour part on ``latent_*``), and with ``m = 0`` the data are identical to the
    generator without these parameters.

    Ground truth, in ``metadata["sessions"][k]``: ``connectivity`` (``(3 + m) × n`` booleans,
    latent × neuron, row ``j`` = label ``latent_j``, then the time latents; all False for
    nuisance neurons), ``driven`` (``n`` booleans, True where a behavioural latent drives the
    neuron), ``time_driven`` (the same for the time latents) and ``nuisance_connectivity``
    (``n_nuisance × n``). ``metadata["latent_names"]`` names the rows and
    ``metadata["latent_parts"]`` groups them: ``{"behavior": [latent_0, latent_1, latent_2],
    "time": [time_latent_0, ...]}`` (no ``time`` entry when ``m = 0``).

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
    n_time_latents = as_int("n_time_latents", n_time_latents, 0)
    time_driven_fraction = check_fraction("time_driven_fraction", time_driven_fraction)
    time_latent_timescale = as_float(
        "time_latent_timescale", time_latent_timescale, allow_minimum=True
    )
    if (n_time_latents > 0) != (time_driven_fraction > 0):
        raise DataError(
            "parameters 'n_time_latents' and 'time_driven_fraction' must be both > 0 (time-only "
            f"latents drive some neurons) or both 0; got {n_time_latents} and {time_driven_fraction}"
        )
    if driven_fraction + time_driven_fraction >= 1.0 and n_time_latents > 0:
        raise DataError(
            f"driven_fraction + time_driven_fraction must be < 1 (some neurons are nuisance), "
            f"got {driven_fraction} + {time_driven_fraction}"
        )
    n_latents = len(ATTRIBUTION_LATENTS)
    time_names = time_latent_names(n_time_latents)

    sessions, session_meta = [], []
    for k in range(n_sessions):
        rng = session_rng(seed, k)
        n = neurons_in_session(n_neurons, k)
        n_driven = int(round(driven_fraction * n))
        n_driven = n if driven_fraction == 1.0 else min(max(n_driven, 1), n - 1)
        n_time = int(round(time_driven_fraction * n))
        if n_time_latents:
            n_time = min(max(n_time, 1), n - n_driven - 1)
        driven = np.zeros(n, dtype=bool)
        time_driven = np.zeros(n, dtype=bool)
        order = rng.permutation(n)
        driven[order[:n_driven]] = True
        time_driven[order[n_driven : n_driven + n_time]] = True
        nuisance_neurons = ~(driven | time_driven)
        latents = smooth_noise(rng, n_timepoints, n_latents, latent_timescale)
        nuisance = smooth_noise(rng, n_timepoints, n_nuisance, nuisance_timescale)
        connectivity = np.zeros((n_latents, n), dtype=bool)
        connectivity[:, driven] = random_connectivity(rng, n_latents, n_driven, connection_prob)
        nuisance_connectivity = np.zeros((n_nuisance, n), dtype=bool)
        nuisance_connectivity[:, nuisance_neurons] = random_connectivity(
            rng, n_nuisance, int(nuisance_neurons.sum()), 0.5
        )
        drive = latents @ _bounded_weights(rng, connectivity) + nuisance @ _bounded_weights(
            rng, nuisance_connectivity
        )
        time_connectivity = np.zeros((n_time_latents, n), dtype=bool)
        labels = {label: latents[:, j].copy() for j, label in enumerate(ATTRIBUTION_LATENTS)}
        if n_time_latents:  # drawn after everything else: m = 0 leaves the data unchanged
            time_latents = smooth_noise(rng, n_timepoints, n_time_latents, time_latent_timescale)
            time_connectivity[:, time_driven] = random_connectivity(
                rng, n_time_latents, n_time, connection_prob
            )
            drive = drive + time_latents @ _bounded_weights(rng, time_connectivity)
            labels.update({label: time_latents[:, j].copy() for j, label in enumerate(time_names)})
        rates = np.tanh(drive + rng.normal(0.0, 0.5, n))
        neural = rates + noise_sd * rng.standard_normal(rates.shape)
        sessions.append((neural, labels))
        session_meta.append(
            {
                "n_neurons": n,
                "connectivity": np.vstack([connectivity, time_connectivity]).tolist(),
                "driven": driven.tolist(),
                "time_driven": time_driven.tolist(),
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
    params.update(
        n_time_latents=n_time_latents,
        time_driven_fraction=time_driven_fraction,
        time_latent_timescale=time_latent_timescale,
    )
    latent_parts = {"behavior": list(ATTRIBUTION_LATENTS)}
    if time_names:
        latent_parts["time"] = time_names
    return synthetic_dataset(
        "attribution",
        name,
        sessions,
        test_fraction,
        label_info={
            label: LabelInfo("continuous") for label in (*ATTRIBUTION_LATENTS, *time_names)
        },
        bin_width_s=bin_width_s,
        params=params,
        session_meta=session_meta,
        latent_names=[*ATTRIBUTION_LATENTS, *time_names],
        latent_parts=latent_parts,
    )
