"""Layer analyses streamed from a zarr store on disk equal the same analyses in memory."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cebra_lens_core.activations.store import open_activation_store
from cebra_lens_core.analyses.decoding import decoding_analysis
from cebra_lens_core.analyses.dimensionality import dimensionality_analysis
from cebra_lens_core.analyses.distance import distance_analysis
from cebra_lens_core.analyses.rdm import rdm_analysis
from tests.analyses.stores import make_store

T = 900


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    rng = np.random.default_rng(0)
    pos = np.cumsum(rng.normal(size=T)) / 10
    side = (pos > np.median(pos)).astype(np.int64)
    frame = np.arange(T) % 30
    rep = np.arange(T) // 30 % 3
    layers = [
        (np.column_stack([np.sin(pos), np.cos(pos)]) @ rng.normal(size=(2, 5)))
        + 0.1 * rng.normal(size=(T, 5)),
        rng.normal(size=(T, 3)) + side[:, None],
    ]
    layers = [a.astype(np.float32) for a in layers]
    train = np.ones(T, dtype=bool)
    train[600:750] = False  # a test block in the middle: the train rows are not contiguous
    labels = {
        "pos": (pos, "continuous"),
        "side": (side, "discrete"),
        "frame": (frame, "discrete"),
        "rep": (rep, "discrete"),
    }
    memory = make_store(layers, train, labels)
    path = tmp_path_factory.mktemp("stores") / "m.zarr"
    encoding = {v: {"chunks": (64, memory[v].shape[1])} for v in memory.data_vars}
    memory.to_zarr(path, zarr_format=3, consolidated=False, encoding=encoding)
    return memory, open_activation_store(path)


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert len(a) == len(b) and len(a) > 0
    keys = [c for c in a.columns if c not in ("value", "ci_low", "ci_high")]
    pd.testing.assert_frame_equal(a[keys].reset_index(drop=True), b[keys].reset_index(drop=True))
    np.testing.assert_allclose(a["value"].to_numpy(float), b["value"].to_numpy(float), rtol=1e-10)


def test_rdm_streamed_from_disk(stores):
    memory, disk = stores
    rows_m, arrays_m = rdm_analysis(memory, name="m", labels=["pos", "side"])
    rows_d, arrays_d = rdm_analysis(disk, name="m", labels=["pos", "side"], chunk_size=100)
    _same(rows_m, rows_d)
    for key, value in arrays_m.items():
        if value.dtype.kind == "U":  # layer names
            np.testing.assert_array_equal(arrays_d[key], value)
            continue
        np.testing.assert_allclose(arrays_d[key], value, rtol=1e-10, atol=1e-12)


def test_distances_streamed_from_disk(stores):
    memory, disk = stores
    kw = dict(name="m", labels=["side", "frame"], repeat_label="rep", split="all")
    _same(distance_analysis(memory, **kw), distance_analysis(disk, chunk_size=100, **kw))


def test_decoding_streamed_from_disk(stores):
    memory, disk = stores
    kw = dict(name="m", labels=["pos", "side"], shuffle_seeds=(0, 1))
    _same(decoding_analysis(memory, **kw), decoding_analysis(disk, chunk_size=100, **kw))
    # the kNN cap: a seeded subsample of the training rows, the same from disk and memory
    kw.update(decoders=["knn"], knn_max_samples=200, knn_seed=3)
    capped = decoding_analysis(disk, chunk_size=100, **kw)
    _same(decoding_analysis(memory, **kw), capped)
    assert not capped.equals(decoding_analysis(disk, **{**kw, "knn_seed": 4}))


def test_dimensionality_streamed_from_disk(stores):
    memory, disk = stores
    _same(dimensionality_analysis(memory, name="m"), dimensionality_analysis(disk, name="m"))


def test_single_units_streamed_from_disk(stores):
    from cebra_lens_core.analyses.single_unit import single_unit_analysis, tuning_curves

    memory, disk = stores
    kw = dict(name="m", labels=["pos", "side"], max_timepoints=50)
    rows_m, arrays_m = single_unit_analysis(memory, **kw)
    rows_d, arrays_d = single_unit_analysis(disk, chunk_size=100, **kw)
    _same(rows_m, rows_d)
    assert set(arrays_m) == set(arrays_d)
    for key, value in arrays_m.items():
        np.testing.assert_allclose(arrays_d[key], value, rtol=1e-10, atol=1e-12)
    # and η² equals the in-memory formula on the split
    test = ~memory["train"].values
    x = memory["layer_00"].values[test].astype(np.float64)
    codes = memory["label_side"].values[test]
    np.testing.assert_allclose(
        arrays_d["eta2/side/layer_00"], tuning_curves(x, [codes])[0][1], rtol=1e-10
    )
