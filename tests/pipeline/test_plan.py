"""Planning of stores and CKA pairs from a config (multi-session naming, explicit pairs)."""

from __future__ import annotations

import pytest

from cebra_lens_core.pipeline.config import ModelEntry
from cebra_lens_core.pipeline.plan import (
    plan_cka_pairs,
    plan_heatmap_pairs,
    plan_stores,
)


def _cfg(pairs="all"):
    models = [
        ModelEntry("a", "a", "one", 0, None),
        ModelEntry("b", "b", "one", 0, None),
        ModelEntry("m", "m", "two", 0, None),
        ModelEntry("n", "n", "two", 0, None),
    ]
    datasets = {
        "one": {"source": "hippocampus", "params": {}},
        "two": {"source": "lorenz", "params": {"n_sessions": 2}},
    }
    return {"_models": models, "datasets": datasets, "cka": {"pairs": pairs}}


def test_stores_and_all_pairs():
    cfg = _cfg()
    stores = plan_stores(cfg)
    assert stores == {
        "a": ("a", None),
        "b": ("b", None),
        "m_session0": ("m", 0),
        "m_session1": ("m", 1),
        "n_session0": ("n", 0),
        "n_session1": ("n", 1),
    }
    assert plan_cka_pairs(cfg, stores) == [
        ("a", "a"),
        ("a", "b"),
        ("b", "b"),
        ("m_session0", "m_session0"),
        ("m_session0", "n_session0"),
        ("m_session1", "m_session1"),
        ("m_session1", "n_session1"),
        ("n_session0", "n_session0"),
        ("n_session1", "n_session1"),
    ]


def test_heatmaps_only_up_to_max_heatmaps_pairs():
    pairs = plan_cka_pairs(_cfg(), plan_stores(_cfg()))  # 9 pairs
    assert plan_heatmap_pairs(pairs, 9) == pairs
    assert plan_heatmap_pairs(pairs, 8) == []
    assert plan_heatmap_pairs(pairs, 0) == []
    with pytest.raises(ValueError, match="max_heatmaps must be >= 0"):
        plan_heatmap_pairs(pairs, -1)


def test_store_name_collision_refused():
    import pytest

    from cebra_lens_core.pipeline.config import ConfigError

    cfg = _cfg()
    cfg["_models"].append(ModelEntry("m_session0", "x", "one", 0, None))
    with pytest.raises(ConfigError, match="same name"):
        plan_stores(cfg)


def test_explicit_pairs():
    cfg = _cfg(pairs=[["m", "n"], ["a", "a"]])
    assert plan_cka_pairs(cfg, plan_stores(cfg)) == [
        ("m_session0", "n_session0"),
        ("m_session1", "n_session1"),
        ("a", "a"),
    ]


def test_cka_jobs_group_pairs_by_recording_and_block():
    from cebra_lens_core.pipeline.plan import job_stores, plan_cka_jobs

    recordings = {"rat": ["a", "b", "c"], "rats_session0": ["m", "n"]}
    pairs = [("a", "a"), ("a", "b"), ("a", "c"), ("b", "c"), ("c", "c"), ("m", "n")]
    assert plan_cka_jobs(pairs, recordings, 16) == {
        "rat": pairs[:5],
        "rats_session0": [("m", "n")],
    }
    blocks = plan_cka_jobs(pairs, recordings, 2)  # rat: blocks {a, b}, {c}
    assert blocks == {
        "rat_block0-0": [("a", "a"), ("a", "b")],
        "rat_block0-1": [("a", "c"), ("b", "c")],
        "rat_block1-1": [("c", "c")],
        "rats_session0": [("m", "n")],
    }
    assert sorted(p for job in blocks.values() for p in job) == sorted(pairs)
    assert job_stores(blocks["rat_block0-1"]) == ["a", "c", "b"]
    with pytest.raises(ValueError, match="stores_per_job"):
        plan_cka_jobs(pairs, recordings, 0)


def test_bin_width_and_bootstrap_block_length_per_dataset():
    from cebra_lens_core.data.sources import dataset_bin_width
    from cebra_lens_core.pipeline.plan import bootstrap_params

    assert dataset_bin_width({"source": "hippocampus", "params": {}}) == 0.025
    assert dataset_bin_width({"source": "visual", "params": {"frame_rate_hz": 20}}) == 0.05
    assert dataset_bin_width({"source": "lorenz"}) == 0.01  # dt
    assert dataset_bin_width({"source": "files", "bin_width_s": 0.1}) == 0.1
    unknown = dataset_bin_width({"source": "registry", "name": "x"})
    assert unknown != unknown  # NaN
    cfg = {
        "datasets": {"rat": {"source": "hippocampus"}, "mine": {"source": "files"}},
        "statistics": {"bootstrap": {"enabled": True, "block_seconds": 1.5}},
    }
    assert bootstrap_params(cfg, "rat")["block_length"] == 60
    mine = bootstrap_params(cfg, "mine")  # no bin width: samples
    assert mine["block_length"] == 50 and mine["bin_width_s"] is None
    cfg["statistics"]["bootstrap"]["block_samples"] = 7
    assert bootstrap_params(cfg, "rat")["block_length"] == 7
    cfg["statistics"]["bootstrap"]["enabled"] = False
    assert bootstrap_params(cfg, "rat") == {"enabled": False}


def test_failing_job_writes_its_traceback_into_its_log(tmp_path):
    """Snakemake points users at the job's log: the exception and traceback must be there."""
    import subprocess
    import sys
    import textwrap

    log = tmp_path / "logs" / "job.log"
    script = tmp_path / "job.py"
    script.write_text(
        textwrap.dedent(
            f"""
            from types import SimpleNamespace
            from cebra_lens_core.pipeline.job import setup_job
            job = SimpleNamespace(threads=1, log=[{str(log)!r}], rule="demo", params=None)
            setup_job(job)
            raise ValueError("labels of the wrong length: 99 values for 100 time points")
            """
        )
    )
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert result.returncode == 1 and "ValueError" in result.stderr
    text = log.read_text()
    assert "the job failed" in text and "Traceback (most recent call last)" in text
    assert "ValueError: labels of the wrong length" in text


def test_job_settings_drop_what_only_figures_and_planning_use():
    from cebra_lens_core.pipeline.plan import job_settings

    cka = {"kinds": ["linear"], "max_heatmaps": 3, "stores_per_job": 4, "pairs": "all", "seed": 0}
    assert job_settings("cka", cka) == {"kinds": ["linear"], "seed": 0}
    embedding = {"enabled": True, "max_samples": 10, "color_label": "x", "marker_label": None}
    assert job_settings("embedding", embedding) == {"max_samples": 10}
    # sections without figure-only settings keep everything but `enabled`
    assert job_settings("decoding", {"enabled": True, "k": [1]}) == {"k": [1]}


def test_model_sheet_rows_name_group_seed_and_kind_of_every_store():
    from cebra_lens_core.pipeline.plan import plan_model_sheet

    models = [
        ModelEntry("beh_seed0", "beh", "two", 0, None, {"output_dimension": 3, "labels": ["x"]}),
        ModelEntry("beh_seed1", "beh", "two", 1, None, {"output_dimension": 3, "labels": ["x"]}),
        ModelEntry("shuf", "shuf", "one", 0, None, {"control": "shuffled_labels"}),
        ModelEntry("mine", "mine", "two", -1, "m.pt", sessions={1: 0}),
        ModelEntry("pca", "pca", "one", 0, None, {"output_dimension": 3}, kind="pca"),
    ]
    config = {
        "_models": models,
        "datasets": {
            "one": {"source": "hippocampus"},
            "two": {"source": "hippocampus", "params": {"n_sessions": 2}},
        },
    }
    stores = plan_stores(config)
    sheet = {row["store"]: row for row in plan_model_sheet(config, stores)}
    assert list(sheet) == list(stores)
    row = sheet["beh_seed1_session1"]
    assert (row["model"], row["group"], row["seed"], row["kind"]) == (
        "beh_seed1",
        "beh",
        1,
        "trained",
    )
    assert (row["seed_group"], row["session"], row["model_session"]) == ("beh_session1", 1, 1)
    assert (row["output_dimension"], row["labels"]) == (3, ["x"])
    assert sheet["shuf"]["kind"] == "control" and sheet["shuf"]["session"] is None
    loaded = sheet["mine_session0"]
    assert (loaded["kind"], loaded["source_file"], loaded["model_session"]) == ("loaded", "m.pt", 1)
    assert (sheet["pca"]["kind"], sheet["pca"]["method"]) == ("baseline", "pca")


def test_memory_request_scales_with_inputs_and_attempts(tmp_path):
    from cebra_lens_core.pipeline.plan import MEMORY_MODEL, input_megabytes, memory_request

    store = tmp_path / "m.zarr"
    (store / "layer_00").mkdir(parents=True)
    (store / "layer_00" / "c0").write_bytes(b"\0" * 2**20)  # a zarr store: a folder of chunks
    (tmp_path / "d.npz").write_bytes(b"\0" * 2**21)
    inputs = [str(store), str(tmp_path / "d.npz"), str(tmp_path / "not_yet.npz")]
    assert input_megabytes(inputs) == 3.0  # folders walked, missing inputs count 0
    base, per_mb = MEMORY_MODEL["layer_analyses"]
    mem = memory_request("layer_analyses")
    assert mem(None, inputs) == base + 3 * per_mb
    assert mem(None, inputs, attempt=2) == 2 * (base + 3 * per_mb)  # a retry asks for more
    assert mem(None, []) == base
