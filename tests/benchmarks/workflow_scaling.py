"""The workflow's wall time against the number of models (``make bench-workflow``).

    OMP_NUM_THREADS=1 .venv/bin/python tests/benchmarks/workflow_scaling.py [--models 5,20,50]

A real Snakemake run (2 cores) of ``bench_workflow``'s config of n small CEBRA-Time models on
one recording with CKA grouped (``cka.stores_per_job: 16``), for each n, each in a fresh
folder and its own subprocess; about 8 min for 5, 20 and 50 models (too long for
``make bench``). Every run appends ``{n_models, wall_s, jobs, cka_jobs, peak_mib, date}`` to
``bench/workflow_scaling.json`` (``peak_mib``: the largest resident memory of any one process of
the run, Snakemake or a job), which panel (b) of ``bench/scaling.png`` reads; the figure is
redrawn when ``bench/scaling.json`` (the ``scaling`` case of ``make bench``) exists.
``--dry-run`` only plans (``snakemake -n``, seconds): a smoke test of this script, recorded
with ``dry_run: true`` and left out of the figure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks.common import REPO  # noqa: E402

MARKER = "WORKFLOW_POINT "
OUT_JSON = "workflow_scaling.json"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--models", default="5,20,50", help="comma-separated model counts")
    p.add_argument("--out", type=Path, default=REPO / "bench", help=f"where {OUT_JSON} goes")
    p.add_argument("--workdir", type=Path, default=None, help="scratch folder (kept if given)")
    p.add_argument("--timeout", type=int, default=3600, help="seconds per run")
    p.add_argument("--dry-run", action="store_true", help="plan only (snakemake -n)")
    p.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def run_one(n_models: int, workdir: Path, dry_run: bool) -> dict[str, Any]:
    """One grouped workflow run of ``n_models`` models in ``workdir`` (in this process)."""
    import resource

    from tests.benchmarks.bench_workflow import _jobs, many_models_config, snakemake

    folder = workdir / f"models{n_models}"
    shutil.rmtree(folder, ignore_errors=True)
    wall, output = snakemake(folder, many_models_config(n_models, 16), *(["-n"] if dry_run else []))
    # Linux: the largest ru_maxrss of the waited-for descendants (KiB), i.e. the biggest process
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "n_models": n_models,
        "wall_s": wall,
        "jobs": _jobs(output, "total"),
        "cka_jobs": _jobs(output, "cka"),
        "peak_mib": peak,
        "cores": 2,
        "dry_run": dry_run,
    }


def run_isolated(n_models: int, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """:func:`run_one` in its own process group (killed as a whole on timeout)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--one", str(n_models)]
    cmd += ["--workdir", str(workdir)] + (["--dry-run"] if args.dry_run else [])
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        start_new_session=True,  # its own process group: a timeout kills Snakemake's jobs too
    )
    try:
        stdout, stderr = proc.communicate(timeout=args.timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.communicate()
        return {"n_models": n_models, "error": f"timed out after {args.timeout} s"}
    for line in reversed(stdout.splitlines()):
        if line.startswith(MARKER):
            return json.loads(line[len(MARKER) :])
    tail = "\n".join((stderr or stdout).strip().splitlines()[-15:])
    return {"n_models": n_models, "error": f"exit code {proc.returncode}:\n{tail}"}


def append_entry(path: Path, entry: dict[str, Any]) -> None:
    entries = json.loads(path.read_text()) if path.exists() else []
    entries.append(entry)
    path.write_text(json.dumps(entries, indent=2) + "\n")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.one is not None:
        out = run_one(args.one, Path(args.workdir), args.dry_run)
        print(MARKER + json.dumps(out), flush=True)
        return
    counts = [int(n) for n in args.models.split(",") if n.strip()]
    keep = args.workdir is not None
    workdir = Path(args.workdir) if keep else Path(tempfile.mkdtemp(prefix="cebra_lens_wf_"))
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    args.out.mkdir(parents=True, exist_ok=True)
    failures = []
    try:
        for n in counts:
            print(f"[bench-workflow] {n} models ...", flush=True)
            t0 = time.perf_counter()
            entry = run_isolated(n, args, workdir)
            if "error" in entry:
                failures.append(f"{n} models: {entry['error']}")
                print(f"[bench-workflow] {n} models FAILED: {entry['error']}", flush=True)
                continue
            entry["date"] = dt.datetime.now().isoformat(timespec="seconds")
            entry["load_after"] = ", ".join(f"{x:.2f}" for x in os.getloadavg())
            append_entry(args.out / OUT_JSON, entry)
            print(
                f"[bench-workflow] {n} models: {entry['wall_s']:.0f} s, {entry['jobs']} jobs, "
                f"peak {entry['peak_mib']:.0f} MiB ({time.perf_counter() - t0:.0f} s)",
                flush=True,
            )
            if not keep:
                shutil.rmtree(workdir / f"models{n}", ignore_errors=True)
    finally:
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"[bench-workflow] appended to {args.out / OUT_JSON}")
    if (args.out / "scaling.json").exists():
        from tests.benchmarks.bench_scaling import write_outputs

        write_outputs(args.out)
        print(f"[bench-workflow] redrew {args.out / 'scaling.png'} and scaling.md")
    if failures:
        print("[bench-workflow] FAILED:\n  " + "\n  ".join(failures), file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
