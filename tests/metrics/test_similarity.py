"""The measure registry: every declared invariance holds, every undeclared one fails."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cebra_lens_core.metrics import similarity
from cebra_lens_core.metrics.similarity import INVARIANCES, MEASURES, compute, get_measure

T, DX, DY = 600, 6, 5


def _layers() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two related, non-identical layers and a condition label (6 conditions, 60-row blocks)."""
    rng = np.random.default_rng(0)
    conditions = (np.arange(T) // 10) % 6
    means = rng.standard_normal((6, DX)) * 2
    x = means[conditions] + rng.standard_normal((T, DX))
    y = np.tanh(x @ rng.standard_normal((DX, DY)) / 2) + 0.3 * rng.standard_normal((T, DY))
    return x, y, conditions


def _transform(kind: str, z: np.ndarray, seed: int) -> np.ndarray:
    """``kind`` applied to the units of ``z``; the non-rigid ones chosen to break measures
    that are not invariant to them (strong anisotropy, a large offset)."""
    rng = np.random.default_rng(seed)
    d = z.shape[1]
    if kind == "orthogonal":
        q, _ = np.linalg.qr(rng.standard_normal((d, d)))
        return z @ q
    if kind == "isotropic_scaling":
        return 3.7 * z
    if kind == "invertible_linear":
        q, _ = np.linalg.qr(rng.standard_normal((d, d)))
        return z @ (np.diag(np.geomspace(8.0, 0.05, d)) @ q)
    if kind == "permutation":
        return z[:, rng.permutation(d)]
    if kind == "translation":
        return z + 4.0 * z.std(axis=0) * (1 + rng.random(d))
    raise AssertionError(kind)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return _layers()


@pytest.fixture(scope="module")
def base_values(data) -> dict[str, float]:
    x, y, c = data
    return {name: compute(name, x, y, c) for name in MEASURES}


CASES = [(name, kind) for name in MEASURES for kind in INVARIANCES]


@pytest.mark.parametrize(("name", "kind"), CASES)
def test_declared_invariances_hold_and_undeclared_fail(name, kind, data, base_values):
    x, y, c = data
    measure = MEASURES[name]
    base = base_values[name]
    assert np.isfinite(base)
    moved_x = compute(name, _transform(kind, x, 1), y, c)
    moved_y = compute(name, x, _transform(kind, y, 2), c)
    if kind in measure.invariances:
        assert moved_x == pytest.approx(base, abs=1e-8, rel=1e-8)
        assert moved_y == pytest.approx(base, abs=1e-8, rel=1e-8)
    else:
        change = max(abs(moved_x - base), abs(moved_y - base))
        assert change > 1e-4, f"{name} unchanged by {kind} ({base} -> {moved_x}, {moved_y})"


def test_invertible_linear_implies_the_rigid_invariances():
    for m in MEASURES.values():
        if "invertible_linear" in m.invariances:
            assert {"orthogonal", "isotropic_scaling", "permutation"} <= m.invariances


@pytest.mark.parametrize("name", list(MEASURES))
def test_identical_layers_score_best_and_range_holds(name, data, base_values):
    x, y, c = data
    m = MEASURES[name]
    same = compute(name, x, x, c)
    low, high = m.value_range
    assert low <= base_values[name] <= high
    best = high if m.larger_is_closer else low
    tol = 1e-6 if m.family != "crossnobis" else 1e-9
    if m.kind == "distance" and m.family == "shape":
        assert same == pytest.approx(0.0, abs=1e-6)
    else:
        assert same == pytest.approx(best, abs=tol)
    # a real but imperfect relation is further from the best value than identity
    assert abs(base_values[name] - best) > abs(same - best)


@pytest.mark.parametrize("name", list(MEASURES))
def test_symmetry_as_declared(name, data, base_values):
    x, y, c = data
    swapped = compute(name, y, x, c)
    if MEASURES[name].symmetric:
        assert swapped == pytest.approx(base_values[name], abs=1e-10, rel=1e-10)
    else:
        assert abs(swapped - base_values[name]) > 1e-6


def test_registry_fields_are_consistent():
    for name, m in MEASURES.items():
        assert m.name == name
        assert m.family in similarity.FAMILIES
        assert m.kind in {"similarity", "distance"}
        assert m.invariances <= set(INVARIANCES)
        assert m.value_range[0] < m.value_range[1]
        assert m.summary.endswith(".")
    assert [m for m in MEASURES if MEASURES[m].needs_conditions] == [
        "crossnobis_cosine_cov",
        "crossnobis_corr_cov",
    ]
    assert MEASURES["procrustes_angular"].value_range == (0.0, math.pi)


def test_compute_matches_family_functions(data):
    x, y, c = data
    from cebra_lens_core.metrics.cca import svcca
    from cebra_lens_core.metrics.neighbourhood import cknna
    from cebra_lens_core.metrics.shape import shape_distance

    assert compute("svcca", x, y) == svcca(x, y)
    assert compute("cknna", x, y, options={"k": 7}) == cknna(x, y, k=7)
    assert compute("cca_angular", x, y) == shape_distance(x, y, alpha=0.0)


def test_unknown_measure_and_missing_conditions_are_explained(data):
    x, y, _ = data
    with pytest.raises(ValueError, match="unknown similarity measure 'cca'.*svcca"):
        get_measure("cca")
    with pytest.raises(ValueError, match="needs conditions"):
        compute("crossnobis_cosine_cov", x, y)
    assert similarity.measures_of_family("shape") == [
        "procrustes_angular",
        "procrustes_euclidean",
        "cca_angular",
    ]
