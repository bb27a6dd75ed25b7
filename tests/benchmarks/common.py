"""Shared helpers of the benchmarks: timing, peak memory, result rows, synthetic stores.

A benchmark *case* is a function ``case(ctx) -> list[dict]`` returning result rows (see
:func:`row`). :mod:`tests.benchmarks.run_all` runs every case in its own subprocess (so the
peak resident memory of one case does not contaminate another) and writes the table.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


@dataclass
class Context:
    """What a case gets: a scratch folder shared by all cases, sizes, repeats."""

    workdir: Path
    quick: bool = False
    repeats: int = 5
    extra: dict[str, Any] = field(default_factory=dict)

    def size(self, full: int, quick: int) -> int:
        return quick if self.quick else full


def median_time(fn: Callable[[], Any], repeats: int = 5, warmup: int = 1) -> tuple[float, Any]:
    """Median wall time of ``fn()`` over ``repeats`` runs after ``warmup`` runs; and its output."""
    out = None
    for _ in range(warmup):
        out = fn()
    times = []
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def interleaved_medians(fns: list[Callable[[], Any]], repeats: int = 3) -> list[tuple[float, Any]]:
    """Median wall times of several functions run round-robin (``f1, f2, …, f1, f2, …``).

    Interleaving spreads changes of the machine's load (other processes) evenly over the
    functions being compared, so their ratio is less biased than with back-to-back blocks.
    """
    times: list[list[float]] = [[] for _ in fns]
    outs: list[Any] = [None] * len(fns)
    for _ in range(max(1, repeats)):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            outs[i] = fn()
            times[i].append(time.perf_counter() - t0)
    return [(statistics.median(t), o) for t, o in zip(times, outs, strict=True)]


def once(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def _status_kib(key: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return float(line.split()[1])
    except OSError:
        return None
    return None


def peak_rss_mib() -> float:
    """Peak resident memory of this process (MiB).

    Linux ``VmHWM`` (reset by ``exec``, so a subprocess does not inherit its parent's peak as
    ``ru_maxrss`` can); ``ru_maxrss`` elsewhere.
    """
    kib = _status_kib("VmHWM")
    if kib is not None:
        return kib / 1024
    import resource

    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def rss_mib() -> float:
    """Current resident memory of this process (MiB)."""
    kib = _status_kib("VmRSS")
    return kib / 1024 if kib is not None else peak_rss_mib()


def reset_peak_rss() -> bool:
    """Reset ``VmHWM`` to the current RSS (Linux ``/proc/self/clear_refs`` = 5); False if not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def row(
    case: str,
    size: str,
    *,
    ours_s: float | None,
    reference_s: float | None = None,
    ratio: float | None = None,
    max_abs_diff: float | None = None,
    tolerance: float | None = None,
    target: str = "",
    met: bool | None = None,
    note: str = "",
    **extra: Any,
) -> dict[str, Any]:
    """One line of the results table.

    ``ratio`` defaults to ``reference_s / ours_s`` (how many times faster ours is). With a
    ``tolerance``, ``agree`` says whether ``max_abs_diff <= tolerance``; ``run_all`` fails
    when any row disagrees.
    """
    if ratio is None and ours_s and reference_s:
        ratio = reference_s / ours_s
    out = {
        "case": case,
        "size": size,
        "ours_s": ours_s,
        "reference_s": reference_s,
        "ratio": ratio,
        "max_abs_diff": max_abs_diff,
        "tolerance": tolerance,
        "agree": None
        if tolerance is None
        else bool(max_abs_diff is not None and max_abs_diff <= tolerance),
        "target": target,
        "met": met,
        "note": note,
    }
    out.update(extra)
    return out


def max_abs_diff(a: Any, b: Any) -> float:
    import numpy as np

    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return float("inf")
    both_nan = np.isnan(a) & np.isnan(b)
    d = np.abs(np.where(both_nan, 0.0, a - b))
    return float(np.max(d)) if d.size else 0.0


# ------------------------------------------------------------------------------ synthetic data


def track_labels(t: Any, period: int = 2000) -> tuple[Any, Any]:
    """Position on a 1-D track run back and forth (triangle wave in [0, 1]) and the direction."""
    import numpy as np

    phase = (np.asarray(t, dtype=np.float64) / period) % 1.0
    position = np.where(phase < 0.5, 2.0 * phase, 2.0 - 2.0 * phase)
    direction = (phase >= 0.5).astype(np.int64)
    return position, direction


def place_layer(position: Any, direction: Any, n_units: int, rng: Any) -> Any:
    """Place-cell-like units: Gaussian tuning to position, direction gain, noise (float32)."""
    import numpy as np

    centres = np.linspace(0.0, 1.0, n_units)
    gain = 1.0 + 0.5 * (np.arange(n_units) % 2)
    x = np.exp(-((position[:, None] - centres[None, :]) ** 2) / (2 * 0.08**2))
    x *= np.where(direction[:, None] == 1, gain[None, :], 2.0 - gain[None, :])
    x += 0.3 * rng.standard_normal(x.shape)
    return x.astype(np.float32)


def write_store(
    path: Path,
    n_time: int,
    make_layers: Callable[[int, int, Any], list[Any]],
    *,
    labels: bool = True,
    test_fraction: float = 0.2,
    chunk: int = 65536,
    seed: int = 0,
) -> Path:
    """Write an activation store (the contract of ``cebra_lens_core.activations.store``) chunk by chunk.

    ``make_layers(start, stop, rng)`` returns the layers' rows ``start:stop``. Labels
    ``label_position`` (continuous, m) and ``label_direction`` (discrete) follow
    :func:`track_labels`; the last ``test_fraction`` of the rows is the test split.
    """
    import warnings

    import numpy as np
    import xarray as xr

    from cebra_lens_core.activations.store import ZARR_TIME_CHUNK

    rng = np.random.default_rng(seed)
    chunk = max(ZARR_TIME_CHUNK, chunk // ZARR_TIME_CHUNK * ZARR_TIME_CHUNK)
    n_train = int(round(n_time * (1.0 - test_fraction)))
    for start in range(0, n_time, chunk):
        stop = min(n_time, start + chunk)
        t = np.arange(start, stop)
        arrays = make_layers(start, stop, rng)
        data = {
            f"layer_{i:02d}": (("time", f"layer_{i:02d}_unit"), a, {"layer_name": f"layer{i}"})
            for i, a in enumerate(arrays)
        }
        coords: dict[str, Any] = {"time": t, "train": ("time", t < n_train)}
        if labels:
            position, direction = track_labels(t)
            coords["label_position"] = (
                "time",
                position,
                {"kind": "continuous", "unit": "m", "categories": []},
            )
            coords["label_direction"] = (
                "time",
                direction,
                {"kind": "discrete", "unit": "", "categories": ["right", "left"]},
            )
        ds = xr.Dataset(data, coords=coords, attrs={"dataset_name": "bench", "model": path.stem})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if start == 0:
                encoding = {v: {"chunks": (ZARR_TIME_CHUNK, ds[v].shape[1])} for v in ds.data_vars}
                ds.to_zarr(path, mode="w", zarr_format=3, consolidated=False, encoding=encoding)
            else:
                ds.to_zarr(path, append_dim="time", zarr_format=3, consolidated=False)
    return path


def dir_size_mib(path: Path) -> float:
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file()) / 2**20


def extraction_model_and_recording(t: int, neurons: int = 100) -> tuple[Any, Any]:
    """An untrained ``offset10-model`` (weights do not matter for speed) and a ``t × neurons``
    Poisson(1) float32 recording, seeded (the extraction benchmarks' setting)."""
    import numpy as np
    import torch

    from cebra_lens_core.data.types import Dataset, Session, blocked_split
    from cebra_lens_core.models import TrainingSpec, train_model

    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    small = rng.poisson(1.0, size=(2000, neurons)).astype(np.float32)
    ds = Dataset("bench", [Session(small, {}, blocked_split(2000, 0.2))], {})
    model = train_model(
        ds, TrainingSpec(architecture="offset10-model", max_iterations=0, batch_size=64)
    )
    neural = np.empty((t, neurons), dtype=np.float32)
    for start in range(0, t, 100_000):
        stop = min(t, start + 100_000)
        neural[start:stop] = rng.poisson(1.0, size=(stop - start, neurons))
    return model, neural
