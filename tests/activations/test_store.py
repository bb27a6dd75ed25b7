"""Activation stores: streamed zarr equals in-memory extraction; contract fields; split selection."""

from __future__ import annotations

import numpy as np
import pytest

from cebra_lens_core.activations import extract as extraction
from cebra_lens_core.activations import extract_activations, write_activation_store
from cebra_lens_core.activations.store import (
    layer_names,
    open_activation_store,
    save_activations,
    select_split,
)


def test_streamed_store_round_trips(conv_model, toy, tmp_path):
    s = toy.sessions[0]
    kwargs = dict(
        labels=s.labels,
        label_info=toy.label_info,
        train=s.train,
        attrs={"model": "m", "dataset_name": "toy", "seed": 0, "config_hash": "abc"},
    )
    memory = extract_activations(conv_model, s.neural, **kwargs)
    # chunk smaller than the recording: several appends along time (patched where
    # write_activation_store reads it)
    old = extraction.ZARR_TIME_CHUNK
    extraction.ZARR_TIME_CHUNK = 256
    try:
        write_activation_store(tmp_path / "m.zarr", conv_model, s.neural, chunk_size=256, **kwargs)
    finally:
        extraction.ZARR_TIME_CHUNK = old
    disk = open_activation_store(tmp_path / "m.zarr")
    assert layer_names(disk) == [f"layer_{i:02d}" for i in range(6)]
    for v in layer_names(disk):
        np.testing.assert_allclose(disk[v].values, memory[v].values, atol=1e-5)
        assert disk[v].dtype == np.float32 and disk[v].dims == ("time", f"{v}_unit")
        assert disk[v].attrs["layer_name"] == memory[v].attrs["layer_name"]
    np.testing.assert_array_equal(disk["time"].values, np.arange(len(s.neural)))
    np.testing.assert_array_equal(disk["train"].values, s.train)
    np.testing.assert_array_equal(disk["label_side"].values, s.labels["side"])
    for key in (
        "model",
        "architecture",
        "solver",
        "output_dimension",
        "seed",
        "session_id",
        "dataset_name",
        "layer_module_paths",
        "layer_kinds",
        "cebra_version",
        "torch_version",
        "config_hash",
    ):
        assert key in disk.attrs, key
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_save_in_memory_and_split(conv_model, toy, tmp_path):
    s = toy.sessions[0]
    ds = extract_activations(conv_model, s.neural, train=s.train)
    save_activations(ds, tmp_path / "x.zarr")
    disk = open_activation_store(tmp_path / "x.zarr")
    test = select_split(disk, "test")
    assert test.sizes["time"] == int((~s.train).sum())
    np.testing.assert_array_equal(test["time"].values, np.flatnonzero(~s.train))
    assert select_split(disk, "all").sizes["time"] == len(s.neural)
    with pytest.raises(ValueError, match="split must be"):
        select_split(disk, "validation")


def test_missing_store(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.zarr"):
        open_activation_store(tmp_path / "nope.zarr")


def test_failed_extraction_leaves_no_store(conv_model, toy, tmp_path):
    with pytest.raises(ValueError):
        write_activation_store(tmp_path / "m.zarr", conv_model, toy.sessions[0].neural[:, :3])
    assert list(tmp_path.iterdir()) == []


def test_a_store_damaged_after_writing_is_named_before_any_read(conv_model, toy, tmp_path):
    import json
    import shutil

    from cebra_lens_core.activations.store import MANIFEST

    s = toy.sessions[0]
    path = tmp_path / "m.zarr"
    write_activation_store(path, conv_model, s.neural, train=s.train)
    listed = json.loads((path / MANIFEST).read_text())
    chunks = [rel for rel in listed if rel.startswith("layer_01/c")]
    assert chunks and all((path / rel).stat().st_size == listed[rel] for rel in listed)
    open_activation_store(path)  # intact
    (path / ".snakemake_timestamp").write_text("")  # what Snakemake adds is not damage
    open_activation_store(path)

    cut = tmp_path / "cut.zarr"
    shutil.copytree(path, cut)
    chunk = cut / chunks[0]
    chunk.write_bytes(chunk.read_bytes()[: chunk.stat().st_size // 2])  # a truncated chunk
    with pytest.raises(ValueError, match=rf"cut.zarr is damaged: {chunks[0]} has \d+ bytes"):
        open_activation_store(cut)
    gone = tmp_path / "gone.zarr"
    shutil.copytree(path, gone)
    (gone / chunks[0]).unlink()  # zarr alone would fill a missing chunk silently
    with pytest.raises(ValueError, match=rf"{chunks[0]} is missing.*Delete the store and rerun"):
        open_activation_store(gone)
    old = tmp_path / "old.zarr"
    shutil.copytree(path, old)
    (old / MANIFEST).unlink()  # stores of older versions have no manifest: not checked
    open_activation_store(old)
