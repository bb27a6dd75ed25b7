"""distance_analysis on small in-memory stores, against brute-force scipy pdist."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import pdist

from cebra_lens_core.analyses.common import label_conditions, store_labels
from cebra_lens_core.analyses.distance import distance_analysis
from cebra_lens_core.metrics.distance import class_distances
from tests.analyses.stores import make_store


def _store(layers, train, labels):
    return make_store(layers, train, labels, unit="")


def _zscore(X):
    return (X - X.mean(axis=0)) / X.std(axis=0)


def _brute(X, codes, metric, repeats=None):
    """Mean cosine distance / RMS Euclidean distance (z-scored units) over pairs, with pdist."""
    if metric == "cosine":
        V, stat = X, lambda v: pdist(v, "cosine").mean()
    else:
        V, stat = _zscore(X), lambda v: np.sqrt(pdist(v, "sqeuclidean").mean())
    ids = np.unique(codes)
    intra = np.mean([stat(V[codes == c]) for c in ids if (codes == c).sum() >= 2])
    inter = stat(np.stack([V[codes == c].mean(axis=0) for c in ids]))
    out = {"intra_class": intra, "inter_class": inter}
    if repeats is not None:
        per = []
        for c in ids:
            reps = np.unique(repeats[codes == c])
            if len(reps) >= 2:
                m = np.stack([V[(codes == c) & (repeats == r)].mean(axis=0) for r in reps])
                per.append(stat(m))
        out["inter_repetition"] = np.mean(per)
    return out


def _values(rows, label, variant):
    sub = rows[(rows["label"] == label) & (rows["variant"] == variant)]
    return {(int(r.layer), r.metric): r.value for r in sub.itertuples()}


def test_values_match_brute_force_on_the_split():
    rng = np.random.default_rng(0)
    T = 60
    train = np.arange(T) < 30
    cls = rng.integers(0, 3, T)
    layers = [rng.normal(size=(T, 4)) + cls[:, None], rng.normal(size=(T, 2))]
    store = _store(layers, train, {"cls": (cls, "discrete")})
    rows = distance_analysis(store, name="m")  # default split: test
    assert set(rows["metric"]) == {"intra_class", "inter_class"}
    assert set(rows["variant"]) == {"cosine", "euclidean_rms"}
    assert set(rows["n"]) == {30} and set(rows["analysis"]) == {"distance"}
    assert len(rows) == 2 * 2 * 2  # layers × metrics × quantities
    for metric, variant in (("cosine", "cosine"), ("euclidean", "euclidean_rms")):
        got = _values(rows, "cls", variant)
        for i, X in enumerate(layers):
            ref = _brute(X[~train], cls[~train], metric)
            lib = class_distances(X[~train], cls[~train], metric=metric)
            for key in ("intra_class", "inter_class"):
                assert got[(i, key)] == pytest.approx(ref[key], rel=1e-10, abs=1e-12)
                assert got[(i, key)] == pytest.approx(lib[key], rel=1e-12, abs=1e-14)
    # the train split uses the train rows (and z-scores them on their own)
    rows_tr = distance_analysis(store, name="m", split="train", metrics=["euclidean"])
    ref = _brute(layers[0][train], cls[train], "euclidean")
    got = _values(rows_tr, "cls", "euclidean_rms")
    assert got[(0, "inter_class")] == pytest.approx(ref["inter_class"], rel=1e-10)


def test_continuous_label_is_binned_over_the_whole_range():
    rng = np.random.default_rng(1)
    T = 200
    pos = rng.uniform(0, 10, T)
    train = np.arange(T) < 100
    X = np.column_stack([np.cos(pos), np.sin(pos), rng.normal(size=T)])
    store = _store([X], train, {"pos": (pos, "continuous")})
    rows = distance_analysis(store, name="m", n_bins=4, metrics=["cosine"])
    cond = label_conditions(store_labels(store)["pos"], 4, slice(100, None))
    codes = np.clip(np.digitize(pos[100:], np.linspace(pos.min(), pos.max(), 5)) - 1, 0, 3)
    np.testing.assert_array_equal(cond.codes, codes)
    ref = _brute(X[100:], codes, "cosine")
    got = _values(rows, "pos", "cosine")
    assert got[(0, "intra_class")] == pytest.approx(ref["intra_class"], rel=1e-10)
    assert got[(0, "inter_class")] == pytest.approx(ref["inter_class"], rel=1e-10)


def _repeated_stimulus(rng, n_frames=5, n_reps=4, per_frame=2, noise=0.0):
    """Frames 0..n_frames-1 shown in every repeat; response = fixed pattern per frame (+ noise)."""
    frame = np.tile(np.repeat(np.arange(n_frames), per_frame), n_reps)
    trial = np.repeat(np.arange(n_reps), n_frames * per_frame)
    pattern = rng.normal(size=(n_frames, 6)) + 2.0
    X = pattern[frame] + noise * rng.normal(size=(len(frame), 6))
    return frame, trial, X


def test_repeat_label_gives_inter_repetition_and_is_not_a_class_label():
    rng = np.random.default_rng(2)
    frame, trial, X = _repeated_stimulus(rng, noise=0.5)
    train = np.zeros(len(frame), dtype=bool)  # everything in the test split
    labels = {"frame": (frame, "discrete"), "trial": (trial, "discrete")}
    store = _store([X], train, labels)
    rows = distance_analysis(store, name="m", repeat_label="trial")
    assert set(rows["label"]) == {"frame"}
    assert set(rows["metric"]) == {"intra_class", "inter_class", "inter_repetition"}
    for metric, variant in (("cosine", "cosine"), ("euclidean", "euclidean_rms")):
        ref = _brute(X, frame, metric, repeats=trial)
        got = _values(rows, "frame", variant)
        for key, value in ref.items():
            assert got[(0, key)] == pytest.approx(value, rel=1e-10, abs=1e-12)
    # asking for the repeat label explicitly still leaves it out as a class label
    rows = distance_analysis(store, name="m", labels=["frame", "trial"], repeat_label="trial")
    assert set(rows["label"]) == {"frame"}
    # without repeat_label, `trial` is an ordinary class label and no inter_repetition row exists
    rows = distance_analysis(store, name="m")
    assert set(rows["label"]) == {"frame", "trial"}
    assert "inter_repetition" not in set(rows["metric"])


def test_identical_repeats_give_zero_inter_repetition():
    rng = np.random.default_rng(3)
    frame, trial, X = _repeated_stimulus(rng, noise=0.0)
    train = np.arange(len(frame)) < 10  # first half-repeat in train; the rest is test
    store = _store(
        [X, X[:, :3] * 7.0], train, {"frame": (frame, "discrete"), "trial": (trial, "discrete")}
    )
    rows = distance_analysis(store, name="m", repeat_label="trial")
    rep = rows[rows["metric"] == "inter_repetition"]
    assert len(rep) == 2 * 2
    np.testing.assert_allclose(rep["value"], 0.0, atol=1e-7)
    # every sample of a frame is the same vector: intra-class distance is 0 too
    np.testing.assert_allclose(rows[rows["metric"] == "intra_class"]["value"], 0.0, atol=1e-7)
    assert (rows[rows["metric"] == "inter_class"]["value"] > 0.01).all()


def test_unknown_labels_refused():
    rng = np.random.default_rng(4)
    store = _store(
        [rng.normal(size=(20, 2))], np.arange(20) < 10, {"c": (np.arange(20) % 2, "discrete")}
    )
    with pytest.raises(ValueError, match=r"repeat_label 'trial'.*available: \['c'\]"):
        distance_analysis(store, name="m", repeat_label="trial")
    with pytest.raises(ValueError, match=r"available: \['c'\]"):
        distance_analysis(store, name="m", labels=["x"])
