"""Tests for cebra_lens_core.metrics.alignment (cRSA, eRSA, layer alignment, best layer)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import ortho_group

from cebra_lens_core.metrics.alignment import (
    align_layer,
    condition_rdm,
    crsa,
    ersa,
    select_best_layer,
)
from cebra_lens_core.metrics.dimensionality import participation_ratio
from cebra_lens_core.metrics.encoding import encoding_regression
from cebra_lens_core.metrics.rdm import compare_rdms, rdm


def neural_data(T: int = 600, n_cond: int = 8, n_neurons: int = 15, seed: int = 0):
    """Neural activity with condition structure; conditions cycle in blocks of 5 samples."""
    rng = np.random.default_rng(seed)
    cond = (np.arange(T) // 5) % n_cond
    centres = rng.normal(size=(n_cond, n_neurons)) * rng.uniform(0.2, 2.0, size=n_neurons)
    y = centres[cond] + 0.5 * rng.normal(size=(T, n_neurons))
    return y, cond


def test_crsa_equals_brute_force_rdm_comparison():
    y, cond = neural_data()
    rng = np.random.default_rng(1)
    x = np.tanh(y @ rng.normal(size=(15, 10))) + rng.normal(size=(600, 10))
    for metric, method in [
        ("correlation", "spearman"),
        ("euclidean", "pearson"),
        ("cosine", "rho_a"),
    ]:
        expected = compare_rdms(rdm(x, cond, metric), rdm(y, cond, metric), method)
        assert crsa(x, y, cond, metric=metric, method=method) == pytest.approx(expected, abs=1e-12)
    assert crsa(y, y, cond) == pytest.approx(1.0)
    d, ids = condition_rdm(y, cond)
    np.testing.assert_array_equal(ids, np.arange(8))
    np.testing.assert_allclose(d, rdm(y, cond))


def test_ersa_equals_crsa_when_layer_is_the_neural_data():
    y, cond = neural_data()
    tr, te = slice(0, 450), slice(450, None)
    enc = encoding_regression(y[tr], y[tr], y[te], y[te], alphas=[1e-8], standardize=False)
    np.testing.assert_allclose(enc.predictions, y[te], atol=1e-6)
    e = ersa(enc.predictions, y[te], cond[te])
    c = crsa(y[te], y[te], cond[te])
    assert e == pytest.approx(c, abs=1e-9) and c == pytest.approx(1.0)


def test_ersa_undoes_a_linear_mixing_that_crsa_sees():
    # the layer is a rotated and rescaled copy of the neural data: the correlation-distance
    # RDM changes (cRSA < 1), but a linear encoding model recovers the responses (eRSA ~ 1)
    y, cond = neural_data(seed=2)
    q = ortho_group.rvs(15, random_state=0) * np.linspace(0.2, 3.0, 15)
    x = y @ q
    tr, te = slice(0, 450), slice(450, None)
    res = align_layer(x[tr], x[te], y[tr], y[te], cond[tr], cond[te], metric="correlation")
    assert res.crsa_test < 0.95
    assert res.ersa_test > 0.99 and res.ersa_train > 0.99
    assert res.encoding.mean_r > 0.95


def test_align_layer_records_match_standalone_scores():
    y, cond = neural_data(seed=3)
    rng = np.random.default_rng(4)
    x = np.maximum(y @ rng.normal(size=(15, 12)), 0) + 0.1 * rng.normal(size=(600, 12))
    tr, te = slice(0, 450), slice(450, None)
    res = align_layer(x[tr], x[te], y[tr], y[te], cond[tr], cond[te], method="pearson", n_folds=3)
    enc = encoding_regression(x[tr], y[tr], x[te], y[te], n_folds=3)
    assert res.crsa_train == pytest.approx(crsa(x[tr], y[tr], cond[tr], method="pearson"))
    assert res.crsa_test == pytest.approx(crsa(x[te], y[te], cond[te], method="pearson"))
    assert res.ersa_test == pytest.approx(ersa(enc.predictions, y[te], cond[te], method="pearson"))
    assert res.ersa_train == pytest.approx(
        ersa(enc.train_predictions, y[tr], cond[tr], method="pearson")
    )
    assert res.effective_dimensionality == pytest.approx(participation_ratio(x[tr]))
    assert res.n_conditions_train == res.n_conditions_test == 8
    only_enc = align_layer(x[tr], x[te], y[tr], y[te])
    assert only_enc.crsa_test is None and only_enc.ersa_test is None
    assert np.isfinite(only_enc.encoding.mean_r)


def test_crsa_bad_input():
    y, cond = neural_data()
    with pytest.raises(ValueError, match="rows"):
        crsa(y[:100], y, cond)
    with pytest.raises(ValueError, match="conditions has 100 values"):
        crsa(y, y, cond[:100])
    with pytest.raises(ValueError, match="at least 3 conditions"):
        crsa(y, y, cond % 2)
    bad = y.copy()
    bad[5, 0] = np.nan
    with pytest.raises(ValueError, match="Y contains NaN"):
        crsa(y, bad, cond)
    with pytest.raises(ValueError, match="comparator"):
        crsa(y, y, cond, method="kendall")
    with pytest.raises(ValueError, match="both splits"):
        align_layer(y, y, y, y, cond, None)


def test_crsa_undefined_rdm_is_nan_with_warning():
    y, cond = neural_data()
    x = y[:, :4].copy()
    x[cond == 0] = 2.0  # condition 0's mean is constant across units: correlation undefined
    with pytest.warns(RuntimeWarning, match="NaN"):
        assert np.isnan(crsa(x, y, cond))


def test_select_best_layer_chooses_on_train_reports_test():
    best = select_best_layer([0.1, 0.5, 0.3, np.nan], [0.9, 0.2, 0.8, 1.0])
    assert best == (1, 0.5, 0.2)  # not the best test score
    assert select_best_layer([0.4, 0.4], [1.0, 2.0]).index == 0  # ties: first layer
    assert select_best_layer([3.0, 1.0, 2.0], [0, 1, 2], higher_is_better=False).index == 1
    with pytest.raises(ValueError, match="NaN"):
        select_best_layer([np.nan, np.nan], [1.0, 2.0])
    with pytest.raises(ValueError, match="one score per layer"):
        select_best_layer([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="1-D"):
        select_best_layer([], [])
