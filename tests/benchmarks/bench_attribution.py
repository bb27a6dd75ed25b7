"""Benchmark of cebra_lens_core.metrics.attribution on the `attribution` dataset (not a test).

For each model (``--models``, ``architecture:output_dimension``), trained with
CEBRA-Behavior on the three latents (``time_offsets``, ``--iterations``, batch 512, the
TrainingSpec defaults otherwise), on ``attribution()`` at its defaults (50 neurons, 25 driven,
5000 time points, seed 0):

- every method on ``--samples`` embedding rows (seeded), one thread: ROC-AUC at the neuron
  level (``neuron_max``: max over embedding dims of the |·| map vs "driven by any latent";
  ``neuron_norm``: the rotation-invariant column norm) and the time per method;
- the same after aligning the embedding to the true latents (least-squares read-out fitted on
  the training split): ROC-AUC over all 3 × 50 latent × neuron entries;
- for the first model, CEBRA's own ``jacobian-based`` class (float32 Jacobian, window mean,
  default inverse cut-offs) on the same number of rows, for comparison.

Usage::

    OMP_NUM_THREADS=1 .venv/bin/python tests/benchmarks/bench_attribution.py [--out FILE]

``run_all`` runs the case :func:`case_attribution` (the first model only, fewer iterations
in ``--quick``), reporting the time and AUC of every method and CEBRA's own
``jacobian-based`` class as the reference.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from cebra_lens_core.data.synthetic import ATTRIBUTION_LATENTS, attribution  # noqa: E402
from cebra_lens_core.metrics.attribution import (  # noqa: E402
    DEFAULT_METHODS,
    compute_attribution,
    latent_readout,
    neuron_scores,
    roc_auc,
    score_attribution,
)
from cebra_lens_core.models import TrainingSpec, get_encoder, train_model  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--models",
        nargs="+",
        default=["offset10-model:8", "offset10-model:4", "offset1-model:8"],
        help="architecture:output_dimension, trained one after the other",
    )
    p.add_argument("--iterations", type=int, default=1000)
    p.add_argument("--time-offsets", type=int, default=10)
    p.add_argument("--learning-rate", type=float, default=3e-4)
    p.add_argument("--samples", type=int, default=1000, help="embedding rows per attribution")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-cebra-reference", action="store_true")
    p.add_argument("--out", type=Path, default=REPO / "bench" / "bench_attribution.json")
    return p.parse_args(argv)


def cebra_reference(encoder, neural, truth_per_neuron, samples, seed) -> dict:
    """CEBRA 0.6.1's JFMethodBased on the same number of rows (float32, window mean)."""
    import cebra.attribution as ca

    data = torch.from_numpy(neural).requires_grad_(True)
    start = time.perf_counter()
    attribution_map = ca.init(
        "jacobian-based",
        model=encoder,
        input_data=data,
        output_dimension=encoder.num_output,
        num_samples=samples,
        seed=seed,
    )
    result = attribution_map.compute_attribution_map()
    elapsed = time.perf_counter() - start
    encoder.float()
    out = {"seconds_total": elapsed}
    for key in ("jf", "jf-inv-lsq", "jf-inv-svd"):
        per_sample = result[key]
        amap = np.abs(per_sample).mean(axis=0)
        out[key] = {
            "auc_neuron_max": roc_auc(neuron_scores(amap), truth_per_neuron),
            "max_abs_entry": float(np.abs(per_sample).max()),
        }
    return out


def main(argv=None) -> dict:
    args = parse_args(argv)
    torch.set_num_threads(1)
    dataset = attribution(seed=args.seed)
    session = dataset.sessions[0]
    truth = np.array(dataset.metadata["sessions"][0]["connectivity"], dtype=bool)
    train = session.train
    latents = np.stack([session.labels[name][train] for name in ATTRIBUTION_LATENTS], axis=1)
    report: dict = {
        "dataset": {"generator": "attribution", **dataset.metadata["params"]},
        "n_driven": int(truth.any(axis=0).sum()),
        "n_connections": int(truth.sum()),
        "samples": args.samples,
        "batch_size": args.batch_size,
        "threads": torch.get_num_threads(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "torch": torch.__version__,
        "models": [],
    }
    for k, item in enumerate(args.models):
        architecture, dim = item.split(":")
        spec = TrainingSpec(
            architecture=architecture,
            output_dimension=int(dim),
            conditional="behavior",
            labels=list(ATTRIBUTION_LATENTS),
            time_offsets=args.time_offsets,
            max_iterations=args.iterations,
            batch_size=512,
            learning_rate=args.learning_rate,
            seed=args.seed,
        )
        start = time.perf_counter()
        model = train_model(dataset, spec)
        train_s = time.perf_counter() - start
        common = dict(max_samples=args.samples, batch_size=args.batch_size, seed=args.seed)
        plain = compute_attribution(
            get_encoder(model), session.neural, methods=DEFAULT_METHODS, **common
        )
        readout = latent_readout(model.transform(session.neural[train]), latents)
        aligned = compute_attribution(
            get_encoder(model), session.neural, methods=DEFAULT_METHODS, readout=readout, **common
        )
        scores: dict[str, dict[str, float]] = {}
        for result in (plain, aligned):
            for row in score_attribution(result, truth):
                if result is aligned and row["level"] != "entries":
                    continue
                scores.setdefault(row["method"], {})[row["level"]] = round(row["auc"], 4)
        entry = {
            "architecture": architecture,
            "output_dimension": int(dim),
            "training": {
                "iterations": args.iterations,
                "time_offsets": args.time_offsets,
                "learning_rate": args.learning_rate,
                "seconds": round(train_s, 1),
                "final_loss": float(model.solver_.log["total"][-1]),
            },
            "auc": scores,
            "seconds": {m: round(t, 3) for m, t in plain.timings.items()},
            "seconds_aligned": {m: round(t, 3) for m, t in aligned.timings.items()},
            "moore_penrose": {m: v["fraction"] for m, v in plain.moore_penrose.items()},
            "n_samples": plain.n_samples,
        }
        if k == 0 and not args.no_cebra_reference:
            entry["cebra_jacobian_based"] = cebra_reference(
                model.model_, session.neural, truth.any(axis=0), args.samples, args.seed
            )
        report["models"].append(entry)
        print(f"\n{architecture} D={dim}: trained {train_s:.0f} s, n={plain.n_samples} rows")
        print(f"{'method':24s} {'neuron_max':>10s} {'neuron_norm':>11s} {'entries':>8s} {'s':>7s}")
        for method, values in scores.items():
            print(
                f"{method:24s} {values['neuron_max']:10.3f} {values['neuron_norm']:11.3f} "
                f"{values.get('entries', float('nan')):8.3f} {plain.timings[method]:7.2f}"
            )
        if "cebra_jacobian_based" in entry:
            print("CEBRA jacobian-based:", json.dumps(entry["cebra_jacobian_based"]))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"\nwritten {args.out}")
    return report


def case_attribution(ctx) -> list[dict]:
    """One model (offset10-model, 8 latents): every method's time and AUC, CEBRA as reference."""
    from tests.benchmarks.common import row

    iterations = 200 if ctx.quick else 1000
    samples = 300 if ctx.quick else 1000
    report = main(
        [
            "--models",
            "offset10-model:8",
            "--iterations",
            str(iterations),
            "--samples",
            str(samples),
            "--out",
            str(ctx.workdir / "bench_attribution.json"),
        ]
    )
    entry = report["models"][0]
    size = f"{report['dataset']['n_timepoints']:,} x {report['dataset']['n_neurons']} neurons, {entry['n_samples']} rows"
    rows = [
        row(
            "attribution: train offset10-model (D=8)",
            f"{iterations} iterations",
            ours_s=entry["training"]["seconds"],
            note=f"final loss {entry['training']['final_loss']:.3f}",
        )
    ]
    reference = entry.get("cebra_jacobian_based", {})
    for method, seconds in entry["seconds"].items():
        auc = entry["auc"][method]
        ref_s = ref_note = None
        if method == "jacobian" and reference:
            ref_s = reference["seconds_total"]
            ref_note = f"; CEBRA jacobian-based (jf, jf-inv-lsq, jf-inv-svd together): AUC neuron_max {reference['jf']['auc_neuron_max']:.3f}"
        rows.append(
            row(
                f"attribution: {method}",
                size,
                ours_s=seconds,
                reference_s=ref_s,
                note=(
                    f"AUC neuron_max {auc['neuron_max']:.3f}, neuron_norm {auc['neuron_norm']:.3f}, "
                    f"entries (aligned to latents) {auc.get('entries', float('nan')):.3f}"
                    + (ref_note or "")
                ),
            )
        )
    return rows


CASES = {"attribution": case_attribution}

if __name__ == "__main__":
    main()
