"""Synthetic recordings with known latent structure.

Five generators, each returning a validated :class:`~cebra_lens_core.data.types.Dataset`:

- :func:`hippocampus`: a rat running back and forth on a linear track, direction-selective
  place cells, Poisson spike counts (the CEBRA "rat hippocampus" setting);
- :func:`visual`: calcium-like responses of visual-cortex neurons to repeats of a natural
  movie, with repeat-to-repeat gain changes and slow drift (the CEBRA "Allen movie" setting);
- :func:`lorenz`: a nonlinear random embedding of the Lorenz attractor;
- :func:`circle`: a nonlinear random embedding of a point moving around a circle;
- :func:`attribution`: a known subset of neurons driven nonlinearly by three smooth
  latents, the rest by independent nuisance processes (ground truth for attribution maps).

Every generator is deterministic given ``seed``. Session ``k`` draws its own random numbers
from ``numpy.random.default_rng([seed, k])``: a different neural population (with
``n_neurons + 5 * k`` neurons) and, except for the shared movie of :func:`visual`, a different
latent trajectory, but the same model. The last ``test_fraction`` of each session is the
test split (:func:`~cebra_lens_core.data.types.blocked_split`).

``metadata`` records the generator name, every parameter, and per-session ground truth
(neuron counts, place-field centres, latent-to-neuron connectivity) as JSON-compatible values.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np

from cebra_lens_core.data.types import DataError, Dataset, LabelInfo, Session, blocked_split

#: Extra neurons per additional session: session ``k`` has ``n_neurons + NEURONS_PER_SESSION * k``.
NEURONS_PER_SESSION = 5

# Lorenz system constants (the classic chaotic regime).
LORENZ_SIGMA = 10.0
LORENZ_RHO = 28.0
LORENZ_BETA = 8.0 / 3.0

# Longest timescale (samples) of smooth_noise computed by direct convolution.
_MAX_DIRECT_TIMESCALE = 64.0

# Distance (m) from a track end over which the rat speeds up / slows down.
_TRACK_END_RAMP_M = 0.2


# --------------------------------------------------------------------------- parameter checks


def _as_int(name: str, value: object, minimum: int) -> int:
    """Return ``value`` as an int ``>= minimum`` or raise a DataError naming the parameter."""
    if isinstance(value, bool):
        raise DataError(f"parameter {name!r} must be an integer, got {value!r}")
    if not isinstance(value, Integral):
        if isinstance(value, Real) and math.isfinite(value) and float(value).is_integer():
            value = int(value)
        else:
            raise DataError(f"parameter {name!r} must be an integer, got {value!r}")
    if int(value) < minimum:
        raise DataError(f"parameter {name!r} must be >= {minimum}, got {value!r}")
    return int(value)


def _as_float(
    name: str, value: object, *, minimum: float = 0.0, allow_minimum: bool = False
) -> float:
    """Return ``value`` as a finite float ``> minimum`` (or ``>=`` with ``allow_minimum``)."""
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise DataError(f"parameter {name!r} must be a finite number, got {value!r}")
    value = float(value)
    if value < minimum or (value == minimum and not allow_minimum):
        relation = ">=" if allow_minimum else ">"
        raise DataError(f"parameter {name!r} must be {relation} {minimum}, got {value!r}")
    return value


def _check_fraction(name: str, value: object) -> float:
    """Return a float in [0, 1]."""
    value = _as_float(name, value, minimum=0.0, allow_minimum=True)
    if value > 1.0:
        raise DataError(f"parameter {name!r} must be between 0 and 1, got {value!r}")
    return value


def _session_rng(seed: int, session: int) -> np.random.Generator:
    """Random generator of session ``session``: independent streams from ``(seed, session)``."""
    return np.random.default_rng([seed, session])


def _neurons_in_session(n_neurons: int, session: int) -> int:
    return n_neurons + NEURONS_PER_SESSION * session


# --------------------------------------------------------------------------- shared building blocks


def smooth_noise(
    rng: np.random.Generator, n_samples: int, n_channels: int, timescale: float
) -> np.ndarray:
    """Stationary Gaussian noise with unit variance and a Gaussian autocorrelation.

    White noise convolved with a Gaussian kernel ``g(t) ∝ exp(-t² / (2 τ²))`` (``τ =
    timescale`` in samples), normalised so that ``Σ g² = 1``: every sample is N(0, 1) and
    samples closer than about ``τ`` are strongly correlated. ``timescale == 0`` gives white noise.
    Slow noise (``τ > 64``) is drawn on a grid of ``τ / 8`` samples and linearly interpolated,
    which changes its statistics by well under 1 % and keeps the cost independent of ``τ``.

    Returns:
        ``(n_samples, n_channels)`` float64 array.
    """
    from scipy.signal import fftconvolve  # imported here: scipy.signal takes ~1 s to import

    if timescale <= 0:
        return rng.standard_normal((n_samples, n_channels))
    if timescale > _MAX_DIRECT_TIMESCALE:
        step = timescale / 8.0
        n_coarse = int(math.ceil((n_samples - 1) / step)) + 2
        coarse = smooth_noise(rng, n_coarse, n_channels, 8.0)
        position = np.arange(n_samples) / step
        return np.stack(
            [np.interp(position, np.arange(n_coarse), coarse[:, c]) for c in range(n_channels)],
            axis=1,
        )
    half = int(math.ceil(4.0 * timescale))
    lags = np.arange(-half, half + 1, dtype=float)
    kernel = np.exp(-0.5 * (lags / timescale) ** 2)
    kernel /= np.sqrt(np.sum(kernel**2))
    white = rng.standard_normal((n_samples + 2 * half, n_channels))
    return fftconvolve(white, kernel[:, None], mode="valid", axes=0)


def lognormal_gain(rng: np.random.Generator, size: tuple[int, ...], sd: float) -> np.ndarray:
    """Multiplicative gains ``exp(sd·ε − sd²/2)``, ε ~ N(0, 1): mean 1, log-SD ``sd``."""
    return np.exp(sd * rng.standard_normal(size) - 0.5 * sd**2)


def softplus(x: np.ndarray) -> np.ndarray:
    """``log(1 + exp(x))``, computed without overflow."""
    return np.logaddexp(0.0, x)


def random_nonlinear_embedding(
    rng: np.random.Generator, latents: np.ndarray, n_neurons: int, connectivity: np.ndarray
) -> np.ndarray:
    """Map ``(T, d)`` latents to ``(T, n_neurons)`` activity: ``tanh(z W + b)``.

    ``W[j, i] ~ N(0, 1 / c_i)`` where ``connectivity[j, i]`` is True (latent ``j`` drives neuron
    ``i``, ``c_i`` = number of latents driving neuron ``i``) and 0 otherwise; ``b_i ~ N(0, 0.5²)``.
    With standardised latents the input to tanh has unit variance, so most neurons operate in
    the curved (nonlinear) part of tanh without being saturated.
    """
    n_latents = latents.shape[1]
    inputs_per_neuron = np.maximum(connectivity.sum(axis=0), 1)
    weights = (
        rng.standard_normal((n_latents, n_neurons)) * connectivity / np.sqrt(inputs_per_neuron)
    )
    bias = rng.normal(0.0, 0.5, n_neurons)
    return np.tanh(latents @ weights + bias)


def random_connectivity(
    rng: np.random.Generator, n_latents: int, n_neurons: int, connection_prob: float
) -> np.ndarray:
    """Boolean ``(n_latents, n_neurons)`` map, True where a latent drives a neuron.

    Each entry is True with probability ``connection_prob``; a neuron left without any input
    gets one latent chosen uniformly, so every neuron carries signal.
    """
    mask = rng.random((n_latents, n_neurons)) < connection_prob
    orphans = np.flatnonzero(~mask.any(axis=0))
    mask[rng.integers(0, n_latents, orphans.size), orphans] = True
    return mask


def _split_sessions(sessions: list[tuple[np.ndarray, dict[str, np.ndarray]]], test_fraction: float):
    return [
        Session(
            neural=neural.astype(np.float32),
            labels=labels,
            train=blocked_split(neural.shape[0], test_fraction),
        )
        for neural, labels in sessions
    ]


def _synthetic_dataset(
    generator: str,
    name: str,
    sessions: list[tuple[np.ndarray, dict[str, np.ndarray]]],
    test_fraction: float,
    *,
    label_info: dict[str, LabelInfo],
    bin_width_s: float,
    params: dict,
    session_meta: list[dict],
    **extra_metadata,
) -> Dataset:
    """The validated :class:`Dataset` of a generator: time-blocked split of every session,
    metadata with the generator name, its parameters, per-session ground truth and extras."""
    return Dataset(
        name=name,
        sessions=_split_sessions(sessions, test_fraction),
        label_info=label_info,
        bin_width_s=bin_width_s,
        metadata={
            "source": "synthetic",
            "generator": generator,
            "params": params,
            "sessions": session_meta,
            **extra_metadata,
        },
    ).validate()


# --------------------------------------------------------------------------- hippocampus


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
    n_neurons = _as_int("n_neurons", n_neurons, 1)
    duration_s = _as_float("duration_s", duration_s)
    bin_width_s = _as_float("bin_width_s", bin_width_s)
    speed_m_s = _as_float("speed_m_s", speed_m_s)
    speed_variability = _as_float("speed_variability", speed_variability, allow_minimum=True)
    pause_s = _as_float("pause_s", pause_s, allow_minimum=True)
    track_length_m = _as_float("track_length_m", track_length_m)
    field_width_m = _as_float("field_width_m", field_width_m)
    peak_rate_hz = _as_float("peak_rate_hz", peak_rate_hz, allow_minimum=True)
    baseline_rate_hz = _as_float("baseline_rate_hz", baseline_rate_hz, allow_minimum=True)
    lap_gain_sd = _as_float("lap_gain_sd", lap_gain_sd, allow_minimum=True)
    seed = _as_int("seed", seed, 0)
    n_sessions = _as_int("n_sessions", n_sessions, 1)
    test_fraction = _as_float("test_fraction", test_fraction)
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
        rng = _session_rng(seed, k)
        n = _neurons_in_session(n_neurons, k)
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
    return _synthetic_dataset(
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


# --------------------------------------------------------------------------- visual cortex


def movie_features(
    rng: np.random.Generator, n_frames: int, n_features: int, timescale_frames: float
) -> np.ndarray:
    """Latent features of a natural movie: ``(n_frames, n_features)`` smooth unit-variance noise."""
    return smooth_noise(rng, n_frames, n_features, timescale_frames)


def visual(
    *,
    n_neurons: int = 80,
    n_frames: int = 900,
    n_repeats: int = 10,
    frame_rate_hz: float = 30.0,
    n_features: int = 8,
    feature_timescale_frames: float = 10.0,
    gain_sd: float = 0.2,
    drift_sd: float = 0.2,
    noise_sd: float = 0.1,
    calcium_tau_s: float = 0.2,
    seed: int = 0,
    n_sessions: int = 1,
    test_fraction: float = 0.2,
    name: str = "visual",
) -> Dataset:
    """Calcium-like responses of visual neurons to ``n_repeats`` repeats of one movie.

    Model, for neuron ``i``, frame ``f`` and repeat ``r`` (time bin ``t = r·n_frames + f``):

    - the movie is described by ``n_features`` smooth features ``s(f)`` (unit variance,
      Gaussian autocorrelation of ``feature_timescale_frames``); the same movie for every
      session (drawn from ``seed`` alone);
    - tuning: ``h_i(f) = softplus(3 (w_i · s(f) + b_i)) / 3`` with ``w_i ~ N(0, I / n_features)``,
      ``b_i ~ N(−0.5, 0.5²)`` (a smoothed rectification of a random projection);
    - repeat gain ``g_{i,r} = exp(gain_sd·ε − gain_sd²/2)``, a new value per neuron and repeat;
    - slow drift ``m_i(t) = exp(drift_sd·u_i(t) − drift_sd²/2)``, ``u_i`` smooth unit noise with
      a timescale of one eighth of the recording;
    - activity ``a_i(t) = h_i(f) · g_{i,r} · m_i(t)``, filtered by an exponential calcium kernel
      of time constant ``calcium_tau_s`` (unit area), plus Gaussian noise of SD ``noise_sd``,
      rectified at 0 (ΔF/F-like, non-negative).

    ``T = n_frames · n_repeats`` (9000 at the defaults); with the default test fraction the last
    two repeats are the test split.

    Labels: ``frame`` (discrete, 0 … n_frames−1) and ``repeat`` (discrete, 0 … n_repeats−1).
    """
    n_neurons = _as_int("n_neurons", n_neurons, 1)
    n_frames = _as_int("n_frames", n_frames, 2)
    n_repeats = _as_int("n_repeats", n_repeats, 1)
    frame_rate_hz = _as_float("frame_rate_hz", frame_rate_hz)
    n_features = _as_int("n_features", n_features, 1)
    feature_timescale_frames = _as_float(
        "feature_timescale_frames", feature_timescale_frames, allow_minimum=True
    )
    gain_sd = _as_float("gain_sd", gain_sd, allow_minimum=True)
    drift_sd = _as_float("drift_sd", drift_sd, allow_minimum=True)
    noise_sd = _as_float("noise_sd", noise_sd, allow_minimum=True)
    calcium_tau_s = _as_float("calcium_tau_s", calcium_tau_s, allow_minimum=True)
    seed = _as_int("seed", seed, 0)
    n_sessions = _as_int("n_sessions", n_sessions, 1)
    test_fraction = _as_float("test_fraction", test_fraction)

    # deferred: scipy, loaded only on this path
    from scipy.signal import lfilter

    n_bins = n_frames * n_repeats
    frame = np.tile(np.arange(n_frames, dtype=np.int64), n_repeats)
    repeat = np.repeat(np.arange(n_repeats, dtype=np.int64), n_frames)
    features = movie_features(
        np.random.default_rng(seed), n_frames, n_features, feature_timescale_frames
    )
    decay = math.exp(-1.0 / (calcium_tau_s * frame_rate_hz)) if calcium_tau_s > 0 else 0.0

    sessions, session_meta = [], []
    for k in range(n_sessions):
        rng = _session_rng(seed, k)
        n = _neurons_in_session(n_neurons, k)
        weights = rng.standard_normal((n_features, n)) / math.sqrt(n_features)
        bias = rng.normal(-0.5, 0.5, n)
        tuning = softplus(3.0 * (features @ weights + bias)) / 3.0  # (n_frames, n)
        gain = lognormal_gain(rng, (n_repeats, n), gain_sd)
        drift = np.exp(
            drift_sd * smooth_noise(rng, n_bins, n, max(n_bins / 8.0, 1.0)) - 0.5 * drift_sd**2
        )
        activity = tuning[frame] * gain[repeat] * drift
        calcium = lfilter([1.0 - decay], [1.0, -decay], activity, axis=0)
        trace = np.maximum(calcium + noise_sd * rng.standard_normal(calcium.shape), 0.0)
        sessions.append((trace, {"frame": frame.copy(), "repeat": repeat.copy()}))
        session_meta.append({"n_neurons": n})

    params = {
        "n_neurons": n_neurons,
        "n_frames": n_frames,
        "n_repeats": n_repeats,
        "frame_rate_hz": frame_rate_hz,
        "n_features": n_features,
        "feature_timescale_frames": feature_timescale_frames,
        "gain_sd": gain_sd,
        "drift_sd": drift_sd,
        "noise_sd": noise_sd,
        "calcium_tau_s": calcium_tau_s,
        "seed": seed,
        "n_sessions": n_sessions,
        "test_fraction": test_fraction,
    }
    return _synthetic_dataset(
        "visual",
        name,
        sessions,
        test_fraction,
        label_info={"frame": LabelInfo("discrete"), "repeat": LabelInfo("discrete")},
        bin_width_s=1.0 / frame_rate_hz,
        params=params,
        session_meta=session_meta,
    )


# --------------------------------------------------------------------------- Lorenz attractor


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
    n_neurons = _as_int("n_neurons", n_neurons, 1)
    n_timepoints = _as_int("n_timepoints", n_timepoints, 10)
    dt = _as_float("dt", dt)
    if dt > 0.05:
        raise DataError(f"parameter 'dt' must be <= 0.05 for a stable RK4 integration, got {dt}")
    noise_sd = _as_float("noise_sd", noise_sd, allow_minimum=True)
    connection_prob = _check_fraction("connection_prob", connection_prob)
    burn_in_steps = _as_int("burn_in_steps", burn_in_steps, 0)
    seed = _as_int("seed", seed, 0)
    n_sessions = _as_int("n_sessions", n_sessions, 1)
    test_fraction = _as_float("test_fraction", test_fraction)

    sessions, session_meta = [], []
    for k in range(n_sessions):
        rng = _session_rng(seed, k)
        n = _neurons_in_session(n_neurons, k)
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
    return _synthetic_dataset(
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


# --------------------------------------------------------------------------- circle


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
    n_neurons = _as_int("n_neurons", n_neurons, 1)
    n_timepoints = _as_int("n_timepoints", n_timepoints, 10)
    noise_sd = _as_float("noise_sd", noise_sd, allow_minimum=True)
    latent_noise_sd = _as_float("latent_noise_sd", latent_noise_sd, allow_minimum=True)
    angular_speed = _as_float("angular_speed", angular_speed)
    speed_timescale = _as_float("speed_timescale", speed_timescale, allow_minimum=True)
    bin_width_s = _as_float("bin_width_s", bin_width_s)
    seed = _as_int("seed", seed, 0)
    n_sessions = _as_int("n_sessions", n_sessions, 1)
    test_fraction = _as_float("test_fraction", test_fraction)

    sessions, session_meta = [], []
    for k in range(n_sessions):
        rng = _session_rng(seed, k)
        n = _neurons_in_session(n_neurons, k)
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
    return _synthetic_dataset(
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


# --------------------------------------------------------------------------- attribution benchmark

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
    n_neurons = _as_int("n_neurons", n_neurons, 2)
    n_timepoints = _as_int("n_timepoints", n_timepoints, 10)
    driven_fraction = _check_fraction("driven_fraction", driven_fraction)
    if driven_fraction == 0.0:
        raise DataError("parameter 'driven_fraction' must be > 0 (no neuron would be driven)")
    connection_prob = _check_fraction("connection_prob", connection_prob)
    n_nuisance = _as_int("n_nuisance", n_nuisance, 1)
    latent_timescale = _as_float("latent_timescale", latent_timescale, allow_minimum=True)
    nuisance_timescale = _as_float("nuisance_timescale", nuisance_timescale, allow_minimum=True)
    noise_sd = _as_float("noise_sd", noise_sd, allow_minimum=True)
    bin_width_s = _as_float("bin_width_s", bin_width_s)
    seed = _as_int("seed", seed, 0)
    n_sessions = _as_int("n_sessions", n_sessions, 1)
    test_fraction = _as_float("test_fraction", test_fraction)
    n_latents = len(ATTRIBUTION_LATENTS)

    sessions, session_meta = [], []
    for k in range(n_sessions):
        rng = _session_rng(seed, k)
        n = _neurons_in_session(n_neurons, k)
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
    return _synthetic_dataset(
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


#: Generator name (the ``source`` key in the config) -> function.
GENERATORS = {
    "hippocampus": hippocampus,
    "visual": visual,
    "lorenz": lorenz,
    "circle": circle,
    "attribution": attribution,
}
