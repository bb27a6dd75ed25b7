"""Intervals, nulls and noise ceilings of the store-level analyses (analyses.uncertainty)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import lfilter

from cebra_lens_core.analyses.cka import cka_rows_for_pairs
from cebra_lens_core.analyses.decoding import decoding_analysis
from cebra_lens_core.analyses.distance import distance_analysis
from cebra_lens_core.analyses.rdm import rdm_analysis
from cebra_lens_core.analyses.uncertainty import (
    BootstrapOptions,
    NullOptions,
    corresponding_layers,
    decoding_bootstrap,
    distance_bootstrap,
    rdm_noise_ceiling_rows,
    rdm_oracle_bootstrap,
    resolve_block_length,
    rsa_null_rows,
)
from cebra_lens_core.metrics.conditions import condition_means
from cebra_lens_core.metrics.distance import class_distances
from cebra_lens_core.metrics.rdm import compare_rdms, oracle_rdm, rdm_from_means
from cebra_lens_core.stats import block_rows, nonoverlapping_block_draws
from tests.analyses.stores import make_store


def smooth(rng, n, d, phi=0.9):
    return lfilter([1.0], [1.0, -phi], rng.normal(size=(n + 100, d)), axis=0)[100:]


def test_options_block_length_and_cap():
    assert resolve_block_length(0.025, 2.0) == 80
    assert resolve_block_length(float("nan"), 2.0) == 50  # unknown bin width: samples
    assert resolve_block_length(None, 2.0, block_samples=30) == 30
    opts = BootstrapOptions.from_config(
        {"enabled": True, "block_seconds": 2.0, "bin_width_s": 0.025, "n_resamples": 7}
    )
    assert opts.block_length == 80 and opts.n_resamples == 7
    assert opts.length_for(200) == 20  # at least min_blocks = 10 blocks
    assert opts.length_for(10_000) == 80
    assert BootstrapOptions.from_config({"enabled": False}) is None
    assert NullOptions(min_shift_fraction=0.1).min_shift(200) == 20
    with pytest.raises(ValueError, match="layers"):
        NullOptions(layers="diagonal")


def test_corresponding_layers_by_name_then_index():
    assert corresponding_layers(["a", "b", "norm"], ["a", "c", "x", "norm"]) == [(0, 0), (2, 3)]
    assert corresponding_layers(["", ""], ["", ""]) == [(0, 0), (1, 1)]
    assert corresponding_layers(["p"], ["q", "r"]) == [(0, 1)]  # embeddings always


def test_rdm_bootstrap_replicate_equals_recomputing_from_resampled_rows():
    rng = np.random.default_rng(0)
    n, n_cond = 500, 6
    codes = np.repeat(np.arange(n_cond), n // n_cond + 1)[:n]
    codes = codes[np.argsort(np.sin(np.arange(n) / 7.0), kind="stable")]  # mixed in time
    X = rng.normal(size=(n_cond, 5))[codes] + smooth(rng, n, 5)
    ids = np.arange(n_cond)
    oracle = oracle_rdm(ids, kind="ordinal")
    opts = BootstrapOptions(n_resamples=6, block_length=25, seed=3)
    (iv,) = rdm_oracle_bootstrap([X], codes, ids, oracle, opts, metric="correlation")
    edges, draws = nonoverlapping_block_draws(n, 25, 6, 3)
    for b in range(6):
        rows = block_rows(edges, draws[b])
        means, present, _ = condition_means(X[rows], codes[rows])
        D = rdm_from_means(means, "correlation")
        expected = compare_rdms(D, oracle[np.ix_(present, present)], "spearman")
        assert iv.replicates[b] == pytest.approx(expected, abs=1e-10)
    assert iv.low <= iv.high and iv.n_valid == 6


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_distance_bootstrap_replicate_equals_class_distances_on_resampled_rows(metric):
    rng = np.random.default_rng(1)
    n = 360
    codes = np.tile(np.repeat(np.arange(4), 10), 9)  # 4 conditions in 10-row runs
    repeats = np.repeat(np.arange(9), 40)
    X = 3.0 + rng.normal(size=(4, 6))[codes] + smooth(rng, n, 6, 0.5)
    opts = BootstrapOptions(n_resamples=5, block_length=30, seed=2)
    out = distance_bootstrap(X, codes, opts, repeats=repeats, metrics=[metric], chunk_size=64)
    edges, draws = nonoverlapping_block_draws(n, 30, 5, 2)
    for b in range(5):
        rows = block_rows(edges, draws[b])
        ref = class_distances(X[rows], codes[rows], repeats[rows], metric=metric)
        for q in ("inter_class", "inter_repetition"):
            assert out[metric][q].replicates[b] == pytest.approx(ref[q], rel=1e-9), (b, q)
        # intra-class: pairs of resampled rows, leaving out pairs between two copies of
        # the same block
        block_of = np.repeat(draws[b], np.diff(edges)[draws[b]])
        copy_of = np.repeat(np.arange(len(draws[b])), np.diff(edges)[draws[b]])
        if metric == "cosine":
            v = X[rows] / np.linalg.norm(X[rows], axis=1, keepdims=True)
        else:
            v = (X[rows] - X[rows].mean(axis=0)) / X[rows].std(axis=0)
        per_cond = []
        for c in np.unique(codes[rows]):
            idx = np.flatnonzero(codes[rows] == c)
            same_block = block_of[idx][:, None] == block_of[idx][None, :]
            same_copy = copy_of[idx][:, None] == copy_of[idx][None, :]
            valid = (~same_block | same_copy) & ~np.eye(len(idx), dtype=bool)
            if metric == "cosine":
                d = 1.0 - v[idx] @ v[idx].T
            else:
                d = ((v[idx][:, None, :] - v[idx][None, :, :]) ** 2).sum(axis=2)
            per_cond.append(d[valid].mean() if metric == "cosine" else np.sqrt(d[valid].mean()))
        intra = out[metric]["intra_class"].replicates[b]
        assert intra == pytest.approx(np.mean(per_cond), rel=1e-9)
        assert intra >= ref["intra_class"]  # near-duplicate pairs left out
    whole = class_distances(X, codes, repeats, metric=metric)["intra_class"]
    iv = out[metric]["intra_class"]
    assert iv.low < whole * 1.1 and iv.high > whole * 0.9  # centred near the estimate


def test_decoding_interval_contains_estimate_and_shrinks_with_more_data():
    rng = np.random.default_rng(2)
    widths = []
    for n in (400, 3200):
        y = smooth(rng, n, 1, 0.95)[:, 0]
        pred = y + 0.5 * y.std() * smooth(rng, n, 1, 0.5)[:, 0] / 2.3
        est = 1 - np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2)
        opts = BootstrapOptions(n_resamples=200, block_length=20, seed=0)
        iv = decoding_bootstrap(y, pred, ["y"], opts, discrete=False)
        r2 = iv[("r2", "y")]
        assert 0.5 < est < 0.99
        assert r2.low < est < r2.high
        widths.append(r2.high - r2.low)
        assert set(iv) == {("r2", "y"), ("mean_r2", "y"), ("median_abs_error", "y")}
    assert widths[1] < 0.7 * widths[0]
    acc = decoding_bootstrap(
        np.array([0, 1] * 50), np.array([0, 1] * 50), ["c"], opts, discrete=True
    )
    assert acc[("accuracy", "c")].low == acc[("accuracy", "c")].high == 1.0


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


def _rdm_arrays(rdms, label="pos", ids=None):
    ids = np.arange(rdms[0].shape[0]) if ids is None else ids
    out = {f"{label}/ids": ids, f"{label}/oracle": oracle_rdm(ids, kind="ordinal")}
    out.update({f"{label}/layer_{i:02d}": d for i, d in enumerate(rdms)})
    return out


def test_noise_ceiling_one_for_identical_seeds_and_lower_for_noisy_ones():
    rng = np.random.default_rng(5)
    means = rng.normal(size=(8, 10))
    d = rdm_from_means(means, "euclidean")
    same = {"g_seed0": _rdm_arrays([d, d]), "g_seed1": _rdm_arrays([d, d])}
    rows = rdm_noise_ceiling_rows(
        same, {"g": ["g_seed0", "g_seed1"]}, comparator="spearman", metric_name="euclidean"
    )
    assert set(rows["metric"]) == {"noise_ceiling_low", "noise_ceiling_high"}
    assert np.allclose(rows["value"], 1.0) and set(rows["n"]) == {2}
    assert set(rows["variant"]) == {"euclidean/spearman"} and set(rows["model"]) == {"g"}
    noisy = {
        f"g_seed{s}": _rdm_arrays(
            [rdm_from_means(means + rng.normal(size=means.shape), "euclidean")]
        )
        for s in range(3)
    }
    rows = rdm_noise_ceiling_rows(
        noisy, {"g": list(noisy)}, comparator="spearman", metric_name="euclidean"
    ).set_index("metric")["value"]
    assert rows["noise_ceiling_low"] < rows["noise_ceiling_high"] < 1.0


def test_rsa_permutation_null_rows():
    rng = np.random.default_rng(6)
    d = rdm_from_means(rng.normal(size=(9, 12)), "euclidean")
    other = rdm_from_means(rng.normal(size=(9, 12)), "euclidean")
    rdms = {"A": _rdm_arrays([d]), "B": _rdm_arrays([d + 0.01]), "C": _rdm_arrays([other])}
    rows = rsa_null_rows(rdms, label="pos", comparator="spearman", null=NullOptions(49))
    p = rows[rows["metric"] == "p_value"].set_index(["model", "other_model"])["value"]
    assert p[("A", "B")] == pytest.approx(1 / 50)
    assert p[("A", "C")] > 0.05
    assert set(rows["variant"]) == {"spearman"} and set(rows["n"]) == {49}
