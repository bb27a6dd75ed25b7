"""Intervals and nulls filled in by the store-level analyses (rdm, distance, decoding, cka)."""

from __future__ import annotations

import numpy as np
import pytest

from cebra_lens_core.analyses.cka import cka_rows_for_pairs
from cebra_lens_core.analyses.decoding import decoding_analysis
from cebra_lens_core.analyses.distance import distance_analysis
from cebra_lens_core.analyses.rdm import rdm_analysis
from tests.analyses.stores import make_store
from tests.stats.series import smooth


@pytest.fixture(scope="module")
def store():
    rng = np.random.default_rng(3)
    n = 1200
    pos = (np.sin(np.arange(n) / 40.0) + 1) / 2
    side = (np.arange(n) // 60 % 2).astype(np.int64)
    ramp = pos[:, None] * rng.normal(size=6) + 0.2 * smooth(rng, n, 6, 0.7)
    noise = rng.normal(size=(n, 4))
    train = np.arange(n) < 900
    labels = {"pos": (pos, "continuous"), "side": (side, "discrete")}
    return make_store([ramp, noise], train, labels)


BOOT = {"enabled": True, "n_resamples": 40, "block_length": 20, "seed": 0}


def test_store_analyses_fill_intervals_without_changing_values(store):
    rows, _ = rdm_analysis(store, name="m", n_bins=6, metric="euclidean")
    boot, arrays = rdm_analysis(store, name="m", n_bins=6, metric="euclidean", bootstrap=BOOT)
    np.testing.assert_array_equal(rows["value"], boot["value"])
    assert rows["ci_low"].isna().all() and boot["ci_low"].notna().all()
    top = boot[boot["layer"] == 0].iloc[0]
    assert top["ci_low"] <= top["value"] <= top["ci_high"] and top["ci_low"] > 0.5
    assert "pos/oracle" in arrays and list(arrays["pos/names"]) == ["l0", "l1"]

    dist = distance_analysis(store, name="m", bootstrap=BOOT)
    assert dist["ci_low"].notna().all() and (dist["ci_low"] <= dist["ci_high"]).all()
    np.testing.assert_array_equal(distance_analysis(store, name="m")["value"], dist["value"])

    dec = decoding_analysis(store, name="m", labels=["pos"], shuffle_seeds=[0, 1], bootstrap=BOOT)
    own = dec[dec["variant"].isin(["knn", "ridge"]) & dec["metric"].isin(["r2", "mean_r2"])]
    assert own["ci_low"].notna().all()
    ramp = own[(own["layer"] == 0) & (own["metric"] == "r2")]
    assert ((ramp["ci_low"] <= ramp["value"]) & (ramp["value"] <= ramp["ci_high"])).all()
    shuffled = dec[dec["variant"] == "knn_shuffled"]  # ci = range over the two shuffle seeds
    plain = decoding_analysis(store, name="m", labels=["pos"], shuffle_seeds=[0, 1])
    np.testing.assert_array_equal(
        shuffled["ci_low"], plain[plain["variant"] == "knn_shuffled"]["ci_low"]
    )
    assert dec[dec["metric"] == "k"]["ci_low"].isna().all()


def _toy_store(layers, n):
    train = np.arange(n) < n // 2
    return make_store(layers, train, {"t": (np.arange(n) % 7, "discrete")})


def test_cka_shift_null_small_for_aligned_not_for_independent_stores():
    rng = np.random.default_rng(4)
    n = 800
    base = smooth(rng, n, 4, 0.8)
    a = _toy_store([base, smooth(rng, n, 3)], n)
    aligned = _toy_store(
        [base @ rng.normal(size=(4, 4)) + 0.3 * rng.normal(size=(n, 4)), smooth(rng, n, 3)], n
    )
    indep = _toy_store([smooth(rng, n, 4, 0.8), smooth(rng, n, 3)], n)
    stores = {"A": a, "B": aligned, "C": indep}
    null = {"n_permutations": 19, "min_shift_fraction": 0.1, "seed": 0}
    rows = cka_rows_for_pairs(
        stores, [("A", "A"), ("A", "B"), ("A", "C")], kinds=["linear"], bootstrap=BOOT, null=null
    )
    cka = rows[rows["metric"] == "cka"]
    assert cka["ci_low"].notna().all() and cka["ci_high"].notna().all()
    p = rows[rows["metric"] == "p_value"].set_index(["other_model", "layer", "other_layer"])
    assert set(p.index) == {("B", 0, 0), ("B", 1, 1), ("C", 0, 0), ("C", 1, 1)}
    assert p.loc[("B", 0, 0), "value"] == pytest.approx(1 / 20)
    assert p.loc[("C", 0, 0), "value"] > 0.1
    assert set(p["n"]) == {19}
    q = rows[rows["metric"] == "null_95th"].set_index(["other_model", "layer", "other_layer"])
    strong = cka.set_index(["other_model", "layer", "other_layer"]).loc[("B", 0, 0)]
    assert strong["value"] > q.loc[("B", 0, 0), "value"]
    assert strong["ci_low"] <= strong["value"] <= strong["ci_high"]
    plain = cka_rows_for_pairs(stores, [("A", "A"), ("A", "B"), ("A", "C")], kinds=["linear"])
    np.testing.assert_array_equal(plain["value"], cka["value"])  # estimates unchanged
    every = cka_rows_for_pairs(
        stores, [("A", "B")], kinds=["linear"], null={**null, "layers": "all"}
    )
    assert (every["metric"] == "p_value").sum() == 4
