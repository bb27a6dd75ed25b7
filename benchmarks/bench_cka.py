"""Benchmark of cebra_lens_core.metrics.cka (a script, not a test).

Cases (median of ``--repeats`` runs, ``--threads`` BLAS threads, 1 by default):

a. linear (and debiased) CKA matrix, 2 models × 6 layers × 32 units, T = 20,000, float32 input;
b. T × T Gram-matrix linear CKA (Kornblith et al. reference style) vs the feature-space
   version at T = 10,000: speed ratio and max |difference| (float64);
c. ``--big``: T = 1e6 streamed from a zarr v3 store on disk (2 × 6 × 32, float32, chunked in
   time), run in a subprocess that reports wall time and peak memory (ru_maxrss, tracemalloc);
d. achieved GFLOP/s of the CKA kernel (centred float64 SYRK, counted as 2·T·D² like a GEMM)
   vs a plain numpy float32 matmul of the same shape.

Usage::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_cka.py [--big] [--out bench.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

N_MODELS, N_LAYERS, N_UNITS = 2, 6, 32


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1)")
    p.add_argument("--repeats", type=int, default=5, help="repeats per timing (median reported)")
    p.add_argument("--t-matrix", type=int, default=20_000, help="T for case (a) and (d)")
    p.add_argument("--t-gram", type=int, default=10_000, help="T for case (b)")
    p.add_argument("--big", action="store_true", help="also run case (c): T=1e6 from zarr")
    p.add_argument("--t-big", type=int, default=1_000_000, help="T for case (c)")
    p.add_argument("--zarr-chunk", type=int, default=50_000, help="time chunk of the zarr store")
    p.add_argument("--tmpdir", default=None, help="where to write the temporary zarr store")
    p.add_argument("--out", type=Path, default=None, help="write results as JSON here")
    p.add_argument("--_child", nargs=2, metavar=("STORE", "CHUNK"), help=argparse.SUPPRESS)
    return p.parse_args(argv)


def _set_threads(n: int) -> None:
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)


def median_time(fn: Callable[[], Any], repeats: int, warmup: int = 1) -> tuple[float, Any]:
    """Median wall time of ``fn()`` over ``repeats`` runs (after ``warmup`` runs)."""
    out = None
    for _ in range(warmup):
        out = fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def make_layers(np: Any, t: int, seed: int) -> tuple[list[Any], list[Any]]:
    """Two models × N_LAYERS × N_UNITS float32 layers driven by a shared latent."""
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((t, 8))
    models = []
    for _ in range(N_MODELS):
        layers = []
        for _ in range(N_LAYERS):
            w = rng.standard_normal((8, N_UNITS))
            a = latent @ w + rng.standard_normal((t, N_UNITS)) + rng.uniform(-5, 5, N_UNITS)
            layers.append(a.astype(np.float32))
        models.append(layers)
    return models[0], models[1]


# ------------------------------------------------------------------------------------ cases


def case_matrix(np: Any, cka_mod: Any, t: int, repeats: int) -> dict[str, Any]:
    a, b = make_layers(np, t, seed=0)
    out: dict[str, Any] = {"T": t, "shape": f"{N_MODELS}x{N_LAYERS}x{N_UNITS}"}
    for kind in ("linear", "debiased"):
        sec, m = median_time(lambda k=kind: cka_mod.cka_matrix(a, b, kind=k), repeats)
        out[f"{kind}_cross_s"] = sec
        out[f"{kind}_cross_shape"] = list(m.shape)
    sec, _ = median_time(lambda: cka_mod.cka_matrix(a + b), repeats)
    out["linear_all12_s"] = sec
    return out


def gram_linear_cka(np: Any, x: Any, y: Any) -> float:
    """Straightforward reference: T × T Gram matrices, double-centred, Frobenius products."""

    def centred_gram(z: Any) -> Any:
        k = z @ z.T
        m = k.mean(axis=0)
        k -= m[:, None]
        k -= m[None, :]
        k += m.mean()
        return k

    k = centred_gram(x)
    g = centred_gram(y)
    return float(np.vdot(k, g) / np.sqrt(np.vdot(k, k) * np.vdot(g, g)))


def case_gram(np: Any, cka_mod: Any, t: int, repeats: int) -> dict[str, Any]:
    a, b = make_layers(np, t, seed=1)
    x, y = a[2].astype(np.float64), b[4].astype(np.float64)
    t_gram, v_gram = median_time(lambda: gram_linear_cka(np, x, y), max(1, min(repeats, 3)))
    t_feat, v_feat = median_time(lambda: cka_mod.cka(x, y), max(repeats, 20))
    return {
        "T": t,
        "d": N_UNITS,
        "gram_s": t_gram,
        "feature_s": t_feat,
        "speedup": t_gram / t_feat,
        "max_abs_diff": abs(v_gram - v_feat),
        "value": v_feat,
    }


def case_gflops(np: Any, cka_mod: Any, t: int, repeats: int) -> dict[str, Any]:
    a, b = make_layers(np, t, seed=2)
    layers = a + b
    d = N_MODELS * N_LAYERS * N_UNITS
    flops = 2.0 * t * d * d  # GEMM-equivalent count (a SYRK does about half of it)
    z32 = np.concatenate(layers, axis=1)
    z32b = z32.copy()  # a different buffer: numpy cannot use SYRK, a true GEMM
    out: dict[str, Any] = {"T": t, "D": d, "flops_counted": flops}
    runs = {
        "cka_kernel_f64": lambda: cka_mod.stacked_covariance(layers),
        "cka_kernel_f32gemm": lambda: cka_mod.stacked_covariance(layers, gemm_dtype="float32"),
        "numpy_f32_matmul": lambda: z32.T @ z32b,
        "numpy_f32_syrk": lambda: z32.T @ z32,
        "numpy_f64_matmul": lambda: z32.T.astype(np.float64) @ z32b.astype(np.float64),
    }
    for name, fn in runs.items():
        sec, _ = median_time(fn, repeats)
        out[f"{name}_s"] = sec
        out[f"{name}_gflops"] = flops / sec / 1e9
    return out


def write_store(np: Any, path: Path, t: int, chunk: int) -> float:
    """Write a zarr v3 group with model{m}/layer_{i:02d} float32 (t, 32), chunked in time."""
    import zarr

    t0 = time.perf_counter()
    root = zarr.open_group(path, mode="w", zarr_format=3)
    arrays = [
        [
            root.create_array(
                f"model{m}/layer_{i:02d}", shape=(t, N_UNITS), chunks=(chunk, N_UNITS), dtype="f4"
            )
            for i in range(N_LAYERS)
        ]
        for m in range(N_MODELS)
    ]
    rng = np.random.default_rng(3)
    w = rng.standard_normal((N_MODELS, N_LAYERS, 8, N_UNITS)).astype(np.float32)
    for start in range(0, t, chunk):
        stop = min(start + chunk, t)
        latent = rng.standard_normal((stop - start, 8), dtype=np.float32)
        for m in range(N_MODELS):
            for i in range(N_LAYERS):
                noise = rng.standard_normal((stop - start, N_UNITS), dtype=np.float32)
                arrays[m][i][start:stop] = latent @ w[m, i] + noise + 100.0
    return time.perf_counter() - t0


def peak_rss_mib() -> float:
    """Peak resident set size of this process in MiB.

    Linux ``VmHWM`` (reset by exec, unlike ``ru_maxrss``, which a child started by
    fork+exec inherits from its parent's peak); ``ru_maxrss`` elsewhere.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def child_big(store: str, chunk_size: int) -> None:
    """Runs in a subprocess: stream CKA from the store, print JSON with time and memory."""
    import tracemalloc

    import numpy as np
    import zarr

    from cebra_lens_core.metrics import cka as cka_mod

    root = zarr.open_group(store, mode="r")
    a = [root[f"model0/layer_{i:02d}"] for i in range(N_LAYERS)]
    b = [root[f"model1/layer_{i:02d}"] for i in range(N_LAYERS)]
    rss_before = peak_rss_mib()
    tracemalloc.start()
    t0 = time.perf_counter()
    m = cka_mod.cka_matrix(a, b, chunk_size=chunk_size)
    sec = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    t0 = time.perf_counter()
    cka_mod.cka_matrix(a, b, kind="debiased", chunk_size=chunk_size)
    sec_deb = time.perf_counter() - t0
    t0 = time.perf_counter()
    for layer in a + b:  # one plain read pass, aligned to the storage chunks
        step = layer.chunks[0]
        for start in range(0, layer.shape[0], step):
            np.asarray(layer[start : start + step])
    sec_read = time.perf_counter() - t0
    rss = peak_rss_mib()
    print(
        json.dumps(
            {
                "T": int(a[0].shape[0]),
                "linear_s": sec,
                "debiased_s": sec_deb,
                "read_pass_s": sec_read,
                "tracemalloc_peak_MiB": peak / 2**20,
                "peak_rss_before_MiB": rss_before,
                "peak_rss_MiB": rss,
                "finite": bool(np.isfinite(m).all()),
            }
        )
    )


def case_big(np: Any, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(dir=args.tmpdir) as tmp:
        store = Path(tmp) / "acts.zarr"
        write_s = write_store(np, store, args.t_big, args.zarr_chunk)
        size = sum(f.stat().st_size for f in store.rglob("*") if f.is_file())
        env = dict(os.environ)
        cmd = [sys.executable, __file__, "--threads", str(args.threads)]
        cmd += ["--_child", str(store), str(65536)]
        res = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
        out = json.loads(res.stdout.strip().splitlines()[-1])
    out.update({"write_s": write_s, "store_MiB": size / 2**20, "zarr_chunk": args.zarr_chunk})
    return out


# ------------------------------------------------------------------------------------ report


def print_table(results: dict[str, Any]) -> None:
    rows: list[tuple[str, str]] = []
    a = results["a_matrix"]
    rows += [
        (f"(a) linear CKA 6x6 cross, T={a['T']}", f"{a['linear_cross_s'] * 1e3:8.1f} ms"),
        (f"(a) debiased CKA 6x6 cross, T={a['T']}", f"{a['debiased_cross_s'] * 1e3:8.1f} ms"),
        (f"(a) linear CKA 12x12 all, T={a['T']}", f"{a['linear_all12_s'] * 1e3:8.1f} ms"),
    ]
    b = results["b_gram"]
    rows += [
        (f"(b) Gram T×T linear CKA, T={b['T']}", f"{b['gram_s'] * 1e3:8.1f} ms"),
        (f"(b) feature-space cka(), T={b['T']}", f"{b['feature_s'] * 1e3:8.2f} ms"),
        ("(b) speed ratio", f"{b['speedup']:8.0f} x"),
        ("(b) max |difference|", f"{b['max_abs_diff']:8.1e}"),
    ]
    if "c_big" in results:
        c = results["c_big"]
        rows += [
            (f"(c) zarr store write, T={c['T']}", f"{c['write_s']:8.1f} s"),
            ("(c) zarr store size", f"{c['store_MiB']:8.0f} MiB"),
            (f"(c) linear 6x6 from zarr, T={c['T']}", f"{c['linear_s']:8.2f} s"),
            (f"(c) debiased 6x6 from zarr, T={c['T']}", f"{c['debiased_s']:8.2f} s"),
            ("(c) one plain read pass of the store", f"{c['read_pass_s']:8.2f} s"),
            ("(c) tracemalloc peak (linear)", f"{c['tracemalloc_peak_MiB']:8.0f} MiB"),
            (
                "(c) peak RSS after imports / after CKA",
                f"{c['peak_rss_before_MiB']:.0f} / {c['peak_rss_MiB']:.0f} MiB",
            ),
        ]
    d = results["d_gflops"]
    label = f"T={d['T']}, D={d['D']}"
    for key, name in (
        ("cka_kernel_f64", "CKA kernel (centred, f64 SYRK)"),
        ("cka_kernel_f32gemm", "CKA kernel (centred, f32 SYRK)"),
        ("numpy_f32_matmul", "numpy f32 matmul Z^T W"),
        ("numpy_f32_syrk", "numpy f32 Z^T Z (SYRK)"),
        ("numpy_f64_matmul", "numpy f64 matmul (incl. cast)"),
    ):
        rows.append(
            (
                f"(d) {name}, {label}",
                f"{d[key + '_s'] * 1e3:8.1f} ms {d[key + '_gflops']:6.1f} GF/s",
            )
        )
    width = max(len(r[0]) for r in rows)
    meta = results["meta"]
    print(f"# bench_cka: threads={meta['threads']} numpy={meta['numpy']} {meta['machine']}")
    for k, v in rows:
        print(f"{k:<{width}}  {v}")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    _set_threads(args.threads)
    if args._child:
        child_big(args._child[0], int(args._child[1]))
        return
    import numpy as np
    from threadpoolctl import threadpool_limits

    from cebra_lens_core.metrics import cka as cka_mod

    with threadpool_limits(args.threads):
        results: dict[str, Any] = {
            "meta": {
                "threads": args.threads,
                "repeats": args.repeats,
                "numpy": np.__version__,
                "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
                "cpus": os.cpu_count(),
            }
        }
        if args.big:
            results["c_big"] = case_big(np, args)
        results["a_matrix"] = case_matrix(np, cka_mod, args.t_matrix, args.repeats)
        results["b_gram"] = case_gram(np, cka_mod, args.t_gram, args.repeats)
        results["d_gflops"] = case_gflops(np, cka_mod, args.t_matrix, args.repeats)
    print_table(results)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
