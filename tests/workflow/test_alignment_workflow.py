"""Snakemake end to end for `analyses.alignment`: switched on in a finished tiny run, only the
alignment job runs and writes its table."""

from __future__ import annotations

import copy
import shutil

import numpy as np
import pytest

from cebra_lens_core.results import read_rows
from tests.workflow.test_workflow import REPO, TINY, run_snakemake, write_config


def alignment_config() -> dict:
    """TINY with the alignment analysis switched on (nothing else changes)."""
    config = copy.deepcopy(TINY)
    config["analyses"] = {
        **config["analyses"],
        "alignment": {"enabled": True, "label": "position", "n_bins": 8},
    }
    return config


@pytest.mark.workflow
def test_alignment_rule_table_summary_and_figure(tiny_run, tmp_path):
    """Switching alignment on in a finished run adds its job; nothing upstream reruns (run in
    a copy of the shared tiny run)."""
    shutil.copytree(tiny_run, tmp_path, dirs_exist_ok=True)
    cfg = write_config(tmp_path, alignment_config())
    # the figure and the summary are exercised by the hippocampus_lens / visual_lens quick runs
    targets = ["results/alignment/mlp.csv"]
    # targets first: --configfile takes several values
    result = run_snakemake(tmp_path, *targets, "--cores", "2", "--configfile", str(cfg))
    assert result.returncode == 0, result.stderr[-4000:]
    out = result.stdout + result.stderr
    assert "rule alignment" in out
    for upstream in ("rule train", "rule extract", "rule layer_analyses", "rule cka"):
        assert upstream not in out, f"{upstream} reran"

    rows = read_rows(tmp_path / "results" / "alignment" / "mlp.csv")
    assert set(rows["analysis"]) == {"crsa", "ersa", "encoding", "best_layer", "relative"}
    assert set(rows["model"]) == {"mlp"} and set(rows["dataset"]) == {"hippocampus"}
    n_layers = rows["layer"].max() + 1
    # the recording itself (an MLP: `input` only) is its own row, never a best layer
    references = rows[rows["layer"].isna()]
    assert set(references["layer_name"]) == {"input"}
    assert "best_layer" not in set(references["analysis"])
    test = rows[(rows["variant"] == "test") & rows["layer"].notna()]
    for analysis, metric in [("crsa", "spearman"), ("ersa", "spearman")]:
        part = test[(test["analysis"] == analysis) & (test["metric"] == metric)]
        assert sorted(part["layer"]) == list(range(n_layers)), analysis
        assert set(part["label"]) == {"position"}
        assert np.isfinite(part["value"]).all() and (part["value"].abs() <= 1).all()
    enc = test[(test["analysis"] == "encoding") & (test["metric"] == "mean_pearson_r")]
    assert (enc["n"] == 200).all()  # 25 % of 800 time bins held out
    assert len(enc) == n_layers and np.isfinite(enc["value"]).all()
    best = rows[rows["analysis"] == "best_layer"]
    assert {"crsa_spearman", "ersa_spearman", "encoding_mean_pearson_r"} <= set(best["metric"])
    assert (best["n"] == n_layers).all()
    rel = rows[rows["analysis"] == "relative"]
    assert {"r2", "reduction_ratio", "neural_similarity", "oracle_similarity"} <= set(rel["metric"])
    for split in ("crsa", "ersa"):
        values = test[test["analysis"] == split].sort_values("layer")["value"].round(3).tolist()
        print(f"{split} (test) per layer: {values}")
    print(
        f"encoding mean r (test) per layer: {enc.sort_values('layer')['value'].round(3).tolist()}"
    )

    assert (tmp_path / "results" / "alignment" / "mlp.npz").exists()
    assert (tmp_path / "logs" / "results" / "alignment" / "mlp.log").exists()
    # the figure's report caption (the report itself is exercised by test_workflow.py)
    assert (REPO / "workflow" / "report" / "alignment.rst").read_text().strip()
