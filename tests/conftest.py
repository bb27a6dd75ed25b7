"""Shared fixtures: a small toy dataset and quickly trained CEBRA models (session scope)."""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from cebra_lens_core.data.types import Dataset, LabelInfo, Session, blocked_split  # noqa: E402
from cebra_lens_core.models import TrainingSpec, train_model  # noqa: E402

torch.set_num_threads(1)

# tests/benchmarks holds benchmark scripts (`make bench`), not tests
collect_ignore = ["benchmarks"]


def toy_dataset(n_sessions: int = 1, T: int = 1200, n_neurons: int = 12, seed: int = 0) -> Dataset:
    """Random-walk latent read out by noisy neurons; labels `position` (continuous), `side` (discrete)."""
    rng = np.random.default_rng(seed)
    sessions = []
    for k in range(n_sessions):
        latent = np.cumsum(rng.normal(size=T)) / 10
        weights = rng.normal(size=(1, n_neurons + k))
        neural = np.tanh(latent[:, None] * weights) + 0.1 * rng.normal(size=(T, n_neurons + k))
        labels = {"position": latent, "side": (latent > np.median(latent)).astype(np.int64)}
        sessions.append(Session(neural.astype(np.float32), labels, blocked_split(T, 0.25)))
    info = {
        "position": LabelInfo("continuous", "m"),
        "side": LabelInfo("discrete", "", ("low", "high")),
    }
    return Dataset("toy", sessions, info, bin_width_s=0.025).validate()


@pytest.fixture(scope="session")
def toy() -> Dataset:
    return toy_dataset()


def quick_spec(architecture: str = "offset10-model", **kw) -> TrainingSpec:
    base = dict(
        architecture=architecture,
        output_dimension=3,
        num_hidden_units=16,
        conditional="behavior",
        labels=["position"],
        max_iterations=5,
        batch_size=64,
        seed=0,
    )
    base.update(kw)
    return TrainingSpec(**base)


@pytest.fixture(scope="session")
def conv_model(toy):
    return train_model(toy, quick_spec("offset10-model"))


@pytest.fixture(scope="session")
def mlp_model(toy):
    return train_model(toy, quick_spec("offset1-model"))


@pytest.fixture(scope="session")
def multi_dataset() -> Dataset:
    return toy_dataset(n_sessions=2, T=800)


@pytest.fixture(scope="session")
def multi_model(multi_dataset):
    return train_model(multi_dataset, quick_spec("offset5-model"))
