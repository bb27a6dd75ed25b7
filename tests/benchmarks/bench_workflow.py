"""Workflow overhead benchmarks (cases for ``run_all``): planning and running many models.

- ``workflow_plan``: ``snakemake --dry-run`` of a 50-model config (one recording) with CKA
  grouping (``cka.stores_per_job: 16``, 10 CKA jobs) vs without (``stores_per_job: 1``, one job
  per model pair: 1,275 CKA jobs). Target: planning in under 30 s.
- ``job_startup``: the start-up of one job of every rule (its script's imports and
  ``setup_job``, in a fresh interpreter, median of 3): target <= 1.5 s for every job that
  runs no model, which imports neither torch nor cebra.
- ``workflow_run``: a real run of a small-model config (5 models; 3 in ``--quick``;
  ``--workflow-models N`` for N) with and without CKA grouping, wall time of each and the agreement of their CKA values. The ungrouped
  run has one CKA job per pair (15 for 5 models); each job pays the Python start-up (about
  2 s of imports) that the grouped run pays once per block of 16 stores.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks.common import Context, row  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def many_models_config(n_models: int, stores_per_job: int) -> dict[str, Any]:
    """``n_models`` small CEBRA-Time models on one short synthetic recording."""
    return {
        "results_dir": "results",
        "datasets": {
            "rat": {"source": "hippocampus", "params": {"n_neurons": 20, "duration_s": 20.0}}
        },
        "model_defaults": {
            "output_dimension": 3,
            "num_hidden_units": 8,
            "max_iterations": 5,
            "batch_size": 64,
            "architecture": "offset5-model",
        },
        "models": [
            {"name": f"m{i:02d}", "dataset": "rat", "conditional": "time", "seed": i}
            for i in range(n_models)
        ],
        "cka": {"kinds": ["linear"], "stores_per_job": stores_per_job},
        "analyses": {
            name: {"enabled": False}
            for name in ("attribution", "embedding", "single_unit", "rdm", "distance")
        },
    }


def snakemake(workdir: Path, config: dict, *args: str) -> tuple[float, str]:
    """Run snakemake on ``config`` in ``workdir``; (wall seconds, output). Raises on failure."""
    import yaml

    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "workflow" / "Snakefile")]
    cmd += ["--directory", str(workdir), "--configfile", str(path), "--cores", "2", *args]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=_env())
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"snakemake failed in {workdir}:\n{done.stderr[-3000:]}")
    return seconds, done.stdout + done.stderr


def _env() -> dict[str, str]:
    import os

    return {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}


def _jobs(output: str, rule: str) -> int:
    for line in output.splitlines():
        words = line.split()
        if len(words) == 2 and words[0] == rule and words[1].isdigit():
            return int(words[1])
    return 0


def case_workflow_plan(ctx: Context) -> list[dict]:
    n = 50
    grouped_s, grouped = snakemake(ctx.workdir / "plan16", many_models_config(n, 16), "-n")
    single_s, single = snakemake(ctx.workdir / "plan1", many_models_config(n, 1), "-n")
    return [
        row(
            "workflow: plan 50 models (dry run), CKA grouped",
            f"{n} models, {_jobs(grouped, 'cka')} vs {_jobs(single, 'cka')} CKA jobs",
            ours_s=grouped_s,
            reference_s=single_s,
            ratio=single_s / grouped_s,
            target="< 30 s",
            met=grouped_s < 30,
            note="reference = one CKA job per model pair (cka.stores_per_job: 1)",
        )
    ]


def case_workflow_run(ctx: Context) -> list[dict]:
    import numpy as np
    import pandas as pd

    n = ctx.extra.get("workflow_models") or ctx.size(5, 3)
    grouped_s, grouped = snakemake(ctx.workdir / "run16", many_models_config(n, 16))
    single_s, single = snakemake(ctx.workdir / "run1", many_models_config(n, 1))

    def cka_values(folder: str) -> pd.Series:
        summary = pd.read_csv(ctx.workdir / folder / "results" / "summary.csv")
        rows = summary[summary["analysis"] == "cka"]
        return rows.set_index(["model", "other_model", "layer", "other_layer"])["value"]

    a, b = cka_values("run16").sort_index(), cka_values("run1").sort_index()
    diff = float(np.max(np.abs(a.to_numpy() - b.to_numpy()))) if len(a) == len(b) else np.inf
    pairs = n * (n + 1) // 2
    jobs = f"{_jobs(grouped, 'cka')} vs {_jobs(single, 'cka')} CKA jobs"
    totals = f"{_jobs(grouped, 'total')} vs {_jobs(single, 'total')} jobs in all"
    return [
        row(
            "workflow: full run, CKA grouped vs one job per pair",
            f"{n} models, {pairs} pairs: {jobs}, {totals}",
            ours_s=grouped_s,
            reference_s=single_s,
            ratio=single_s / grouped_s,
            max_abs_diff=diff,
            tolerance=1e-12,
            target="same CKA values",
            met=diff <= 1e-12,
            note="train, extract and layer analyses are one job per model in both",
        )
    ]


#: Scripts of the jobs that run a model (they import torch; every other job must not).
MODEL_SCRIPTS = ("train_model", "attribution")
#: Start-up before issue 17 (setup_job imported torch in every job), from the same
#: measurement: the range over the scripts that run no model.
STARTUP_BEFORE_S = (1.20, 1.79)


def _startup_code(script: Path) -> str:
    import ast

    tree = ast.parse(script.read_text())
    imports = [ast.unparse(n) for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    return "\n".join(
        [
            *imports,
            "import sys, types",
            "from cebra_lens_core.pipeline.job import setup_job",
            "setup_job(types.SimpleNamespace(threads=1, log=[], rule='noop', config={}, "
            "params=None))",
            "print(sorted(m for m in ('torch', 'cebra') if m in sys.modules))",
        ]
    )


def case_job_startup(ctx: Context) -> list[dict]:
    import statistics

    times, heavy = {}, {}
    for script in sorted((REPO / "scripts").glob("*.py")):
        code, runs = _startup_code(script), []
        for _ in range(1 if ctx.quick else 3):
            t0 = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-c", code],
                cwd=REPO,
                env=_env(),
                capture_output=True,
                text=True,
                check=True,
            )
            runs.append(time.perf_counter() - t0)
        times[script.stem] = statistics.median(runs)
        heavy[script.stem] = done.stdout.strip().splitlines()[-1]
    plain = {k: v for k, v in times.items() if k not in MODEL_SCRIPTS}
    worst = max(plain, key=plain.get)
    torch_free = all(heavy[k] == "[]" for k in plain)
    listing = ", ".join(f"{k} {v:.2f}" for k, v in sorted(times.items(), key=lambda kv: -kv[1]))
    return [
        row(
            "job start-up (imports + setup_job) of rules that run no model",
            f"{len(plain)} scripts, fresh interpreter, median of 3",
            ours_s=plain[worst],
            target="<= 1.5 s each, neither torch nor cebra imported",
            met=plain[worst] <= 1.5 and torch_free,
            note=(
                f"slowest: {worst}; all (s): {listing}; torch/cebra imported by none of them: "
                f"{torch_free}; model jobs ({', '.join(MODEL_SCRIPTS)}) import torch; before "
                f"issue 17 (setup_job imported torch): {STARTUP_BEFORE_S[0]:.2f}-"
                f"{STARTUP_BEFORE_S[1]:.2f} s"
            ),
        )
    ]


CASES = {
    "workflow_plan": case_workflow_plan,
    "job_startup": case_job_startup,
    "workflow_run": case_workflow_run,
}

if __name__ == "__main__":
    from tests.benchmarks.run_all import main

    main(["--only", ",".join(CASES), *sys.argv[1:]])
