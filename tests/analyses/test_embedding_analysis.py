"""embedding_analysis: seeded subsample in time order, deterministic t-SNE, KL row."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from cebra_lens_core.analyses.embedding import embedding_analysis, sample_rows

T, N_TRAIN = 200, 80


@pytest.fixture(scope="module")
def store():
    rng = np.random.default_rng(0)
    pos = rng.uniform(0, 1, T)
    layers = [
        rng.normal(size=(T, 6)),
        np.column_stack([np.cos(6 * pos), np.sin(6 * pos), pos, pos]),
    ]
    data = {
        f"layer_{i:02d}": (("time", f"layer_{i:02d}_unit"), a, {"layer_name": f"l{i}"})
        for i, a in enumerate(layers)
    }
    coords = {
        "time": np.arange(T) + 1000,
        "train": ("time", np.arange(T) < N_TRAIN),
        "label_pos": ("time", pos, {"kind": "continuous", "unit": "m", "categories": []}),
        "label_side": (
            "time",
            (pos > 0.5).astype(np.int64),
            {"kind": "discrete", "unit": "", "categories": ["left", "right"]},
        ),
    }
    return xr.Dataset(data, coords=coords, attrs={"dataset_name": "toy"})


def test_sample_rows():
    np.testing.assert_array_equal(sample_rows(5, 10, 0), np.arange(5))
    idx = sample_rows(100, 30, 1)
    assert len(idx) == 30 and len(np.unique(idx)) == 30
    assert (np.diff(idx) > 0).all() and idx.min() >= 0 and idx.max() < 100
    np.testing.assert_array_equal(idx, sample_rows(100, 30, 1))
    assert not np.array_equal(idx, sample_rows(100, 30, 2))


def test_subsample_cap_time_order_and_arrays(store):
    rows, arrays = embedding_analysis(store, name="m", max_samples=40, perplexity=10)
    t = arrays["time"]
    assert len(t) == 40 and (np.diff(t) > 0).all()
    test_times = store["time"].values[N_TRAIN:]
    assert np.isin(t, test_times).all()  # default split: test
    sel = store.sel(time=t)
    np.testing.assert_array_equal(arrays["embedding"], sel["layer_01"].values[:, :3])
    np.testing.assert_array_equal(arrays["label/pos"], sel["label_pos"].values)
    np.testing.assert_array_equal(arrays["label/side"], sel["label_side"].values)
    assert arrays["tsne"].shape == (40, 3) and np.isfinite(arrays["tsne"]).all()
    assert int(arrays["tsne_layer"]) == 1  # -1 = last layer
    assert len(rows) == 1
    row = rows.iloc[0]
    assert row["metric"] == "tsne_kl_divergence" and row["variant"] == "tsne3d"
    assert row["analysis"] == "embedding" and row["model"] == "m" and row["dataset"] == "toy"
    assert row["layer"] == 1 and row["layer_name"] == "l1" and row["n"] == 40
    assert np.isfinite(row["value"]) and row["value"] >= 0


def test_deterministic_for_a_seed(store):
    kw = dict(name="m", tsne_layer=0, max_samples=30, perplexity=8, seed=3)
    rows1, a1 = embedding_analysis(store, **kw)
    rows2, a2 = embedding_analysis(store, **kw)
    assert a1.keys() == a2.keys()
    for key in a1:
        np.testing.assert_array_equal(a1[key], a2[key])
    assert rows1.equals(rows2)
    assert int(a1["tsne_layer"]) == 0 and rows1["layer"].tolist() == [0]
    # another seed draws other time points
    _, a3 = embedding_analysis(store, **{**kw, "seed": 4})
    assert not np.array_equal(a1["time"], a3["time"])


def test_small_split_keeps_all_rows(store):
    rows, arrays = embedding_analysis(
        store, name="m", split="train", max_samples=500, perplexity=10
    )
    np.testing.assert_array_equal(arrays["time"], store["time"].values[:N_TRAIN])
    assert rows["n"].tolist() == [N_TRAIN]


def test_tsne_layer_out_of_range_refused(store):
    # a silent wrap-around (5 % 2 == 1) would plot a layer nobody asked for
    with pytest.raises(ValueError, match=r"tsne_layer=5 is out of range.*2 layers"):
        embedding_analysis(store, name="m", tsne_layer=5)
    with pytest.raises(ValueError, match="out of range"):
        embedding_analysis(store, name="m", tsne_layer=-3)
    _, arrays = embedding_analysis(store, name="m", tsne_layer=-2, max_samples=20, perplexity=5)
    assert int(arrays["tsne_layer"]) == 0


@pytest.mark.parametrize("units", [1, 2])
def test_layers_with_fewer_units_than_tsne_dimensions(store, units):
    """An embedding of output dimension 1 or 2 (PCA can not initialise a 3-D t-SNE of it)."""
    narrow = store.isel(layer_01_unit=slice(0, units))
    kw = dict(name="m", max_samples=60, perplexity=10, seed=3)
    rows, arrays = embedding_analysis(narrow, **kw)
    assert arrays["tsne"].shape == (60, 3) and np.isfinite(arrays["tsne"]).all()
    assert arrays["embedding"].shape == (60, units)
    assert np.isfinite(rows["value"]).all()
    np.testing.assert_array_equal(arrays["tsne"], embedding_analysis(narrow, **kw)[1]["tsne"])
