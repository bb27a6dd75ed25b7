"""rdm_analysis / rsa_between on small in-memory stores, against direct numpy/scipy computations."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy.spatial.distance import squareform
from scipy.stats import spearmanr

from cebra_lens_core.analyses.rdm import rdm_analysis, rsa_between
from cebra_lens_core.metrics.rdm import compare_rdms
from tests.analyses.stores import make_store

T, N_TRAIN, N_BINS = 600, 450, 5


def _store(layers, train, labels):
    return make_store(layers, train, labels, unit="m")


def _position(rng):
    """Uniform on [0, 1] with no sample in [0.4, 0.6): bin 2 of 5 is empty (and dropped)."""
    pos = rng.uniform(0, 1, T)
    gap = (pos >= 0.4) & (pos < 0.6)
    pos[gap] += 0.2
    pos[0], pos[-1] = 0.0, 1.0
    return pos


def _bins(pos, rows):
    """Equal-width bins over the whole recording's range, as np.histogram (last bin closed)."""
    edges = np.linspace(pos.min(), pos.max(), N_BINS + 1)
    codes = np.clip(np.digitize(pos[rows], edges) - 1, 0, N_BINS - 1)
    return codes, edges


@pytest.fixture(scope="module")
def setup():
    rng = np.random.default_rng(0)
    pos = _position(rng)
    side = (pos > 0.5).astype(np.int64)
    stim = rng.integers(0, 4, T)
    w, b = rng.normal(size=6), rng.normal(size=6)
    ramp = pos[:, None] * w + b  # exact linear ramp of position
    mixed = np.tanh(2 * pos[:, None] * rng.normal(size=(1, 5))) + 0.3 * rng.normal(size=(T, 5))
    noise = rng.normal(size=(T, 8))
    train = np.arange(T) < N_TRAIN
    labels = {
        "position": (pos, "continuous"),
        "side": (side, "discrete"),
        "stim": (stim, "discrete"),
    }
    store = _store([ramp, mixed, noise], train, labels)
    return store, pos, [ramp, mixed, noise], train


def _direct_rdm(X, codes, metric):
    ids = np.unique(codes)
    means = np.stack([X[codes == c].mean(axis=0) for c in ids])
    if metric == "correlation":
        D = 1 - np.corrcoef(means)
    else:
        D = np.sqrt(((means[:, None] - means[None]) ** 2).sum(-1))
    np.fill_diagonal(D, 0.0)
    return ids, D


def test_rows_match_direct_computation(setup):
    store, pos, layers, train = setup
    rows, arrays = rdm_analysis(store, name="m", n_bins=N_BINS)
    rows_train = np.flatnonzero(train)
    codes, edges = _bins(pos, rows_train)
    ids = np.unique(codes)
    np.testing.assert_array_equal(ids, [0, 1, 3, 4])  # empty bin dropped, ids keep positions
    np.testing.assert_array_equal(arrays["position/ids"], ids)
    np.testing.assert_allclose(arrays["position/bin_centres"], 0.5 * (edges[ids] + edges[ids + 1]))
    oracle = np.abs(ids[:, None] - ids[None, :]) / (N_BINS - 1)

    pos_rows = rows[rows["label"] == "position"].set_index("layer")
    assert len(pos_rows) == len(layers)
    for i, X in enumerate(layers):
        _, D = _direct_rdm(X[rows_train], codes, "correlation")
        np.testing.assert_allclose(arrays[f"position/layer_{i:02d}"], D, atol=1e-12)
        expected = spearmanr(squareform(D, checks=False), squareform(oracle, checks=False))[0]
        assert pos_rows.loc[i, "value"] == pytest.approx(expected, abs=1e-12)
        assert pos_rows.loc[i, "layer_name"] == f"l{i}"
    assert set(pos_rows["variant"]) == {"correlation/spearman"}
    assert set(pos_rows["metric"]) == {"oracle_similarity"}
    assert set(pos_rows["n"]) == {len(ids)}
    assert set(rows["analysis"]) == {"rdm"} and set(rows["model"]) == {"m"}
    assert set(rows["dataset"]) == {"toy"}


def test_discrete_labels_get_rdms_but_no_oracle_row(setup):
    store, _, layers, train = setup
    rows, arrays = rdm_analysis(store, name="m", n_bins=N_BINS)
    # binary label: a 2 × 2 RDM has one entry; a discrete label has one condition per class
    assert set(rows["label"]) == {"position"}
    for label, n_cond in (("side", 2), ("stim", 4)):
        assert f"{label}/ids" in arrays and f"{label}/bin_centres" not in arrays
        codes = store[f"label_{label}"].values[train]
        for i, X in enumerate(layers):
            ids, D = _direct_rdm(X[train], codes, "correlation")
            assert arrays[f"{label}/layer_{i:02d}"].shape == (n_cond, n_cond)
            np.testing.assert_allclose(arrays[f"{label}/layer_{i:02d}"], D, atol=1e-12)
        np.testing.assert_array_equal(arrays[f"{label}/ids"], np.arange(n_cond))


def test_linear_ramp_scores_one_and_noise_scores_zero(setup):
    store, *_ = setup
    rows, arrays = rdm_analysis(
        store, name="m", labels=["position"], n_bins=N_BINS, metric="euclidean"
    )
    by_layer = rows.set_index("layer")["value"]
    assert set(rows["variant"]) == {"euclidean/spearman"}
    # Euclidean distances of the ramp's bin means are |m_i − m_j|·||w||: monotone in |i − j|;
    # Spearman is below 1 only through the ties of the ordinal oracle
    assert by_layer[0] > 0.95
    assert abs(by_layer[2]) < 0.3
    assert set(k.split("/")[0] for k in arrays) == {"position"}


def test_ramp_with_more_bins_and_split_choice():
    rng = np.random.default_rng(3)
    pos = rng.uniform(-2, 3, 800)
    ramp = pos[:, None] * rng.normal(size=4) + rng.normal(size=4)
    noise = rng.normal(size=(800, 10))
    train = np.arange(800) < 500
    store = _store([ramp, noise], train, {"position": (pos, "continuous")})
    rows, _ = rdm_analysis(store, name="m", n_bins=10, metric="euclidean")
    v = rows.set_index("layer")["value"]
    assert v[0] > 0.95 and abs(v[1]) < 0.3
    # the test split gives conditions from the test rows
    _, arr_t = rdm_analysis(store, name="m", n_bins=10, metric="euclidean", split="test")
    codes = np.clip(np.digitize(pos[500:], np.linspace(-2, 3, 11)) - 1, 0, 9)
    _, D = _direct_rdm(ramp[500:], codes, "euclidean")
    np.testing.assert_allclose(arr_t["position/layer_00"], D, atol=1e-10)


def test_explicit_comparator_is_named():
    rng = np.random.default_rng(4)
    pos = rng.uniform(0, 1, 300)
    store = _store([rng.normal(size=(300, 3))], np.arange(300) < 200, {"p": (pos, "continuous")})
    rows, arrays = rdm_analysis(store, name="m", n_bins=4, comparator="kendall_tau_a")
    assert rows["variant"].tolist() == ["correlation/kendall_tau_a"]
    ids = arrays["p/ids"]
    oracle = np.abs(ids[:, None] - ids[None, :]) / 3
    assert rows["value"][0] == pytest.approx(
        compare_rdms(arrays["p/layer_00"], oracle, "kendall_tau_a"), abs=1e-14
    )


def test_unknown_label_names_available(setup):
    store, *_ = setup
    with pytest.raises(ValueError, match=r"\['nope'\].*available: \['position', 'side', 'stim'\]"):
        rdm_analysis(store, name="m", labels=["nope"])


def test_rsa_between_store_and_itself(setup):
    store, *_ = setup
    _, arrays = rdm_analysis(store, name="m", n_bins=N_BINS)
    rows = rsa_between({"A": arrays, "B": arrays}, label="position", dataset="toy")
    assert set(zip(rows["model"], rows["other_model"], strict=True)) == {
        ("A", "A"),
        ("A", "B"),
        ("B", "B"),
    }
    assert set(rows["metric"]) == {"rsa"} and set(rows["variant"]) == {"spearman"}
    assert set(rows["n"]) == {4} and set(rows["dataset"]) == {"toy"}
    for (a, b), block in rows.groupby(["model", "other_model"]):
        m = np.full((3, 3), np.nan)
        m[block["layer"].astype(int), block["other_layer"].astype(int)] = block["value"]
        assert np.isfinite(m).all(), (a, b)
        np.testing.assert_allclose(np.diag(m), 1.0, atol=1e-12)
        np.testing.assert_allclose(m, m.T, atol=1e-12)
        expected = compare_rdms(arrays["position/layer_00"], arrays["position/layer_02"])
        assert m[0, 2] == pytest.approx(expected, abs=1e-12)


def test_rsa_between_skips_mismatched_conditions_and_small_labels(setup):
    store, pos, layers, train = setup
    _, arrays = rdm_analysis(store, name="m", n_bins=N_BINS)
    _, other = rdm_analysis(store, name="m", n_bins=N_BINS + 1)  # other conditions
    rows = rsa_between({"A": arrays, "B": other}, label="position")
    assert set(zip(rows["model"], rows["other_model"], strict=True)) == {("A", "A"), ("B", "B")}
    # a binary label has a single RDM entry: nothing to compare
    assert rsa_between({"A": arrays, "B": arrays}, label="side").empty


def test_labels_without_attrs_and_non_contiguous_split():
    """Label kind inferred from the dtype (float: continuous, int: discrete); train in blocks."""
    rng = np.random.default_rng(5)
    n = 400
    pos = rng.uniform(0, 1, n)
    X = np.column_stack([np.cos(3 * pos), np.sin(3 * pos), pos]) + 0.05 * rng.normal(size=(n, 3))
    train = (np.arange(n) // 50) % 2 == 0  # alternating blocks of 50
    store = xr.Dataset(
        {"layer_00": (("time", "layer_00_unit"), X)},
        coords={
            "time": np.arange(n),
            "train": ("time", train),
            "label_pos": ("time", pos),
            "label_cls": ("time", rng.integers(0, 3, n)),
        },
    )
    rows, arrays = rdm_analysis(store, name="m", n_bins=6)
    assert rows["label"].tolist() == ["pos"]  # only the continuous label has an oracle
    assert rows["layer_name"].tolist() == ["layer_00"]  # no layer_name attribute: the variable
    codes = np.clip(np.digitize(pos[train], np.linspace(pos.min(), pos.max(), 7)) - 1, 0, 5)
    ids, D = _direct_rdm(X[train], codes, "correlation")
    np.testing.assert_allclose(arrays["pos/layer_00"], D, atol=1e-12)
    oracle = np.abs(ids[:, None] - ids[None, :]) / 5
    expected = spearmanr(squareform(D, checks=False), squareform(oracle, checks=False))[0]
    assert rows["value"][0] == pytest.approx(expected, abs=1e-12)
    assert "cls/bin_centres" not in arrays and arrays["cls/layer_00"].shape == (3, 3)
