"""A rat running back and forth on a linear track, direction-selective place cells, Poisson
spike counts (the CEBRA "rat hippocampus" setting): :func:`hippocampus`."""

from __future__ import annotations

import numpy as np

from cebra_lens_core.data.synthetic._common import (
    as_float,
    as_int,
    lognormal_gain,
    neurons_in_session,
    session_rng,
    smooth_noise,
    synthetic_dataset,
)
from cebra_lens_core.data.types import DataError, Dataset, LabelInfo

# Distance (m) from a track end over which the rat speeds up / slows down.
_TRACK_END_RAMP_M = 0.2


def linear_track_trajectory(
    rng: np.random.Generator,
    n_bins: int,
    bin_width_s: float,
    track_length_m: float,
    speed_m_s: float,
    speed_variability: float,
    pause_s: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Position and running direction of a rat shuttling along a linear track.

    Speed at bin ``t``: ``v(t) = speed_m_s · exp(σ·u(t) − σ²/2) · ramp(t)`` where ``u`` is smooth
    unit-variance noise with a 1 s timescale (σ = ``speed_variability``) and ``ramp`` rises
    linearly from 0.2 to 1 over the first and last 0.2 m of each run (the rat accelerates away
    from and slows down towards the track ends). On reaching an end the rat turns around and
    pauses for ``U(0.5, 1.5) · pause_s`` seconds. The start position and direction are random.

    Direction codes: 0 while the rat moves towards +x ("right"), 1 towards 0 ("left"). The
    code at bin ``t`` is the direction of the step ``x[t+1] − x[t]``; during a pause at an end
    it is already the direction of the next run.

    Returns:
        ``position`` (``(n_bins,)`` float64, metres in ``[0, track_length_m]``) and
        ``direction`` (``(n_bins,)`` int64).
    """
    speed_mod = np.exp(
        speed_variability * smooth_noise(rng, n_bins, 1, 1.0 / bin_width_s)[:, 0]
        - 0.5 * speed_variability**2
    )
    position = np.empty(n_bins)
    direction = np.empty(n_bins, dtype=np.int64)
    x = float(rng.uniform(0.0, track_length_m))
    heading = int(rng.integers(0, 2))
    pause_left = 0
    for t in range(n_bins):
        position[t] = x
        direction[t] = heading
        if pause_left > 0:
            pause_left -= 1
            continue
        ahead = track_length_m - x if heading == 0 else x
        behind = track_length_m - ahead
        ramp = min(1.0, 0.2 + 0.8 * min(ahead, behind) / _TRACK_END_RAMP_M)
        step = speed_m_s * speed_mod[t] * ramp * bin_width_s
        if step >= ahead:  # reached the end: turn around and pause
            x = track_length_m if heading == 0 else 0.0
            heading = 1 - heading
            pause_left = int(round(rng.uniform(0.5, 1.5) * pause_s / bin_width_s))
        else:
            x += step if heading == 0 else -step
    return position, direction


def place_cell_rates(
    position: np.ndarray,
    direction: np.ndarray,
    field_centres_m: np.ndarray,
    preferred_direction: np.ndarray,
    lap_gain: np.ndarray,
    lap_index: np.ndarray,
    field_width_m: float,
    peak_rate_hz: float,
    baseline_rate_hz: float,
) -> np.ndarray:
    """Firing rate (Hz) of direction-selective place cells, ``(T, N)``.

    ``λ_i(t) = baseline + peak · g_i(lap(t)) · exp(−(x(t) − c_i)² / (2 w²)) · [d(t) = d_i]``
    with field centre ``c_i``, field width (Gaussian SD) ``w``, preferred direction ``d_i`` and
    lap-by-lap gain ``g_i`` (``lap_gain[lap, i]``).
    """
    field = np.exp(-0.5 * ((position[:, None] - field_centres_m[None, :]) / field_width_m) ** 2)
    in_preferred_direction = direction[:, None] == preferred_direction[None, :]
    return baseline_rate_hz + peak_rate_hz * lap_gain[lap_index] * field * in_preferred_direction


def hippocampus(
    *,
    n_neurons: int = 60,
    duration_s: float = 120.0,
    bin_width_s: float = 0.025,
    speed_m_s: float = 0.5,
    speed_variability: float = 0.3,
    pause_s: float = 1.0,
    track_length_m: float = 1.6,
    field_width_m: float = 0.12,
    peak_rate_hz: float = 15.0,
    baseline_rate_hz: float = 0.5,
    lap_gain_sd: float = 0.3,
    seed: int = 0,
    n_sessions: int = 1,
    test_fraction: float = 0.2,
    name: str = "hippocampus",
) -> Dataset:
    """Rat on a linear track with direction-selective CA1 place cells (Poisson spike counts).

    Model: the trajectory of :func:`linear_track_trajectory`; each neuron has one Gaussian
    place field with centre ``c_i ~ U(0, track_length_m)``, SD ``field_width_m`` and a preferred
    running direction (half the population each way), firing only on runs in that direction
    (:func:`place_cell_rates`). Field strength varies from lap to lap by a log-normal gain of
    log-SD ``lap_gain_sd`` (over-dispersion as in real place cells). Spike counts per bin are
    Poisson: ``n_i(t) ~ Poisson(λ_i(t) · bin_width_s)``.

    ``T = round(duration_s / bin_width_s)`` bins (4800 at the defaults).

    Labels: ``position`` (continuous, m, in ``[0, track_length_m]``) and ``direction``
    (discrete, 0 = "right" = towards +x, 1 = "left").
    """
    n_neurons = as_int("n_neurons", n_neurons, 1)
    duration_s = as_float("duration_s", duration_s)
    bin_width_s = as_float("bin_width_s", bin_width_s)
    speed_m_s = as_float("speed_m_s", speed_m_s)
    speed_variability = as_float("speed_variability", speed_variability, allow_minimum=True)
    pause_s = as_float("pause_s", pause_s, allow_minimum=True)
    track_length_m = as_float("track_length_m", track_length_m)
    field_width_m = as_float("field_width_m", field_width_m)
    peak_rate_hz = as_float("peak_rate_hz", peak_rate_hz, allow_minimum=True)
    baseline_rate_hz = as_float("baseline_rate_hz", baseline_rate_hz, allow_minimum=True)
    lap_gain_sd = as_float("lap_gain_sd", lap_gain_sd, allow_minimum=True)
    seed = as_int("seed", seed, 0)
    n_sessions = as_int("n_sessions", n_sessions, 1)
    test_fraction = as_float("test_fraction", test_fraction)
    n_bins = int(round(duration_s / bin_width_s))
    if n_bins < 10:
        raise DataError(
            f"duration_s={duration_s} with bin_width_s={bin_width_s} gives only {n_bins} time bins"
        )
    if speed_m_s * bin_width_s >= track_length_m:
        raise DataError(
            f"speed_m_s={speed_m_s} crosses the whole {track_length_m} m track within one "
            f"{bin_width_s} s bin; lower the speed or the bin width"
        )

    sessions, session_meta = [], []
    for k in range(n_sessions):
        rng = session_rng(seed, k)
        n = neurons_in_session(n_neurons, k)
        position, direction = linear_track_trajectory(
            rng, n_bins, bin_width_s, track_length_m, speed_m_s, speed_variability, pause_s
        )
        centres = rng.uniform(0.0, track_length_m, n)
        preferred = rng.permutation(np.arange(n) % 2).astype(np.int64)
        lap_index = np.concatenate([[0], np.cumsum(np.diff(direction) != 0)])
        lap_gain = lognormal_gain(rng, (int(lap_index[-1]) + 1, n), lap_gain_sd)
        rates = place_cell_rates(
            position,
            direction,
            centres,
            preferred,
            lap_gain,
            lap_index,
            field_width_m,
            peak_rate_hz,
            baseline_rate_hz,
        )
        counts = rng.poisson(rates * bin_width_s)
        sessions.append((counts, {"position": position, "direction": direction}))
        session_meta.append(
            {
                "n_neurons": n,
                "field_centres_m": centres.tolist(),
                "preferred_direction": preferred.tolist(),
                "n_laps": int(lap_index[-1]) + 1,
            }
        )

    params = {
        "n_neurons": n_neurons,
        "duration_s": duration_s,
        "bin_width_s": bin_width_s,
        "speed_m_s": speed_m_s,
        "speed_variability": speed_variability,
        "pause_s": pause_s,
        "track_length_m": track_length_m,
        "field_width_m": field_width_m,
        "peak_rate_hz": peak_rate_hz,
        "baseline_rate_hz": baseline_rate_hz,
        "lap_gain_sd": lap_gain_sd,
        "seed": seed,
        "n_sessions": n_sessions,
        "test_fraction": test_fraction,
    }
    return synthetic_dataset(
        "hippocampus",
        name,
        sessions,
        test_fraction,
        label_info={
            "position": LabelInfo("continuous", unit="m"),
            "direction": LabelInfo("discrete", categories=("right", "left")),
        },
        bin_width_s=bin_width_s,
        params=params,
        session_meta=session_meta,
    )
