"""The paper-figure experiments: every config validates (full and quick), plans, and runs in
quick mode end to end with its figures and its own report."""

from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd
import pytest

from cebra_lens_core.pipeline.config import prepare_config, read_yaml
from tests.workflow.test_workflow import REPO, job_counts, run_snakemake

EXPERIMENTS = REPO / "config" / "experiments"
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
NAMES = sorted(p.stem for p in EXPERIMENTS.glob("*.yaml"))

#: figures (under <results_dir>/figures) each quick run must produce
FIGURES = {
    "attribution": ["attribution_summary.png", "attribution/offset10_dim4_seed0.png"],
    "dimensionality": [
        "comparison/dimension_sweep.png",
        "comparison/architecture_sweep.png",
        "comparison/temperature_sweep.png",
        "comparison/baseline_embeddings.png",
        "decoding.png",
    ],
    "hippocampus_lens": [
        "cka_corresponding_layers.png",
        "rdm_oracle.png",
        "distance.png",
        "decoding.png",
        "consistency.png",
    ],
    "hypothesis": ["comparison/hypothesis.png", "goodness_of_fit.png", "decoding.png"],
    "xcebra": [
        "comparison/attribution_regularisation.png",
        "training_loss.png",
        "attribution/xcebra_regularised_seed0.png",
    ],
    "visual_lens": [
        "distance.png",
        "decoding.png",
        "cka_corresponding_layers.png",
        "alignment.png",
    ],
}


def test_every_experiment_is_listed():
    assert NAMES == sorted(FIGURES)


@pytest.mark.parametrize("name", NAMES)
def test_experiment_config_is_valid_full_and_quick(name):
    raw = read_yaml(EXPERIMENTS / f"{name}.yaml")
    full = prepare_config(raw, SCHEMA)
    quick = prepare_config({**raw, "quick": True}, SCHEMA)
    assert full["results_dir"] == f"results/experiments/{name}"
    assert quick["results_dir"] == f"results/experiments/{name}_quick"
    assert len(quick["_models"]) <= len(full["_models"])


def test_dimensionality_sweep_models():
    cfg = prepare_config(read_yaml(EXPERIMENTS / "dimensionality.yaml"), SCHEMA)
    circle = [m for m in cfg["_models"] if m.dataset == "circle"]
    cebra = [m for m in circle if m.kind == "cebra"]
    dims = sorted(m.training["output_dimension"] for m in cebra if "output_dimension" in m.varied)
    assert dims == [1, 2, 4, 5, 6, 7, 8]  # the base model has 3
    archs = {m.training["architecture"] for m in cebra}
    assert {"offset1-model", "offset36-model", "offset10-model-mse"} <= archs
    pca = sorted(m.training["output_dimension"] for m in circle if m.kind == "pca")
    assert pca == list(range(1, 9))
    assert {m.name for m in cebra} >= {"circle", "circle_d8", "circle_tauto", "circle_t0.1"}


def test_hippocampus_lens_runs_unchanged_on_the_registry_recording():
    raw = read_yaml(EXPERIMENTS / "hippocampus_lens.yaml")
    real = copy.deepcopy(raw)
    real["datasets"]["rat"] = {
        "source": "registry",
        "name": "rat-hippocampus-single-achilles",
        "labels": {
            "position": {"columns": [0], "kind": "continuous", "unit": "m"},
            "direction": {"columns": [1], "kind": "discrete", "categories": ["left", "right"]},
        },
    }
    cfg = prepare_config(real, SCHEMA)
    assert {m.dataset for m in cfg["_models"]} == {"rat", "rats"}


@pytest.mark.workflow
@pytest.mark.parametrize("name", NAMES)
def test_experiment_runs_in_quick_mode(name, tmp_path):
    cfg = EXPERIMENTS / f"{name}.yaml"
    args = ("--configfile", str(cfg), "--config", "quick=true")
    run = run_snakemake(tmp_path, "--cores", "2", *args)
    assert run.returncode == 0, run.stderr[-4000:]
    results = tmp_path / "results" / "experiments" / f"{name}_quick"
    assert (results / "summary.csv").exists()
    for figure in FIGURES[name]:
        assert (results / "figures" / figure).exists(), figure
    report = results / "report.html"
    made = run_snakemake(tmp_path, "--cores", "1", *args, "--report", str(report))
    assert made.returncode == 0, made.stderr[-3000:]
    html = report.read_text(errors="replace")
    for figure in FIGURES[name]:
        assert Path(figure).name in html, figure
    if name == "xcebra":  # the benchmark table: every training and both parts, two seeds
        table = pd.read_csv(results / "tables" / "attribution_regularisation.csv")
        assert set(table["training"]) == {"xCEBRA, λ=0.1", "xCEBRA, λ=0", "CEBRA-Behavior"}
        assert set(table["part"]) == {"behavior", "time"}
        assert table.loc[table["training"] != "CEBRA-Behavior", "n"].eq(2).all()
        assert table["mean"].between(0, 1).all()
        assert "attribution_regularisation.csv" in html
    if name == "dimensionality":  # the largest DAG: the full experiment plans from the file
        full = run_snakemake(tmp_path, "--cores", "1", "--configfile", str(cfg), "--dry-run")
        assert full.returncode == 0, full.stderr[-3000:]
        assert job_counts(full.stdout + full.stderr).get("summary") == 1
