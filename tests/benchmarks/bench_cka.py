"""CKA benchmarks (cases for ``run_all``; also runnable alone: ``python tests/benchmarks/bench_cka.py``).

- ``cka_matrix``: linear and debiased CKA matrix, 2 models × 6 layers × 32 units, T = 20,000,
  float32 input (numpy path, and the torch CPU path of ``device="cpu"``);
- ``cka_gram``: a straightforward ``T × T`` Gram-matrix linear CKA (Kornblith et al. style)
  against the feature-space ``cka()`` at T = 10,000 (float64): speed ratio and max |diff|;
- ``cka_gemm``: achieved GFLOP/s of the CKA kernel (centred float64 SYRK over the stacked
  layers, counted as ``2 T D^2`` like a GEMM) against a plain numpy float32 matmul of the
  same shapes (``Z^T W``, two buffers, so a true GEMM);
- ``cka_stream``: T = 10^6 streamed from two activation stores (zarr v3, written by
  ``prepare_cka_stores``); wall time, peak RSS, a plain read pass; the values are checked
  against the in-memory computation afterwards.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks.common import (  # noqa: E402
    Context,
    dir_size_mib,
    max_abs_diff,
    median_time,
    once,
    peak_rss_mib,
    row,
    rss_mib,
    write_store,
)

N_MODELS, N_LAYERS, N_UNITS = 2, 6, 32


def make_layers(t: int, seed: int) -> tuple[list[Any], list[Any]]:
    """Two models × N_LAYERS × N_UNITS float32 layers driven by a shared latent (offset 100)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((t, 8))
    models = []
    for _ in range(N_MODELS):
        layers = []
        for _ in range(N_LAYERS):
            w = rng.standard_normal((8, N_UNITS))
            a = latent @ w + rng.standard_normal((t, N_UNITS)) + rng.uniform(95, 105, N_UNITS)
            layers.append(a.astype(np.float32))
        models.append(layers)
    return models[0], models[1]


def case_matrix(ctx: Context) -> list[dict]:
    from cebra_lens_core.metrics.cka import cka_matrix

    t = ctx.size(20_000, 5_000)
    a, b = make_layers(t, seed=0)
    size = f"T={t:,}, {N_MODELS}x{N_LAYERS}x{N_UNITS}"
    rows = []
    ref = None
    for kind in ("linear", "debiased"):
        sec, m = median_time(lambda k=kind: cka_matrix(a, b, kind=k), ctx.repeats)
        if kind == "linear":
            ref = m
        rows.append(
            row(
                f"CKA matrix {kind} (6x6 cross)",
                size,
                ours_s=sec,
                target="well under 1 s (< 0.5 s)",
                met=sec < 0.5,
            )
        )
    sec, m = median_time(lambda: cka_matrix(a, b, device="cpu"), ctx.repeats)
    rows.append(
        row(
            "CKA matrix linear, device='cpu' (torch)",
            size,
            ours_s=sec,
            max_abs_diff=max_abs_diff(m, ref),
            tolerance=1e-10,
            target="equal to the numpy path (1e-10)",
            met=max_abs_diff(m, ref) <= 1e-10,
            note="vs the numpy path (default device=None)",
        )
    )
    return rows


def gram_linear_cka(x: Any, y: Any) -> float:
    """Straightforward reference: T × T Gram matrices, double-centred, Frobenius products."""
    import numpy as np

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


def case_gram(ctx: Context) -> list[dict]:
    import numpy as np

    from cebra_lens_core.metrics.cka import cka

    t = ctx.size(10_000, 3_000)
    a, b = make_layers(t, seed=1)
    x, y = a[2].astype(np.float64), b[4].astype(np.float64)
    t_gram, v_gram = median_time(lambda: gram_linear_cka(x, y), 3)
    t_feat, v_feat = median_time(lambda: cka(x, y), max(ctx.repeats, 20))
    diff = abs(v_gram - v_feat)
    ratio = t_gram / t_feat
    return [
        row(
            "linear CKA: feature space vs T x T Gram",
            f"T={t:,}, d={N_UNITS}, float64",
            ours_s=t_feat,
            reference_s=t_gram,
            max_abs_diff=diff,
            tolerance=1e-8,
            target=">= 300x faster, |diff| <= 1e-8",
            met=ratio >= 300 and diff <= 1e-8,
            note=f"CKA = {v_feat:.6f}",
        )
    ]


def case_gemm(ctx: Context) -> list[dict]:
    import numpy as np

    from cebra_lens_core.metrics.cka import stacked_covariance

    t = ctx.size(20_000, 5_000)
    a, b = make_layers(t, seed=2)
    layers = a + b
    d = N_MODELS * N_LAYERS * N_UNITS
    flops = 2.0 * t * d * d  # GEMM-equivalent count (a SYRK does about half of it)
    z32 = np.concatenate(layers, axis=1)
    w32 = z32.copy()  # a different buffer: numpy cannot use SYRK, a true GEMM
    t_ref, _ = median_time(lambda: z32.T @ w32, ctx.repeats)
    size = f"T={t:,}, D={d}"
    rows = []
    for name, kwargs in (
        ("float64 (default)", {}),
        ("float32 products", {"gemm_dtype": "float32"}),
        ("torch CPU", {"device": "cpu"}),
    ):
        sec, _ = median_time(lambda kw=kwargs: stacked_covariance(layers, **kw), ctx.repeats)
        frac = t_ref / sec
        default = not kwargs
        rows.append(
            row(
                f"CKA kernel GFLOP/s, {name}",
                size,
                ours_s=sec,
                reference_s=t_ref,
                ratio=frac,
                target=">= 0.5 of numpy f32 matmul" if default else "",
                met=frac >= 0.5 if default else None,
                note=(
                    f"ours {flops / sec / 1e9:.1f} GFLOP/s incl. both passes and the "
                    f"float64 cast, numpy f32 matmul {flops / t_ref / 1e9:.1f} GFLOP/s"
                ),
            )
        )
    return rows


# ----------------------------------------------------------------------------- T = 1e6


def cka_store_paths(ctx: Context) -> tuple[Path, Path]:
    return ctx.workdir / "cka_model_a.zarr", ctx.workdir / "cka_model_b.zarr"


def prepare_cka_stores(ctx: Context) -> list[dict]:
    """Two activation stores (6 layers × 32 units each, float32) sharing a latent, T = 10^6."""
    import numpy as np

    t = ctx.size(1_000_000, 100_000)
    rng = np.random.default_rng(3)
    w = rng.standard_normal((N_MODELS, N_LAYERS, 8, N_UNITS)).astype(np.float32)
    latents: dict[int, Any] = {}

    def latent(start: int, stop: int) -> Any:
        if start not in latents:
            latents.clear()
            latents[start] = np.random.default_rng([4, start]).standard_normal(
                (stop - start, 8), dtype=np.float32
            )
        return latents[start]

    rows = []
    for m, path in enumerate(cka_store_paths(ctx)):

        def make(start: int, stop: int, rng: Any, m: int = m) -> list[Any]:
            z = latent(start, stop)
            return [
                z @ w[m, i] + rng.standard_normal((stop - start, N_UNITS), dtype=np.float32) + 100.0
                for i in range(N_LAYERS)
            ]

        sec, _ = once(lambda p=path, f=make, s=m: write_store(p, t, f, labels=False, seed=10 + s))
        rows.append(
            row(
                f"prepare: write CKA store of model {'ab'[m]}",
                f"T={t:,}, {N_LAYERS}x{N_UNITS} float32",
                ours_s=sec,
                note=f"{path.name}: {dir_size_mib(path):.0f} MiB on disk (zarr v3, zstd)",
            )
        )
    return rows


def case_stream(ctx: Context) -> list[dict]:
    import numpy as np

    from cebra_lens_core.activations.store import layer_names, open_activation_store
    from cebra_lens_core.metrics.cka import cka_matrix

    path_a, path_b = cka_store_paths(ctx)
    sa, sb = open_activation_store(path_a), open_activation_store(path_b)
    a = [sa[v] for v in layer_names(sa)]
    b = [sb[v] for v in layer_names(sb)]
    t = int(a[0].shape[0])
    size = f"T={t:,}, {N_MODELS}x{N_LAYERS}x{N_UNITS}, from zarr"
    base = rss_mib()
    sec, m = once(lambda: cka_matrix(a, b))
    peak = peak_rss_mib()
    sec_deb, m_deb = once(lambda: cka_matrix(a, b, kind="debiased"))
    peak_deb = peak_rss_mib()

    def read_pass() -> None:
        for layer in a + b:
            for start in range(0, t, 65536):
                np.asarray(layer[start : start + 65536])

    sec_read, _ = once(read_pass)
    # reference: the same matrix from the layers loaded into memory (after the measurement)
    mem_a = [np.asarray(x.values) for x in a]
    mem_b = [np.asarray(x.values) for x in b]
    ref = cka_matrix(mem_a, mem_b)
    ref_deb = cka_matrix(mem_a, mem_b, kind="debiased")
    note = (
        f"one plain read pass of both stores {sec_read:.1f} s (the kernel reads twice: means, "
        f"then products); RSS after imports {base:.0f} MiB; reference = in-memory cka_matrix"
    )
    return [
        row(
            "CKA matrix linear, streamed",
            size,
            ours_s=sec,
            max_abs_diff=max_abs_diff(m, ref),
            tolerance=1e-10,
            peak_mib=peak,
            target="< 60 s, peak < 1 GiB",
            met=sec < 60 and peak < 1024,
            note=note,
        ),
        row(
            "CKA matrix debiased, streamed",
            size,
            ours_s=sec_deb,
            max_abs_diff=max_abs_diff(m_deb, ref_deb),
            tolerance=1e-10,
            peak_mib=peak_deb,
            target="< 60 s, peak < 1 GiB",
            met=sec_deb < 60 and peak_deb < 1024,
        ),
    ]


CASES = {
    "cka_matrix": case_matrix,
    "cka_gram": case_gram,
    "cka_gemm": case_gemm,
    "prepare_cka_stores": prepare_cka_stores,
    "cka_stream": case_stream,
}

if __name__ == "__main__":
    from tests.benchmarks.run_all import main

    main(["--only", ",".join(CASES), *sys.argv[1:]])
