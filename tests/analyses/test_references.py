"""The recording itself as a reference layer: every per-layer analysis reports it as its own
row (empty `layer`, `layer_name` = input / input_rf_mean), and `layers:` restricts analyses."""

from __future__ import annotations

import numpy as np
import pytest

from cebra_lens_core.analyses.cka import cka_rows_for_pairs
from cebra_lens_core.analyses.common import select_layer_variables
from cebra_lens_core.analyses.dimensionality import dimensionality_analysis
from cebra_lens_core.analyses.distance import distance_analysis
from cebra_lens_core.analyses.rdm import rdm_analysis
from cebra_lens_core.metrics.dimensionality import participation_ratio
from tests.analyses.stores import make_store


def _store_with_input(T: int = 400, seed: int = 0):
    """Input of 6 neurons tuned to position; layer 0 = the input itself, layer 1 = noise."""
    rng = np.random.default_rng(seed)
    position = np.tile(np.linspace(0, 1, 100), T // 100)
    neural = np.cos(position[:, None] * np.arange(1, 7) * 3) + 0.05 * rng.normal(size=(T, 6))
    noise = rng.normal(size=(T, 5))
    train = np.arange(T) < 3 * T // 4
    store = make_store([neural, noise], train, {"position": (position, "continuous")})
    store["input"] = (("time", "input_unit"), neural, {"layer_name": "input"})
    return store, neural, train


def _references(rows):
    return rows[rows["layer"].isna()]


def test_dimensionality_reports_the_input_with_its_exact_value():
    store, neural, train = _store_with_input()
    rows = dimensionality_analysis(store, name="m", split="test")
    ref = _references(rows)
    pr = ref[ref["metric"] == "participation_ratio"]
    assert pr["layer_name"].tolist() == ["input"]
    assert pr["value"].iloc[0] == pytest.approx(participation_ratio(neural[~train]), rel=1e-9)
    same = rows[(rows["layer"] == 0) & (rows["metric"] == "participation_ratio")]
    assert same["value"].iloc[0] == pytest.approx(pr["value"].iloc[0], rel=1e-9)


def test_rdm_and_distances_give_input_rows_equal_to_an_identical_layer():
    store, _, _ = _store_with_input()
    rdm_rows, arrays = rdm_analysis(store, name="m", n_bins=5)
    ref = _references(rdm_rows)
    assert ref["layer_name"].tolist() == ["input"]
    layer0 = rdm_rows[rdm_rows["layer"] == 0]
    assert ref["value"].iloc[0] == pytest.approx(layer0["value"].iloc[0])
    noise = rdm_rows[rdm_rows["layer"] == 1]["value"].iloc[0]
    assert ref["value"].iloc[0] > noise + 0.2  # tuned input vs a noise layer
    np.testing.assert_allclose(arrays["position/input"], arrays["position/layer_00"])
    assert arrays["position/names"].tolist() == ["l0", "l1"]  # model layers only
    dist = distance_analysis(store, name="m", metrics=["cosine"])
    ref = _references(dist).set_index("metric")["value"]
    same = dist[dist["layer"] == 0].set_index("metric")["value"]
    np.testing.assert_allclose(ref.sort_index(), same.sort_index())


def test_cka_of_every_layer_against_the_input():
    store, _, _ = _store_with_input()
    rows = cka_rows_for_pairs({"m": store}, [("m", "m")], kinds=["linear", "debiased"])
    ref = _references(rows)
    assert set(ref["layer_name"]) == {"input"} and set(ref["other_model"]) == {"m"}
    value = ref.set_index(["variant", "other_layer"])["value"]
    assert value[("linear", 0)] == pytest.approx(1.0)  # the layer that is the input
    assert abs(value[("debiased", 1)]) < 0.1  # independent noise: debiased CKA ≈ 0


def test_layers_option_selects_by_position_and_name():
    store, _, _ = _store_with_input()
    names = lambda sel: [(i, n) for i, n, _ in sel]  # noqa: E731
    assert names(select_layer_variables(store)) == [(0, "l0"), (1, "l1"), (None, "input")]
    assert names(select_layer_variables(store, [-1])) == [(1, "l1"), (None, "input")]
    assert names(select_layer_variables(store, ["l0"], references=False)) == [(0, "l0")]
    with pytest.raises(ValueError, match=r"layer 'norm' is not in the store.*'l0'"):
        select_layer_variables(store, ["norm"])
    rows = dimensionality_analysis(store, name="m", layers=["l1"])
    assert set(rows["layer_name"]) == {"l1", "input"}


def test_joint_oracle_closed_form():
    from cebra_lens_core.metrics.rdm import joint_oracle_rdm

    components = np.array([[0, 0], [1, 0], [0, 1], [4, 1]])  # (position bin, direction)
    D = joint_oracle_rdm(components, ["ordinal", "categorical"], [5, None])
    assert D[0, 1] == pytest.approx(0.5 * (1 / 4))  # neighbouring bins, same direction
    assert D[0, 2] == pytest.approx(0.5)  # same bin, opposite direction
    assert D[0, 3] == pytest.approx(0.5 * (1 + 1))  # far end, opposite direction
    np.testing.assert_allclose(D, D.T)
    assert np.all(np.diag(D) == 0)


def test_rdm_of_position_and_direction_jointly():
    """A layer that encodes position separately per direction matches the joint oracle
    better than a layer that ignores direction."""
    rng = np.random.default_rng(1)
    T = 2000
    position = np.abs(((np.arange(T) / 200) % 2) - 1)  # back and forth
    direction = ((np.arange(T) // 200) % 2).astype(np.int64)
    both = np.column_stack([position, position, direction, 1 - direction])
    only_position = np.column_stack([position, position**2])
    train = np.arange(T) < 1500
    store = make_store(
        [both + 0.01 * rng.normal(size=both.shape), only_position + 0.01 * rng.normal(size=(T, 2))],
        train,
        {"position": (position, "continuous"), "direction": (direction, "discrete")},
    )
    rows, arrays = rdm_analysis(
        store,
        name="m",
        n_bins=5,
        metric="euclidean",
        joint=[["position", "direction"]],
        layers=[0, 1],
    )
    joint = rows[rows["label"] == "position+direction"].set_index("layer")["value"]
    assert joint[0] > joint[1] + 0.2
    assert arrays["position+direction/ids"].size == 10  # 5 bins × 2 directions
    assert rows[rows["label"] == "position+direction"]["variant"].iloc[0].endswith("rho_a")
    restricted, _ = rdm_analysis(store, name="m", n_bins=5, layers=["l1"])
    assert set(restricted["layer_name"]) == {"l1"}


def test_decoding_reports_the_input_and_honours_layers():
    from cebra_lens_core.analyses.decoding import decoding_analysis

    store, _, _ = _store_with_input()
    rows = decoding_analysis(store, name="m", decoders=["ridge"], shuffle_seeds=[0], layers=["l1"])
    assert set(rows["layer_name"]) == {"l1", "input"}
    ref = rows[rows["layer"].isna() & (rows["variant"] == "ridge")].set_index("metric")
    noise = rows[(rows["layer"] == 1) & (rows["variant"] == "ridge")].set_index("metric")
    assert ref.loc["mean_r2", "value"] > noise.loc["mean_r2", "value"] + 0.5
    assert ref.loc["median_abs_error", "unit"] == "m" and ref.loc["mean_r2", "unit"] == ""


def test_spike_count_input_with_silent_bins_gets_no_cosine_distance(caplog):
    """Bins without any spike have no direction: the input reference gets Euclidean
    distances only (with a log line), the layers both."""
    store, neural, _ = _store_with_input()
    counts = np.random.default_rng(2).poisson(0.2, neural.shape).astype(float)
    store["input"] = (("time", "input_unit"), counts, {"layer_name": "input"})
    assert (counts.sum(axis=1) == 0).any()
    with caplog.at_level("WARNING", logger="cebra_lens_core"):
        rows = distance_analysis(store, name="m", metrics=["cosine", "euclidean"])
    assert set(rows[rows["layer"].isna()]["variant"]) == {"euclidean_rms"}
    assert set(rows[rows["layer"] == 0]["variant"]) == {"cosine", "euclidean_rms"}
    assert any("no cosine distances" in r.getMessage() for r in caplog.records)
