"""Tests for cebra_lens_core.metrics.distance against brute-force pdist references."""

from __future__ import annotations

import time

import numpy as np
import pytest
from scipy.spatial.distance import pdist

from cebra_lens_core.metrics.conditions import make_conditions
from cebra_lens_core.metrics.distance import class_distances, mean_pairwise_distance

# ----------------------------------------------------------------------------- references


def _zscore(x: np.ndarray) -> np.ndarray:
    keep = x.max(0) > x.min(0)
    x = x[:, keep]
    return (x - x.mean(0)) / x.std(0)


def _stat(v: np.ndarray, metric: str) -> float:
    """Brute force over all pairs i < j: mean cosine distance or RMS Euclidean distance."""
    if metric == "cosine":
        return float(np.mean(pdist(v, "cosine")))
    return float(np.sqrt(np.mean(pdist(v, "sqeuclidean"))))


def brute_class_distances(x, codes, repeats, metric):
    v = x if metric == "cosine" else _zscore(x)
    ids = np.unique(codes)
    intra = [_stat(v[codes == c], metric) for c in ids if (codes == c).sum() >= 2]
    means = np.stack([v[codes == c].mean(0) for c in ids])
    out = {"intra_class": np.mean(intra), "inter_class": _stat(means, metric)}
    if repeats is not None:
        vals = []
        for c in ids:
            rs = np.unique(repeats[codes == c])
            if len(rs) >= 2:
                m = np.stack([v[(codes == c) & (repeats == r)].mean(0) for r in rs])
                vals.append(_stat(m, metric))
        out["inter_repetition"] = np.mean(vals)
    return out


def _data(seed: int, T: int = 240, d: int = 7, n_cond: int = 6, n_rep: int = 4):
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, n_cond, size=T)
    repeats = rng.integers(0, n_rep, size=T)
    centres = rng.normal(size=(n_cond, d)) * 2
    x = centres[codes] + rng.normal(size=(T, d)) * rng.uniform(0.5, 3, size=d) + 1.5
    return x, codes, repeats


# ----------------------------------------------------------------------------- exactness


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
@pytest.mark.parametrize("seed", range(3))
def test_against_brute_force(metric, seed):
    x, codes, repeats = _data(seed)
    codes[:3] = 17  # a condition with 3 samples
    got = class_distances(x, codes, repeats, metric)
    ref = brute_class_distances(x, codes, repeats, metric)
    for key in ("intra_class", "inter_class", "inter_repetition"):
        assert got[key] == pytest.approx(ref[key], rel=0, abs=1e-10), key
    assert got["metric"] == {"cosine": "cosine", "euclidean": "euclidean_rms"}[metric]
    assert got["n_samples"] == 240 and got["n_units"] == 7


def test_per_condition_values_and_counts():
    x, codes, repeats = _data(5)
    codes[0] = 99  # singleton condition: no intra pairs, no repeats
    got = class_distances(x, codes, repeats, "cosine")
    ids = np.unique(codes)
    np.testing.assert_array_equal(got["condition_ids"], ids)
    np.testing.assert_array_equal(got["counts"], [(codes == c).sum() for c in ids])
    assert got["n_conditions"] == len(ids)
    assert got["n_conditions_intra"] == len(ids) - 1
    assert got["n_conditions_repetition"] == len(ids) - 1
    assert got["n_repeats"] == 4
    per = got["intra_class_per_condition"]
    assert np.isnan(per[-1]) and np.isnan(got["inter_repetition_per_condition"][-1])
    for k, c in enumerate(ids[:-1]):
        assert per[k] == pytest.approx(_stat(x[codes == c], "cosine"), abs=1e-10)
    assert got["intra_class"] == pytest.approx(np.mean(per[:-1]), abs=1e-15)


def test_mean_pairwise_distance_closed_forms():
    rng = np.random.default_rng(6)
    v = rng.normal(size=(50, 4))
    assert mean_pairwise_distance(v, "cosine") == pytest.approx(
        np.mean(pdist(v, "cosine")), abs=1e-12
    )
    assert mean_pairwise_distance(v, "euclidean") == pytest.approx(
        np.sqrt(np.mean(pdist(v, "sqeuclidean"))), abs=1e-12
    )
    # two points: RMS = the distance itself; orthogonal unit vectors: cosine distance 1
    assert mean_pairwise_distance([[0.0, 0.0], [3.0, 4.0]], "euclidean") == pytest.approx(5.0)
    assert mean_pairwise_distance([[1.0, 0.0], [0.0, 2.0]], "cosine") == pytest.approx(1.0)
    assert mean_pairwise_distance([[1.0, 0.0], [-2.0, 0.0]], "cosine") == pytest.approx(2.0)
    # RMS ≥ mean Euclidean distance (Jensen)
    assert mean_pairwise_distance(v, "euclidean") >= np.mean(pdist(v))


# ----------------------------------------------------------------------------- behaviour


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_inter_repetition_zero_for_identical_repeats(metric):
    rng = np.random.default_rng(7)
    n_frames, n_rep = 30, 5
    response = rng.normal(size=(n_frames, 6))
    x = np.tile(response, (n_rep, 1))  # every repeat is an identical copy
    frames = np.tile(np.arange(n_frames), n_rep)
    repeats = np.repeat(np.arange(n_rep), n_frames)
    got = class_distances(x, frames, repeats, metric)
    assert got["inter_repetition"] == pytest.approx(0.0, abs=1e-12)
    assert got["intra_class"] == pytest.approx(0.0, abs=1e-12)
    assert got["inter_class"] > 0.5
    noisy = class_distances(x + 0.1 * rng.normal(size=x.shape), frames, repeats, metric)
    assert noisy["inter_repetition"] > 0.01


def test_euclidean_zscored_invariant_to_unit_scaling_and_constant_units():
    x, codes, repeats = _data(8)
    ref = class_distances(x, codes, repeats, "euclidean")
    scaled = x * np.arange(1, 8) * 10.0 - 3.0
    got = class_distances(scaled, codes, repeats, "euclidean")
    for key in ("intra_class", "inter_class", "inter_repetition"):
        assert got[key] == pytest.approx(ref[key], abs=1e-10)
    with_const = np.column_stack([x, np.full(len(x), 0.1, dtype=np.float32), np.zeros(len(x))])
    got = class_distances(with_const, codes, repeats, "euclidean")
    assert got["n_constant_units"] == 2 and got["n_units"] == 9
    for key in ("intra_class", "inter_class", "inter_repetition"):
        assert got[key] == pytest.approx(ref[key], abs=1e-10)
    assert ref["n_constant_units"] == 0


def test_cosine_invariant_to_per_sample_scaling():
    x, codes, _ = _data(9)
    ref = class_distances(x, codes)
    scale = np.random.default_rng(0).uniform(0.1, 10, size=(len(x), 1))
    got = class_distances(x * scale, codes)
    assert got["intra_class"] == pytest.approx(ref["intra_class"], abs=1e-12)
    assert "inter_repetition" not in got and "n_repeats" not in got


def test_conditions_object_and_float32():
    x, codes, _ = _data(10)
    cond = make_conditions(codes)
    a = class_distances(x.astype(np.float32), cond, metric="euclidean")
    b = class_distances(x.astype(np.float32), codes.astype(float), metric="euclidean")
    assert a["intra_class"] == b["intra_class"]
    assert a["metric"] == "euclidean_rms"
    assert class_distances(x, codes, metric="euclidean_rms")["metric"] == "euclidean_rms"


def test_linear_cost_large_T():
    rng = np.random.default_rng(11)
    T = 200_000
    x = rng.normal(size=(T, 8)).astype(np.float32)
    codes = rng.integers(0, 50, size=T)
    t0 = time.perf_counter()
    got = class_distances(x, codes, metric="euclidean")
    assert time.perf_counter() - t0 < 3.0  # a T × T pass would not fit (3e11 bytes)
    # independent Gaussian z-scored units: mean squared distance ≈ 2 d
    assert got["intra_class"] == pytest.approx(4.0, rel=0.01)


# ----------------------------------------------------------------------------- errors


def test_errors():
    x = np.random.default_rng(12).normal(size=(6, 3))
    codes = np.array([0, 0, 1, 1, 2, 2])
    with pytest.raises(ValueError, match="unknown distance metric"):
        class_distances(x, codes, metric="manhattan")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="conditions has 5 values but X has 6 rows"):
        class_distances(x, codes[:5])
    with pytest.raises(ValueError, match="repeats has 4 values but X has 6 rows"):
        class_distances(x, codes, repeats=[0, 1, 0, 1])
    with pytest.raises(ValueError, match="non-integer"):
        class_distances(x, codes + 0.5)
    with pytest.raises(ValueError, match="NaN"):
        class_distances(x, np.array([0, 0, 1, np.nan, 2, 2]))
    with pytest.raises(ValueError, match="at least 2 conditions"):
        class_distances(x, np.zeros(6, dtype=int))
    with pytest.raises(ValueError, match="single sample"):
        class_distances(x, np.arange(6))
    with pytest.raises(ValueError, match="no condition occurs in 2 or more repeats"):
        class_distances(x, codes, repeats=np.zeros(6, dtype=int))
    bad = x.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"NaN or inf values \(first at time index 3\)"):
        class_distances(bad, codes)
    zero = x.copy()
    zero[4] = 0.0
    with pytest.raises(ValueError, match=r"1 samples have an all-zero activation vector"):
        class_distances(zero, codes, metric="cosine")
    class_distances(zero, codes, metric="euclidean")  # fine for Euclidean
    with pytest.raises(ValueError, match="2-D"):
        class_distances(x[:, 0], codes)
