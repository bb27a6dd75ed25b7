"""Calcium-like responses of visual-cortex neurons to repeats of a natural movie, with
repeat-to-repeat gain changes and slow drift (the CEBRA "Allen movie" setting): :func:`visual`."""

from __future__ import annotations

import math

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
from cebra_lens_core.data.types import Dataset, LabelInfo


def softplus(x: np.ndarray) -> np.ndarray:
    """``log(1 + exp(x))``, computed without overflow."""
    return np.logaddexp(0.0, x)


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
    n_neurons = as_int("n_neurons", n_neurons, 1)
    n_frames = as_int("n_frames", n_frames, 2)
    n_repeats = as_int("n_repeats", n_repeats, 1)
    frame_rate_hz = as_float("frame_rate_hz", frame_rate_hz)
    n_features = as_int("n_features", n_features, 1)
    feature_timescale_frames = as_float(
        "feature_timescale_frames", feature_timescale_frames, allow_minimum=True
    )
    gain_sd = as_float("gain_sd", gain_sd, allow_minimum=True)
    drift_sd = as_float("drift_sd", drift_sd, allow_minimum=True)
    noise_sd = as_float("noise_sd", noise_sd, allow_minimum=True)
    calcium_tau_s = as_float("calcium_tau_s", calcium_tau_s, allow_minimum=True)
    seed = as_int("seed", seed, 0)
    n_sessions = as_int("n_sessions", n_sessions, 1)
    test_fraction = as_float("test_fraction", test_fraction)

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
        rng = session_rng(seed, k)
        n = neurons_in_session(n_neurons, k)
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
    return synthetic_dataset(
        "visual",
        name,
        sessions,
        test_fraction,
        label_info={"frame": LabelInfo("discrete"), "repeat": LabelInfo("discrete")},
        bin_width_s=1.0 / frame_rate_hz,
        params=params,
        session_meta=session_meta,
    )
