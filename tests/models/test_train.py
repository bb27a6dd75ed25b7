"""Training from a spec: determinism, untrained controls, validation, divergence guard."""

from __future__ import annotations

import numpy as np
import pytest

from cebra_lens_core.models import TrainingError, TrainingSpec, train_model, training_history
from cebra_lens_core.models.errors import ArchitectureError
from cebra_lens_core.models.train import check_converged
from tests.conftest import quick_spec


def test_same_seed_same_model_different_seed_differs(toy):
    X = toy.sessions[0].neural
    a = train_model(toy, quick_spec(seed=3)).transform(X)
    b = train_model(toy, quick_spec(seed=3)).transform(X)
    c = train_model(toy, quick_spec(seed=4)).transform(X)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_progress_is_reported_and_does_not_change_the_model(toy):
    calls = []
    spec = quick_spec(seed=3, max_iterations=20)
    with_progress = train_model(toy, spec, progress=lambda *a: calls.append(a))
    plain = train_model(toy, spec)
    X = toy.sessions[0].neural
    np.testing.assert_array_equal(with_progress.transform(X), plain.transform(X))
    # every 1 % of 20 iterations = every step from 1 to 19, then the end
    assert [c[0] for c in calls] == list(range(1, 20)) + [20]
    assert all(c[1] == 20 for c in calls)
    final = training_history(with_progress)["loss"].iloc[-1]
    assert calls[-1][2] == f"loss {final:.4f}"


def test_progress_log_throttles_and_names_the_unit(caplog):
    import logging

    from cebra_lens_core.progress import ProgressLog

    progress = ProgressLog("train m", every_s=3600, unit="iterations")
    with caplog.at_level(logging.INFO, logger="cebra_lens_core"):
        for step in range(1, 11):
            progress(step, 10, f"loss {step}")
    lines = [r.getMessage() for r in caplog.records]
    # the first call and the end; everything in between falls within the hour
    assert len(lines) == 2
    assert lines[0].startswith("train m: 1 / 10 iterations (10%")
    assert lines[1].startswith("train m: 10 / 10 iterations (100%") and lines[1].endswith(
        "loss 10)"
    )


def test_time_and_hybrid_and_discrete(toy):
    for spec in (
        quick_spec(conditional="time", labels=[]),
        quick_spec(conditional="hybrid", labels=["position"]),
        quick_spec(labels=["position", "side"]),
    ):
        model = train_model(toy, spec)
        assert model.transform(toy.sessions[0].neural).shape == (1200, 3)


def test_untrained_control_keeps_initialisation(toy):
    import torch

    model = train_model(toy, quick_spec(max_iterations=0, seed=7))
    torch.manual_seed(7)
    # same seed, same initialisation: an untrained model is reproducible
    again = train_model(toy, quick_spec(max_iterations=0, seed=7))
    X = toy.sessions[0].neural
    np.testing.assert_array_equal(model.transform(X), again.transform(X))
    assert len(training_history(model)) == 1


def test_training_history_columns(conv_model):
    h = training_history(conv_model)
    assert list(h.columns) == ["iteration", "loss", "temperature"]
    assert len(h) == 5 and np.isfinite(h["loss"]).all()


@pytest.mark.parametrize(
    "change, message",
    [
        ({"architecture": "offset10-modle"}, "did you mean offset10-model"),
        ({"output_dimension": 0}, "output_dimension must be >= 1"),
        ({"conditional": "behaviour"}, "conditional must be one of"),
        ({"labels": ["speed"]}, r"labels \['speed'\] are not in dataset 'toy'"),
        ({"conditional": "behavior", "labels": []}, "needs at least one label"),
        ({"batch_size": 1}, "batch_size must be >= 2"),
    ],
)
def test_invalid_spec(toy, change, message):
    with pytest.raises((ValueError, ArchitectureError), match=message):
        train_model(toy, quick_spec(**change))


def test_divergence_is_detected(conv_model):
    class Fake:
        model_architecture = "offset10-model-mse"

        class solver_:  # noqa: N801
            log = {"total": [1.0, -1e8]}

    with pytest.raises(TrainingError, match="diverged"):
        check_converged(Fake())
    check_converged(conv_model)


def test_spec_defaults_are_valid():
    TrainingSpec().validate()
