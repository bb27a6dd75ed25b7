"""Snakemake end to end: dry run of the default config, one tiny real run with the report."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from cebra_lens_core.analyses.similarity import DEFAULT_MEASURES
from cebra_lens_core.results import read_model_sheet

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


def run_snakemake(
    workdir: Path, *args: str, timeout: int = 600, env: dict | None = None
) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg", **(env or {})}
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
    # 45 model pairs (8 models and one shuffled-label control, each also with itself) in one
    # CKA job (cka.stores_per_job 16)
    for rule, count in [("train", 9), ("extract", 9), ("cka", 1), ("rsa", 1), ("summary", 1)]:
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


@pytest.mark.workflow
def test_tiny_real_run_and_report(tiny_run):
    tmp_path = tiny_run
    cfg = tmp_path / "config.yaml"

    summary = pd.read_csv(tmp_path / "results" / "summary.csv", keep_default_na=False)
    cka = summary[(summary["analysis"] == "cka") & (summary["metric"] == "cka")]
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

    # the model sheet: one row per store, group/seed/kind for the figures and the report
    sheet = read_model_sheet(tmp_path / "results" / "models.tsv")
    assert sheet["store"].tolist() == ["beh_seed0", "beh_seed1", "mlp"]
    assert sheet["group"].tolist() == ["beh", "beh", "mlp"]
    assert sheet["seed"].tolist() == [0, 1, 0]
    assert set(sheet["kind"]) == {"trained"}
    # rows about stores name a store; noise ceilings (rdm) and grounding name seed groups
    per_store = ~summary["analysis"].isin(["rdm", "similarity_grounding"])
    assert set(summary.loc[per_store, "model"]) <= set(sheet["store"])

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
        "shape",
        "cca",
        "neighbourhood",
        "similarity_grounding",
    }
    # every similarity measure for every CKA pair; the grounding rows name every measure.
    # The 5 s test split crosses the track once: no position bin is in both halves, so the
    # crossnobis measures (cross-validated over contiguous folds) are skipped with a warning
    similarity = summary[summary["analysis"].isin(["shape", "cca", "neighbourhood"])]
    measured = {m for m in DEFAULT_MEASURES if not m.startswith("crossnobis")}
    assert set(similarity["variant"]) == measured
    assert set(zip(similarity["model"], similarity["other_model"], strict=True)) == set(
        zip(cka["model"], cka["other_model"], strict=True)
    )
    log = (tmp_path / "logs" / "results" / "similarity" / "hippocampus.log").read_text()
    assert "even with 2 contiguous folds" in log and "crossnobis measures are skipped" in log
    grounding = summary[summary["analysis"] == "similarity_grounding"]
    identified = grounding[grounding["metric"] == "layer_identification_accuracy"]
    assert set(identified["variant"]) == {*measured, "cka_linear", "cka_debiased"}
    assert identified["value"].astype(float).between(0, 1).all()
    decoding = summary[(summary["analysis"] == "decoding") & (summary["metric"] == "r2")]
    assert set(decoding["variant"]) == {"knn", "ridge", "knn_shuffled", "ridge_shuffled"}
    check_statistics(summary)
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
        "similarity_grounding.png",
        "model_space.png",
        "model_space_layers.png",
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
        "similarity_grounding.png",
        "model_space.png",
    ]:
        assert name in html, name

    # a rerun has nothing to do
    again = run_snakemake(tmp_path, "--cores", "1", "--configfile", str(cfg), "--dry-run")
    assert "Nothing to be done" in again.stdout + again.stderr


def check_statistics(summary: pd.DataFrame) -> None:
    """Bootstrap intervals, null p-values and noise ceilings of the tiny run (defaults)."""
    num = {
        c: pd.to_numeric(summary[c], errors="coerce") for c in ("value", "ci_low", "ci_high", "n")
    }
    s = summary.assign(**num)
    scored = s[
        (s["analysis"] == "decoding")
        & s["metric"].isin(["r2", "accuracy", "mean_r2", "median_abs_error"])
        & s["variant"].isin(["knn", "ridge"])
    ]
    assert len(scored) and scored[["ci_low", "ci_high"]].notna().all().all()
    assert ((scored["ci_low"] <= scored["value"]) & (scored["value"] <= scored["ci_high"])).all()
    shuffled = s[(s["analysis"] == "decoding") & s["variant"].str.endswith("_shuffled")]
    # five shuffles by default: the control row is their mean, ci_low/ci_high their range
    controls = shuffled[shuffled["metric"].isin(["r2", "accuracy", "mean_r2"])]
    assert len(controls) and (controls["n"] == 5).all()
    assert (
        (controls["ci_low"] <= controls["value"]) & (controls["value"] <= controls["ci_high"])
    ).all()
    cka = s[(s["analysis"] == "cka") & (s["metric"] == "cka")]
    # each layer vs the recording (empty `layer` in the csv): no interval
    against_input = pd.to_numeric(cka["layer"], errors="coerce").isna()
    assert against_input.any() and cka.loc[against_input, "ci_low"].isna().all()
    cka = cka[~against_input]
    assert cka[["ci_low", "ci_high"]].notna().all().all()
    assert (cka["ci_low"] <= cka["ci_high"]).all()
    strong = cka[cka["value"] > 0.5]  # away from 0, where the interval is not biased
    assert len(strong) and (strong["ci_low"] <= strong["value"] + 1e-9).all()
    assert (strong["value"] <= strong["ci_high"] + 1e-9).all()
    for analysis, metrics in [("rdm", ["oracle_similarity"]), ("distance", ["intra_class"])]:
        rows = s[(s["analysis"] == analysis) & s["metric"].isin(metrics)]
        assert len(rows) and rows["ci_low"].notna().all(), analysis
    p = s[(s["analysis"] == "cka") & (s["metric"] == "p_value")]
    # corresponding layers of every pair of different models (both kinds): 4 + 1 + 1 layers
    assert set(zip(p["model"], p["other_model"], strict=True)) == {
        ("beh_seed0", "beh_seed1"),
        ("beh_seed0", "mlp"),
        ("beh_seed1", "mlp"),
    }
    assert len(p) == 2 * (4 + 1 + 1) and set(p["variant"]) == {"linear", "debiased"}
    assert ((p["value"] >= 1 / 100) & (p["value"] <= 1)).all() and set(p["n"]) == {99}
    assert len(s[(s["analysis"] == "cka") & (s["metric"] == "null_95th")]) == len(p)
    rsa_p = s[(s["analysis"] == "rdm") & (s["metric"] == "p_value")]
    assert len(rsa_p) and set(rsa_p["label"]) == {"position"}
    ceiling = s[s["metric"].isin(["noise_ceiling_low", "noise_ceiling_high"])]
    assert set(ceiling["model"]) == {"beh"} and len(ceiling) == 2 * 4  # one seed group
    wide = ceiling.pivot_table(index="layer", columns="metric", values="value")
    assert (wide["noise_ceiling_low"] <= wide["noise_ceiling_high"] + 1e-12).all()


@pytest.mark.workflow
def test_every_output_records_its_provenance(tiny_run):
    from cebra_lens_core.provenance import read_provenance, software_versions

    results = tiny_run / "results"
    outputs = [
        results / "summary.csv",
        results / "cka" / "hippocampus.csv",
        results / "decoding" / "mlp.csv",
        results / "rdm" / "mlp.npz",
        results / "attribution" / "mlp.npz",
        results / "datasets" / "hippocampus.npz",
        results / "models" / "beh_seed0.pt",
        results / "models" / "beh_seed0.loss.csv",
        results / "activations" / "mlp.zarr",
        results / "figures" / "decoding.png",
        results / "figures" / "cka" / "beh_seed0__mlp.png",
    ]
    config_hashes = set()
    for path in outputs:
        record = read_provenance(path)
        for key, version in software_versions().items():
            assert record[key] == version, (path, key)
        assert record["rule"] and len(record["params_hash"]) == 16, path
        config_hashes.add(record["config_hash"])
    assert len(config_hashes) == 1, "one run, one config hash"


def job_counts(output: str) -> dict[str, int]:
    """The ``Job stats`` table of a Snakemake dry run as {rule: count}."""
    counts, in_table = {}, False
    for line in output.splitlines():
        words = line.split()
        if line.startswith("Job stats"):
            in_table = True
        elif in_table and words[:1] == ["total"]:
            break
        elif in_table and len(words) == 2 and words[1].isdigit():
            counts[words[0]] = int(words[1])
    return counts


@pytest.mark.workflow
def test_changed_parameter_reruns_exactly_the_affected_jobs(tiny_run):
    """Snakemake's params trigger: a changed setting reruns its jobs and what reads their
    outputs, nothing upstream and no unrelated model; a figure-only setting
    (`cka.max_heatmaps`, a colour label, the single-unit layer) reruns its figure job only."""
    figures = {
        "summary": 1,
        "summary_table": 1,
        "cka_figures": 1,
        "summary_figures": 1,
        "all": 1,
    }
    cka_only = {**TINY, "cka": {"kinds": ["linear"]}}
    mlp_longer = {
        **TINY,
        "models": [TINY["models"][0], {**TINY["models"][1], "max_iterations": 6}],
    }
    per_model_figures = {
        f"{a}_figures": 1 for a in ("rdm", "embedding", "single_unit", "attribution")
    }
    nulls = {**TINY, "statistics": {"nulls": {"n_permutations": 19}}}
    bootstrap = {**TINY, "statistics": {"bootstrap": {"n_resamples": 50}}}
    # figure-only settings rerun their figure job and nothing that computes
    no_heatmaps = {**TINY, "cka": {**TINY["cka"], "max_heatmaps": 0}}
    colour = {
        **TINY,
        "analyses": {
            **TINY["analyses"],
            "embedding": {"max_samples": 100, "color_label": "direction"},
        },
    }
    unit_layer = {**TINY, "analyses": {**TINY["analyses"], "single_unit": {"plot_layer": 0}}}
    # the grounding job reads the CKA and similarity tables: it reruns when either changes
    grounding = {"similarity_grounding": 1, "model_space_figure": 1}
    similarity_k = {**TINY, "analyses": {**TINY["analyses"], "similarity": {"k": 5}}}
    space = {
        **TINY,
        "analyses": {**TINY["analyses"], "similarity": {"model_space_measure": "cca_angular"}},
    }
    expected = {
        "similarity": ({**figures, **grounding, "similarity": 1}, similarity_k),
        "model_space_measure": ({**figures, **grounding}, space),
        "max_heatmaps": ({"cka_figures": 1, "all": 1}, no_heatmaps),
        "color_label": ({"embedding_figures": 1, "all": 1}, colour),
        "plot_layer": ({"single_unit_figures": 1, "all": 1}, unit_layer),
        "cka": ({**figures, **grounding, "cka": 1}, cka_only),
        "nulls": ({**figures, **grounding, "cka": 1, "rsa": 1}, nulls),
        "bootstrap": (
            {
                **figures,
                **grounding,
                "cka": 1,
                "similarity": 1,
                "layer_analyses": 3,
                "rsa": 1,
                **{f"{a}_figures": 1 for a in ("rdm", "embedding", "single_unit")},
            },
            bootstrap,
        ),
        "mlp": (
            {
                **figures,
                **per_model_figures,
                "train": 1,
                "extract": 1,
                "cka": 1,  # the one CKA job of the recording (it holds pairs with mlp)
                "similarity": 1,  # and its similarity job
                **grounding,
                "layer_analyses": 1,
                "attribution": 1,
                "rsa": 1,
                "training_figure": 1,
                "model_sheet": 1,  # it lists each model's max_iterations
            },
            mlp_longer,
        ),
    }
    for name, (jobs, config) in expected.items():
        cfg = tiny_run / f"changed_{name}.yaml"
        cfg.write_text(yaml.safe_dump(config))
        dry = run_snakemake(tiny_run, "--cores", "1", "--configfile", str(cfg), "--dry-run")
        assert dry.returncode == 0, dry.stderr[-3000:]
        assert job_counts(dry.stdout + dry.stderr) == jobs, name


@pytest.mark.workflow
def test_an_upgraded_library_reruns_every_job(tiny_run, tmp_path):
    """A new version of a package that determines the numbers (here torch, simulated by a
    newer distribution found first on the path) reruns every job: stale activations are
    never reused after an upgrade."""
    newer = tmp_path / "site" / "torch-99.0.0.dist-info"
    newer.mkdir(parents=True)
    (newer / "METADATA").write_text("Metadata-Version: 2.1\nName: torch\nVersion: 99.0.0\n")
    cfg = tiny_run / "config.yaml"
    same = run_snakemake(tiny_run, "--cores", "1", "--configfile", str(cfg), "--dry-run")
    assert "Nothing to be done" in same.stdout + same.stderr, (same.stdout + same.stderr)[-2000:]
    env_path = f"{tmp_path / 'site'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"
    dry = run_snakemake(
        tiny_run,
        "--cores",
        "1",
        "--configfile",
        str(cfg),
        "--dry-run",
        env={"PYTHONPATH": env_path},
    )
    out = dry.stdout + dry.stderr
    assert dry.returncode == 0, out[-3000:]
    counts = job_counts(out)
    assert counts["train"] == 3 and counts["extract"] == 3 and counts["dataset"] == 1, counts
    assert "Params have changed since last execution" in out


def _tree(root: Path, pattern: str) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob(pattern)) if p.is_file()
    }


@pytest.mark.workflow
def test_killed_run_resumes_to_identical_results(tiny_run, tmp_path):
    """SIGKILL the whole run while an extraction job runs; nothing half-written looks finished,
    and `--unlock` + rerun completes with results identical to an uninterrupted run.

    This is also the determinism test: a second run in a fresh folder (here: killed and
    resumed) gives byte-identical tables, figures and arrays, and identical activation stores.
    """
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
        from cebra_lens_core.activations.store import open_activation_store

        assert open_activation_store(store).sizes["time"] == 800
    assert not (tmp_path / "results" / "summary.csv").exists()

    unlock = run_snakemake(tmp_path, "--cores", "1", "--configfile", str(cfg), "--unlock")
    assert unlock.returncode == 0, unlock.stderr[-2000:]
    rerun = run_snakemake(tmp_path, "--cores", "2", "--configfile", str(cfg))
    assert rerun.returncode == 0, rerun.stderr[-4000:]
    assert not list((tmp_path / "results").rglob(".*tmp-*")), "temporary files left behind"
    assert_same_results(tiny_run / "results", tmp_path / "results")


def assert_same_results(first: Path, second: Path) -> None:
    """Byte-identical CSV/PNG/NPZ files (and provenance sidecars), identical stores."""
    import numpy as np

    from cebra_lens_core.activations.store import layer_names, open_activation_store

    for pattern in ("*.csv", "*.png", "*.npz", "*.provenance.json"):
        a, b = _tree(first, pattern), _tree(second, pattern)
        assert a.keys() == b.keys(), pattern
        different = [k for k in a if a[k] != b[k]]
        assert not different, f"files differ between runs: {different}"
    stores = sorted((first / "activations").glob("*.zarr"))
    assert stores
    for store in stores:
        x = open_activation_store(store)
        y = open_activation_store(second / "activations" / store.name)
        for v in layer_names(x):
            np.testing.assert_array_equal(x[v].values, y[v].values)
        assert x.attrs == y.attrs
