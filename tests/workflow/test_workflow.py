"""Snakemake end to end: dry run of the default config, one tiny real run with the report."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]

TINY = {
    "results_dir": "results",
    "datasets": {
        "hippocampus": {
            "source": "hippocampus",
            "test_fraction": 0.25,
            "params": {"n_neurons": 16, "duration_s": 20.0, "seed": 1},
        }
    },
    "model_defaults": {
        "output_dimension": 3,
        "num_hidden_units": 8,
        "max_iterations": 5,
        "batch_size": 64,
    },
    "models": [
        {
            "name": "beh",
            "dataset": "hippocampus",
            "architecture": "offset5-model",
            "conditional": "behavior",
            "labels": ["position"],
            "seeds": [0, 1],
        },
        {
            "name": "mlp",
            "dataset": "hippocampus",
            "architecture": "offset1-model",
            "conditional": "time",
        },
    ],
    "cka": {"kinds": ["linear", "debiased"]},
    "analyses": {
        "embedding": {"max_samples": 100},
        "goodness_of_fit": {"num_batches": 2},
        "attribution": {"max_samples": 50, "ig_steps": 5},
    },
}


def run_snakemake(workdir: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    cmd = [
        *SNAKEMAKE,
        "-s",
        str(REPO / "workflow" / "Snakefile"),
        "--directory",
        str(workdir),
        *args,
    ]
    return subprocess.run(
        cmd, cwd=workdir, env=env, capture_output=True, text=True, timeout=timeout
    )


def write_config(workdir: Path, config: dict) -> Path:
    path = workdir / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.workflow
def test_default_config_dry_run(tmp_path):
    result = run_snakemake(tmp_path, "--cores", "2", "--dry-run")
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout + result.stderr
    for rule, count in [("train", 8), ("extract", 8), ("cka", 36), ("summary", 1)]:
        assert any(line.split()[:2] == [rule, str(count)] for line in out.splitlines()), (
            rule,
            out[-2000:],
        )


@pytest.mark.workflow
def test_invalid_config_stops_with_named_key(tmp_path):
    config = {**TINY, "modle_defaults": {}}
    cfg = write_config(tmp_path, config)
    result = run_snakemake(tmp_path, "--cores", "1", "--dry-run", "--configfile", str(cfg))
    assert result.returncode != 0
    out = result.stdout + result.stderr
    assert "unknown key 'modle_defaults'" in out and "did you mean 'model_defaults'" in out


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> Path:
    """One real run of the tiny config (shared by the tests below)."""
    workdir = tmp_path_factory.mktemp("tiny")
    cfg = write_config(workdir, TINY)
    result = run_snakemake(workdir, "--cores", "2", "--configfile", str(cfg))
    assert result.returncode == 0, result.stderr[-4000:]
    return workdir


@pytest.mark.workflow
def test_tiny_real_run_and_report(tiny_run):
    tmp_path = tiny_run
    cfg = tmp_path / "config.yaml"

    summary = pd.read_csv(tmp_path / "results" / "summary.csv", keep_default_na=False)
    cka = summary[summary["analysis"] == "cka"]
    pairs = set(zip(cka["model"], cka["other_model"], strict=True))
    assert pairs == {
        ("beh_seed0", "beh_seed0"),
        ("beh_seed0", "beh_seed1"),
        ("beh_seed0", "mlp"),
        ("beh_seed1", "beh_seed1"),
        ("beh_seed1", "mlp"),
        ("mlp", "mlp"),
    }
    self_cka = cka[
        (cka["model"] == "beh_seed0")
        & (cka["other_model"] == "beh_seed0")
        & (cka["layer"] == cka["other_layer"])
    ]
    assert (abs(self_cka["value"].astype(float) - 1) < 1e-9).all()
    assert set(cka["variant"]) == {"linear", "debiased"}
    assert (cka["n"].astype(int) == 200).all()  # 25 % of 800 time bins held out

    analyses = set(summary["analysis"])
    assert analyses == {
        "cka",
        "rdm",
        "distance",
        "decoding",
        "consistency",
        "dimensionality",
        "embedding",
        "single_unit",
        "goodness_of_fit",
        "attribution",
    }
    decoding = summary[(summary["analysis"] == "decoding") & (summary["metric"] == "r2")]
    assert set(decoding["variant"]) == {"knn", "ridge", "knn_shuffled", "ridge_shuffled"}
    consistency = summary[summary["analysis"] == "consistency"]
    assert set(zip(consistency["model"], consistency["other_model"], strict=True)) == {
        ("beh_seed0", "beh_seed1"),
        ("beh_seed1", "beh_seed0"),
    }
    figures = tmp_path / "results" / "figures"
    for fig in [
        "decoding.png",
        "distance.png",
        "rdm_oracle.png",
        "dimensionality.png",
        "consistency.png",
        "goodness_of_fit.png",
        "rdm/mlp.png",
        "embedding/beh_seed1.png",
        "single_units/beh_seed0.png",
        "training_loss.png",
        "attribution/mlp.png",
        "attribution_summary.png",
    ]:
        assert (figures / fig).exists(), fig

    for name in ["beh_seed0", "beh_seed1", "mlp"]:
        assert (tmp_path / "results" / "activations" / f"{name}.zarr").is_dir()
        assert (tmp_path / "results" / "models" / f"{name}.loss.csv").exists()
    assert (tmp_path / "results" / "figures" / "cka" / "beh_seed0__mlp.png").exists()
    assert (tmp_path / "results" / "figures" / "cka_corresponding_layers.png").exists()
    assert (tmp_path / "logs" / "results" / "train" / "beh_seed0.log").exists()
    assert not list((tmp_path / "results").rglob(".*tmp-*")), "temporary files left behind"

    report = run_snakemake(
        tmp_path, "--cores", "1", "--configfile", str(cfg), "--report", "report.html"
    )
    assert report.returncode == 0, report.stderr[-3000:]
    html = (tmp_path / "report.html").read_text(errors="replace")
    for name in [
        "cka_corresponding_layers.png",
        "summary.csv",
        "decoding.png",
        "consistency.png",
        "embedding",
        "single_units",
    ]:
        assert name in html, name

    # a rerun has nothing to do
    again = run_snakemake(tmp_path, "--cores", "1", "--configfile", str(cfg), "--dry-run")
    assert "Nothing to be done" in again.stdout + again.stderr


def _tree(root: Path, pattern: str) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob(pattern)) if p.is_file()
    }


@pytest.mark.workflow
def test_rerun_reproduces_every_number_and_file(tiny_run, tmp_path):
    """A second run in a fresh folder gives identical results, figures and activation stores."""
    import numpy as np

    from cebra_lens_core.store import layer_names, open_activation_store

    cfg = write_config(tmp_path, TINY)
    result = run_snakemake(tmp_path, "--cores", "2", "--configfile", str(cfg))
    assert result.returncode == 0, result.stderr[-4000:]
    first, second = tiny_run / "results", tmp_path / "results"
    for pattern in ("*.csv", "*.png", "*.npz"):
        a, b = _tree(first, pattern), _tree(second, pattern)
        assert a.keys() == b.keys(), pattern
        different = [k for k in a if a[k] != b[k]]
        assert not different, f"files differ between runs: {different}"
    for store in (first / "activations").glob("*.zarr"):
        x, y = (
            open_activation_store(store),
            open_activation_store(second / "activations" / store.name),
        )
        for v in layer_names(x):
            np.testing.assert_array_equal(x[v].values, y[v].values)
        assert x.attrs == y.attrs


@pytest.mark.workflow
def test_killed_run_resumes_to_identical_results(tiny_run, tmp_path):
    """SIGKILL the whole run while an extraction job runs; nothing half-written looks finished,
    and `--unlock` + rerun completes with results identical to an uninterrupted run."""
    import signal
    import time

    cfg = write_config(tmp_path, TINY)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    cmd = [
        *SNAKEMAKE,
        "-s",
        str(REPO / "workflow" / "Snakefile"),
        "--directory",
        str(tmp_path),
        "--cores",
        "2",
        "--configfile",
        str(cfg),
    ]
    proc = subprocess.Popen(
        cmd,
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    extract_logs = tmp_path / "logs" / "results" / "extract"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not (
        extract_logs.exists() and any(extract_logs.iterdir())
    ):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert extract_logs.exists(), "the run never reached the extraction step"
    activations = tmp_path / "results" / "activations"
    for store in activations.glob("*.zarr") if activations.exists() else []:
        # a store that looks finished is complete: it opens and has every layer
        from cebra_lens_core.store import open_activation_store

        assert open_activation_store(store).sizes["time"] == 800
    assert not (tmp_path / "results" / "summary.csv").exists()

    unlock = run_snakemake(tmp_path, "--cores", "1", "--configfile", str(cfg), "--unlock")
    assert unlock.returncode == 0, unlock.stderr[-2000:]
    rerun = run_snakemake(tmp_path, "--cores", "2", "--configfile", str(cfg))
    assert rerun.returncode == 0, rerun.stderr[-4000:]
    assert not list((tmp_path / "results").rglob(".*tmp-*")), "temporary files left behind"
    for pattern in ("*.csv", "*.png"):
        a, b = _tree(tiny_run / "results", pattern), _tree(tmp_path / "results", pattern)
        assert a == b, [k for k in a if a.get(k) != b.get(k)]
