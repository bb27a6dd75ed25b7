"""CEBRA registry datasets: conversion, unknown names, and a fast, clear failure offline."""

from __future__ import annotations

import socket
import time

import numpy as np
import pytest

from cebra_lens_core.data import load_dataset
from cebra_lens_core.data import registry as reg
from cebra_lens_core.data.types import DataError

RAT = "rat-hippocampus-single-achilles"
RAT_LABELS = {
    "position": {"columns": [0], "kind": "continuous", "unit": "m"},
    "direction": {"columns": [1], "kind": "discrete"},
}


@pytest.fixture(scope="module")
def cebra_datasets():
    """Import cebra.datasets once (it takes a few seconds)."""
    return reg._import_cebra_datasets()


@pytest.fixture
def empty_datadir(tmp_path, monkeypatch):
    monkeypatch.setenv("CEBRA_DATADIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def silent_server():
    """A local TCP server that accepts connections but never answers (a black-holed network)."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    yield f"http://127.0.0.1:{server.getsockname()[1]}/achilles.jl.gz"
    server.close()


def test_demo_dataset_with_labels_from_both_indices(cebra_datasets):
    spec = {
        "source": "registry",
        "name": "demo-mixed",
        "labels": {
            "speed": {"columns": [2], "unit": "m/s"},
            "trial_type": {"index": "discrete", "kind": "discrete"},
        },
        "bin_width_s": 0.01,
    }
    ds = load_dataset("demo", spec)
    original = cebra_datasets.init("demo-mixed")  # the demo data are random: compare shapes only
    session = ds.sessions[0]
    assert session.neural.dtype == np.float32
    assert session.neural.shape == tuple(original.neural.shape)
    assert session.labels["speed"].dtype == np.float64
    assert session.labels["trial_type"].dtype == np.int64
    assert ds.label_info["speed"].unit == "m/s"
    assert ds.label_info["trial_type"].kind == "discrete"
    assert ds.bin_width_s == 0.01
    assert ds.metadata["registry_name"] == "demo-mixed"
    assert session.train.sum() == 800


def test_conversion_is_exact(cebra_datasets, monkeypatch):
    original = cebra_datasets.init("demo-mixed")
    monkeypatch.setattr(reg, "init_registry_dataset", lambda name: original)
    ds = reg.load_registry(
        "demo", "demo-mixed", {"c1": {"columns": [1]}, "d": {"index": "discrete"}}
    )
    np.testing.assert_array_equal(ds.sessions[0].neural, original.neural.numpy())
    np.testing.assert_array_equal(ds.sessions[0].labels["c1"], original.continuous_index[:, 1])
    np.testing.assert_array_equal(ds.sessions[0].labels["d"], original.discrete_index)
    assert ds.label_info["d"].kind == "discrete"  # default kind of the discrete index


def test_default_labels_and_multi_session(cebra_datasets):
    ds = load_dataset("multi", {"source": "registry", "name": "demo-continuous-multisession"})
    assert ds.n_sessions == 3
    assert len({s.n_neurons for s in ds.sessions}) == 3  # different neuron counts
    assert all(name.startswith("continuous_") for name in ds.label_names)


def test_bad_label_specs(cebra_datasets):
    with pytest.raises(DataError, match="index has 3 columns"):
        load_dataset("d", {"source": "registry", "name": "demo-mixed", "labels": {"c": {}}})
    with pytest.raises(DataError, match="0 … 2"):
        load_dataset(
            "d", {"source": "registry", "name": "demo-mixed", "labels": {"c": {"columns": [5]}}}
        )
    with pytest.raises(DataError, match="no continuous index"):
        load_dataset(
            "d",
            {
                "source": "registry",
                "name": "demo-discrete",
                "labels": {"c": {"index": "continuous"}},
            },
        )
    with pytest.raises(DataError, match="did you mean 'columns'"):
        load_dataset(
            "d", {"source": "registry", "name": "demo-mixed", "labels": {"c": {"column": [0]}}}
        )


def test_unknown_name_lists_close_matches(cebra_datasets):
    with pytest.raises(DataError) as info:
        load_dataset("rat", {"source": "registry", "name": "rat-hipocampus-single-achiles"})
    text = str(info.value)
    assert "not a CEBRA registry dataset" in text
    assert "'rat-hippocampus-single-achilles'" in text
    with pytest.raises(DataError, match="registry name"):
        load_dataset("rat", {"source": "registry"})


def test_offline_fails_fast_with_a_clear_message(cebra_datasets, empty_datadir):
    start = time.perf_counter()
    with pytest.raises(DataError) as info:
        load_dataset("rat", {"source": "registry", "name": RAT, "labels": RAT_LABELS})
    elapsed = time.perf_counter() - start
    text = str(info.value)
    assert elapsed < 10.0
    assert RAT in text and "could not load or download" in text
    assert str(empty_datadir) in text and "CEBRA_DATADIR" in text
    assert "source: files" in text
    assert list(empty_datadir.iterdir()) in ([], [empty_datadir / "rat_hippocampus"])


def test_download_that_never_answers_times_out(cebra_datasets, empty_datadir, silent_server):
    import cebra.datasets.hippocampus as hippocampus

    urls = hippocampus.rat_dataset_urls["achilles"]
    original = dict(urls)
    urls["url"] = silent_server
    try:
        reg.DOWNLOAD_TIMEOUT_S, saved = (1.0, 1.0), reg.DOWNLOAD_TIMEOUT_S
        start = time.perf_counter()
        with pytest.raises(DataError, match="could not load or download") as info:
            reg.load_registry("rat", RAT, RAT_LABELS)
        assert time.perf_counter() - start < 10.0
        assert "Timeout" in str(info.value)
    finally:
        reg.DOWNLOAD_TIMEOUT_S = saved
        urls.update(original)


def test_downloader_is_restored_after_the_timeout_context(cebra_datasets):
    import cebra.data.assets as assets

    before = assets.requests
    with reg.download_timeout((2.0, 3.0)):
        assert assets.requests is not before
        assert assets.requests.get.keywords == {"timeout": (2.0, 3.0)}
        assert assets.requests.HTTPError is before.HTTPError
    assert assets.requests is before


def test_files_present_in_the_data_directory_are_used(cebra_datasets, empty_datadir):
    import cebra.data.assets as assets
    import cebra.datasets.hippocampus as hippocampus
    import joblib

    folder = empty_datadir / "rat_hippocampus"
    folder.mkdir()
    rng = np.random.default_rng(0)
    spikes = rng.poisson(1.0, (200, 7)).astype(np.float32)
    right = rng.integers(0, 2, 200)
    position = np.stack([rng.uniform(0, 1.6, 200), right, 1 - right], axis=1).astype(np.float32)
    joblib.dump({"spikes": spikes, "position": position}, folder / "achilles.jl")
    # a stand-in file with its own checksum: CEBRA finds it under CEBRA_DATADIR, no download
    urls = hippocampus.rat_dataset_urls["achilles"]
    original = dict(urls)
    urls["checksum"] = assets.calculate_checksum(folder / "achilles.jl")
    try:
        ds = reg.load_registry("rat", RAT, RAT_LABELS, bin_width_s=0.025)
    finally:
        urls.update(original)
    session = ds.sessions[0]
    np.testing.assert_array_equal(session.neural, spikes)
    np.testing.assert_array_equal(session.labels["position"], position[:, 0].astype(np.float64))
    np.testing.assert_array_equal(session.labels["direction"], right)
    assert ds.label_info["position"].unit == "m"
    assert ds.metadata["data_directory"] == str(empty_datadir)
