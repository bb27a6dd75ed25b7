"""decoding_analysis on small in-memory stores: known decodability, controls, row contract."""

from __future__ import annotations

import numpy as np
import pytest

from cebra_lens_core.analyses.decoding import decoding_analysis
from cebra_lens_core.metrics.decoding import decode
from tests.analyses.stores import make_store

T, N_TRAIN = 400, 300


def _store(layers, train, labels):
    return make_store(layers, train, labels, unit="cm")


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    pos = rng.uniform(0, 1, T)
    speed = rng.uniform(-1, 1, T)
    cls = rng.integers(0, 3, T)
    linear = np.column_stack([pos, speed]) @ rng.normal(size=(2, 5)) + 0.01 * rng.normal(
        size=(T, 5)
    )
    clusters = 5 * rng.normal(size=(3, 4))[cls] + rng.normal(size=(T, 4))
    noise = rng.normal(size=(T, 3))
    labels = {
        "pos": (pos, "continuous"),
        "speed": (speed, "continuous"),
        "cls": (cls, "discrete"),
    }
    train = np.arange(T) < N_TRAIN
    return _store([linear, clusters, noise], train, labels), [linear, clusters, noise], labels


@pytest.fixture(scope="module")
def rows(data):
    store, _, _ = data
    return decoding_analysis(store, name="m")


def _get(rows, layer, metric, label, variant):
    sel = rows[
        (rows["layer"] == layer)
        & (rows["metric"] == metric)
        & (rows["label"] == label)
        & (rows["variant"] == variant)
    ]
    assert len(sel) == 1, (layer, metric, label, variant)
    return sel.iloc[0]


def test_row_contract(rows):
    assert set(rows["variant"]) == {"knn", "ridge", "knn_shuffled", "ridge_shuffled"}
    assert {"r2", "median_abs_error", "mean_r2", "accuracy", "chance_level"} <= set(rows["metric"])
    assert set(rows["label"]) == {"pos", "speed", "cls", ""}  # "" = joint mean R²
    assert set(rows["analysis"]) == {"decoding"} and set(rows["model"]) == {"m"}
    assert set(rows["dataset"]) == {"toy"} and set(rows["n"]) == {T - N_TRAIN}
    assert set(rows["layer"]) == {0, 1, 2}
    assert set(rows["layer_name"]) == {"l0", "l1", "l2"}
    cont = rows[rows["label"].isin(["pos", "speed", ""])]
    assert "accuracy" not in set(cont["metric"])
    disc = rows[rows["label"] == "cls"]
    assert not {"r2", "mean_r2", "median_abs_error"} & set(disc["metric"])
    # one control seed: no interval
    assert rows["ci_low"].isna().all() and rows["ci_high"].isna().all()


def test_linear_layer_decodes_continuous_labels(rows):
    for label in ("pos", "speed"):
        assert _get(rows, 0, "r2", label, "ridge")["value"] > 0.95
        assert _get(rows, 0, "r2", label, "ridge_shuffled")["value"] <= 0.1
        assert _get(rows, 0, "r2", label, "knn_shuffled")["value"] <= 0.1
    assert _get(rows, 0, "mean_r2", "", "ridge")["value"] > 0.95
    assert _get(rows, 0, "median_abs_error", "pos", "ridge")["value"] < 0.02
    # the noise layer decodes nothing
    assert _get(rows, 2, "mean_r2", "", "ridge")["value"] < 0.1


def test_clustered_layer_decodes_discrete_label(rows):
    for decoder in ("knn", "ridge"):
        assert _get(rows, 1, "accuracy", "cls", decoder)["value"] == pytest.approx(1.0, abs=0.02)
        shuffled = _get(rows, 1, "accuracy", "cls", f"{decoder}_shuffled")["value"]
        chance = _get(rows, 1, "chance_level", "cls", decoder)["value"]
        assert abs(shuffled - 1 / 3) < 0.15 and 1 / 3 <= chance < 0.45


def test_rows_equal_direct_decode_on_the_splits(data, rows):
    _, layers, labels = data
    y = np.column_stack([labels["pos"][0], labels["speed"][0]])
    X = layers[0]
    for decoder in ("knn", "ridge"):
        ref = decode(X[:N_TRAIN], y[:N_TRAIN], X[N_TRAIN:], y[N_TRAIN:], decoder, kind="continuous")
        for j, label in enumerate(("pos", "speed")):
            assert _get(rows, 0, "r2", label, decoder)["value"] == pytest.approx(ref.r2[j])
            mae = _get(rows, 0, "median_abs_error", label, decoder)["value"]
            assert mae == pytest.approx(ref.median_abs_error[j])
            assert mae == pytest.approx(np.median(np.abs(ref.predictions[:, j] - y[N_TRAIN:, j])))
        assert _get(rows, 0, "mean_r2", "", decoder)["value"] == pytest.approx(ref.mean_r2)
        param = "k" if decoder == "knn" else "alpha"
        assert _get(rows, 0, param, "pos", decoder)["value"] == pytest.approx(ref.param)
    cls = labels["cls"][0]
    ref = decode(layers[1][:N_TRAIN], cls[:N_TRAIN], layers[1][N_TRAIN:], cls[N_TRAIN:], "ridge")
    assert _get(rows, 1, "accuracy", "cls", "ridge")["value"] == pytest.approx(ref.accuracy)
    counts = np.bincount(cls[:N_TRAIN])
    assert _get(rows, 1, "chance_level", "cls", "ridge")["value"] == pytest.approx(
        counts.max() / N_TRAIN
    )


def test_several_shuffle_seeds_give_mean_and_interval(data):
    store, layers, labels = data
    seeds = (0, 1, 2)
    rows = decoding_analysis(
        store.drop_vars(["layer_01", "layer_02"]),
        name="m",
        labels=["cls"],
        decoders=["knn"],
        shuffle_seeds=seeds,
    )
    assert set(rows["variant"]) == {"knn", "knn_shuffled"}
    X, y = layers[0], labels["cls"][0]
    accs = [
        decode(
            X[:N_TRAIN], y[:N_TRAIN], X[N_TRAIN:], y[N_TRAIN:], "knn", shuffle_labels=True, seed=s
        ).accuracy
        for s in seeds
    ]
    row = _get(rows, 0, "accuracy", "cls", "knn_shuffled")
    assert row["value"] == pytest.approx(np.mean(accs))
    assert row["ci_low"] == pytest.approx(min(accs)) and row["ci_high"] == pytest.approx(max(accs))
    assert row["ci_low"] <= row["value"] <= row["ci_high"]
    shuffled = rows[rows["variant"] == "knn_shuffled"]
    assert shuffled["ci_low"].notna().all() and shuffled["ci_high"].notna().all()
    assert rows[rows["variant"] == "knn"]["ci_low"].isna().all()


def test_single_label_and_no_controls(data):
    store, _, _ = data
    rows = decoding_analysis(store, name="m", labels=["pos"], decoders=["ridge"], shuffle_seeds=())
    assert set(rows["variant"]) == {"ridge"}
    assert set(rows["label"]) == {"pos"}  # a single label names its mean R² row
    assert set(rows["metric"]) == {"r2", "median_abs_error", "mean_r2", "alpha"}
    assert len(rows) == 3 * 4


def test_unknown_label_refused(data):
    store, _, _ = data
    with pytest.raises(ValueError, match=r"\['x'\].*available: \['cls', 'pos', 'speed'\]"):
        decoding_analysis(store, name="m", labels=["x"])
