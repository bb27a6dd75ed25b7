"""Tests for cebra_lens_core.metrics.linear: the one ridge / least-squares solver, vs sklearn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from cebra_lens_core.metrics.linear import constant_features, ridge_from_moments
from cebra_lens_core.metrics.streaming import MomentAccumulator


def _moments(x: np.ndarray, y: np.ndarray, chunk: int = 37) -> MomentAccumulator:
    acc = MomentAccumulator(x.shape[1] + y.shape[1])
    w = np.concatenate([x, y], axis=1)
    for lo in range(0, len(w), chunk):
        acc.add(w[lo : lo + chunk])
    return acc


def _planted(n: int = 300, d: int = 12, m: int = 4, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)) * rng.uniform(0.5, 5.0, size=d) + rng.normal(size=d) * 10
    y = x @ rng.normal(size=(d, m)) + 0.3 * rng.normal(size=(n, m)) * x.std()
    return x, y


@pytest.mark.parametrize("standardize", [False, True])
def test_ridge_from_chunked_moments_equals_sklearn_for_every_alpha(standardize):
    x, y = _planted()
    fit = ridge_from_moments(_moments(x, y), x.shape[1], standardize=standardize)
    alphas = np.array([1e-3, 0.5, 30.0, 1e4])
    weights = fit.standardised_weights(alphas)
    for i, a in enumerate(alphas):
        model = make_pipeline(StandardScaler(), Ridge(alpha=a)) if standardize else Ridge(alpha=a)
        ref = model.fit(x, y).predict(x)
        np.testing.assert_allclose(fit.predict(x, a), ref, rtol=0, atol=1e-8)
        np.testing.assert_allclose(fit.standardise(x) @ weights[i] + fit.mean_y, ref, atol=1e-8)
        if not standardize:
            np.testing.assert_allclose(fit.coef(a), model.coef_.T, atol=1e-8)
    # one alpha per target: column j equals the fit with alphas[j]
    per_target = fit.predict(x, alphas)
    for j, a in enumerate(alphas):
        np.testing.assert_allclose(per_target[:, j], fit.predict(x, a)[:, j], atol=1e-12)


def test_target_subset_and_target_scatter():
    x, y = _planted(m=3)
    acc = _moments(x, y)
    fit = ridge_from_moments(acc, x.shape[1], np.array([2]))
    ref = make_pipeline(StandardScaler(), Ridge(alpha=3.0)).fit(x, y[:, 2]).predict(x)
    np.testing.assert_allclose(fit.predict(x, 3.0)[:, 0], ref, atol=1e-8)
    np.testing.assert_allclose(fit.target_scatter, [np.sum((y[:, 2] - y[:, 2].mean()) ** 2)])


def test_constant_feature_gets_unit_scale_like_standard_scaler():
    x, y = _planted(d=5, m=1)
    x[:, 2] = 7.25  # constant unit
    fit = ridge_from_moments(_moments(x, y), 5)
    assert fit.scale[2] == 1.0 and np.all(fit.scale[[0, 1, 3, 4]] != 1.0)
    ref = make_pipeline(StandardScaler(), Ridge(alpha=1.0)).fit(x, y).predict(x)
    np.testing.assert_allclose(fit.predict(x, 1.0), ref.reshape(-1, 1), atol=1e-8)
    # variance within rounding of the mean (10 ε)² counts as constant; a small real one does not
    var = np.array([0.0, 1e-34, 1e-34, 1.0])
    mean = np.array([5.0, 1.0, 0.0, 0.0])
    np.testing.assert_array_equal(constant_features(var, mean, 10), [True, True, False, False])


def test_least_squares_is_minimum_norm_also_for_rank_deficient_features():
    x, y = _planted(d=6, m=3)
    x = np.concatenate([x, x[:, :2] + 2 * x[:, 2:3]], axis=1)  # two dependent columns
    fit = ridge_from_moments(_moments(x, y), x.shape[1], standardize=False)
    ref = LinearRegression().fit(x, y)
    w = fit.least_squares_coef()
    np.testing.assert_allclose((x - fit.mean_x) @ w + fit.mean_y, ref.predict(x), atol=1e-7)
    np.testing.assert_allclose(
        w, np.linalg.pinv(x - x.mean(0), rcond=1e-6) @ (y - y.mean(0)), atol=1e-8
    )
    # in-sample explained sums of squares: SS_tot − SS_res of the least-squares fit
    res = y - ref.predict(x)
    expected = fit.target_scatter - np.sum(res**2, axis=0)
    np.testing.assert_allclose(fit.explained_scatter(), expected, rtol=1e-9)
    # independent noise targets explain about d / n of their variance, never more than all
    noise = np.random.default_rng(9).normal(size=(len(x), 2))
    fit_noise = ridge_from_moments(_moments(x, noise), x.shape[1], standardize=False)
    share = fit_noise.explained_scatter() / fit_noise.target_scatter
    assert np.all((share > 0) & (share < 0.15))
