"""Streamed metrics (chunked reads of lazy layers) against their in-memory versions, to 1e-10."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from cebra_lens_core.metrics.conditions import condition_means
from cebra_lens_core.metrics.decoding import decode, knn_subsample
from cebra_lens_core.metrics.distance import class_distances
from cebra_lens_core.metrics.streaming import (
    MomentAccumulator,
    chunk_rows,
    group_sums,
    iter_chunks,
    merge_moments,
    take_rows,
)
from tests.metrics.test_distance import brute_class_distances

RTOL, ATOL = 1e-10, 1e-12


@pytest.fixture(scope="module")
def layer(tmp_path_factory):
    """A (T, d) float32 layer in memory and the same layer lazily from a zarr store on disk."""
    rng = np.random.default_rng(0)
    T, d = 1500, 6
    latent = np.cumsum(rng.normal(size=(T, 2)), axis=0) / 10
    x = (np.tanh(latent @ rng.normal(size=(2, d))) + 0.2 * rng.normal(size=(T, d)) + 2.0).astype(
        np.float32
    )
    path = tmp_path_factory.mktemp("stream") / "layer.zarr"
    ds = xr.Dataset({"layer_00": (("time", "layer_00_unit"), x)})
    ds.to_zarr(path, zarr_format=3, consolidated=False, encoding={"layer_00": {"chunks": (128, d)}})
    lazy = xr.open_zarr(path, consolidated=False)["layer_00"]
    codes = np.digitize(latent[:, 0], np.quantile(latent[:, 0], [0.2, 0.4, 0.6, 0.8]))
    repeats = (np.arange(T) // 100) % 4
    return x, lazy, codes, repeats, latent


def _close(a, b):
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=RTOL, atol=ATOL)


# --------------------------------------------------------------------------- helpers


def test_iter_chunks_cover_the_rows_aligned_to_storage(layer):
    x, lazy, *_ = layer
    assert chunk_rows(lazy, 300) == 256  # rounded down to the 128-row zarr chunk
    spans = [(lo, hi) for lo, hi, _ in iter_chunks(lazy, 300, start=100, stop=1000)]
    assert spans[0] == (100, 256) and spans[-1][1] == 1000
    assert all(hi % 256 == 0 for _, hi in spans[:-1])
    got = np.concatenate([c for _, _, c in iter_chunks(lazy, 300, start=100, stop=1000)])
    assert got.dtype == np.float64 and np.array_equal(got, x[100:1000])


def test_take_rows_and_group_sums(layer):
    x, lazy, codes, *_ = layer
    idx = np.sort(np.random.default_rng(1).choice(len(x), 200, replace=False))
    assert np.array_equal(take_rows(lazy, idx, 256), x[idx].astype(np.float64))
    sums = group_sums(x.astype(np.float64), codes, 7)
    ref = np.stack([x[codes == c].astype(np.float64).sum(axis=0) for c in range(7)])
    _close(sums, ref)
    assert not sums[5:].any()  # absent groups stay zero


def test_nan_is_reported_with_its_time_index():
    x = np.ones((50, 3))
    x[37, 1] = np.nan
    with pytest.raises(ValueError, match="X contains NaN or inf values .* time index 37"):
        list(iter_chunks(x, 10))


def test_moment_accumulator_equals_two_pass_scatter():
    rng = np.random.default_rng(2)
    w = rng.normal(size=(1000, 4)) * [1, 10, 0.1, 1] + 1e4  # large offset: no cancellation
    acc = MomentAccumulator(4)
    for lo in range(0, 1000, 137):
        acc.add(w[lo : lo + 137])
    wc = w - w.mean(axis=0)
    _close(acc.mean, w.mean(axis=0))
    np.testing.assert_allclose(acc.scatter, wc.T @ wc, rtol=1e-9)
    half = MomentAccumulator(4)
    half.add(w[:400])
    rest = MomentAccumulator(4)
    rest.add(w[400:])
    np.testing.assert_allclose(half.merged(rest).scatter, wc.T @ wc, rtol=1e-9)


# --------------------------------------------------------------------------- condition means


def test_condition_means_of_lazy_layers_and_chunks_equal_brute_force(layer):
    x, lazy, codes, repeats, _ = layer
    ids = np.unique(codes)
    ref = condition_means(x, codes, chunk_size=len(x))
    x64 = x.astype(np.float64)
    _close(ref.means, np.stack([x64[codes == c].mean(axis=0) for c in ids]))
    assert np.array_equal(ref.ids, ids)
    assert np.array_equal(ref.counts, [np.sum(codes == c) for c in ids])
    for source in (x, lazy):
        got = condition_means(source, codes, chunk_size=200)
        _close(got.means, ref.means)
        assert np.array_equal(got.ids, ref.ids) and np.array_equal(got.counts, ref.counts)
    both = condition_means(lazy, [codes, repeats], chunk_size=333)
    _close(both[1].means, condition_means(x, repeats).means)


# --------------------------------------------------------------------------- distances


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
@pytest.mark.parametrize("with_repeats", [False, True])
def test_class_distances_of_lazy_layers_and_chunks_equal_one_in_memory_pass(
    layer, metric, with_repeats
):
    x, lazy, codes, repeats, _ = layer
    reps = repeats if with_repeats else None
    ref = class_distances(x, codes, repeats=reps, metric=metric, chunk_size=len(x))
    brute = brute_class_distances(x.astype(np.float64), codes, reps, metric)
    for key, value in brute.items():
        np.testing.assert_allclose(ref[key], value, rtol=1e-9)
    for source, chunk in ((x, 97), (lazy, 256), (lazy, 10**6)):
        got = class_distances(source, codes, repeats=reps, metric=metric, chunk_size=chunk)
        assert set(got) == set(ref)
        for key, value in ref.items():
            if isinstance(value, str):
                assert got[key] == value
            else:
                _close(got[key], value)


def test_class_distances_several_metrics_and_constant_unit():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(400, 5))
    x[:, 3] = 4.0  # constant unit: dropped by z-scoring
    codes = rng.integers(0, 4, 400)
    got = class_distances(x, codes, metric=["cosine", "euclidean"], chunk_size=64)
    assert set(got) == {"cosine", "euclidean"}
    assert got["euclidean"]["n_constant_units"] == 1
    for metric in ("cosine", "euclidean"):
        ref = class_distances(x, codes, metric=metric, chunk_size=len(x))
        for key in ("intra_class", "inter_class", "intra_class_per_condition"):
            _close(got[metric][key], ref[key])


def test_class_distances_chunked_errors():
    x = np.ones((20, 3))
    x[[5, 9]] = 0.0
    codes = np.arange(20) % 2
    with pytest.raises(ValueError, match=r"2 samples have an all-zero .*first: index 5"):
        class_distances(x, codes, chunk_size=4)
    with pytest.raises(ValueError, match="at least 2 conditions"):
        class_distances(x, np.zeros(20, int), metric="euclidean")
    with pytest.raises(ValueError, match="unknown distance metric"):
        class_distances(x, codes, metric="manhattan")


# --------------------------------------------------------------------------- decoding


def _compare(streamed, reference):
    assert streamed.param == reference.param
    _close(streamed.validation_scores, reference.validation_scores)
    if reference.kind == "continuous":
        _close(streamed.predictions, reference.predictions)
        _close(streamed.r2, reference.r2)
        _close(streamed.median_abs_error, reference.median_abs_error)
    else:
        assert np.array_equal(streamed.predictions, reference.predictions)
        assert streamed.accuracy == reference.accuracy
    assert streamed.n_reference == reference.n_reference
    assert (streamed.shuffle, streamed.seed) == (reference.shuffle, reference.seed)


@pytest.mark.parametrize("decoder", ["ridge", "knn"])
@pytest.mark.parametrize("target", ["continuous", "binary", "three_classes"])
def test_decode_of_lazy_layers_equals_decode_in_memory(layer, decoder, target):
    x, lazy, codes, _, latent = layer
    y = {
        "continuous": latent,
        "binary": (codes >= 1).astype(np.int64),  # both classes in train and test
        "three_classes": np.minimum(codes, 2),
    }[target]
    kind = "continuous" if target == "continuous" else "discrete"
    n_train = 1200
    x_train, x_test = lazy.isel(time=slice(0, n_train)), lazy.isel(time=slice(n_train, None))
    result = decode(
        x_train,
        y[:n_train],
        x_test,
        y[n_train:],
        decoder,
        kind=kind,
        shuffle_seeds=(0, 5),
        chunk_size=256,
    )
    controls = result.controls
    assert len(controls) == 2
    expected = [(False, 0), (True, 0), (True, 5)]
    for res, (shuffle, seed) in zip([result, *controls], expected, strict=True):
        ref = decode(
            x[:n_train],
            y[:n_train],
            x[n_train:],
            y[n_train:],
            decoder,
            kind=kind,
            shuffle_labels=shuffle,
            seed=seed,
        )
        _compare(res, ref)


def test_knn_cap_subsamples_reproducibly(layer):
    x, lazy, _, _, latent = layer
    rows = knn_subsample(1200, 300, seed=4)  # 60 rows from each of the 5 blocked folds
    assert len(rows) == 300 and np.array_equal(np.sort(rows), rows) and rows.max() < 1200
    assert all(np.sum((rows >= lo) & (rows < lo + 240)) == 60 for lo in range(0, 1200, 240))
    assert np.array_equal(knn_subsample(1200, 300, seed=4), rows)
    assert not np.array_equal(knn_subsample(1200, 300, seed=5), rows)
    a = decode(lazy[:1200], latent[:1200], lazy[1200:], latent[1200:], "knn", knn_max_samples=300)
    b = decode(x[:1200], latent[:1200], x[1200:], latent[1200:], "knn", knn_max_samples=300)
    _compare(a, b)
    assert a.n_reference == 300 and a.n_train == 1200
    uncapped = decode(x[:1200], latent[:1200], x[1200:], latent[1200:], "knn")
    assert uncapped.n_reference == 1200
    with pytest.raises(ValueError, match="knn_max_samples"):
        decode(x[:1200], latent[:1200], x[1200:], latent[1200:], "knn", knn_max_samples=1)


def test_ridge_streamed_with_constant_unit_and_offsets():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(900, 4)) * [1, 1e3, 1e-2, 1] + [0, 1e5, 0, 0]
    x[:, 3] = 7.0
    y = x[:, 0] + x[:, 1] / 1e3 + 0.1 * rng.normal(size=900)
    res = decode(x[:700], y[:700], x[700:], y[700:], "ridge", chunk_size=50)
    ref = decode(x[:700], y[:700], x[700:], y[700:], "ridge")
    assert res.param == ref.param
    np.testing.assert_allclose(res.predictions, ref.predictions, rtol=1e-9, atol=1e-9)


def test_merge_moments_equals_one_pass_over_all_rows():
    rng = np.random.default_rng(8)
    w = rng.normal(size=(300, 4)) * [1, 10, 0.1, 5] + [0, 1e4, 0, 3]
    parts = []
    for rows in np.array_split(w, 5):
        acc = MomentAccumulator(4)
        acc.add(rows)
        parts.append(acc)
    total = merge_moments(parts, 4)
    assert total.n == 300
    _close(total.mean, w.mean(axis=0))
    centred = w - w.mean(axis=0)
    np.testing.assert_allclose(total.scatter, centred.T @ centred, rtol=1e-10)
    assert merge_moments([], 4).n == 0
