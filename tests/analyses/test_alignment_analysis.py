"""alignment_analysis on small in-memory stores with planted structure (closed forms)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cebra_lens_core.analyses.alignment import (
    AlignmentOptions,
    align_neural,
    alignment_analysis,
    evenly_spaced,
    session_neural,
)
from cebra_lens_core.metrics.alignment import condition_rdm, crsa
from cebra_lens_core.metrics.conditions import bin_continuous, condition_means
from cebra_lens_core.metrics.rdm import compare_rdms, oracle_rdm
from cebra_lens_core.metrics.relative import relative_representation
from tests.analyses.stores import make_store

T, N_TRAIN, N_NEURONS, N_BINS = 800, 600, 12, 8
FAST = {"decoders": ["ridge"], "n_folds": 4}


def place_cells(seed: int = 0):
    """Position bouncing on [0, 1] (period 100 samples) and 12 Gaussian place cells + noise."""
    rng = np.random.default_rng(seed)
    phase = (np.arange(T) % 100) / 50.0
    pos = np.where(phase < 1.0, phase, 2.0 - phase)
    centres = np.linspace(0.0, 1.0, N_NEURONS)
    y = 5.0 * np.exp(-((pos[:, None] - centres) ** 2) / (2 * 0.12**2))
    y += 0.3 * rng.normal(size=y.shape)
    return pos, y


def make(layers, pos, n_neurons=None, extra_labels=None):
    train = np.arange(T) < N_TRAIN
    labels = {"position": (pos, "continuous"), **(extra_labels or {})}
    store = make_store(layers, train, labels)
    if n_neurons is not None:
        store.attrs["n_neurons"] = n_neurons
    return store


def rows_of(rows: pd.DataFrame, analysis: str, metric: str, variant: str) -> pd.Series:
    part = rows[
        (rows["analysis"] == analysis) & (rows["metric"] == metric) & (rows["variant"] == variant)
    ]
    return part.set_index("layer")["value"]


@pytest.fixture(scope="module")
def planted():
    pos, y = place_cells()
    rng = np.random.default_rng(1)
    linear = y @ rng.normal(size=(N_NEURONS, 16))  # full row rank: y = linear @ pinv
    noise = rng.normal(size=(T, 16))
    store = make([linear, noise, y.copy()], pos, n_neurons=N_NEURONS)
    rows, arrays = alignment_analysis(store, y, {**FAST, "n_bins": N_BINS}, "toy")
    return pos, y, store, rows, arrays


def test_linear_layer_predicts_the_recording_and_noise_does_not(planted):
    _, _, _, rows, arrays = planted
    r = rows_of(rows, "encoding", "mean_pearson_r", "test")
    assert r[0] > 0.95 and r[2] > 0.95  # exact linear map of the neural data, and identity
    assert abs(r[1]) < 0.15  # pure noise
    assert rows_of(rows, "encoding", "mean_r2", "test")[1] < 0.05
    assert np.nanmin(arrays["layer_00/pearson_r"]) > 0.95
    assert arrays["layer_01/pearson_r"].shape == (N_NEURONS,)
    median = rows_of(rows, "encoding", "median_pearson_r", "test")
    assert median[0] == pytest.approx(np.median(arrays["layer_00/pearson_r"]))


def test_ersa_of_a_linear_map_behaves_like_crsa_of_the_identity(planted):
    pos, y, _, rows, _ = planted
    c, e = rows_of(rows, "crsa", "spearman", "test"), rows_of(rows, "ersa", "spearman", "test")
    assert c[2] == pytest.approx(1.0)  # the layer is the recording: identical RDMs
    assert e[2] > 0.99 and e[0] > 0.99  # predictions ≈ recording for any invertible map
    assert c[0] < e[0]  # the linear mixing changes the correlation-distance RDM
    # cRSA rows equal the library's crsa on the test split's conditions
    codes, _ = bin_continuous(pos, N_BINS)
    te = slice(N_TRAIN, None)
    rng = np.random.default_rng(1)
    linear = y @ rng.normal(size=(N_NEURONS, 16))
    assert c[0] == pytest.approx(crsa(linear[te], y[te], codes[te]), abs=1e-12)
    n = rows[(rows["analysis"] == "crsa") & (rows["variant"] == "test")]["n"]
    assert (n == len(np.unique(codes[te]))).all()
    assert set(rows.loc[rows["analysis"] == "crsa", "label"]) == {"position"}


def test_rows_follow_the_contract(planted):
    _, _, _, rows, arrays = planted
    assert set(rows["analysis"]) == {"crsa", "ersa", "encoding", "best_layer", "relative"}
    assert set(rows["model"]) == {"toy"} and set(rows["dataset"]) == {"toy"}
    enc = rows[rows["analysis"] == "encoding"]
    assert set(enc["metric"]) == {
        "mean_pearson_r",
        "median_pearson_r",
        "mean_r2",
        "median_r2",
        "participation_ratio",
        "n_features",
        "median_alpha",
    }
    assert (enc.loc[enc["variant"] == "test", "n"] == T - N_TRAIN).all()
    assert (enc.loc[enc["variant"] == "train", "n"] == N_TRAIN).all()
    assert rows_of(rows, "encoding", "n_features", "train").tolist() == [16, 16, N_NEURONS]
    assert arrays["neural_rdm/test"].shape == (N_BINS, N_BINS)


def test_best_layer_is_chosen_on_the_training_split():
    pos, y = place_cells(seed=2)
    rng = np.random.default_rng(3)
    tr = np.arange(T) < N_TRAIN
    # layer 0 tracks the recording on the training rows only (test rows are noise);
    # layer 1 is a noisy copy everywhere: train-best is 0, test-best is 1
    drifting = np.where(tr[:, None], y @ rng.normal(size=(N_NEURONS, 16)), 0.0)
    drifting += np.where(tr[:, None], 0.05, 3.0) * rng.normal(size=(T, 16))
    steady = y @ rng.normal(size=(N_NEURONS, 16)) + 6.0 * rng.normal(size=(T, 16))
    rows, _ = alignment_analysis(make([drifting, steady], pos), y, FAST, "m")
    for metric, (analysis, layer_metric) in {
        "encoding_mean_pearson_r": ("encoding", "mean_pearson_r"),
        "ersa_spearman": ("ersa", "spearman"),
        "crsa_spearman": ("crsa", "spearman"),
    }.items():
        train = rows_of(rows, analysis, layer_metric, "train")
        test = rows_of(rows, analysis, layer_metric, "test")
        best = rows[(rows["analysis"] == "best_layer") & (rows["metric"] == metric)]
        chosen = best.set_index("variant")
        assert int(chosen.loc["test", "layer"]) == int(train.idxmax()), metric
        assert chosen.loc["test", "value"] == pytest.approx(test[int(train.idxmax())])
        assert chosen.loc["train", "value"] == pytest.approx(train.max())
        assert (best["n"] == 2).all()
    enc_test = rows_of(rows, "encoding", "mean_pearson_r", "test")
    best = rows[(rows["analysis"] == "best_layer") & (rows["variant"] == "test")]
    reported = best.set_index("metric").loc["encoding_mean_pearson_r"]
    assert int(reported["layer"]) == 0 and enc_test[1] > enc_test[0] + 0.3  # not the test-best
    assert reported["value"] == pytest.approx(enc_test[0])


def test_relative_representation_rows(planted):
    pos, y, store, rows, _ = planted
    rel = rows[rows["analysis"] == "relative"]
    assert set(rel["label"]) == {"position"}
    ratio = rel[rel["metric"] == "reduction_ratio"].set_index("layer")
    codes, _ = bin_continuous(pos, N_BINS)
    n_anchors = len(np.unique(codes[:N_TRAIN]))
    assert ratio["value"].tolist() == pytest.approx(
        [n_anchors / 16, n_anchors / 16, n_anchors / 12]
    )
    assert (ratio["n"] == n_anchors).all()
    r2 = rel[rel["metric"] == "r2"]
    assert set(r2["variant"]) == {"original/ridge", "relative/ridge"}
    # the place-cell layer's relative representation still decodes position
    assert r2.set_index(["layer", "variant"]).loc[(2, "relative/ridge"), "value"] > 0.5
    # RSA against the neural RDM and the ordinal oracle, recomputed by hand (layer 2 = y)
    x = y
    tr, te = slice(0, N_TRAIN), slice(N_TRAIN, None)
    anchors = condition_means(x[tr], codes[tr]).means
    r = relative_representation(x[te], anchors, centre=x[tr].mean(axis=0)).values
    neural = rel[(rel["metric"] == "neural_similarity") & (rel["layer"] == 2)].set_index("variant")
    assert neural.loc["relative/correlation/spearman", "value"] == pytest.approx(
        crsa(r, y[te], codes[te]), abs=1e-12
    )
    assert neural.loc["original/correlation/spearman", "value"] == pytest.approx(1.0)
    ids = np.unique(codes[te])
    oracle = rel[(rel["metric"] == "oracle_similarity") & (rel["layer"] == 2)].set_index("variant")
    expected = compare_rdms(
        condition_rdm(r, codes[te])[0], oracle_rdm(ids, "ordinal", n_levels=N_BINS)
    )
    assert oracle.loc["relative/correlation/spearman", "value"] == pytest.approx(expected)


def test_relative_representation_with_anchor_indices():
    pos, y = place_cells()
    store = make([y], pos)
    opts = {**FAST, "n_bins": N_BINS, "anchors": "indices", "anchor_indices": [3, 40, 77, 150, 420]}
    rows, arrays = alignment_analysis(store, y, opts, "m")
    ratio = rows[rows["metric"] == "reduction_ratio"]
    assert ratio["value"].tolist() == pytest.approx([5 / N_NEURONS])
    assert ratio["n"].tolist() == [5]
    np.testing.assert_array_equal(arrays["layer_00/anchor_ids"], [3, 40, 77, 150, 420])
    # anchors are read at their sample indices even when the training rows are subsampled
    sub, sub_arrays = alignment_analysis(store, y, {**opts, "max_train_samples": 50}, "m")
    np.testing.assert_array_equal(sub_arrays["layer_00/anchor_ids"], [3, 40, 77, 150, 420])
    assert sub["n"][sub["metric"] == "participation_ratio"].tolist() == [50, 50, 50]
    # without centring: R = cosine similarity of the test rows to the anchor samples
    te = slice(N_TRAIN, None)
    rel = relative_representation(y[te], y[[3, 40, 77, 150, 420]]).values
    codes, _ = bin_continuous(pos, N_BINS)
    no_centre, _ = alignment_analysis(store, y, {**opts, "centre": "none"}, "m")
    neural = no_centre[no_centre["metric"] == "neural_similarity"].set_index("variant")
    assert neural.loc["relative/correlation/spearman", "value"] == pytest.approx(
        crsa(rel, y[te], codes[te]), abs=1e-12
    )
    with pytest.raises(ValueError, match="anchor index 700 is not in the training split"):
        alignment_analysis(store, y, {**opts, "anchor_indices": [3, 700]}, "m")
    with pytest.raises(ValueError, match="anchor_indices is empty"):
        alignment_analysis(store, y, {"anchors": "indices"}, "m")


def test_discrete_label_and_label_order():
    pos, y = place_cells()
    direction = (np.gradient(pos) < 0).astype(np.int64)
    stim = (np.arange(T) // 25) % 5
    store = make(
        [y @ np.random.default_rng(0).normal(size=(N_NEURONS, 6))],
        pos,
        extra_labels={"direction": (direction, "discrete"), "stim": (stim, "discrete")},
    )
    rows, _ = alignment_analysis(store, y, FAST, "m", label_order=["stim", "position"])
    assert set(rows.loc[rows["analysis"] == "crsa", "label"]) == {"stim"}
    rel = rows[rows["analysis"] == "relative"]
    assert set(rel.loc[rel["metric"].isin(["r2", "accuracy"]), "metric"]) == {"accuracy"}
    assert "oracle_similarity" not in set(rel["metric"])  # no oracle for a categorical label
    # two conditions: no RSA score (needs 3), encoding still reported
    rows, _ = alignment_analysis(store, y, {**FAST, "label": "direction"}, "m")
    assert "crsa" not in set(rows["analysis"]) and "encoding" in set(rows["analysis"])


def test_projection_and_training_subsample():
    pos, y = place_cells()
    store = make([y @ np.random.default_rng(0).normal(size=(N_NEURONS, 20))], pos)
    opts = {**FAST, "projection": "sparse", "n_components": 5, "max_train_samples": 200}
    rows, _ = alignment_analysis(store, y, opts, "m")
    assert rows_of(rows, "encoding", "n_features", "train").tolist() == [5]
    assert rows_of(rows, "encoding", "mean_r2", "train").index.tolist() == [0]
    enc = rows[(rows["analysis"] == "encoding") & (rows["variant"] == "train")]
    assert (enc["n"] == 200).all()
    picked = evenly_spaced(np.arange(600), 200)
    assert len(picked) == 200 and picked[0] == 0 and picked[-1] == 599
    assert np.all(np.diff(picked) > 0)


def test_neural_data_must_match_the_store():
    pos, y = place_cells()
    store = make([y], pos, n_neurons=N_NEURONS)
    with pytest.raises(ValueError, match=r"neural data has 795 time points.*store m has 800"):
        alignment_analysis(store, y[:795], FAST, "m")
    with pytest.raises(ValueError, match=r"has 11 neurons .* fed 12"):
        align_neural(store, y[:, :11], name="m")
    store.attrs["n_neurons"] = -1  # unknown (encoder without num_input): not checked
    assert align_neural(store, y[:, :11], name="m").shape == (T, 11)
    with pytest.raises(ValueError, match="2-D"):
        align_neural(store, y[:, 0], name="m")
    bad = y.copy()
    bad[7, 2] = np.nan
    with pytest.raises(ValueError, match="NaN/inf .* time 7"):
        align_neural(store, bad, name="m")
    with pytest.raises(ValueError, match=r"label 'speed' is not in .*available: \['position'\]"):
        alignment_analysis(store, y, {"label": "speed"}, "m")


def test_options_are_checked():
    with pytest.raises(ValueError, match="unknown options \\['n_bin'\\]"):
        AlignmentOptions.from_mapping({"n_bin": 3})
    with pytest.raises(ValueError, match="n_components=4 applies only with projection: sparse"):
        AlignmentOptions.from_mapping({"n_components": 4})
    with pytest.raises(ValueError, match="comparator must be one of"):
        AlignmentOptions.from_mapping({"comparator": "kendall"})
    assert AlignmentOptions.from_mapping({"enabled": True, "alphas": [1, 2]}).alphas == (1, 2)


def test_session_neural_names_the_missing_session():
    class Session:
        neural = np.zeros((4, 2))

    class Dataset:
        sessions = [Session(), Session()]

    assert session_neural(Dataset(), None).shape == (4, 2)
    assert session_neural(Dataset(), 1).shape == (4, 2)
    with pytest.raises(ValueError, match="rec.npz: session 2 requested .* 2 session"):
        session_neural(Dataset(), 2, source="rec.npz")
