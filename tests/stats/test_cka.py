"""Tests for cebra_lens_core.stats.cka: CKA bootstrap from per-block moments, shift null."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from cebra_lens_core.metrics.cka import cka_matrix
from cebra_lens_core.stats.cka import cka_bootstrap, cka_shift_null
from cebra_lens_core.stats.nulls import permutation_p_value
from cebra_lens_core.stats.resampling import block_rows
from tests.stats.series import ar1, two_models

# ----------------------------------------------------------------------------- CKA bootstrap


@pytest.mark.parametrize("kind", ["linear", "debiased"])
def test_cka_bootstrap_point_estimate_and_brute_force_replicate(kind):
    a, b = two_models(T=403, offset=1e4)  # 403 = 26 blocks of 15 + one of 13
    res = cka_bootstrap(a, b, 15, 40, seed=2, kind=kind)
    np.testing.assert_allclose(res.estimate, cka_matrix(a, b, kind), rtol=0, atol=1e-10)
    assert res.replicates.shape == (40, 2, 2) and res.draws.shape == (40, 27)
    for rep in (0, 17, 39):
        rows = block_rows(res.edges, res.draws[rep])
        brute = cka_matrix([x[rows] for x in a], [y[rows] for y in b], kind)
        np.testing.assert_allclose(res.replicates[rep], brute, rtol=0, atol=1e-10)
    within = cka_bootstrap(a + b, None, 15, 5, seed=2, kind=kind)
    np.testing.assert_allclose(within.estimate, cka_matrix(a + b, None, kind), atol=1e-10)
    rows = block_rows(within.edges, within.draws[3])
    np.testing.assert_allclose(
        within.replicates[3], cka_matrix([x[rows] for x in a + b], None, kind), atol=1e-10
    )


def test_cka_bootstrap_chunking_lazy_input_and_determinism():
    a, b = two_models(T=300)
    ref = cka_bootstrap(a, b, 10, 20, seed=5)
    small = cka_bootstrap(a, b, 10, 20, seed=5, chunk_size=25)  # 2 blocks per chunk
    np.testing.assert_allclose(small.replicates, ref.replicates, atol=1e-12)
    lazy = cka_bootstrap([xr.DataArray(x) for x in a], [xr.DataArray(y) for y in b], 10, 20, 5)
    np.testing.assert_allclose(lazy.replicates, ref.replicates, atol=1e-12)
    again = cka_bootstrap(a, b, 10, 20, seed=5)
    np.testing.assert_array_equal(again.replicates, ref.replicates)
    assert (ref.low <= ref.high).all()
    assert ref.low[0, 0] <= ref.estimate[0, 0] <= ref.high[0, 0]


def test_cka_bootstrap_bad_input():
    a, b = two_models(T=100)
    with pytest.raises(ValueError, match="time points"):
        cka_bootstrap(a, [b[0][:99]], 10, 5)
    with pytest.raises(ValueError, match="block_length"):
        cka_bootstrap(a, b, 0, 5)
    with pytest.raises(ValueError, match="block_length"):
        cka_bootstrap(a, b, 101, 5)
    with pytest.raises(ValueError, match="n_resamples"):
        cka_bootstrap(a, b, 10, 0)
    with pytest.raises(ValueError, match="kind"):
        cka_bootstrap(a, b, 10, 5, kind="rbf")
    bad = b[0].copy()
    bad[57, 1] = np.nan
    with pytest.raises(ValueError, match=r"layers_b\[0\].*NaN.*57"):
        cka_bootstrap(a, [bad], 10, 5)
    with pytest.raises(ValueError, match="2-D"):
        cka_bootstrap([a[0][:, 0]], b, 10, 5)
    with pytest.raises(TypeError, match="sequence"):
        cka_bootstrap(a[0], b, 10, 5)
    with pytest.raises(ValueError, match="max_block_bytes"):
        cka_bootstrap(a, b, 1, 5, max_block_bytes=1000)


# ----------------------------------------------------------------------------- shift null


@pytest.mark.parametrize("kind", ["linear", "debiased"])
def test_shift_null_observed_and_one_draw_by_brute_force(kind):
    a, b = two_models(T=200, offset=50.0)
    res = cka_shift_null(a, b, n_null=5, seed=1, min_shift=20, kind=kind)
    np.testing.assert_allclose(res.observed, cka_matrix(a, b, kind), atol=1e-10)
    assert ((res.shifts >= 20) & (res.shifts <= 180)).all()
    s = int(res.shifts[2])
    rolled = [np.roll(y, s, axis=0) for y in b]  # row t of the shifted data = row t − s
    np.testing.assert_allclose(res.null[2], cka_matrix(a, rolled, kind), atol=1e-10)
    np.testing.assert_allclose(res.p_value, permutation_p_value(res.observed, res.null))


def test_shift_null_calibrated_for_independent_and_small_for_aligned():
    ps = []
    for k in range(100):
        rng = np.random.default_rng(k)
        res = cka_shift_null([ar1(rng, 200, 0.8, 3)], [ar1(rng, 200, 0.8, 4)], 99, k, 20)
        ps.append(float(res.p_value[0, 0]))
    ps = np.array(ps)
    assert 0.0 <= np.mean(ps < 0.05) <= 0.12
    assert 0.3 < np.mean(ps) < 0.7
    rng = np.random.default_rng(0)
    x = ar1(rng, 200, 0.8, 3)
    y = x @ rng.normal(size=(3, 4)) + ar1(rng, 200, 0.8, 4)
    res = cka_shift_null([x], [y], 199, 0, 20)
    assert res.p_value[0, 0] < 0.01 and res.p_value[0, 0] == pytest.approx(1 / 200)
    assert res.null_quantile[0, 0] < res.observed[0, 0]


def test_shift_null_bad_input():
    a, b = two_models(T=100)
    with pytest.raises(ValueError, match="min_shift"):
        cka_shift_null(a, b, 10, 0, min_shift=51)
    with pytest.raises(ValueError, match="min_shift"):
        cka_shift_null(a, b, 10, 0, min_shift=0)
    with pytest.raises(ValueError, match="n_null"):
        cka_shift_null(a, b, 0, 0)
    with pytest.raises(ValueError, match="layers_b"):
        cka_shift_null(a, None, 10, 0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="time points"):
        cka_shift_null(a, [b[0][:50]], 10, 0)
