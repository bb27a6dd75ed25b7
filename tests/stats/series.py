"""Autocorrelated test series shared by the tests of cebra_lens_core.stats."""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter


def ar1(rng: np.random.Generator, n: int, phi: float, d: int | None = None) -> np.ndarray:
    """Stationary-ish AR(1) with unit innovations (200 burn-in samples dropped)."""
    e = rng.normal(size=(n + 200,) if d is None else (n + 200, d))
    return lfilter([1.0], [1.0, -phi], e, axis=0)[200:]


def two_models(T: int = 403, seed: int = 0, offset: float = 0.0):
    """Two 'models' of 2 layers each, partly dependent, with a large common offset."""
    rng = np.random.default_rng(seed)
    base = ar1(rng, T, 0.8, 4)
    a = [base + offset, np.tanh(base @ rng.normal(size=(4, 3))) + rng.normal(size=(T, 3))]
    b = [
        base @ rng.normal(size=(4, 5)) + 2 * rng.normal(size=(T, 5)) - offset,
        rng.normal(size=(T, 2)) * 1e3,
    ]
    return a, b


def smooth(rng, n, d, phi=0.9):
    return lfilter([1.0], [1.0, -phi], rng.normal(size=(n + 100, d)), axis=0)[100:]
