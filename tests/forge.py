"""Forge files that look like our users' files: CEBRA's own ``.jl`` datasets (written by an
old joblib, arrays not byte aligned) and checkpoints written by an older CEBRA on a GPU."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch


def rat_recording(n_timepoints: int = 1500, n_neurons: int = 48, seed: int = 0) -> dict:
    """A CEBRA rat-hippocampus-style recording: ``spikes`` (T, neurons) counts in 25 ms bins and
    ``position`` (T, 3) = [position in m, running right (0/1), running left (0/1)]."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_timepoints)
    position = 0.8 + 0.8 * np.sin(2 * np.pi * t / 400)  # laps on a 1.6 m track
    right = (np.gradient(position) > 0).astype(np.float64)
    centres = rng.uniform(0, 1.6, n_neurons)
    rate = 0.2 + 3 * np.exp(-((position[:, None] - centres) ** 2) / 0.02)
    rate *= np.where(rng.random(n_neurons) < 0.5, right[:, None], 1 - right[:, None]) + 0.3
    spikes = rng.poisson(rate).astype(np.float32)
    return {"spikes": spikes, "position": np.stack([position, right, 1 - right], axis=1)}


def write_legacy_jl(path: str | Path, arrays: dict) -> Path:
    """``joblib.dump`` as joblib <= 1.1 wrote it (CEBRA's published ``.jl`` files): arrays
    stored without alignment padding, so memory-mapping them makes joblib warn."""
    from joblib import numpy_pickle

    original = numpy_pickle.NumpyPickler._create_array_wrapper

    def unaligned(self, array):
        wrapper = original(self, array)
        wrapper.numpy_array_alignment_bytes = None
        return wrapper

    numpy_pickle.NumpyPickler._create_array_wrapper = unaligned
    try:
        numpy_pickle.dump(arrays, path)
    finally:
        numpy_pickle.NumpyPickler._create_array_wrapper = original
    return Path(path)


def write_legacy_checkpoint(model, path: str | Path, *, device: str = "cuda:0") -> Path:
    """Save ``model`` the way CEBRA 0.4 on a GPU machine did: device strings say CUDA, and the
    attributes newer releases added (``n_features_in_``, ``num_sessions_``, ``masking_kwargs``,
    solver ``n_features`` / ``num_sessions`` / ``log``) are missing."""
    from cebra.integrations.sklearn.cebra import CEBRA_LOAD_SAFE_GLOBALS

    from cebra_lens_core.models import save_model

    save_model(model, path)
    with torch.serialization.safe_globals(CEBRA_LOAD_SAFE_GLOBALS):
        checkpoint = torch.load(path, weights_only=True)
    checkpoint["args"]["device"] = "cuda"
    checkpoint["args"].pop("masking_kwargs", None)
    checkpoint["state"]["device_"] = device
    for key in ("n_features_in_", "num_sessions_"):
        checkpoint["state"].pop(key, None)
    for key in ("n_features", "num_sessions", "log", "decode"):
        checkpoint["state_dict"].pop(key, None)
    checkpoint["metadata"] = {"backend": "sklearn", "cebra_version": "0.4.0"}
    torch.save(checkpoint, path)
    return Path(path)
