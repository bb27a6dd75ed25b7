"""decoding_analysis on small in-memory stores: known decodability, controls, row contract."""

from __future__ import annotations

import inspect
import logging
from pathlib import Path

import numpy as np
import pytest
import yaml

from cebra_lens_core.analyses import run_store_analysis
from cebra_lens_core.analyses.decoding import decoding_analysis, decoding_records
from cebra_lens_core.metrics.decoding import decode
from tests.analyses.stores import make_store
from tests.metrics.test_decoding import _blocks, manifold

SCHEMA = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"

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
    assert {"k", "alpha", "at_grid_edge"} <= set(rows["metric"])
    assert set(rows["label"]) == {"pos", "speed", "cls", ""}  # "" = joint mean R²
    assert set(rows["analysis"]) == {"decoding"} and set(rows["model"]) == {"m"}
    assert set(rows["dataset"]) == {"toy"}
    assert set(rows["layer"]) == {0, 1, 2}
    assert set(rows["layer_name"]) == {"l0", "l1", "l2"}
    cont = rows[rows["label"].isin(["pos", "speed", ""])]
    assert "accuracy" not in set(cont["metric"])
    disc = rows[rows["label"] == "cls"]
    assert not {"r2", "mean_r2", "median_abs_error"} & set(disc["metric"])
    decoders = rows[rows["variant"].isin(["knn", "ridge"])]
    controls = rows[rows["variant"].str.endswith("_shuffled")]
    # n: test rows for the decoders, the number of shuffles (default 5) for the controls
    assert set(decoders["n"]) == {T - N_TRAIN} and set(controls["n"]) == {5}
    # no bootstrap: no interval on the decoders; controls: range over the 5 shuffles
    assert decoders["ci_low"].isna().all() and decoders["ci_high"].isna().all()
    assert controls["ci_low"].notna().all() and controls["ci_high"].notna().all()
    assert (controls["ci_low"] <= controls["value"]).all()
    assert (controls["value"] <= controls["ci_high"]).all()
    assert not {"k", "alpha", "at_grid_edge"} & set(controls["metric"])
    edges = rows[rows["metric"] == "at_grid_edge"]
    assert set(edges["value"]) <= {-1.0, 0.0, 1.0}


def test_unit_column_on_median_abs_error_rows(rows):
    mae = rows["metric"] == "median_abs_error"
    assert mae.sum() == 3 * 2 * 4  # layers × labels × (2 decoders + 2 controls)
    assert set(rows.loc[mae, "unit"]) == {"cm"}  # the store's label unit
    assert set(rows.loc[~mae, "unit"]) == {""}


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
        assert _get(rows, 0, "at_grid_edge", "speed", decoder)["value"] == ref.grid_edge
    cls = labels["cls"][0]
    ref = decode(layers[1][:N_TRAIN], cls[:N_TRAIN], layers[1][N_TRAIN:], cls[N_TRAIN:], "ridge")
    assert _get(rows, 1, "accuracy", "cls", "ridge")["value"] == pytest.approx(ref.accuracy)
    counts = np.bincount(cls[:N_TRAIN])
    assert _get(rows, 1, "chance_level", "cls", "ridge")["value"] == pytest.approx(
        counts.max() / N_TRAIN
    )


@pytest.mark.parametrize("decoder", ["knn", "ridge"])
def test_controls_are_mean_and_range_over_five_shuffles(data, rows, decoder):
    _, layers, labels = data
    seeds = range(5)  # the default shuffle_seeds
    X, cls = layers[1], labels["cls"][0]
    ctrls = [
        decode(
            X[:N_TRAIN],
            cls[:N_TRAIN],
            X[N_TRAIN:],
            cls[N_TRAIN:],
            decoder,
            shuffle_labels=True,
            seed=s,
        )
        for s in seeds
    ]
    accs = [c.accuracy for c in ctrls]
    if decoder == "knn":
        assert len(set(accs)) > 1  # the draws differ (ridge picks a huge alpha on noise)
    row = _get(rows, 1, "accuracy", "cls", f"{decoder}_shuffled")
    assert row["value"] == pytest.approx(np.mean(accs))
    assert row["ci_low"] == pytest.approx(min(accs)) and row["ci_high"] == pytest.approx(max(accs))
    assert row["n"] == 5
    y = np.column_stack([labels["pos"][0], labels["speed"][0]])
    X = layers[0]
    ctrls = [
        decode(
            X[:N_TRAIN],
            y[:N_TRAIN],
            X[N_TRAIN:],
            y[N_TRAIN:],
            decoder,
            kind="continuous",
            shuffle_labels=True,
            seed=s,
        )
        for s in seeds
    ]
    for j, label in enumerate(("pos", "speed")):
        r2 = [c.r2[j] for c in ctrls]
        row = _get(rows, 0, "r2", label, f"{decoder}_shuffled")
        assert row["value"] == pytest.approx(np.mean(r2))
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((min(r2), max(r2)))
        mae = [c.median_abs_error[j] for c in ctrls]
        row = _get(rows, 0, "median_abs_error", label, f"{decoder}_shuffled")
        assert row["value"] == pytest.approx(np.mean(mae)) and row["unit"] == "cm"
    row = _get(rows, 0, "mean_r2", "", f"{decoder}_shuffled")
    assert row["value"] == pytest.approx(np.mean([c.mean_r2 for c in ctrls]))


def test_one_shuffle_seed_has_no_range(data):
    store, _, _ = data
    rows = decoding_analysis(
        store.drop_vars(["layer_01", "layer_02"]),
        name="m",
        labels=["cls"],
        decoders=["knn"],
        shuffle_seeds=[0],
    )
    shuffled = rows[rows["variant"] == "knn_shuffled"]
    assert len(shuffled) and shuffled["ci_low"].isna().all() and set(shuffled["n"]) == {1}


def test_grid_edge_rows_and_warnings(caplog):
    """Noiseless linear labels: the smallest penalty wins (edge −1, warned); noise labels on
    a noise layer: the largest k (edge +1, warned); a noisy smooth label: k inside (0)."""
    rng = np.random.default_rng(1)
    t, n_train = 500, 400
    x_lin = rng.normal(size=(t, 6))
    lin = x_lin @ rng.normal(size=6)
    angle = np.sort(rng.uniform(0, np.pi, t))[rng.permutation(t)]
    x_ring = np.c_[np.cos(angle), np.sin(angle)] @ rng.normal(size=(2, 5))
    smooth = angle + 0.3 * rng.normal(size=t)
    labels = {"lin": (lin, "continuous"), "smooth": (smooth, "continuous")}
    store = make_store([x_lin, x_ring], np.arange(t) < n_train, labels, unit="cm")
    grids = dict(k_grid=[1, 5, 25, 100], alphas=[1e-3, 1.0, 1e3], shuffle_seeds=())
    with caplog.at_level(logging.WARNING, logger="cebra_lens_core.analyses.decoding"):
        ridge = decoding_analysis(store, name="m", labels=["lin"], decoders=["ridge"], **grids)
        knn = decoding_analysis(store, name="m", labels=["smooth"], decoders=["knn"], **grids)
    assert _get(ridge, 0, "alpha", "lin", "ridge")["value"] == 1e-3
    assert _get(ridge, 0, "at_grid_edge", "lin", "ridge")["value"] == -1
    assert _get(knn, 1, "at_grid_edge", "smooth", "knn")["value"] == 0
    assert _get(knn, 1, "k", "smooth", "knn")["value"] in (5, 25)
    # exactly one warning per edge row, naming model, layer, decoder, label, value and grid
    edge_rows = [
        (int(r.layer), r.variant, r.label)
        for frame in (ridge, knn)
        for r in frame[frame["metric"] == "at_grid_edge"].itertuples()
        if r.value != 0
    ]
    messages = [rec.getMessage() for rec in caplog.records if rec.levelno == logging.WARNING]
    assert len(messages) == len(edge_rows) >= 1
    assert any(
        m.startswith("m layer 0 (l0), ridge of ['lin']: chosen alpha = 0.001 is the smallest")
        and "[0.001, 1.0, 1000.0]" in m
        for m in messages
    )
    for layer, decoder, label in edge_rows:
        assert any(f"layer {layer} " in m and f"{decoder} of ['{label}']" in m for m in messages)
    assert not any("layer 1 (l1), knn of ['smooth']" in m for m in messages)


def test_schema_defaults_equal_function_defaults_and_pass_through(data):
    schema = yaml.safe_load(SCHEMA.read_text())
    block = schema["properties"]["analyses"]["properties"]["decoding"]["properties"]
    defaults = {k: v["default"] for k, v in block.items() if k not in ("enabled", "labels")}
    assert {"n_folds", "k_grid", "alphas", "shuffle_seeds"} <= set(defaults)
    assert "validation_fraction" not in block
    signature = inspect.signature(decoding_analysis).parameters
    for key, value in defaults.items():
        default = signature[key].default
        if isinstance(value, list):
            assert list(default) == value, key
        else:
            assert default == value, key
    assert defaults["shuffle_seeds"] == [0, 1, 2, 3, 4]
    # the config mapping reaches decoding_analysis (what the layer_analyses job passes)
    store, _, _ = data
    options = {
        **defaults,
        "enabled": True,
        "labels": ["pos"],
        "decoders": ["ridge"],
        "n_folds": 3,
        "alphas": [0.5, 2.0],
        "shuffle_seeds": [7],
    }
    rows, _ = run_store_analysis("decoding", store, "m", options)
    alphas = rows[rows["metric"] == "alpha"]["value"]
    assert set(alphas) <= {0.5, 2.0} and set(rows[rows["variant"] == "ridge_shuffled"]["n"]) == {1}


def test_single_label_and_no_controls(data):
    store, _, _ = data
    rows = decoding_analysis(store, name="m", labels=["pos"], decoders=["ridge"], shuffle_seeds=())
    assert set(rows["variant"]) == {"ridge"}
    assert set(rows["label"]) == {"pos"}  # a single label names its mean R² row
    assert set(rows["metric"]) == {"r2", "median_abs_error", "mean_r2", "alpha", "at_grid_edge"}
    assert len(rows) == 3 * 5


def test_unknown_label_refused(data):
    store, _, _ = data
    with pytest.raises(ValueError, match=r"\['x'\].*available: \['cls', 'pos', 'speed'\]"):
        decoding_analysis(store, name="m", labels=["x"])


def test_decoding_records() -> None:
    x, z = manifold(t=600, seed=9)
    res = decode(x[:400], z[:400], x[400:], z[400:], "knn", label_names=["position"])
    rec = {(r["metric"], r["label"]): r["value"] for r in decoding_records(res)}
    assert rec[("r2", "position")] == pytest.approx(res.r2[0])
    assert rec[("mean_r2", "position")] == pytest.approx(res.mean_r2)
    assert rec[("median_abs_error", "position")] == pytest.approx(res.median_abs_error[0])
    assert rec[("k", "position")] == res.param
    assert rec[("at_grid_edge", "position")] == res.grid_edge
    assert all(r["n"] == 200 for r in decoding_records(res))
    xd, lab = _blocks(t=600)
    dres = decode(xd[:400], lab[:400], xd[400:], lab[400:], "ridge")
    drec = {r["metric"]: r["value"] for r in decoding_records(dres)}
    assert set(drec) == {"accuracy", "chance_level", "majority_accuracy", "alpha", "at_grid_edge"}
