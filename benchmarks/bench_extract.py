"""Benchmark: stream per-layer activations of a long recording into a zarr store.

Measures wall time and peak resident memory of ``write_activation_store`` for a
(T × neurons) recording with an untrained offset10-model (weights do not matter
for speed), and checks the store against ``transform()`` on the first rows.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_extract.py --timepoints 1000000 --neurons 100
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timepoints", type=int, default=200_000)
    parser.add_argument("--neurons", type=int, default=100)
    parser.add_argument("--architecture", default="offset10-model")
    parser.add_argument("--chunk-size", type=int, default=50_000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None, help="write the numbers as JSON")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from cebra_lens_core.data.types import Dataset, Session, blocked_split
    from cebra_lens_core.models import TrainingSpec, train_model
    from cebra_lens_core.store import open_activation_store, write_activation_store

    rng = np.random.default_rng(0)
    small = rng.poisson(1.0, size=(2000, args.neurons)).astype(np.float32)
    ds = Dataset("bench", [Session(small, {}, blocked_split(2000, 0.2))], {})
    model = train_model(
        ds, TrainingSpec(architecture=args.architecture, max_iterations=0, batch_size=64)
    )
    neural = np.empty((args.timepoints, args.neurons), dtype=np.float32)
    for start in range(0, args.timepoints, 100_000):  # generate in blocks: keep the baseline low
        stop = min(args.timepoints, start + 100_000)
        neural[start:stop] = rng.poisson(1.0, size=(stop - start, args.neurons))
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        write_activation_store(Path(tmp) / "b.zarr", model, neural, chunk_size=args.chunk_size)
        seconds = time.perf_counter() - t0
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        store = open_activation_store(Path(tmp) / "b.zarr")
        last = store[f"layer_{len(store.data_vars) - 1:02d}"]
        head = model.transform(neural[:5000])
        # rows away from the end see the same context in both computations
        diff = float(np.abs(last[:4000].values - head[:4000]).max())
        size_mb = (
            sum(f.stat().st_size for f in (Path(tmp) / "b.zarr").rglob("*") if f.is_file()) / 2**20
        )
    numbers = {
        "timepoints": args.timepoints,
        "neurons": args.neurons,
        "architecture": args.architecture,
        "layers": len(store.data_vars),
        "seconds": round(seconds, 2),
        "timepoints_per_second": round(args.timepoints / seconds),
        "input_mb": round(neural.nbytes / 2**20, 1),
        "store_mb_on_disk": round(size_mb, 1),
        "peak_rss_mb_before": round(rss_before, 1),
        "peak_rss_mb_after": round(rss_after, 1),
        "max_abs_diff_vs_transform": diff,
    }
    print(json.dumps(numbers, indent=2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(numbers, indent=2))


if __name__ == "__main__":
    main()
