"""Attribution analysis of a store's model: rows, arrays, ground truth from synthetic metadata."""

from __future__ import annotations

import numpy as np
import pytest

from cebra_lens_core.analyses.attribution import attribution_analysis, ground_truth
from cebra_lens_core.data import load_dataset
from cebra_lens_core.models import TrainingSpec, train_model


@pytest.fixture(scope="module")
def synthetic():
    ds = load_dataset("att", {"source": "attribution", "params": {"n_neurons": 20, "seed": 1}})
    spec = TrainingSpec(
        architecture="offset1-model",
        output_dimension=3,
        conditional="behavior",
        labels=["latent_0", "latent_1", "latent_2"],
        max_iterations=60,
        batch_size=128,
        learning_rate=3e-3,
        seed=0,
    )
    return ds, train_model(ds, spec)


def test_ground_truth_scored_at_every_level(synthetic):
    ds, model = synthetic
    rows, arrays = attribution_analysis(
        model, ds, name="m", methods=["jacobian", "jacobian_inv_svd"], max_samples=40, batch_size=16
    )
    truth, names = ground_truth(ds, 0)
    assert names == ["latent_0", "latent_1", "latent_2"] and truth.shape == (3, 20)
    auc = rows[rows["metric"] == "auc"]
    assert set(auc["label"]) == {"entries", "neuron_max", "neuron_norm"}
    assert set(auc["variant"]) == {"jacobian", "jacobian_inv_svd"}
    assert ((auc["value"] >= 0) & (auc["value"] <= 1)).all()
    assert set(rows["n"]) == {40}
    agree = rows[rows["metric"] == "method_agreement"]
    assert set(zip(agree["variant"], agree["label"], strict=True)) == {
        ("jacobian", "jacobian_inv_svd"),
        ("jacobian_inv_svd", "jacobian"),
    }
    mp = rows[rows["metric"] == "moore_penrose_fraction"]
    assert mp["value"].tolist() == [1.0]
    assert arrays["map/jacobian"].shape == (3, 20)
    np.testing.assert_array_equal(arrays["ground_truth"], truth)
    assert arrays["row_names"].tolist() == names
    assert len(arrays["sample_indices"]) == 40


def test_without_ground_truth_maps_are_per_embedding_dimension(toy, conv_model):
    rows, arrays = attribution_analysis(
        conv_model, toy, name="m", methods=["jacobian"], max_samples=30, batch_size=10
    )
    assert ground_truth(toy, 0) == (None, [])
    assert "auc" not in set(rows["metric"]) and "seconds" not in set(rows["metric"])
    assert arrays["map/jacobian"].shape == (3, 12)
    assert arrays["row_names"].tolist() == ["dim 0", "dim 1", "dim 2"]
