"""Run every benchmark; write ``bench/results.json`` and ``bench/results.md``.

    OMP_NUM_THREADS=1 .venv/bin/python tests/benchmarks/run_all.py [--quick] [--only a,b]

(``make bench`` runs it.) Every case runs in its own subprocess, so its peak resident memory
(``VmHWM``) is its own; cases time our implementation and, side by side in the same process,
a brute-force reference (Gram-matrix CKA, scipy ``pdist`` RDMs and distances, sklearn
decoders on the full data, a plain forward pass), check that the numbers agree and report
medians and ratios. Any disagreement (``max |diff| > tolerance``) or crash fails the run with
exit code 1 after the table is written. The ``scaling`` case also writes ``scaling.md``,
``scaling.json`` and ``scaling.png`` next to them (time and memory against T; the workflow
against the number of models from ``workflow_scaling.json``, see ``make bench-workflow``).
Scratch data (zarr stores of 10^6 time points, about 2.5 GB) go to a temporary folder
(``--workdir`` to keep them).

Columns: ``ours (s)`` and ``reference (s)`` are wall times (median of repeats for the small
cases, one run for the 10^6 cases); ``ratio`` is ``reference / ours`` (how many times faster
ours is; for the GEMM row the fraction of numpy's float32 matmul throughput; for extraction
the fraction of a plain forward pass's throughput); ``peak MiB`` the peak RSS of the case's
process (for the 10^6 cases measured right after ours, before any reference is loaded).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

#: (module, case) in run order; prepare steps write the stores later cases read.
ORDER: list[tuple[str, str]] = [
    ("bench_cka", "cka_matrix"),
    ("bench_cka", "cka_gram"),
    ("bench_cka", "cka_gemm"),
    ("bench_cka", "prepare_cka_stores"),
    ("bench_cka", "cka_stream"),
    ("bench_metrics", "rdm_ref"),
    ("bench_metrics", "rdm_brute"),
    ("bench_metrics", "distance_ref"),
    ("bench_metrics", "ridge_ref"),
    ("bench_metrics", "knn_exact"),
    ("bench_metrics", "knn_cap"),
    ("bench_metrics", "pr_ref"),
    ("bench_metrics", "prepare_metric_store"),
    ("bench_metrics", "rdm_1e6"),
    ("bench_metrics", "distance_1e6"),
    ("bench_metrics", "ridge_1e6"),
    ("bench_metrics", "knn_1e6"),
    ("bench_metrics", "pr_1e6"),
    ("bench_similarity", "prepare_similarity_stores"),
    ("bench_similarity", "similarity_1e6"),
    ("bench_similarity", "similarity_ref"),
    ("bench_extract", "extract"),
    ("bench_attribution", "attribution"),
    ("bench_scaling", "scaling"),
    ("bench_workflow", "workflow_plan"),
    ("bench_workflow", "job_startup"),
    ("bench_workflow", "workflow_run"),
]
MODULE = {case: module for module, case in ORDER}
NEEDS = {
    "cka_stream": "prepare_cka_stores",
    "similarity_1e6": "prepare_similarity_stores",
    "similarity_ref": "prepare_similarity_stores",
    **{
        c: "prepare_metric_store"
        for c in ("rdm_1e6", "distance_1e6", "ridge_1e6", "knn_1e6", "pr_1e6")
    },
}
MARKER = "BENCH_RESULT "


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small sizes (a smoke test, minutes)")
    p.add_argument("--only", default="", help="comma-separated case names (default: all)")
    p.add_argument("--out", type=Path, default=REPO / "bench", help="where results.* go")
    p.add_argument("--workdir", type=Path, default=None, help="scratch folder (kept if given)")
    p.add_argument("--repeats", type=int, default=5, help="repeats of the small timings")
    p.add_argument("--timeout", type=int, default=900, help="seconds per case")
    p.add_argument(
        "--workflow-models",
        type=int,
        default=None,
        help="models in the workflow_run case (default 5, 3 with --quick; the 50-model\n"
        "measurement of the README takes about 45 min: --workflow-models 50 --timeout 7200)",
    )
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    return p.parse_args(argv)


# ----------------------------------------------------------------------------- child side


def run_child(args: argparse.Namespace) -> None:
    import importlib

    from tests.benchmarks.common import Context, peak_rss_mib

    module = importlib.import_module(f"tests.benchmarks.{MODULE[args.child]}")
    extra: dict[str, Any] = {"out": args.out}  # cases that write their own files (scaling)
    if args.workflow_models:
        extra["workflow_models"] = args.workflow_models
    ctx = Context(workdir=args.workdir, quick=args.quick, repeats=args.repeats, extra=extra)
    t0 = time.perf_counter()
    rows = module.CASES[args.child](ctx)
    wall = time.perf_counter() - t0
    peak = peak_rss_mib()
    for r in rows:
        r.setdefault("peak_mib", peak)
        r["case_id"] = args.child
    payload = {"rows": rows, "wall_s": wall, "process_peak_mib": peak}
    print(MARKER + json.dumps(payload, default=_plain), flush=True)


def _plain(value: Any) -> Any:
    """numpy scalars (bool_, float64 ...) as Python values for JSON."""
    return value.item() if hasattr(value, "item") else str(value)


# ----------------------------------------------------------------------------- parent side


def _selected(only: str) -> list[str]:
    names = [c for _, c in ORDER]
    if not only:
        return names
    wanted = [w.strip() for w in only.split(",") if w.strip()]
    unknown = sorted(set(wanted) - set(names))
    if unknown:
        raise SystemExit(f"unknown case(s) {unknown}; valid: {', '.join(names)}")
    return [n for n in names if n in wanted]


def _store_exists(case: str, workdir: Path) -> bool:
    files = {
        "prepare_cka_stores": ["cka_model_a.zarr", "cka_model_b.zarr"],
        "prepare_metric_store": ["metrics.zarr"],
        "prepare_similarity_stores": ["similarity_a.zarr", "similarity_b.zarr"],
    }
    return all((workdir / f).exists() for f in files[case])


def _run_case(name: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        name,
        "--workdir",
        str(workdir),
    ]
    cmd += ["--repeats", str(args.repeats), "--out", str(Path(args.out).resolve())]
    cmd += ["--quick"] if args.quick else []
    if args.workflow_models:
        cmd += ["--workflow-models", str(args.workflow_models)]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout, cwd=REPO)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {args.timeout} s", "wall_s": time.perf_counter() - t0}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(MARKER):
            return json.loads(line[len(MARKER) :])
    tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
    return {"error": f"exit code {proc.returncode}:\n{tail}", "wall_s": time.perf_counter() - t0}


def _fmt(value: Any, kind: str) -> str:
    if value is None or value == "":
        return ""
    if kind == "s":
        v = float(value)
        return f"{v:.3g}" if v < 100 else f"{v:.0f}"
    if kind == "ratio":
        v = float(value)
        return f"{v:.0f}x" if v >= 100 else (f"{v:.1f}x" if v >= 10 else f"{v:.3g}")
    if kind == "diff":
        v = float(value)
        return "0" if v == 0 else f"{v:.1e}"
    if kind == "mib":
        return f"{float(value):.0f}"
    if kind == "met":
        return {True: "yes", False: "**no**"}.get(value, "")
    return str(value)


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def write_markdown(path: Path, rows: list[dict], meta: dict) -> None:
    head = "| case | size | ours (s) | reference (s) | ratio | max abs diff | peak MiB | target | met? |"
    lines = [
        "# Benchmarks",
        "",
        f"Run {meta['started']} on {meta['machine']} ({meta['cpus']} CPUs), "
        f"{meta['threads']} BLAS/torch thread(s), numpy {meta['numpy']}, torch {meta['torch']}; "
        f"{'quick sizes' if meta['quick'] else 'full sizes'}; total {meta['total_s']:.0f} s. "
        f"Load average before {meta['load_before']}, after {meta['load_after']} "
        "(other processes on the machine slow the timings).",
        "",
        "ratio = reference / ours (speed-up; GEMM: fraction of numpy float32 matmul throughput; "
        "extraction: fraction of plain-forward throughput).",
        "",
        f"Targets: {sum(r.get('met') is True for r in rows)} met, "
        f"{sum(r.get('met') is False for r in rows)} missed"
        + (
            ": " + "; ".join(_cell(r["case"]) for r in rows if r.get("met") is False)
            if any(r.get("met") is False for r in rows)
            else ""
        )
        + ". Agreement failures: "
        + ("; ".join(_cell(f) for f in meta["failures"]) if meta["failures"] else "none")
        + ".",
        "",
        head,
        "|" + "---|" * 9,
    ]
    for r in rows:
        lines.append(
            "| "
            + " | ".join(
                _cell(c)
                for c in [
                    r.get("case", ""),
                    r.get("size", ""),
                    _fmt(r.get("ours_s"), "s"),
                    _fmt(r.get("reference_s"), "s"),
                    _fmt(r.get("ratio"), "ratio"),
                    _fmt(r.get("max_abs_diff"), "diff"),
                    _fmt(r.get("peak_mib"), "mib"),
                    r.get("target", ""),
                    _fmt(r.get("met"), "met"),
                ]
            )
            + " |"
        )
    lines += ["", "## Notes", ""]
    for r in rows:
        if r.get("note") or r.get("error"):
            text = r.get("error") or r.get("note")
            lines.append(f"- **{_cell(r.get('case', ''))}** ({r.get('size', '')}): {text}")
    path.write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.child:
        args.workdir = Path(args.workdir)
        run_child(args)
        return
    names = _selected(args.only)
    keep = args.workdir is not None
    workdir = Path(args.workdir) if keep else Path(tempfile.mkdtemp(prefix="cebra_lens_bench_"))
    workdir.mkdir(parents=True, exist_ok=True)
    for case in list(names):  # a 10^6 case needs its store: add the prepare step if missing
        need = NEEDS.get(case)
        if need and need not in names and not _store_exists(need, workdir):
            names.insert(names.index(case), need)
    load_before = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    started = dt.datetime.now().isoformat(timespec="seconds")
    t0 = time.perf_counter()
    rows: list[dict] = []
    failures: list[str] = []
    try:
        for name in names:
            print(f"[bench] {name} ...", flush=True)
            out = _run_case(name, args, workdir)
            if "error" in out:
                failures.append(f"{name}: {out['error']}")
                rows.append({"case": name, "case_id": name, "error": out["error"]})
                print(f"[bench] {name} FAILED: {out['error']}", flush=True)
                continue
            for r in out["rows"]:
                rows.append(r)
                if r.get("agree") is False:
                    failures.append(
                        f"{r['case']}: max |diff| {r['max_abs_diff']:.3g} > tolerance {r['tolerance']:.3g}"
                    )
                flag = "" if r.get("met") is not False else "  (target missed)"
                ours = r.get("ours_s")
                print(
                    f"    {r['case']}: ours {ours if ours is None else round(ours, 4)} s{flag}",
                    flush=True,
                )
            print(f"[bench] {name} done in {out['wall_s']:.1f} s", flush=True)
    finally:
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
    import numpy as np
    import torch

    meta = {
        "started": started,
        "total_s": time.perf_counter() - t0,
        "quick": args.quick,
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "threads": os.environ.get("OMP_NUM_THREADS", ""),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "load_before": load_before,
        "load_after": ", ".join(f"{x:.2f}" for x in os.getloadavg()),
        "failures": failures,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(
        json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n"
    )
    write_markdown(args.out / "results.md", rows, meta)
    print(f"[bench] wrote {args.out / 'results.md'} and results.json ({meta['total_s']:.0f} s)")
    missed = [r["case"] for r in rows if r.get("met") is False]
    if missed:
        print("[bench] targets missed: " + "; ".join(missed))
    if failures:
        print("[bench] FAILED:\n  " + "\n  ".join(failures), file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
