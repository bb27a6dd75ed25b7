"""Similarity-measure benchmarks (issue 18; cases for ``run_all``, also runnable alone:
``python tests/benchmarks/bench_similarity.py``).

- ``prepare_similarity_stores``: two T = 10^6 activation stores (2 models × 6 layers × 32
  units, float32, zarr) whose layers transform place-cell units of a position on a track
  (labels ``position``, ``direction``), so crossnobis has conditions with real differences;
- ``similarity_1e6``: every family of ``analyses.similarity`` (shape, CCA, neighbourhood with
  its default cap, crossnobis) between them, one family at a time as the workflow job runs
  it: wall time and peak memory (target < 1 GiB);
- ``similarity_ref``: side by side with the references the tests use, at the largest size the
  reference handles here: crossnobis RDM against rsatoolbox (T = 10^5), the shape distance
  against a direct SVD of the in-memory centred layers, mutual kNN against sklearn's exact
  ``NearestNeighbors`` on the same rows.
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
    once,
    peak_rss_mib,
    place_layer,
    row,
    rss_mib,
    track_labels,
    write_store,
)

N_MODELS, N_LAYERS, N_UNITS = 2, 6, 32


def store_paths(ctx: Context) -> tuple[Path, Path]:
    return ctx.workdir / "similarity_a.zarr", ctx.workdir / "similarity_b.zarr"


def prepare_similarity_stores(ctx: Context) -> list[dict]:
    """Two stores: layer i = tanh(layer i−1 · W_i) + noise from 32 place-cell units."""
    import numpy as np

    t = ctx.size(1_000_000, 100_000)
    weights = np.random.default_rng(5).standard_normal((N_MODELS, N_LAYERS, N_UNITS, N_UNITS))
    weights = (weights / np.sqrt(N_UNITS)).astype(np.float32)
    rows = []
    for m, path in enumerate(store_paths(ctx)):

        def make(start: int, stop: int, rng: Any, m: int = m) -> list[Any]:
            position, direction = track_labels(np.arange(start, stop))
            h = place_layer(position, direction, N_UNITS, rng)
            layers = []
            for i in range(N_LAYERS):
                noise = rng.standard_normal((stop - start, N_UNITS), dtype=np.float32)
                h = np.tanh(2 * h @ weights[m, i]) + np.float32(0.1) * noise
                layers.append(h.astype(np.float32))
            return layers

        sec, _ = once(lambda p=path, f=make, s=m: write_store(p, t, f, seed=20 + s))
        rows.append(
            row(
                f"prepare: similarity store {m}",
                f"T={t:,}, {N_LAYERS} x {N_UNITS} units float32",
                ours_s=sec,
                note=f"{dir_size_mib(path):.0f} MiB on disk",
            )
        )
    return rows


FAMILIES = {
    "shape": ["procrustes_angular", "procrustes_euclidean", "cca_angular"],
    "cca": ["svcca", "pwcca"],
    "neighbourhood": ["mutual_knn", "jaccard_knn", "cknna"],
    "crossnobis": ["crossnobis_cosine_cov", "crossnobis_corr_cov"],
}


def case_similarity_big(ctx: Context) -> list[dict]:
    from cebra_lens_core.activations.store import open_activation_store
    from cebra_lens_core.analyses.similarity import similarity_rows_for_pairs

    a, b = store_paths(ctx)
    stores = {"a": open_activation_store(a), "b": open_activation_store(b)}
    t = stores["a"].sizes["time"]
    base = rss_mib()
    out = []
    for family, measures in FAMILIES.items():
        sec, rows = once(
            lambda measures=measures: similarity_rows_for_pairs(
                stores, [("a", "b")], measures=measures, label="position"
            )
        )
        peak = peak_rss_mib()
        values = rows.groupby("variant")["value"].agg(["min", "max"])
        out.append(
            row(
                f"similarity {family}: {', '.join(measures)}",
                f"T={t:,} (test split: {int(rows['n'].astype(int).max()):,} rows used), 2 x {N_LAYERS} x "
                f"{N_UNITS} units, from zarr",
                ours_s=sec,
                peak_mib=peak,
                target="< 1 GiB",
                met=peak < 1024,
                note=(
                    f"{len(rows)} values (6 x 6 layer pairs per measure); range "
                    + "; ".join(f"{m} {v['min']:.3f}…{v['max']:.3f}" for m, v in values.iterrows())
                    + f"; RSS after imports+open {base:.0f} MiB (peak is of the whole process)"
                ),
            )
        )
    return out


def _in_memory(ctx: Context, n: int) -> tuple[Any, Any, Any]:
    import numpy as np

    from cebra_lens_core.activations.store import open_activation_store

    a, b = (open_activation_store(p) for p in store_paths(ctx))
    x = np.asarray(a["layer_00"][:n].values, dtype=np.float64)
    y = np.asarray(b["layer_03"][:n].values, dtype=np.float64)
    return x, y, np.asarray(a["label_position"][:n].values)


def case_similarity_ref(ctx: Context) -> list[dict]:
    import numpy as np

    from cebra_lens_core.metrics.crossnobis import contiguous_folds, crossnobis_rdm
    from cebra_lens_core.metrics.neighbourhood import mutual_knn
    from cebra_lens_core.metrics.rdm import upper_triangle
    from cebra_lens_core.metrics.shape import shape_distance

    out = []
    n = ctx.size(100_000, 10_000)
    x, y, position = _in_memory(ctx, n)
    conditions = np.minimum((position / position.max() * 8).astype(int), 7)

    # crossnobis against rsatoolbox
    try:
        import rsatoolbox
    except ImportError:  # a test-only dependency (pip install -e .[test])
        rsatoolbox = None
    t_ours, (ours, _) = once(lambda: crossnobis_rdm(x, conditions, n_folds=5))
    if rsatoolbox is not None:
        folds = contiguous_folds(n, 5)

        def reference() -> Any:
            # fold x condition means and residuals (numpy), noise precision and the
            # leave-one-fold-out crossnobis on the fold means from rsatoolbox
            ids, cell = np.unique(folds * 8 + conditions, return_inverse=True)
            means = np.zeros((len(ids), x.shape[1]))
            np.add.at(means, cell, x)
            means /= np.bincount(cell)[:, None]
            prec = rsatoolbox.data.noise.prec_from_residuals(
                x - means[cell], dof=n - len(ids), method="shrinkage_eye"
            )
            data = rsatoolbox.data.Dataset(
                means, obs_descriptors={"conds": ids % 8, "folds": ids // 8}
            )
            return rsatoolbox.rdm.calc_rdm(
                data, method="crossnobis", descriptor="conds", cv_descriptor="folds", noise=prec
            ).get_vectors()[0]

        t_ref, ref = once(reference)
        diff = max_abs_diff(upper_triangle(ours), ref)
        out.append(
            row(
                "crossnobis RDM (Ledoit-Wolf noise, 5 contiguous folds) vs rsatoolbox 0.3",
                f"T={n:,}, 32 units, 8 conditions",
                ours_s=t_ours,
                reference_s=t_ref,
                max_abs_diff=diff,
                tolerance=1e-6,
                note=(
                    "reference: fold x condition means and residuals in numpy, "
                    "prec_from_residuals(shrinkage_eye) and calc_rdm(crossnobis) on the fold "
                    "means (rsatoolbox's leave-one-fold-out estimator)"
                ),
            )
        )

    # shape distance against a direct SVD of the centred layers
    def direct() -> float:
        xc, yc = x - x.mean(0), y - y.mean(0)
        nuclear = np.linalg.svd(xc.T @ yc, compute_uv=False).sum()
        return float(np.arccos(min(1.0, nuclear / (np.linalg.norm(xc) * np.linalg.norm(yc)))))

    t_ours, ours = once(lambda: shape_distance(x, y, alpha=1.0, form="angular"))
    t_ref, ref = once(direct)
    out.append(
        row(
            "Procrustes angular distance vs direct SVD of the centred layers",
            f"T={n:,}, 32 + 32 units",
            ours_s=t_ours,
            reference_s=t_ref,
            max_abs_diff=abs(ours - ref),
            tolerance=1e-8,
        )
    )

    # mutual kNN against sklearn's exact neighbours on the same rows
    from sklearn.neighbors import NearestNeighbors

    m, k = ctx.size(5_000, 2_000), 10

    def sklearn_mutual() -> float:
        sets = []
        for z in (x[:m], y[:m]):
            nn = NearestNeighbors(n_neighbors=k + 1, metric="cosine", algorithm="brute").fit(z)
            idx = nn.kneighbors(z, return_distance=False)
            sets.append([set(r[r != i][:k]) for i, r in enumerate(idx)])
        return float(np.mean([len(p & q) / k for p, q in zip(*sets, strict=True)]))

    t_ours, ours = once(lambda: mutual_knn(x[:m], y[:m], k=k, max_samples=None))
    t_ref, ref = once(sklearn_mutual)
    out.append(
        row(
            "mutual kNN (k = 10) vs sklearn NearestNeighbors (cosine, brute)",
            f"n={m:,} rows, 32 + 32 units",
            ours_s=t_ours,
            reference_s=t_ref,
            max_abs_diff=abs(ours - ref),
            tolerance=1e-12,
            note="sklearn breaks distance ties by index, as we do; a tie at the k-th place could differ",
        )
    )
    return out


CASES = {
    "prepare_similarity_stores": prepare_similarity_stores,
    "similarity_1e6": case_similarity_big,
    "similarity_ref": case_similarity_ref,
}

if __name__ == "__main__":
    from tests.benchmarks.run_all import main

    main(["--only", ",".join(CASES), *sys.argv[1:]])
