"""Tests for cebra_lens_core.metrics.encoding against sklearn and planted linear maps."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.model_selection import KFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.random_projection import johnson_lindenstrauss_min_dim

from cebra_lens_core.metrics.encoding import (
    encoding_regression,
    pearson_per_column,
    projection_dimension,
    r2_per_column,
)


def planted(n: int = 400, d: int = 12, m: int = 6, noise: float = 0.3, seed: int = 0):
    """Layer X (scaled, offset units) and neural Y = X W + noise; first 300 rows train."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)) * rng.uniform(0.5, 5.0, size=d) + rng.normal(size=d) * 10
    y = x @ rng.normal(size=(d, m)) + noise * rng.normal(size=(n, m)) * x.std()
    k = 3 * n // 4
    return x[:k], y[:k], x[k:], y[k:]


def test_cv_predictions_and_alpha_choice_equal_sklearn():
    x_tr, y_tr, x_te, y_te = planted(noise=2.0, seed=1)
    grid = [0.1, 10.0, 1000.0, 1e5]
    res = encoding_regression(x_tr, y_tr, x_te, y_te, alphas=grid, n_folds=4)
    # brute force: out-of-fold R² for each alpha with sklearn's unshuffled KFold
    oof = {
        a: cross_val_predict(
            make_pipeline(StandardScaler(), Ridge(alpha=a)), x_tr, y_tr, cv=KFold(4)
        )
        for a in grid
    }
    sst = ((y_tr - y_tr.mean(axis=0)) ** 2).sum(axis=0)
    cv = np.array([1 - ((y_tr - oof[a]) ** 2).sum(axis=0) / sst for a in grid])
    np.testing.assert_allclose(res.cv_r2, cv, atol=1e-8)
    chosen = np.asarray(grid)[np.argmax(cv, axis=0)]
    np.testing.assert_array_equal(res.alpha, chosen)
    oof_chosen = np.column_stack([oof[a][:, j] for j, a in enumerate(chosen)])
    np.testing.assert_allclose(res.train_predictions, oof_chosen, atol=1e-8)
    test_pred = np.column_stack(
        [
            make_pipeline(StandardScaler(), Ridge(alpha=a)).fit(x_tr, y_tr[:, j]).predict(x_te)
            for j, a in enumerate(chosen)
        ]
    )
    np.testing.assert_allclose(res.predictions, test_pred, atol=1e-8)
    r = [np.corrcoef(test_pred[:, j], y_te[:, j])[0, 1] for j in range(y_te.shape[1])]
    np.testing.assert_allclose(res.pearson_r, r, atol=1e-10)
    assert res.mean_r == pytest.approx(np.mean(r)) and res.median_r == pytest.approx(np.median(r))
    one = encoding_regression(
        x_tr, y_tr, x_te, y_te, alphas=grid, n_folds=4, alpha_per_target=False
    )
    assert len(set(one.alpha)) == 1
    assert one.alpha[0] == grid[int(np.argmax(cv.mean(axis=1)))]


def test_recovers_planted_map_and_scores_zero_on_shuffled_targets():
    x_tr, y_tr, x_te, y_te = planted(n=800, d=20, m=10, noise=0.3)
    res = encoding_regression(x_tr, y_tr, x_te, y_te)
    assert res.mean_r > 0.95 and res.median_r2 > 0.85
    assert res.cv_mean_r > 0.95
    rng = np.random.default_rng(3)
    shuffled = encoding_regression(
        x_tr, y_tr[rng.permutation(len(y_tr))], x_te, y_te[rng.permutation(len(y_te))]
    )
    assert abs(shuffled.mean_r) < 0.1 and shuffled.mean_r2 < 0.05
    shifted = encoding_regression(
        x_tr, np.roll(y_tr, 200, axis=0), x_te, np.roll(y_te, 100, axis=0)
    )
    assert abs(shifted.mean_r) < 0.1


def test_random_projection_dimension_seed_and_recovery():
    assert projection_dimension(500, 10_000, eps=0.1) == johnson_lindenstrauss_min_dim(500, eps=0.1)
    assert projection_dimension(500, 100, eps=0.1) == 100  # capped at d
    assert projection_dimension(500, 100, n_components=30) == 30
    rng = np.random.default_rng(0)
    latent = rng.normal(size=(600, 5))
    x = latent @ rng.normal(size=(5, 300)) + 0.1 * rng.normal(size=(600, 300))  # d = 300
    y = latent @ rng.normal(size=(5, 4))
    a = encoding_regression(
        x[:450], y[:450], x[450:], y[450:], projection="sparse", n_components=40, seed=1
    )
    b = encoding_regression(
        x[:450], y[:450], x[450:], y[450:], projection="sparse", n_components=40, seed=1
    )
    c = encoding_regression(
        x[:450], y[:450], x[450:], y[450:], projection="sparse", n_components=40, seed=2
    )
    assert a.projected and a.n_components == 40 and a.n_features == 300
    np.testing.assert_array_equal(a.predictions, b.predictions)
    assert not np.allclose(a.predictions, c.predictions)
    assert a.mean_r > 0.95
    assert johnson_lindenstrauss_min_dim(450, eps=0.3) > 300
    full = encoding_regression(x[:450], y[:450], x[450:], y[450:], projection="sparse", eps=0.3)
    assert not full.projected and full.n_components == 300  # JL dimension >= d: no projection
    jl = encoding_regression(x[:450], y[:450], x[450:], y[450:], projection="sparse", eps=0.5)
    assert jl.projected and jl.n_components == johnson_lindenstrauss_min_dim(450, eps=0.5) < 300


def test_constant_test_target_is_nan_and_warned():
    x_tr, y_tr, x_te, y_te = planted()
    y_te = y_te.copy()
    y_te[:, 2] = 1.0
    with pytest.warns(RuntimeWarning, match="constant on the test split"):
        res = encoding_regression(x_tr, y_tr, x_te, y_te, target_names=list("abcdef"))
    assert np.isnan(res.pearson_r[2]) and np.isnan(res.r2[2])
    assert np.isfinite(res.mean_r) and res.mean_r == pytest.approx(np.nanmean(res.pearson_r))
    assert res.median_r2 == pytest.approx(np.nanmedian(res.r2))


def test_score_helpers_by_hand():
    np.testing.assert_allclose(pearson_per_column([1, 2, 3], [2, 4, 7]), [0.9933992677987828])
    np.testing.assert_allclose(r2_per_column([1.0, 2.0, 3.0], [1.0, 2.0, 4.0]), [0.5])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(pearson_per_column([1, 1, 1], [1, 2, 3])[0])


@pytest.mark.parametrize(
    "change, match",
    [
        (dict(Y_train=np.zeros((10, 6))), "rows"),
        (dict(X_test=np.zeros((100, 5))), "units"),
        (dict(Y_test=np.zeros((100, 2))), "targets"),
        (dict(n_folds=1), "n_folds"),
        (dict(alphas=[1.0, -1.0]), "alphas"),
        (dict(projection="gaussian"), "projection"),
        (dict(projection="sparse", eps=1.5), "eps"),
        (dict(n_components=3), "n_components"),
        (dict(target_names=["a"]), "target_names"),
    ],
)
def test_bad_input(change, match):
    x_tr, y_tr, x_te, y_te = planted()
    args = dict(X_train=x_tr, Y_train=y_tr, X_test=x_te, Y_test=y_te)
    args.update(change)
    with pytest.raises(ValueError, match=match):
        encoding_regression(**args)


def test_nan_input_is_named():
    x_tr, y_tr, x_te, y_te = planted()
    x_tr = x_tr.copy()
    x_tr[7, 3] = np.nan
    with pytest.raises(ValueError, match="X_train contains NaN.*time index 7"):
        encoding_regression(x_tr, y_tr, x_te, y_te)
