"""GPU benchmarks (``make bench-gpu``): one short script, a few minutes on one GPU.

    OMP_NUM_THREADS=1 python tests/benchmarks/bench_gpu.py [--out DIR] [--only a,b]
    OMP_NUM_THREADS=1 python tests/benchmarks/bench_gpu.py --dry-run-cpu --out /tmp/x

Writes ``DIR/gpu.json`` and ``DIR/gpu.md`` (default ``DIR`` = ``bench/``), after every case
(so a run stopped at its time limit leaves what it measured). Cases, in run order:

- ``cka``: :func:`cebra_lens_core.metrics.cka.cka_matrix` with ``device="cuda"`` (torch,
  float64 accumulation, chunks kept on the GPU between the two passes when they fit) on
  2 models × 6 layers × 32 units, T = 10^6, float32, in memory; linear and debiased. The
  reference is the numpy path (``device=None``), timed on the first T = 10^5 rows only (to
  keep the run short); the values are compared on those same 10^5 rows (GPU vs numpy,
  tolerance 1e-6). ratio = GPU samples/s ÷ numpy samples/s.
- ``extract``: :func:`cebra_lens_core.activations.iter_activation_chunks` on cuda over a
  T = 10^6 × 100 Poisson recording (untrained ``offset10-model``) with 50k and 250k chunks,
  against a plain forward pass of the same encoder on the same device in the same windows
  (upload, forward, embedding back to the host); ratio = ours ÷ plain throughput, diff =
  embedding vs plain. Also every layer on the first 10^5 rows: GPU vs CPU (throughput and
  relative difference; cuDNN may use TF32 for convolutions).
- ``train``: :func:`cebra_lens_core.models.train_model` on cuda, 300 iterations, batch 512
  (the TrainingSpec default), the attribution dataset, CEBRA-Behavior on its 3 latents
  (as ``bench_attribution.py``); iterations/s against the same training on the CPU for 30
  iterations (and, when ``bench/results.json`` of ``make bench`` is present, the rate that
  the CPU bench reported).
- ``attribution``: the Jacobian methods of
  :func:`cebra_lens_core.metrics.attribution.compute_attribution` (float64 Jacobian on the
  device; the pseudo-inverses run with numpy on the host in both cases) with the model just
  trained (300 iterations; an untrained encoder if training failed), on every embedding
  row on cuda; the CPU reference on 500 seeded rows, the same rows also on cuda for the
  values (tolerance 1e-6, relative to the map's largest entry).

Every timing: one warm-up call first, ``torch.cuda.synchronize()`` before and after each
timed call, medians of ``--repeats`` where repeated. CPU references use
``--cpu-threads`` torch threads (default 1, as ``make bench``) and ``OMP_NUM_THREADS``.

Without a visible CUDA device the script prints one line and exits with status 2 (nothing
measured). ``--dry-run-cpu`` runs every case on the CPU at tiny sizes (T = 2000) to exercise
the code paths (writes ``gpu-dry-run.json`` / ``.md`` so real results are never
overwritten). Exit status 1 when a case failed or a value check disagreed.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import gc
import json
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks.common import (  # noqa: E402
    REPO,
    interleaved_medians,
    max_abs_diff,
    median_time,
    once,
    row,
)
from tests.benchmarks.run_all import _cell, _fmt  # noqa: E402

NO_GPU = (
    "bench_gpu: no CUDA device is visible (torch.cuda.is_available() is False); "
    "nothing measured (use --dry-run-cpu to exercise the code on the CPU)"
)
CASE_NAMES = ("cka", "extract", "train", "attribution")
N_MODELS, N_LAYERS, N_UNITS = 2, 6, 32


@dataclass
class Sizes:
    cka_t: int = 1_000_000
    cka_sub: int = 100_000
    ext_t: int = 1_000_000
    ext_sub: int = 100_000
    ext_chunks: tuple[int, ...] = (50_000, 250_000)
    neurons: int = 100
    train_iters: int = 300
    train_warmup_iters: int = 10
    train_cpu_iters: int = 30
    attr_timepoints: int = 5000
    attr_cpu_samples: int = 500
    attr_batch: int = 256


DRY_SIZES = Sizes(
    cka_t=2000,
    cka_sub=200,
    ext_t=2000,
    ext_sub=200,
    ext_chunks=(500, 1000),
    train_iters=20,
    train_warmup_iters=2,
    train_cpu_iters=5,
    attr_timepoints=2000,
    attr_cpu_samples=50,
)


@dataclass
class Bench:
    device: str
    dry_run: bool
    sizes: Sizes
    repeats: int
    out: Path
    meta: dict[str, Any]
    rows: list[dict] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def cuda(self) -> bool:
        return self.device.startswith("cuda")

    def sync(self) -> None:
        if self.cuda:
            import torch

            torch.cuda.synchronize()

    def synced(self, fn: Callable[[], Any]) -> Callable[[], Any]:
        """``fn`` with ``torch.cuda.synchronize()`` before and after (no-op on the CPU)."""

        def call() -> Any:
            self.sync()
            out = fn()
            self.sync()
            return out

        return call


def rate(n: float, seconds: float | None, unit: str = "samples/s") -> str:
    if not seconds:
        return ""
    v = n / seconds
    return f"{v:,.0f} {unit}" if v >= 100 else f"{v:.3g} {unit}"


def gpu_row(
    case: str,
    size: str,
    *,
    n: float,
    ours_s: float,
    ref_n: float | None = None,
    reference_s: float | None = None,
    unit: str = "samples/s",
    **kw: Any,
) -> dict:
    """A :func:`row` with throughputs; ratio = ours throughput ÷ reference throughput."""
    ratio = None
    if reference_s and ours_s and ref_n:
        ratio = (n / ours_s) / (ref_n / reference_s)
    return row(
        case,
        size,
        ours_s=ours_s,
        reference_s=reference_s,
        ratio=ratio,
        throughput=rate(n, ours_s, unit),
        reference_throughput=rate(ref_n, reference_s, unit) if ref_n else "",
        **kw,
    )


def free_memory(b: Bench) -> None:
    gc.collect()
    if b.cuda:
        import torch

        torch.cuda.empty_cache()


# ----------------------------------------------------------------------------- CKA


def make_cka_layers(t: int, seed: int = 0, chunk: int = 100_000) -> tuple[list, list]:
    """2 models × 6 layers × 32 units, float32, a shared 8-d latent, offset 100 (tests centring)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    w = rng.standard_normal((N_MODELS, N_LAYERS, 8, N_UNITS), dtype=np.float32)
    layers = [
        [np.empty((t, N_UNITS), dtype=np.float32) for _ in range(N_LAYERS)] for _ in range(N_MODELS)
    ]
    for start in range(0, t, chunk):
        stop = min(t, start + chunk)
        z = rng.standard_normal((stop - start, 8), dtype=np.float32)
        for m in range(N_MODELS):
            for i in range(N_LAYERS):
                out = layers[m][i][start:stop]
                np.matmul(z, w[m, i], out=out)
                out += rng.standard_normal(out.shape, dtype=np.float32)
                out += 100.0
    return layers[0], layers[1]


def case_cka(b: Bench) -> list[dict]:
    from cebra_lens_core.metrics.cka import DEFAULT_DEVICE_CACHE_BYTES, cka_matrix

    t, sub = b.sizes.cka_t, b.sizes.cka_sub
    gen_s, (la, lb) = once(lambda: make_cka_layers(t))
    width = N_MODELS * N_LAYERS * N_UNITS
    cached = b.cuda and t * width * 4 <= DEFAULT_DEVICE_CACHE_BYTES
    sa, sb = [x[:sub] for x in la], [x[:sub] for x in lb]
    size = f"T={t:,}, {N_MODELS}x{N_LAYERS}x{N_UNITS} float32, in memory"
    rows = []
    for kind in ("linear", "debiased"):
        dev = b.synced(lambda k=kind: cka_matrix(la, lb, kind=k, device=b.device))
        sec, _ = median_time(dev, b.repeats, warmup=1)
        dev_sub = b.synced(lambda k=kind: cka_matrix(sa, sb, kind=k, device=b.device))
        sec_dev_sub, m_dev_sub = median_time(dev_sub, b.repeats, warmup=1)
        ref = lambda k=kind: cka_matrix(sa, sb, kind=k)  # noqa: E731
        sec_ref, m_ref = median_time(ref, b.repeats, warmup=1)
        diff = max_abs_diff(m_dev_sub, m_ref)
        gflop = 2.0 * t * width * width / 1e9
        rows.append(
            gpu_row(
                f"CKA matrix {kind}, device={b.device!r} vs numpy",
                size,
                n=t,
                ours_s=sec,
                ref_n=sub,
                reference_s=sec_ref,
                max_abs_diff=diff,
                tolerance=1e-6,
                note=(
                    f"reference: numpy path (device=None, {os.environ.get('OMP_NUM_THREADS')} "
                    f"BLAS thread(s)) timed on the first T={sub:,} rows only; ratio compares "
                    f"throughputs; values compared {b.device} vs numpy on those {sub:,} rows "
                    f"({b.device} there {sec_dev_sub:.3g} s, {rate(sub, sec_dev_sub)}); "
                    f"{gflop / sec:.0f} GFLOP/s GEMM-equivalent (2 T D^2, D={width}) at full T; "
                    f"chunks cached on the device between the passes: {cached}; "
                    f"data generation {gen_s:.1f} s (not timed)"
                ),
            )
        )
    return rows


# ----------------------------------------------------------------------------- extraction


def untrained_model(neurons: int) -> Any:
    import numpy as np

    from cebra_lens_core.data.types import Dataset, Session, blocked_split
    from cebra_lens_core.models import TrainingSpec, train_model

    small = np.random.default_rng(0).poisson(1.0, size=(2000, neurons)).astype(np.float32)
    ds = Dataset("bench", [Session(small, {}, blocked_split(2000, 0.2))], {})
    spec = TrainingSpec(architecture="offset10-model", max_iterations=0, batch_size=64)
    return train_model(ds, spec)  # on the CPU; iter_activation_chunks copies it to the device


def case_extract(b: Bench) -> list[dict]:
    import numpy as np
    import torch

    from cebra_lens_core.activations import iter_activation_chunks
    from cebra_lens_core.devices import torch_device

    s = b.sizes
    t, neurons, sub = s.ext_t, s.neurons, s.ext_sub
    model = untrained_model(neurons)
    rng = np.random.default_rng(1)
    neural = np.empty((t, neurons), dtype=np.float32)
    for start in range(0, t, 100_000):
        stop = min(t, start + 100_000)
        neural[start:stop] = rng.poisson(1.0, size=(stop - start, neurons))

    dev = torch_device(b.device)
    encoder = copy.deepcopy(model.model_).to(dev).eval()
    offset = encoder.get_offset()
    context = offset.left + offset.right - 1
    padded = np.pad(neural, ((offset.left, offset.right - 1), (0, 0)), mode="edge")
    x_host = torch.from_numpy(np.ascontiguousarray(padded.T))[None]  # (1, neurons, T + R)
    del padded
    n_out = encoder.num_output

    def plain(chunk: int) -> np.ndarray:
        out = np.empty((t, n_out), dtype=np.float32)
        with torch.no_grad():
            for start in range(0, t, chunk):
                stop = min(t, start + chunk)
                window = x_host[..., start : stop + context].to(dev)
                out[start:stop] = encoder(window).squeeze(0).T.cpu().numpy()
        return out

    def ours(chunk: int, data: np.ndarray = neural, device: str = b.device) -> np.ndarray:
        last = np.empty((len(data), n_out), dtype=np.float32)
        for start, stop, arrays in iter_activation_chunks(
            model, data, chunk_size=chunk, device=device
        ):
            last[start:stop] = arrays[-1]
        return last

    size = f"T={t:,} x {neurons} neurons, offset10-model (untrained)"
    rows = []
    for chunk in s.ext_chunks:
        fns = [b.synced(lambda c=chunk: plain(c)), b.synced(lambda c=chunk: ours(c))]
        for fn in fns:  # one warm-up each
            fn()
        (t_plain, ref), (t_ours, emb) = interleaved_medians(fns, b.repeats)
        diff = max_abs_diff(emb, ref)
        del ref, emb
        rows.append(
            gpu_row(
                f"extraction on {b.device}: all layers vs plain forward, {chunk:,}-row chunks",
                size,
                n=t,
                ours_s=t_ours,
                ref_n=t,
                reference_s=t_plain,
                max_abs_diff=diff,
                tolerance=1e-4,
                note=(
                    "ours = iter_activation_chunks(device=...) (input check, encoder copy to "
                    "the device, every layer captured, cropped on the device, copied to numpy); "
                    f"plain = encoder on the same device in the same windows (+{context} "
                    "context), embedding copied back; ratio = ours / plain throughput; diff = "
                    "embedding vs plain, every row; medians of interleaved runs"
                ),
            )
        )

    # every layer on the first `sub` rows: device vs CPU (all-CPU reference, one thread)
    def all_layers(device: str, n: int = sub) -> list[np.ndarray]:
        parts: list[list[np.ndarray]] = []
        for _, _, arrays in iter_activation_chunks(
            model, neural[:n], chunk_size=s.ext_chunks[0], device=device
        ):
            parts.append(arrays)
        return [np.concatenate(p) for p in zip(*parts, strict=True)]

    t_dev, lay_dev = median_time(b.synced(lambda: all_layers(b.device)), b.repeats, warmup=1)
    all_layers("cpu", min(sub, 2 * s.ext_chunks[0]))  # warm-up
    t_cpu, lay_cpu = once(lambda: all_layers("cpu"))
    diffs = [max_abs_diff(a, c) for a, c in zip(lay_dev, lay_cpu, strict=True)]
    scale = max(float(np.abs(c).max()) for c in lay_cpu)
    rel = max(diffs) / scale if scale else max(diffs)
    tf32 = bool(torch.backends.cudnn.allow_tf32) if b.cuda else False
    r = gpu_row(
        f"extraction on {b.device} vs CPU: all {len(lay_dev)} layers",
        f"T={sub:,} x {neurons} neurons (first rows of the above)",
        n=sub,
        ours_s=t_dev,
        ref_n=sub,
        reference_s=t_cpu,
        max_abs_diff=max(diffs),
        note=(
            f"reference: the same call with device='cpu' ({torch.get_num_threads()} torch "
            f"thread(s), one run after a short warm-up); max |diff| over every layer "
            f"{max(diffs):.2e}, relative to the largest |activation| ({scale:.3g}) {rel:.2e} "
            f"(check: relative <= 1e-2; cuDNN TF32 for convolutions: {tf32})"
        ),
        max_rel_diff=rel,
        rel_tolerance=1e-2,
    )
    r["agree"] = bool(rel <= 1e-2)
    rows.append(r)
    return rows


# ----------------------------------------------------------------------------- training


def attribution_spec(iterations: int) -> Any:
    from cebra_lens_core.data.synthetic import ATTRIBUTION_LATENTS
    from cebra_lens_core.models import TrainingSpec

    return TrainingSpec(
        architecture="offset10-model",
        output_dimension=8,
        conditional="behavior",
        labels=list(ATTRIBUTION_LATENTS),
        time_offsets=10,
        max_iterations=iterations,
        learning_rate=3e-4,
        seed=0,
    )  # batch_size: the default (512)


def attribution_dataset(b: Bench) -> Any:
    if "dataset" not in b.state:
        from cebra_lens_core.data.synthetic import attribution

        b.state["dataset"] = attribution(n_timepoints=b.sizes.attr_timepoints, seed=0)
    return b.state["dataset"]


def cpu_bench_training_rate() -> tuple[float, str] | None:
    """Iterations/s of the training row of ``bench/results.json`` (``make bench``), if present."""
    path = REPO / "bench" / "results.json"
    try:
        rows = json.loads(path.read_text())["rows"]
    except (OSError, ValueError, KeyError):
        return None
    for r in rows:
        if str(r.get("case", "")).startswith("attribution: train") and r.get("ours_s"):
            try:
                iters = int(str(r.get("size", "")).split()[0])
            except ValueError:
                continue
            return iters / float(r["ours_s"]), f"{iters} iterations in {r['ours_s']} s"
    return None


def case_train(b: Bench) -> list[dict]:
    from cebra_lens_core.models import train_model

    s = b.sizes
    ds = attribution_dataset(b)
    batch = attribution_spec(1).batch_size

    def train(iterations: int, device: str, marks: list | None = None) -> Any:
        def progress(done: int, total: int, note: str) -> None:
            if marks is not None and done < total:
                marks.append((time.perf_counter(), done))

        return train_model(ds, attribution_spec(iterations), device=device, progress=progress)

    b.synced(lambda: train(s.train_warmup_iters, b.device))()  # warm-up
    marks: list[tuple[float, int]] = []
    sec, model = once(b.synced(lambda: train(s.train_iters, b.device, marks)))
    steady = None
    if len(marks) >= 2 and marks[-1][0] > marks[0][0]:
        steady = (marks[-1][1] - marks[0][1]) / (marks[-1][0] - marks[0][0])
    b.state["model"] = model
    b.state["model_iterations"] = s.train_iters
    train(2, "cpu")  # CPU warm-up
    sec_cpu, _ = once(lambda: train(s.train_cpu_iters, "cpu"))
    import torch

    reported = cpu_bench_training_rate()
    loss = float(model.solver_.log["total"][-1])
    note = (
        f"attribution dataset ({ds.sessions[0].neural.shape[0]:,} x "
        f"{ds.sessions[0].neural.shape[1]} neurons), CEBRA-Behavior on 3 latents, "
        f"offset10-model D=8, batch {batch}; wall time of train_model incl. its set-up "
        f"(one warm-up of {s.train_warmup_iters} iterations first); "
    )
    if steady:
        note += f"steady rate from the progress callbacks {steady:.1f} it/s; "
    note += (
        f"reference: the same training on the CPU for {s.train_cpu_iters} iterations "
        f"({torch.get_num_threads()} torch thread(s)); final loss on {b.device} {loss:.3f}"
    )
    if reported:
        note += f"; make bench (bench/results.json) reported {reported[0]:.1f} it/s ({reported[1]})"
    else:
        note += "; no bench/results.json of make bench here to compare with"
    return [
        gpu_row(
            f"training on {b.device}: iterations/s",
            f"{s.train_iters} iterations, batch {batch}",
            n=s.train_iters,
            ours_s=sec,
            ref_n=s.train_cpu_iters,
            reference_s=sec_cpu,
            unit="it/s",
            note=note,
            steady_it_per_s=steady,
            cpu_bench_it_per_s=reported[0] if reported else None,
        )
    ]


# ----------------------------------------------------------------------------- attribution


def case_attribution(b: Bench) -> list[dict]:
    import numpy as np

    from cebra_lens_core.metrics.attribution import JACOBIAN_METHODS, compute_attribution
    from cebra_lens_core.models import get_encoder, train_model

    s = b.sizes
    ds = attribution_dataset(b)
    model = b.state.get("model")
    if model is None:
        model = train_model(ds, attribution_spec(0))
        trained = "an untrained encoder (the training case did not run)"
    else:
        trained = f"the model of the training case ({b.state['model_iterations']} iterations)"
    encoder = get_encoder(model)
    neural = ds.sessions[0].neural

    def run(device: str, samples: int | None) -> Any:
        return compute_attribution(
            encoder,
            neural,
            methods=JACOBIAN_METHODS,
            max_samples=samples,
            batch_size=s.attr_batch,
            seed=0,
            device=device,
        )

    b.synced(lambda: run(b.device, 64))()  # warm-up on the device
    sec_all, res_all = once(b.synced(lambda: run(b.device, None)))
    sec_sub, res_sub = once(b.synced(lambda: run(b.device, s.attr_cpu_samples)))
    run("cpu", 32)  # warm-up on the CPU
    sec_cpu, res_cpu = once(lambda: run("cpu", s.attr_cpu_samples))
    n_all, n_sub = res_all.n_samples, res_cpu.n_samples
    assert np.array_equal(res_sub.sample_indices, res_cpu.sample_indices)
    size = f"{neural.shape[0]:,} x {neural.shape[1]} neurons, offset10-model D=8"
    rows = [
        gpu_row(
            f"attribution on {b.device}: {', '.join(JACOBIAN_METHODS)} (total wall)",
            f"{size}, {n_all:,} rows on {b.device}, {n_sub} on the CPU",
            n=n_all,
            ours_s=sec_all,
            ref_n=n_sub,
            reference_s=sec_cpu,
            unit="rows/s",
            note=(
                f"{trained}; batch {s.attr_batch}; float64 Jacobian on the device, "
                "pseudo-inverses and Moore-Penrose checks with numpy on the host; reference: "
                f"device='cpu' on {n_sub} seeded rows; one run each after a small warm-up "
                f"per device; ratio compares rows/s; the same {n_sub} rows on {b.device}: "
                f"{sec_sub:.3g} s"
            ),
        )
    ]
    for method in JACOBIAN_METHODS:
        diff = max_abs_diff(res_sub.maps[method], res_cpu.maps[method])
        scale = float(np.abs(res_cpu.maps[method]).max())
        rel = diff / scale if scale else diff
        r = gpu_row(
            f"attribution on {b.device}: {method}",
            f"{n_all:,} rows on {b.device}, {n_sub} on the CPU",
            n=n_all,
            ours_s=res_all.timings[method],
            ref_n=n_sub,
            reference_s=res_cpu.timings[method],
            unit="rows/s",
            max_abs_diff=diff,
            note=(
                "seconds = the method's own timing in compute_attribution (summed over "
                + (
                    "batches; the Jacobian's includes its copy to numpy, so it is synchronised)"
                    if method == "jacobian"
                    else "batches; numpy on the host in both cases, from the device's Jacobian)"
                )
                + f"; |diff| of the map on the same {n_sub} rows, device vs CPU, relative to "
                f"its largest entry ({scale:.3g}): {rel:.2e} (check: <= 1e-6)"
            ),
            max_rel_diff=rel,
            rel_tolerance=1e-6,
        )
        r["agree"] = bool(rel <= 1e-6)
        rows.append(r)
    return rows


CASES: dict[str, Callable[[Bench], list[dict]]] = {
    "cka": case_cka,
    "extract": case_extract,
    "train": case_train,
    "attribution": case_attribution,
}


# ----------------------------------------------------------------------------- output


def write_outputs(b: Bench) -> tuple[Path, Path]:
    stem = "gpu-dry-run" if b.dry_run else "gpu"
    b.out.mkdir(parents=True, exist_ok=True)
    meta = dict(b.meta, total_s=time.perf_counter() - b.meta["_t0"])
    meta.pop("_t0", None)
    failures = failures_of(b.rows)
    meta["failures"] = failures
    js = b.out / f"{stem}.json"
    js.write_text(json.dumps({"meta": meta, "rows": b.rows}, indent=2, default=_plain) + "\n")
    md = b.out / f"{stem}.md"
    lines = [
        "# GPU benchmarks"
        + (" (DRY RUN on the CPU, tiny sizes: not GPU numbers)" if b.dry_run else ""),
        "",
        f"Run {meta['started']} on {meta['device_name']} (torch {meta['torch']}, CUDA "
        f"{meta['cuda']}, cuDNN {meta['cudnn']}; host {meta['cpus']} CPUs, CPU references with "
        f"{meta['cpu_threads']} torch thread(s), OMP_NUM_THREADS={meta['omp_threads']}); "
        f"total {meta['total_s']:.0f} s; repeats {meta['repeats']}.",
        "",
        "ratio = device throughput / reference throughput (speed-up; extraction vs plain "
        "forward: fraction of its throughput). Where the reference ran on a subset, the "
        "reference column holds its time on that subset (see the notes).",
        "",
        "Check failures: " + ("; ".join(_cell(f) for f in failures) if failures else "none") + ".",
        "",
        "| case | size | device (s) | reference (s) | throughput | reference throughput "
        "| ratio | max abs diff | agree? |",
        "|" + "---|" * 9,
    ]
    for r in b.rows:
        cells = [
            r.get("case", ""),
            r.get("size", ""),
            _fmt(r.get("ours_s"), "s"),
            _fmt(r.get("reference_s"), "s"),
            r.get("throughput", ""),
            r.get("reference_throughput", ""),
            _fmt(r.get("ratio"), "ratio"),
            _fmt(r.get("max_abs_diff"), "diff"),
            _fmt(r.get("agree"), "met"),
        ]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    lines += ["", "## Notes", ""]
    for r in b.rows:
        text = r.get("error") or r.get("note")
        if text:
            lines.append(f"- **{_cell(r.get('case', ''))}**: {_cell(text)}")
    md.write_text("\n".join(lines) + "\n")
    return js, md


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else str(value)


def failures_of(rows: list[dict]) -> list[str]:
    out = []
    for r in rows:
        if r.get("error"):
            out.append(f"{r['case']}: {r['error'].splitlines()[0]}")
        elif r.get("agree") is False:
            out.append(
                f"{r['case']}: max |diff| {r.get('max_abs_diff')} (rel {r.get('max_rel_diff')})"
            )
    return out


# ----------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--out", type=Path, default=REPO / "bench", help="folder of gpu.json / gpu.md")
    p.add_argument("--only", default="", help=f"comma-separated cases of {', '.join(CASE_NAMES)}")
    p.add_argument("--repeats", type=int, default=3, help="timed runs per median (default 3)")
    p.add_argument("--cpu-threads", type=int, default=1, help="torch threads of CPU references")
    p.add_argument(
        "--budget-s",
        type=float,
        default=210.0,
        help="start no further case once this many seconds have passed (default 210)",
    )
    p.add_argument(
        "--dry-run-cpu",
        action="store_true",
        help="every case on the CPU at tiny sizes (T=2000): exercises the code, no GPU needed",
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    t0 = time.perf_counter()
    import torch

    if not args.dry_run_cpu and not torch.cuda.is_available():
        print(NO_GPU, file=sys.stderr, flush=True)
        return 2
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(CASE_NAMES)
    unknown = sorted(set(names) - set(CASE_NAMES))
    if unknown:
        print(
            f"bench_gpu: unknown case(s) {unknown}; valid: {', '.join(CASE_NAMES)}", file=sys.stderr
        )
        return 1
    torch.set_num_threads(max(1, args.cpu_threads))
    device = "cpu" if args.dry_run_cpu else "cuda"
    import numpy as np

    meta = {
        "_t0": t0,
        "started": dt.datetime.now().isoformat(timespec="seconds"),
        "dry_run_cpu": args.dry_run_cpu,
        "device": device,
        "device_name": torch.cuda.get_device_name(0) if device == "cuda" else "CPU (dry run)",
        "device_capability": list(torch.cuda.get_device_capability(0))
        if device == "cuda"
        else None,
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "cudnn_allow_tf32": bool(torch.backends.cudnn.allow_tf32),
        "matmul_allow_tf32": bool(torch.backends.cuda.matmul.allow_tf32),
        "numpy": np.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "cpu_threads": torch.get_num_threads(),
        "omp_threads": os.environ.get("OMP_NUM_THREADS", ""),
        "repeats": args.repeats,
        "cases": names,
    }
    b = Bench(
        device=device,
        dry_run=args.dry_run_cpu,
        sizes=DRY_SIZES if args.dry_run_cpu else Sizes(),
        repeats=1 if args.dry_run_cpu else max(1, args.repeats),
        out=args.out,
        meta=meta,
    )
    meta["repeats"] = b.repeats
    print(
        f"[bench-gpu] {meta['device_name']}, torch {meta['torch']} (CUDA {meta['cuda']}); "
        f"cases {', '.join(names)}",
        flush=True,
    )
    for name in names:
        elapsed = time.perf_counter() - t0
        if elapsed > args.budget_s:
            msg = f"skipped: {elapsed:.0f} s had passed (--budget-s {args.budget_s:.0f})"
            b.rows.append({"case": name, "case_id": name, "error": msg})
            print(f"[bench-gpu] {name} {msg}", flush=True)
            continue
        print(f"[bench-gpu] {name} ...", flush=True)
        if b.cuda:
            torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        try:
            rows = CASES[name](b)
        except Exception:  # record it, go on with the next case
            tb = traceback.format_exc()
            print(tb, file=sys.stderr, flush=True)
            last = tb.strip().splitlines()[-1]
            rows = [{"case": name, "error": f"{last}\n{tb}"}]
        wall = time.perf_counter() - start
        peak = torch.cuda.max_memory_allocated() / 2**20 if b.cuda else None
        for r in rows:
            r.setdefault("case_id", name)
            r["case_wall_s"] = wall
            r["device_peak_mib"] = peak
            b.rows.append(r)
            if "error" in r:
                print(f"    FAILED: {r['error'].splitlines()[0]}", flush=True)
                continue
            print(
                f"    {r['case']}: {_fmt(r.get('ours_s'), 's')} s ({r.get('throughput', '')}), "
                f"ref {_fmt(r.get('reference_s'), 's')} s ({r.get('reference_throughput', '')}), "
                f"ratio {_fmt(r.get('ratio'), 'ratio')}, max|diff| {_fmt(r.get('max_abs_diff'), 'diff')}"
                + ("" if r.get("agree") is None else f", agree {r['agree']}"),
                flush=True,
            )
        print(f"[bench-gpu] {name} done in {wall:.1f} s", flush=True)
        free_memory(b)
        write_outputs(b)  # after every case: a run cut short keeps what it measured
    js, md = write_outputs(b)
    failures = failures_of(b.rows)
    print(f"[bench-gpu] wrote {md} and {js.name} ({time.perf_counter() - t0:.0f} s)", flush=True)
    if failures:
        print("[bench-gpu] FAILED:\n  " + "\n  ".join(failures), file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
