"""What the synthetic generators share: parameter checks, per-session random streams, smooth
noise and random nonlinear embeddings, and the assembly of the returned :class:`Dataset`.

Every generator is deterministic given ``seed``. Session ``k`` draws its own random numbers
from ``numpy.random.default_rng([seed, k])`` (:func:`session_rng`): a different neural
population (with ``n_neurons + 5 * k`` neurons, :func:`neurons_in_session`) and, except for the
shared movie of :func:`~cebra_lens_core.data.synthetic.visual.visual`, a different latent
trajectory, but the same model. The last ``test_fraction`` of each session is the test split
(:func:`~cebra_lens_core.data.types.blocked_split`).

``metadata`` records the generator name, every parameter, and per-session ground truth
(neuron counts, place-field centres, latent-to-neuron connectivity) as JSON-compatible values
(:func:`synthetic_dataset`).
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np

from cebra_lens_core.data.types import DataError, Dataset, LabelInfo, Session, blocked_split

#: Extra neurons per additional session: session ``k`` has ``n_neurons + NEURONS_PER_SESSION * k``.
NEURONS_PER_SESSION = 5

# Longest timescale (samples) of smooth_noise computed by direct convolution.
_MAX_DIRECT_TIMESCALE = 64.0


# --------------------------------------------------------------------------- parameter checks


def as_int(name: str, value: object, minimum: int) -> int:
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


def as_float(
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


def check_fraction(name: str, value: object) -> float:
    """Return a float in [0, 1]."""
    value = as_float(name, value, minimum=0.0, allow_minimum=True)
    if value > 1.0:
        raise DataError(f"parameter {name!r} must be between 0 and 1, got {value!r}")
    return value


def session_rng(seed: int, session: int) -> np.random.Generator:
    """Random generator of session ``session``: independent streams from ``(seed, session)``."""
    return np.random.default_rng([seed, session])


def neurons_in_session(n_neurons: int, session: int) -> int:
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


def synthetic_dataset(
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
