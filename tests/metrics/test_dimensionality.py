"""Tests for cebra_lens_core.metrics.dimensionality (participation ratio), against closed forms."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from cebra_lens_core.metrics.cka import stacked_covariance
from cebra_lens_core.metrics.dimensionality import (
    participation_ratio,
    participation_ratio_from_covariance,
    participation_ratios_from_stacked,
)


def test_isotropic_gaussian_close_to_d() -> None:
    rng = np.random.default_rng(0)
    for d in (1, 5, 20):
        x = rng.normal(size=(20 * d * 10, d))
        pr = participation_ratio(x)
        assert pr == pytest.approx(d, rel=0.1)
        assert pr <= d + 1e-9


def test_rank_one_is_exactly_one() -> None:
    rng = np.random.default_rng(1)
    u = rng.normal(size=(500, 1))
    v = rng.normal(size=(1, 9))
    x = u @ v + rng.normal(size=(1, 9)) * 100  # offsets do not matter
    assert participation_ratio(x) == pytest.approx(1.0, abs=1e-10)


def test_matches_eigenvalue_formula_and_known_spectrum() -> None:
    rng = np.random.default_rng(2)
    # Independent columns with variances 4, 1, 1: PR = 36 / 18 = 2 (population value)
    scales = np.array([2.0, 1.0, 1.0])
    x = rng.normal(size=(400, 3)) * scales
    ev = np.linalg.eigvalsh(np.cov(x, rowvar=False))
    assert participation_ratio(x) == pytest.approx(ev.sum() ** 2 / (ev**2).sum(), rel=1e-12)
    # exact spectrum: the 8 sign patterns of 3 columns are centred and orthogonal, so
    # C ∝ diag(4, 1, 1) exactly and PR = (4 + 1 + 1)^2 / (16 + 1 + 1) = 2; rotating keeps it
    signs = np.array([[a, b, c] for a in (-1, 1) for b in (-1, 1) for c in (-1, 1)], float)
    q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    assert participation_ratio(signs * scales) == pytest.approx(2.0, rel=1e-12)
    assert participation_ratio((signs * scales) @ q[:3] + 5.0) == pytest.approx(2.0, rel=1e-12)


def test_chunked_equals_unchunked() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(1001, 7)) @ rng.normal(size=(7, 7)) + 50.0
    full = participation_ratio(x)
    for chunk in (1, 2, 64, 1000):
        assert participation_ratio(x, chunk_size=chunk) == pytest.approx(full, rel=1e-12)
    assert participation_ratio(x, max_chunk_bytes=8 * 7 * 3) == pytest.approx(full, rel=1e-12)
    assert participation_ratio(x.astype(np.float32)) == pytest.approx(full, rel=1e-5)


def test_invariances() -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(size=(300, 5)) @ rng.normal(size=(5, 5))
    q, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    pr = participation_ratio(x)
    assert participation_ratio(3.0 * x @ q - 7.0) == pytest.approx(pr, rel=1e-10)
    assert 1.0 <= pr <= 5.0


def test_from_covariance() -> None:
    assert participation_ratio_from_covariance(np.eye(4)) == pytest.approx(4.0)
    assert participation_ratio_from_covariance(np.diag([4.0, 1.0, 1.0])) == pytest.approx(2.0)
    assert participation_ratio_from_covariance([[2.0]]) == 1.0
    rng = np.random.default_rng(5)
    x = rng.normal(size=(200, 4))
    xc = x - x.mean(axis=0)
    assert participation_ratio_from_covariance(xc.T @ xc) == pytest.approx(
        participation_ratio(x), rel=1e-12
    )


def test_from_stacked_covariance() -> None:
    rng = np.random.default_rng(6)
    a, b = rng.normal(size=(300, 3)), rng.normal(size=(300, 1)) @ np.ones((1, 4))
    prs = participation_ratios_from_stacked(stacked_covariance([a, b]))
    assert prs[0] == pytest.approx(participation_ratio(a), rel=1e-12)
    assert prs[1] == pytest.approx(1.0, abs=1e-12)


def test_constant_layer_is_nan_with_warning() -> None:
    with pytest.warns(RuntimeWarning, match="zero variance"):
        assert np.isnan(participation_ratio(np.ones((10, 3))))
    with pytest.warns(RuntimeWarning, match="zero variance"):
        assert np.isnan(participation_ratio_from_covariance(np.zeros((2, 2))))
    with pytest.warns(RuntimeWarning, match="layers 1"):
        participation_ratios_from_stacked(stacked_covariance([np.eye(4), np.ones((4, 2))]))


def test_no_warning_for_good_data() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        participation_ratio(np.random.default_rng(0).normal(size=(50, 3)))


@pytest.mark.parametrize(
    ("x", "match"),
    [
        (np.ones(5), "2-D"),
        (np.ones((1, 3)), "at least 2 time points"),
        (np.ones((5, 0)), "no units"),
        (np.array([[1.0, np.nan], [2.0, 3.0]]), "NaN or inf"),
        (np.array([[1.0, np.inf], [2.0, 3.0]]), "NaN or inf"),
    ],
)
def test_participation_ratio_errors(x: np.ndarray, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        participation_ratio(x)


@pytest.mark.parametrize(
    ("c", "match"),
    [
        (np.ones((2, 3)), "square"),
        (np.ones(3), "square"),
        (np.ones((0, 0)), "empty"),
        (np.array([[1.0, np.nan], [0.0, 1.0]]), "NaN or inf"),
    ],
)
def test_from_covariance_errors(c: np.ndarray, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        participation_ratio_from_covariance(c)


def test_bad_chunk_size() -> None:
    with pytest.raises(ValueError, match="chunk_size"):
        participation_ratio(np.ones((4, 2)), chunk_size=0)
