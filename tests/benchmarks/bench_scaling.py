"""Scaling curves (case ``scaling`` for ``run_all``; also ``python tests/benchmarks/bench_scaling.py``).

Wall time and peak resident memory of each analysis against the recording length
T = 10^3, 10^4, 10^5, 10^6 (10^3, 10^4 with ``--quick``), every (analysis, T) point in its own
subprocess (so its ``VmHWM`` is its own), on the synthetic data of the other cases:

- ``extraction``: :func:`cebra_lens_core.activations.iter_activation_chunks` of an untrained
  ``offset10-model`` over a T × 100 Poisson recording (every layer, 50k chunks), as
  ``bench_extract``; the peak includes the T × 100 float32 input;
- ``CKA (streamed)``: linear ``cka_matrix`` of 2 models × 6 layers × 32 units read from two
  zarr stores, as ``cka_stream``;
- ``RDM``, ``distance``: ``rdm_analysis`` / ``distance_analysis`` (20 bins) of the metric store
  of ``prepare_metric_store`` (a 100-unit and a 32-unit layer);
- ``ridge decoding``: ``decoding_analysis`` (ridge + 5 shuffled controls) of both layers;
- ``kNN decoding``: ``decoding_analysis`` (kNN + 5 shuffled controls, ``knn_max_samples`` =
  ``DEFAULT_KNN_MAX_SAMPLES``) of the 32-unit layer.

Analyses use the ``position`` label only (the ``direction`` label has a single class in the
first 1,000 time points). A point's time is the median of 3 runs after a warm-up on the
T = 10^3 data for T <= 10^4, one run after the warm-up above; its memory is the peak RSS of
the process (imports included). The stores are written once per T into the scratch folder
(the T = 10^6 stores of ``prepare_cka_stores`` / ``prepare_metric_store`` are reused when an
earlier case of the same run wrote them).

The case writes ``scaling.json``, ``scaling.md`` and ``scaling.png`` next to ``results.md``:
(a) time and peak memory against T on log-log axes with the fitted exponent (least-squares
slope of log time against log T over the points) in the legend; (b) the workflow's wall time
against the number of models, from ``workflow_scaling.json`` (written by ``make
bench-workflow``, ``tests/benchmarks/workflow_scaling.py``: 5, 20 and 50 models take about
20 min, too long for ``make bench``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks.common import (  # noqa: E402
    REPO,
    Context,
    median_time,
    once,
    peak_rss_mib,
    row,
    rss_mib,
)

#: Recording lengths of the full and the quick run.
SIZES_FULL: tuple[int, ...] = (1_000, 10_000, 100_000, 1_000_000)
SIZES_QUICK: tuple[int, ...] = (1_000, 10_000)
#: Analyses in plot order: (key, label in the table and legend).
ANALYSES: tuple[tuple[str, str], ...] = (
    ("extraction", "extraction (all layers)"),
    ("cka", "CKA (streamed, 2x6x32)"),
    ("rdm", "RDM"),
    ("distance", "distance"),
    ("ridge", "ridge decoding"),
    ("knn", "kNN decoding (capped)"),
)
LABEL = dict(ANALYSES)
#: Points at or below this T are the median of 3 runs (after a warm-up), larger ones one run.
MEDIAN_UP_TO = 10_000
POINT_MARKER = "SCALING_POINT "
POINT_TIMEOUT_S = 600
WORKFLOW_JSON = "workflow_scaling.json"


# ------------------------------------------------------------------------------ the fit


def fit_exponent(sizes: Sequence[float], seconds: Sequence[float]) -> float:
    """Least-squares slope of ``log(seconds)`` against ``log(sizes)`` (NaN with < 2 points).

    ``seconds = c * sizes**p`` gives ``p``; points that are missing or not positive are left
    out.
    """
    import numpy as np

    x, y = np.asarray(sizes, dtype=float), np.asarray(seconds, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    if ok.sum() < 2 or np.ptp(x[ok]) == 0:
        return float("nan")
    return float(np.polyfit(np.log(x[ok]), np.log(y[ok]), 1)[0])


# ------------------------------------------------------------------------------ data


@dataclass
class _AtSize(Context):
    """A context whose ``size()`` is a fixed T (to reuse the other modules' prepare steps)."""

    t: int = 0

    def size(self, full: int, quick: int) -> int:
        return self.t


def store_dir(workdir: Path, t: int) -> Path:
    return Path(workdir) / "scaling" / f"T{t}"


def _store_time(path: Path) -> int | None:
    """T of a complete-looking store at ``path`` (None when absent or unreadable)."""
    if not path.exists():
        return None
    try:
        from cebra_lens_core.activations.store import open_activation_store

        return int(open_activation_store(path).sizes["time"])
    except (OSError, ValueError, KeyError):
        return None


def _remove(path: Path) -> None:
    if path.is_symlink():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


def prepare_stores(ctx: Context, sizes: Sequence[int]) -> list[dict]:
    """The CKA stores and the metric store of every T (reusing the run's own T-sized ones)."""
    from tests.benchmarks.bench_cka import prepare_cka_stores
    from tests.benchmarks.bench_metrics import prepare_metric_store

    log = []
    for t in sizes:
        folder = store_dir(ctx.workdir, t)
        folder.mkdir(parents=True, exist_ok=True)
        sub = _AtSize(workdir=folder, quick=ctx.quick, t=t)
        for names, prepare in (
            (("cka_model_a.zarr", "cka_model_b.zarr"), prepare_cka_stores),
            (("metrics.zarr",), prepare_metric_store),
        ):
            if all(_store_time(folder / n) == t for n in names):
                continue
            shared = [Path(ctx.workdir) / n for n in names]
            if all(_store_time(p) == t for p in shared):  # written by an earlier case
                for n, p in zip(names, shared, strict=True):
                    _remove(folder / n)
                    (folder / n).symlink_to(p.resolve(), target_is_directory=True)
                log.append({"t": t, "stores": list(names), "s": 0.0, "reused": True})
                continue
            for n in names:
                _remove(folder / n)
            sec, _ = once(lambda p=prepare, s=sub: p(s))
            log.append({"t": t, "stores": list(names), "s": sec, "reused": False})
    return log


# ------------------------------------------------------------------------------ one point


def _quiet(fn: Callable[[], Any]) -> Callable[[], Any]:
    def run() -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn()

    return run


def _analysis_fn(analysis: str, folder: Path) -> Callable[[], Any]:
    """The measured call of ``analysis`` on the stores in ``folder`` (opened here, not timed)."""
    from cebra_lens_core.activations.store import layer_names, open_activation_store

    if analysis == "cka":
        from cebra_lens_core.metrics.cka import cka_matrix

        sa = open_activation_store(folder / "cka_model_a.zarr")
        sb = open_activation_store(folder / "cka_model_b.zarr")
        a, b = [sa[v] for v in layer_names(sa)], [sb[v] for v in layer_names(sb)]
        return lambda: cka_matrix(a, b)
    store = open_activation_store(folder / "metrics.zarr")
    if analysis == "rdm":
        from cebra_lens_core.analyses.rdm import rdm_analysis

        return _quiet(lambda: rdm_analysis(store, name="bench", labels=["position"], n_bins=20))
    if analysis == "distance":
        from cebra_lens_core.analyses.distance import distance_analysis

        return _quiet(
            lambda: distance_analysis(store, name="bench", labels=["position"], n_bins=20)
        )
    from cebra_lens_core.analyses.decoding import decoding_analysis
    from cebra_lens_core.metrics.decoding import DEFAULT_KNN_MAX_SAMPLES

    if analysis == "ridge":
        return _quiet(
            lambda: decoding_analysis(store, name="bench", labels=["position"], decoders=["ridge"])
        )
    if analysis == "knn":
        return _quiet(
            lambda: decoding_analysis(
                store,
                name="bench",
                labels=["position"],
                decoders=["knn"],
                layers=[1],
                knn_max_samples=DEFAULT_KNN_MAX_SAMPLES,
            )
        )
    raise ValueError(f"unknown analysis {analysis!r}")


def _extraction_fns(t: int) -> tuple[Callable[[], Any], Callable[[], Any]]:
    """(warm-up, measured) iteration of ``iter_activation_chunks`` over a T × 100 recording."""
    from cebra_lens_core.activations import iter_activation_chunks
    from tests.benchmarks.common import extraction_model_and_recording

    model, neural = extraction_model_and_recording(t)

    def run(x: Any) -> int:
        n = 0
        for start, stop, _arrays in iter_activation_chunks(model, x, chunk_size=50_000):
            n += stop - start
        return n

    return (lambda: run(neural[: min(t, 2000)])), (lambda: run(neural))


def measure_point(analysis: str, t: int, workdir: Path, warm_t: int) -> dict[str, Any]:
    """Time and peak RSS of one (analysis, T) point in this process (run it in a fresh one)."""
    if analysis == "extraction":
        warm, fn = _extraction_fns(t)
    else:
        warm = _analysis_fn(analysis, store_dir(workdir, warm_t))
        fn = _analysis_fn(analysis, store_dir(workdir, t))
    warm()  # lazy imports, allocator, kernels: one-off costs are not part of the curve
    base = rss_mib()
    if t <= MEDIAN_UP_TO:
        sec, _ = median_time(fn, repeats=3, warmup=0)
        runs = 3
    else:
        sec, _ = once(fn)
        runs = 1
    return {
        "analysis": analysis,
        "t": t,
        "wall_s": sec,
        "peak_mib": peak_rss_mib(),
        "base_mib": base,
        "runs": runs,
    }


def run_point(analysis: str, t: int, workdir: Path, warm_t: int) -> dict[str, Any]:
    """:func:`measure_point` in its own subprocess (its ``VmHWM`` is its own)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--point", analysis, "--t", str(t)]
    cmd += ["--workdir", str(workdir), "--warm-t", str(warm_t)]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=POINT_TIMEOUT_S, cwd=REPO
        )
    except subprocess.TimeoutExpired:
        return {"analysis": analysis, "t": t, "error": f"timed out after {POINT_TIMEOUT_S} s"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(POINT_MARKER):
            out = json.loads(line[len(POINT_MARKER) :])
            out["process_s"] = time.perf_counter() - t0
            return out
    tail = " ".join((proc.stderr or proc.stdout).strip().splitlines()[-5:])
    return {"analysis": analysis, "t": t, "error": f"exit code {proc.returncode}: {tail}"}


# ------------------------------------------------------------------------------ the case


def _out_dir(ctx: Context) -> Path:
    return Path(ctx.extra.get("out") or REPO / "bench")


def load_workflow_points(out: Path) -> list[dict]:
    """Measured workflow runs (latest per model count; dry runs left out), by model count.

    Read from ``out/workflow_scaling.json``, else the repository's ``bench/`` one.
    """
    for path in (Path(out) / WORKFLOW_JSON, REPO / "bench" / WORKFLOW_JSON):
        if path.exists():
            try:
                entries = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            latest: dict[int, dict] = {}
            for e in entries if isinstance(entries, list) else []:
                if e.get("dry_run") or not e.get("wall_s"):
                    continue
                n = int(e["n_models"])
                if n not in latest or str(e.get("date", "")) >= str(latest[n].get("date", "")):
                    latest[n] = e
            if latest:
                return [latest[n] for n in sorted(latest)]
    return []


def case_scaling(ctx: Context) -> list[dict]:
    sizes = SIZES_QUICK if ctx.quick else SIZES_FULL
    prepared = prepare_stores(ctx, sizes)
    points: list[dict] = []
    for key, _ in ANALYSES:
        for t in sizes:
            points.append(run_point(key, t, ctx.workdir, warm_t=sizes[0]))
    exponents = {
        key: fit_exponent(
            [p["t"] for p in points if p["analysis"] == key and "error" not in p],
            [p["wall_s"] for p in points if p["analysis"] == key and "error" not in p],
        )
        for key, _ in ANALYSES
    }
    out = _out_dir(ctx)
    out.mkdir(parents=True, exist_ok=True)
    meta = {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "quick": ctx.quick,
        "sizes": list(sizes),
        "stores": prepared,
    }
    payload = {"meta": meta, "points": points, "exponents": exponents}
    (out / "scaling.json").write_text(json.dumps(payload, indent=2) + "\n")
    write_outputs(out)
    failed = [f"{p['analysis']} T={p['t']:,}: {p['error']}" for p in points if "error" in p]
    if failed:
        raise RuntimeError("scaling points failed: " + "; ".join(failed))
    rows = []
    for key, label in ANALYSES:
        mine = [p for p in points if p["analysis"] == key]
        last = mine[-1]
        times = ", ".join(f"{p['wall_s']:.3g}" for p in mine)
        peaks = ", ".join(f"{p['peak_mib']:.0f}" for p in mine)
        rows.append(
            row(
                f"scaling: {label}",
                f"T={sizes[0]:,} ... {sizes[-1]:,} ({len(sizes)} points)",
                ours_s=last["wall_s"],
                peak_mib=last["peak_mib"],
                note=(
                    f"fitted exponent {exponents[key]:.2f} (time ~ T^p over the points); "
                    f"wall s {times}; peak MiB {peaks}; ours/peak = largest T; "
                    "per point: scaling.md, scaling.png"
                ),
                exponent=exponents[key],
                points=mine,
            )
        )
    return rows


# ------------------------------------------------------------------------------ outputs


def _g(v: float) -> str:
    return f"{v:.3g}" if v < 100 else f"{v:.0f}"


def write_outputs(out: Path) -> None:
    """``scaling.md`` and ``scaling.png`` from ``out/scaling.json`` and the workflow points."""
    data = json.loads((Path(out) / "scaling.json").read_text())
    workflow = load_workflow_points(out)
    write_scaling_markdown(
        Path(out) / "scaling.md", data["points"], data["exponents"], workflow, data["meta"]
    )
    draw_figure(out)


def write_scaling_markdown(
    path: Path, points: list[dict], exponents: dict, workflow: list[dict], meta: dict
) -> None:
    lines = [
        "# Scaling curves",
        "",
        f"Run {meta['date']} ({'quick sizes' if meta['quick'] else 'full sizes'}); every point "
        "in its own process. Wall s: median of 3 runs for T <= 10^4, one run above (after a "
        "warm-up on T = 10^3); peak MiB: peak RSS of the point's process, imports included "
        "(extraction: also the T x 100 float32 input). Fitted exponent p: least-squares slope "
        "of log time against log T over the points (time ~ T^p); local slope: between this "
        "point and the previous one. Figure: scaling.png.",
        "",
        "| analysis | T | wall s | peak MiB | fitted exponent | local slope |",
        "|---|---|---|---|---|---|",
    ]
    for key, label in ANALYSES:
        mine = [p for p in points if p["analysis"] == key]
        prev = None
        for i, p in enumerate(mine):
            expo = f"{exponents[key]:.2f}" if i == 0 else ""
            if "error" in p:
                lines.append(f"| {label} | {p['t']:,} | failed |  | {expo} |  |")
                prev = None
                continue
            local = (
                f"{fit_exponent([prev['t'], p['t']], [prev['wall_s'], p['wall_s']]):.2f}"
                if prev
                else ""
            )
            lines.append(
                f"| {label} | {p['t']:,} | {_g(p['wall_s'])} | {p['peak_mib']:.0f} | {expo} "
                f"| {local} |"
            )
            prev = p
    lines += ["", "## Workflow against the number of models", ""]
    if workflow:
        lines += [
            "From workflow_scaling.json (`make bench-workflow`): a real run of n small "
            "CEBRA-Time models on one recording, CKA grouped (`cka.stores_per_job: 16`), "
            "2 cores; peak MiB = the largest process of the run.",
            "",
            "| models | wall min | jobs | peak MiB | date |",
            "|---|---|---|---|---|",
        ]
        for e in workflow:
            lines.append(
                f"| {e['n_models']} | {e['wall_s'] / 60:.1f} | {e.get('jobs', '')} "
                f"| {float(e.get('peak_mib') or 0):.0f} | {e.get('date', '')} |"
            )
        expo = fit_exponent([e["n_models"] for e in workflow], [e["wall_s"] for e in workflow])
        lines += ["", f"Fitted exponent (wall time ~ models^p): {expo:.2f}."]
    else:
        lines.append("Not measured: run `make bench-workflow` (about 8 min).")
    path.write_text("\n".join(lines) + "\n")


def draw_figure(out: Path) -> Path | None:
    """``out/scaling.png`` from ``out/scaling.json`` and the workflow points (None: no data)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    out = Path(out)
    source = out / "scaling.json"
    if not source.exists():
        return None
    data = json.loads(source.read_text())
    points = [p for p in data["points"] if "error" not in p]
    exponents = data["exponents"]
    sizes = data["meta"]["sizes"]
    workflow = load_workflow_points(out)

    fig = plt.figure(figsize=(13, 7.5))
    grid = fig.add_gridspec(2, 2, width_ratios=[1.35, 1], hspace=0.08, wspace=0.25)
    ax_t = fig.add_subplot(grid[0, 0])
    ax_m = fig.add_subplot(grid[1, 0], sharex=ax_t)
    ax_w = fig.add_subplot(grid[:, 1])
    colours = plt.get_cmap("tab10").colors
    for i, (key, label) in enumerate(ANALYSES):
        mine = [p for p in points if p["analysis"] == key]
        if not mine:
            continue
        ts = [p["t"] for p in mine]
        c = colours[i % len(colours)]
        ax_t.plot(
            ts,
            [p["wall_s"] for p in mine],
            "o-",
            color=c,
            label=f"{label}: p = {exponents[key]:.2f}",
        )
        ax_m.plot(ts, [p["peak_mib"] for p in mine], "o-", color=c)
    if points:  # a slope-1 guide through the geometric mean of the largest-T times
        top = [p["wall_s"] for p in points if p["t"] == max(sizes)]
        anchor = float(np.exp(np.mean(np.log(top)))) if top else 1.0
        guide = np.array([min(sizes), max(sizes)], dtype=float)
        ax_t.plot(guide, anchor * guide / guide[-1], ":", color="0.5", label="reference: time ~ T")
    ax_t.set(xscale="log", yscale="log", ylabel="wall time (s)")
    ax_t.set_title(
        "(a) analyses against recording length T (time ~ T^p, p fitted over the points)",
        fontsize=10,
        loc="left",
    )
    ax_t.grid(True, which="major", alpha=0.3)
    ax_t.tick_params(labelbottom=False)
    ax_m.set(xscale="log", yscale="log", xlabel="time points T", ylabel="peak memory (MiB)")
    ax_m.grid(True, which="major", alpha=0.3)
    ax_m.set_xticks(sizes)
    for ax, subs in ((ax_t, (1.0,)), (ax_m, (1.0, 2.0, 5.0))):
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=subs))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(NullFormatter())
    ax_m.legend(
        *ax_t.get_legend_handles_labels(),
        fontsize=8.5,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.16),
        ncol=2,
        frameon=False,
    )

    ax_w.set_title("(b) workflow wall time against the number of models", fontsize=10, loc="left")
    ax_w.set(xlabel="models (one recording, CKA grouped)", ylabel="wall time (min)")
    if workflow:
        n = [e["n_models"] for e in workflow]
        minutes = [e["wall_s"] / 60 for e in workflow]
        expo = fit_exponent(n, minutes)
        ax_w.plot(n, minutes, "o-", color="k", label=f"measured: p = {expo:.2f} (time ~ n^p)")
        for e, m in zip(workflow, minutes, strict=True):
            ax_w.annotate(
                f"{m:.1f} min, {e.get('jobs', '?')} jobs",
                (e["n_models"], m),
                textcoords="offset points",
                xytext=(6, -12),
                fontsize=8,
            )
        ax_w.set_xlim(0, max(n) * 1.35)
        ax_w.set_ylim(0, max(minutes) * 1.15)
        ax_w.set_xticks(n)
        ax_w.legend(fontsize=8, loc="upper left")
        ax_w.grid(True, alpha=0.3)
    else:
        ax_w.set_xlim(0, 55)
        ax_w.set_ylim(0, 1)
        ax_w.set_xticks([5, 20, 50])
        ax_w.set_yticks([])
        ax_w.text(
            0.5,
            0.5,
            "not measured:\nrun `make bench-workflow`",
            transform=ax_w.transAxes,
            ha="center",
            va="center",
            fontsize=11,
            color="0.4",
        )
    mode = "quick sizes" if data["meta"]["quick"] else "full sizes"
    fig.suptitle(
        f"CEBRA-Lens scaling ({mode}, {data['meta']['date']}; 1 BLAS/torch thread)", fontsize=11
    )
    path = out / "scaling.png"
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path


CASES = {"scaling": case_scaling}


def _point_main(argv: list[str]) -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--point", required=True)
    p.add_argument("--t", type=int, required=True)
    p.add_argument("--workdir", type=Path, required=True)
    p.add_argument("--warm-t", type=int, required=True)
    args = p.parse_args(argv)
    out = measure_point(args.point, args.t, args.workdir, args.warm_t)
    print(POINT_MARKER + json.dumps(out), flush=True)


if __name__ == "__main__":
    if "--point" in sys.argv[1:]:
        _point_main(sys.argv[1:])
    else:
        from tests.benchmarks.run_all import main

        main(["--only", ",".join(CASES), *sys.argv[1:]])
