"""Every output type carries a provenance record (versions, config hash) that reads back."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest

from cebra_lens_core import provenance
from cebra_lens_core.results import load_arrays, make_rows, read_rows, save_arrays, write_rows


@pytest.fixture
def job_record():
    record = provenance.make_record(
        config={"a": 1, "_private": object()}, params={"k": 3}, rule="r"
    )
    provenance.set_job_record(record)
    yield record
    provenance.set_job_record(None)


def test_record_has_versions_and_hashes(job_record):
    for key in ("cebra_lens_core", "cebra", "torch", "numpy", "python", "config_hash"):
        assert job_record[key], key
    assert job_record["rule"] == "r"
    # private (derived) config keys do not enter the hash; any real change does
    assert job_record["config_hash"] == provenance.make_record(config={"a": 1})["config_hash"]
    assert job_record["config_hash"] != provenance.make_record(config={"a": 2})["config_hash"]
    assert job_record["params_hash"] != provenance.make_record(params={"k": 4})["params_hash"]


def test_without_a_job_the_record_is_the_versions():
    provenance.set_job_record(None)
    assert provenance.current_record() == provenance.software_versions()


def test_csv_sidecar(tmp_path, job_record):
    path = tmp_path / "rows.csv"
    write_rows(make_rows([{"analysis": "x", "value": 1.0}]), path)
    assert read_rows(path)["value"].tolist() == [1.0]
    recorded = provenance.read_provenance(path)
    assert {k: v for k, v in recorded.items() if k not in ("rows", "sha256")} == job_record
    assert recorded["rows"] == "1" and len(recorded["sha256"]) == 64  # for damage checks
    assert json.loads((tmp_path / "rows.csv.provenance.json").read_text()) == recorded


def test_npz_entry_hidden_from_arrays(tmp_path, job_record):
    path = tmp_path / "a.npz"
    save_arrays({"x": np.arange(3)}, path)
    assert set(load_arrays(path)) == {"x"}
    assert provenance.read_provenance(path) == job_record
    with pytest.raises(ValueError, match="reserved"):
        save_arrays({"provenance": np.zeros(1)}, tmp_path / "b.npz")


def test_png_text_chunks_and_byte_identical_rerun(tmp_path, job_record):
    import matplotlib.pyplot as plt

    from cebra_lens_core.plots.common import save_figure

    paths = []
    for name in ("a.png", "b.png"):
        fig, ax = plt.subplots()
        ax.plot([0, 1], [1, 0])
        paths.append(save_figure(fig, tmp_path / name))
    assert provenance.read_provenance(paths[0]) == job_record
    assert paths[0].read_bytes() == paths[1].read_bytes()


def test_dataset_and_store_records(tmp_path, job_record, toy, mlp_model):
    from cebra_lens_core.activations import write_activation_store
    from cebra_lens_core.data import read_dataset, save_dataset

    save_dataset(toy, tmp_path / "d.npz")
    assert provenance.read_provenance(tmp_path / "d.npz") == job_record
    assert read_dataset(tmp_path / "d.npz").name == toy.name
    session = toy.sessions[0]
    write_activation_store(tmp_path / "s.zarr", mlp_model, session.neural)
    assert provenance.read_provenance(tmp_path / "s.zarr") == job_record


def test_missing_record_is_reported(tmp_path):
    (tmp_path / "plain.csv").write_text("a\n1\n")
    with pytest.raises(FileNotFoundError, match="no provenance sidecar"):
        provenance.read_provenance(tmp_path / "plain.csv")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        provenance.read_provenance(tmp_path / "absent.csv")


def test_setup_job_sets_the_record(tmp_path):

    from cebra_lens_core.pipeline.job import job_params, setup_job

    params = SimpleNamespace(items=lambda: iter([("k", 3)]))
    job = SimpleNamespace(
        threads=1, log=[str(tmp_path / "x.log")], rule="cka", config={"a": 1}, params=params
    )
    assert job_params(job) == {"k": 3}
    setup_job(job)
    try:
        record = provenance.current_record()
        assert record["rule"] == "cka"
        assert record["params_hash"] == provenance.hash_settings({"k": 3})
        assert record["config_hash"] == provenance.hash_settings({"a": 1})
    finally:
        provenance.set_job_record(None)
