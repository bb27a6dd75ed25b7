"""goodness_of_fit_rows on the session's tiny trained CEBRA model."""

from __future__ import annotations

import numpy as np
import pytest

from cebra_lens_core.analyses.goodness_of_fit import goodness_of_fit_rows
from cebra_lens_core.models import train_model
from tests.conftest import quick_spec


@pytest.fixture(scope="module")
def rows(toy, conv_model):
    return goodness_of_fit_rows(
        conv_model, toy, quick_spec("offset10-model"), name="conv", num_batches=5
    )


def test_rows_for_both_splits_and_final_loss(rows, toy, conv_model):
    assert set(rows["analysis"]) == {"goodness_of_fit"}
    assert set(rows["dataset"]) == {toy.name} and set(rows["model"]) == {"conv"}
    assert set(rows["label"]) == {"position"}
    gof = rows[rows["metric"] == "goodness_of_fit_bits"].set_index("variant")
    assert sorted(gof.index) == ["test", "train"]
    assert np.isfinite(gof["value"]).all()
    train = toy.sessions[0].train
    assert gof.loc["train", "n"] == int(train.sum())
    assert gof.loc["test", "n"] == int((~train).sum())
    loss = rows[rows["metric"] == "final_training_loss"]
    assert len(loss) == 1 and loss["variant"].tolist() == ["train"]
    log = np.asarray(conv_model.solver_.log["total"], dtype=float)
    assert loss["value"].iloc[0] == pytest.approx(log[-1])
    assert loss["n"].iloc[0] == log.size
    assert len(rows) == 3


def test_deterministic(rows, toy, conv_model):
    again = goodness_of_fit_rows(
        conv_model, toy, quick_spec("offset10-model"), name="conv", num_batches=5
    )
    assert again.equals(rows)


def test_goodness_of_fit_is_bounded(rows):
    # gof = (log B − InfoNCE) / log 2 with InfoNCE = mean(−s⁺/τ + logsumexp_j s_j/τ); cosine
    # similarities lie in [−1, 1] and logsumexp_j ≥ log B + mean_j, so gof ≤ 2 / (τ log 2), τ = 1
    gof = rows[rows["metric"] == "goodness_of_fit_bits"]["value"]
    assert (gof <= 2 / np.log(2) + 1e-6).all()


def test_cebra_time_model_is_labelled_time(toy):
    spec = quick_spec("offset1-model", labels=[], conditional="time", max_iterations=2)
    model = train_model(toy, spec)
    rows = goodness_of_fit_rows(model, toy, spec, name="time", num_batches=2)
    assert set(rows["label"]) == {"time"}
    assert np.isfinite(rows["value"]).all()
