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


def test_xcebra_parts_are_scored_on_their_own_latents():
    """An xCEBRA model on data with time-only latents: rows per part (behavior:*, time:*),
    the read-out of each part from its own dimensions, and the whole-map rows as before."""
    ds = load_dataset(
        "att",
        {
            "source": "attribution",
            "params": {
                "n_neurons": 12,
                "n_timepoints": 600,
                "driven_fraction": 0.3,
                "n_time_latents": 2,
                "time_driven_fraction": 0.3,
                "nuisance_timescale": 1.0,
            },
        },
    )
    spec = TrainingSpec(
        architecture="offset10-model-mse",
        output_dimension=6,
        behavior_dimensions=3,
        conditional="xcebra",
        labels=["latent_0", "latent_1", "latent_2"],
        max_iterations=20,
        batch_size=64,
        num_hidden_units=8,
        seed=0,
    )
    model = train_model(ds, spec)
    rows, arrays = attribution_analysis(
        model, ds, name="x", methods=["jacobian", "jacobian_inv_svd"], max_samples=30
    )
    labels = set(rows.loc[rows["metric"] == "auc", "label"])
    assert labels == {
        "entries",
        "neuron_max",
        "neuron_norm",
        "behavior:entries",
        "behavior:neuron_max",
        "time:entries",
        "time:neuron_max",
    }
    assert arrays["row_parts"].tolist() == ["behavior"] * 3 + ["time"] * 2
    # the behaviour rows of the Jacobian map depend only on the behaviour dimensions: a map
    # of the time part alone (readout zero there) leaves them unchanged
    from cebra_lens_core.metrics.attribution import block_readout, compute_attribution
    from cebra_lens_core.models import get_encoder

    recording = ds.sessions[0]
    train = recording.train
    latents = np.stack([recording.labels[n] for n in arrays["row_names"]], axis=1)[train]
    B = block_readout(
        model.transform(recording.neural[train]), latents, [((0, 3), [0, 1, 2]), ((3, 6), [3, 4])]
    )
    assert not B[3:, :3].any() and not B[:3, 3:].any()
    direct = compute_attribution(
        get_encoder(model), recording.neural, methods=["jacobian"], max_samples=30, readout=B
    )
    np.testing.assert_allclose(direct.maps["jacobian"], arrays["map/jacobian"], rtol=1e-10)


def test_one_group_of_latents_gives_no_part_rows(synthetic):
    ds, model = synthetic
    rows, arrays = attribution_analysis(model, ds, name="m", methods=["jacobian"], max_samples=20)
    assert not rows["label"].astype(str).str.contains(":").any()
    assert arrays["row_parts"].tolist() == ["behavior"] * 3


def test_xcebra_maps_without_ground_truth_name_the_part_of_each_dimension(toy):
    spec = TrainingSpec(
        architecture="offset10-model-mse",
        output_dimension=4,
        behavior_dimensions=1,
        conditional="xcebra",
        labels=["position"],
        max_iterations=3,
        batch_size=32,
        num_hidden_units=8,
    )
    model = train_model(toy, spec)
    rows, arrays = attribution_analysis(model, toy, name="x", methods=["jacobian"], max_samples=10)
    assert arrays["row_parts"].tolist() == ["behavior", "time", "time", "time"]
    assert arrays["map/jacobian"].shape[0] == 4
