"""Tests for cebra_lens_core.metrics.consistency: closed forms and sklearn/CEBRA equivalence."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression
from sklearn.metrics import r2_score

from cebra_lens_core.metrics.consistency import (
    BinnedMeans,
    align_by_labels,
    align_datasets,
    consistency,
    consistency_matrix,
)


def _pair(seed: int = 0, t: int = 600) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(t, 4))
    b = np.tanh(a @ rng.normal(size=(4, 3))) + 0.3 * rng.normal(size=(t, 3))
    return a, b


# ----------------------------------------------------------------------------- closed forms


def test_invertible_linear_transform_is_one() -> None:
    rng = np.random.default_rng(1)
    a = rng.normal(size=(500, 5)) @ rng.normal(size=(5, 5))
    b = a @ rng.normal(size=(5, 5)) + rng.normal(size=5) * 10
    assert consistency(a, b) == pytest.approx(1.0, abs=1e-10)
    assert consistency(b, a) == pytest.approx(1.0, abs=1e-10)
    assert consistency(a, b, holdout_fraction=0.3) == pytest.approx(1.0, abs=1e-9)


def test_independent_noise_is_near_zero() -> None:
    rng = np.random.default_rng(2)
    t, d = 4000, 4
    a, b = rng.normal(size=(t, d)), rng.normal(size=(t, 3))
    in_sample = consistency(a, b)
    assert 0.0 <= in_sample < 0.01  # expectation ≈ d / T = 0.001
    held_out = consistency(a, b, holdout_fraction=0.25)
    assert -0.02 < held_out < 0.01


def test_asymmetric_for_projection() -> None:
    rng = np.random.default_rng(3)
    a = rng.normal(size=(3000, 3))
    b = a[:, :1]
    assert consistency(a, b) == pytest.approx(1.0, abs=1e-12)
    # B → A: column 0 explained, columns 1 and 2 independent: mean R² ≈ 1/3
    assert consistency(b, a) == pytest.approx(1.0 / 3.0, abs=0.01)
    m = consistency_matrix([a, b])
    assert m[0, 1] == pytest.approx(1.0, abs=1e-12)
    assert m[1, 0] == pytest.approx(1.0 / 3.0, abs=0.01)


def test_rank_deficient_predictor_matches_sklearn() -> None:
    rng = np.random.default_rng(4)
    a = rng.normal(size=(300, 3))
    a = np.c_[a, a[:, 0] + a[:, 1]]  # duplicate direction
    b = rng.normal(size=(300, 2)) + a[:, :2]
    ref = LinearRegression().fit(a, b).score(a, b)
    assert consistency(a, b) == pytest.approx(ref, abs=1e-10)


# ----------------------------------------------------------------------------- CEBRA semantics


def test_matches_sklearn_in_sample_like_cebra() -> None:
    a, b = _pair()
    ref = LinearRegression().fit(a, b).score(a, b)  # CEBRA's _consistency_scores
    assert consistency(a, b) == pytest.approx(ref, abs=1e-12)
    ref_ba = LinearRegression().fit(b, a).score(b, a)
    assert consistency(b, a) == pytest.approx(ref_ba, abs=1e-12)


def test_matches_cebra_consistency_score_between_runs() -> None:
    cebra_metrics = pytest.importorskip("cebra.integrations.sklearn.metrics")
    a, b = _pair(5, 400)
    scores, pairs, _ = cebra_metrics.consistency_score([a, b], between="runs")
    m = consistency_matrix([a, b])
    got = {(0, 1): m[0, 1], (1, 0): m[1, 0]}
    for score, pair in zip(scores, pairs, strict=True):
        assert got[tuple(int(p) for p in pair)] == pytest.approx(score, abs=1e-10)


def test_held_out_matches_sklearn() -> None:
    a, b = _pair(6, 500)
    n_fit = 500 - int(np.floor(0.2 * 500))
    lr = LinearRegression().fit(a[:n_fit], b[:n_fit])
    ref = r2_score(b[n_fit:], lr.predict(a[n_fit:]))
    assert consistency(a, b, holdout_fraction=0.2) == pytest.approx(ref, abs=1e-10)


def test_scale_and_offset_of_inputs_do_not_matter() -> None:
    a, b = _pair(7)
    ref = consistency(a, b)
    assert consistency(1e3 * a + 1e4, b * 1e-3 - 5) == pytest.approx(ref, abs=1e-9)


def test_chunking_does_not_matter() -> None:
    a, b = _pair(8)
    ref = consistency(a, b)
    assert consistency(a, b, chunk_size=7) == pytest.approx(ref, abs=1e-12)
    assert consistency(a.astype(np.float32), b.astype(np.float32)) == pytest.approx(ref, abs=1e-5)


# ----------------------------------------------------------------------------- matrix


def test_matrix_entries_diagonal_and_pairwise_fallback() -> None:
    rng = np.random.default_rng(9)
    a, b = _pair(9, 400)
    c = a @ rng.normal(size=(4, 4))
    embs = [a, b, c]
    m = consistency_matrix(embs)
    assert m.shape == (3, 3)
    assert np.isnan(np.diag(m)).all()
    for i in range(3):
        for j in range(3):
            if i != j:
                assert m[i, j] == pytest.approx(consistency(embs[i], embs[j]), abs=1e-12)
    assert m[0, 2] == pytest.approx(1.0, abs=1e-10) and m[2, 0] == pytest.approx(1.0, abs=1e-10)
    pairwise = consistency_matrix(embs, max_stacked_bytes=0)
    np.testing.assert_allclose(pairwise, m, atol=1e-12)
    held = consistency_matrix(embs, holdout_fraction=0.25)
    for i, j in [(0, 1), (1, 0), (1, 2), (2, 1)]:
        assert held[i, j] == pytest.approx(
            consistency(embs[i], embs[j], holdout_fraction=0.25), abs=1e-12
        )
    assert np.isnan(np.diag(held)).all()


def test_lazy_inputs() -> None:
    xr = pytest.importorskip("xarray")
    a, b = _pair(10, 300)
    lazy = [xr.DataArray(a, dims=("time", "u")), xr.DataArray(b, dims=("time", "v"))]
    np.testing.assert_allclose(consistency_matrix(lazy), consistency_matrix([a, b]), atol=1e-12)
    assert consistency(lazy[0], lazy[1], holdout_fraction=0.2) == pytest.approx(
        consistency(a, b, holdout_fraction=0.2), abs=1e-12
    )


# ----------------------------------------------------------------------------- constant columns


def test_constant_target_columns_are_left_out_with_warning() -> None:
    rng = np.random.default_rng(11)
    a = rng.normal(size=(200, 2))
    b = np.c_[a[:, 0], np.full(200, 3.0)]
    with pytest.warns(RuntimeWarning, match=r"constant columns \(1\)"):
        assert consistency(a, b) == pytest.approx(1.0, abs=1e-12)
    with pytest.warns(RuntimeWarning, match="every column"):
        assert np.isnan(consistency(a, np.ones((200, 2))))
    # a constant predictor explains nothing
    assert consistency(np.ones((200, 1)), a) == pytest.approx(0.0, abs=1e-12)


def test_no_warnings_for_good_data() -> None:
    a, b = _pair()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        consistency(a, b)
        consistency_matrix([a, b], holdout_fraction=0.2)


# ----------------------------------------------------------------------------- alignment


def test_align_by_labels_means_and_empty_bins() -> None:
    x = np.array([[0.0, 1.0], [2.0, 3.0], [10.0, 10.0], [4.0, 4.0], [6.0, 8.0]])
    labels = np.array([0.0, 0.5, 3.9, 4.0, 2.0])
    res = align_by_labels(x, labels, 4)  # edges 0, 1, 2, 3, 4
    assert isinstance(res, BinnedMeans)
    np.testing.assert_allclose(res.edges, [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(res.bins, [0, 2, 3])  # bin 1 ([1, 2)) is empty: dropped
    np.testing.assert_array_equal(res.counts, [2, 1, 2])
    np.testing.assert_allclose(res.means, [[1.0, 2.0], [6.0, 8.0], [7.0, 7.0]])
    np.testing.assert_allclose(res.centres, [0.5, 2.5, 3.5])
    assert res.n_outside == 0
    norm = align_by_labels(x, labels, 4, normalize=True)
    np.testing.assert_allclose(np.linalg.norm(norm.means, axis=1), 1.0)
    np.testing.assert_allclose(norm.means[1], [0.6, 0.8])


def test_align_by_labels_value_range_excludes_outside() -> None:
    x = np.arange(10.0)[:, None]
    res = align_by_labels(x, np.arange(10.0), 2, value_range=(2.0, 6.0))
    assert res.n_outside == 5
    np.testing.assert_allclose(res.means[:, 0], [2.5, 5.0])  # [2, 4) and [4, 6]


def test_align_datasets_then_consistency() -> None:
    """Two datasets encoding the same label linearly become consistent after alignment."""
    rng = np.random.default_rng(12)
    lab1, lab2 = rng.uniform(0, 1, 3000), rng.uniform(0.1, 1.2, 2000)

    def embed(lab: np.ndarray, w: np.ndarray) -> np.ndarray:
        feats = np.c_[np.cos(3 * lab), np.sin(3 * lab)]
        return feats @ w + 0.05 * rng.normal(size=(len(lab), w.shape[1]))

    e1, e2 = embed(lab1, rng.normal(size=(2, 3))), embed(lab2, rng.normal(size=(2, 5)))
    means, bins = align_datasets([e1, e2], [lab1, lab2], 20)
    assert means[0].shape == (len(bins), 3) and means[1].shape == (len(bins), 5)
    lo = min(lab1.min(), lab2.min())
    hi = max(lab1.max(), lab2.max())
    b1 = align_by_labels(e1, lab1, 20, value_range=(lo, hi))
    b2 = align_by_labels(e2, lab2, 20, value_range=(lo, hi))
    np.testing.assert_array_equal(bins, np.intersect1d(b1.bins, b2.bins))
    width = (hi - lo) / 20  # shared bins run from dataset 2's minimum to dataset 1's maximum
    assert bins[0] == int((lab2.min() - lo) / width) and bins[-1] == int((lab1.max() - lo) / width)
    assert len(bins) == bins[-1] - bins[0] + 1  # dense sampling: no gaps
    np.testing.assert_allclose(means[0], b1.means[np.isin(b1.bins, bins)])
    m = consistency_matrix(means)
    assert m[0, 1] > 0.95 and m[1, 0] > 0.95
    # unrelated label: low consistency after alignment on the bins
    e3 = rng.normal(size=(2000, 3))
    means3, _ = align_datasets([e1, e3], [lab1, lab2], 20)
    assert consistency(means3[0], means3[1]) < 0.6


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ((np.ones((10, 2)), np.ones((9, 2))), {}, "X_from has 10 .* X_to has 9"),
        ((np.ones(10), np.ones((10, 2))), {}, "X_from must be 2-D"),
        ((np.ones((10, 2)), np.ones((10, 0))), {}, "X_to has no units"),
        ((np.ones((1, 2)), np.ones((1, 2))), {}, "at least 2 time points"),
        ((np.full((10, 2), np.nan), np.ones((10, 2))), {}, "X_from contains NaN"),
        ((np.ones((10, 2)), np.full((10, 2), np.inf)), {}, "X_to contains NaN or inf"),
        ((np.ones((10, 2)), np.ones((10, 2))), {"holdout_fraction": 1.0}, r"in \(0, 1\)"),
        ((np.ones((10, 2)), np.ones((10, 2))), {"holdout_fraction": 0.1}, "at least 2 of each"),
    ],
)
def test_consistency_errors(args: tuple, kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        consistency(*args, **kwargs)


def test_matrix_errors() -> None:
    a = np.ones((10, 2))
    with pytest.raises(ValueError, match="at least 2 embeddings"):
        consistency_matrix([a])
    with pytest.raises(TypeError, match="sequence"):
        consistency_matrix(a)
    with pytest.raises(ValueError, match=r"embeddings\[1\] has 9 time points"):
        consistency_matrix([a, np.ones((9, 2))])
    with pytest.raises(ValueError, match="run_b has 9"):
        consistency_matrix([a, np.ones((9, 2))], names=["run_a", "run_b"])
    with pytest.raises(ValueError, match="names"):
        consistency_matrix([a, a], names=["only_one"])
    with pytest.raises(ValueError, match=r"embeddings\[0\] contains NaN"):
        consistency_matrix([np.full((10, 2), np.nan), a])


def test_alignment_errors() -> None:
    x = np.ones((10, 2))
    with pytest.raises(ValueError, match="labels has 9 values"):
        align_by_labels(x, np.arange(9.0), 3)
    with pytest.raises(ValueError, match="n_bins"):
        align_by_labels(x, np.arange(10.0), 0)
    with pytest.raises(ValueError, match="labels must be 1-D"):
        align_by_labels(x, np.ones((10, 2)), 3)
    with pytest.raises(ValueError, match="labels contains NaN"):
        align_by_labels(x, np.full(10, np.nan), 3)
    with pytest.raises(ValueError, match="X contains NaN"):
        align_by_labels(np.full((10, 2), np.nan), np.arange(10.0), 3)
    with pytest.raises(ValueError, match="value_range"):
        align_by_labels(x, np.arange(10.0), 3, value_range=(5.0, 1.0))
    with pytest.raises(ValueError, match="no label value"):
        align_by_labels(x, np.arange(10.0), 3, value_range=(20.0, 30.0))
    with pytest.raises(ValueError, match="2 embeddings but 1"):
        align_datasets([x, x], [np.arange(10.0)], 3)
    with pytest.raises(ValueError, match="share 0 non-empty"):
        align_datasets([x, x], [np.arange(10.0), np.arange(10.0) + 100], 3)
