r"""One registry of every representational-similarity measure: what it is, what it ignores.

Each :class:`Measure` names its family (the module that computes it), whether a larger value
means *more* similar (``similarity``) or *less* (``distance``), its range, and the
transformations of a layer's units it is invariant to (:data:`INVARIANCES`)::

    orthogonal         X ↦ X Q,       QᵀQ = I   (rotations and reflections of the unit space)
    isotropic_scaling  X ↦ c X,       c > 0
    invertible_linear  X ↦ X A,       A invertible (includes the two above)
    permutation        X ↦ X P,       P a permutation of the units
    translation        X ↦ X + 1 bᵀ   (a constant offset of every unit)

A declared invariance holds exactly (up to rounding) for a transform of either layer; the
tests (``tests/metrics/test_similarity.py``) check every declared one and that each undeclared
one fails for a transform chosen to break it. :func:`compute` evaluates any measure on two
layers with the same rows (``T × d_x`` and ``T × d_y``) with its defaults, so measures can be
compared one to one; the workflow (:mod:`cebra_lens_core.analyses.similarity`) computes the
same values family by family from stacked covariances and shared neighbour lists.

Definitions: :mod:`~cebra_lens_core.metrics.cka` (CKA), :mod:`~cebra_lens_core.metrics.shape`
(generalised shape metrics, Williams et al. 2021: ``procrustes_*`` at α = 1, ``cca_angular``
at α = 0), :mod:`~cebra_lens_core.metrics.cca` (SVCCA, PWCCA),
:mod:`~cebra_lens_core.metrics.neighbourhood` (mutual kNN, Jaccard kNN, CKNNA) and
:mod:`~cebra_lens_core.metrics.crossnobis` (cross-validated Mahalanobis RDMs compared with the
whitened ``cosine_cov`` / ``corr_cov``; needs conditions).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cebra_lens_core.metrics import cca, crossnobis, neighbourhood, shape
from cebra_lens_core.metrics.cka import cka

#: every invariance a measure may declare (module docstring for the transforms)
INVARIANCES: tuple[str, ...] = (
    "orthogonal",
    "isotropic_scaling",
    "invertible_linear",
    "permutation",
    "translation",
)

#: the measure families (``analysis`` value of their results rows)
FAMILIES: tuple[str, ...] = ("cka", "shape", "cca", "neighbourhood", "crossnobis")


@dataclass(frozen=True)
class Measure:
    """A representational-similarity measure between two layers with the same time points.

    Attributes:
        name: registry key (``variant`` of its results rows, ``analyses.similarity.measures``).
        family: module that computes it (``analysis`` of its rows), one of :data:`FAMILIES`.
        kind: ``"similarity"`` (larger = more alike) or ``"distance"`` (0 = same shape).
        value_range: ``(low, high)`` the value can take.
        invariances: subset of :data:`INVARIANCES` under which the value is unchanged when
            either layer is transformed.
        symmetric: ``m(X, Y) == m(Y, X)``.
        needs_conditions: needs a condition label per time point (crossnobis).
        summary: one sentence on what it measures and when to use it.
        function: ``function(X, Y, conditions, **options) -> float`` with the measure's
            defaults (see :func:`compute`).
    """

    name: str
    family: str
    kind: str
    value_range: tuple[float, float]
    invariances: frozenset[str]
    symmetric: bool
    needs_conditions: bool
    summary: str
    function: Callable[..., float]

    @property
    def larger_is_closer(self) -> bool:
        """True for similarities, False for distances (which layer is the *best* match)."""
        return self.kind == "similarity"


def _cka(kind: str) -> Callable[..., float]:
    def run(X: Any, Y: Any, conditions: Any = None, **options: Any) -> float:
        return float(cka(X, Y, kind, **options))

    return run


def _shape(alpha: float, form: str) -> Callable[..., float]:
    def run(X: Any, Y: Any, conditions: Any = None, **options: Any) -> float:
        return shape.shape_distance(X, Y, alpha=alpha, form=form, **options)

    return run


def _function(fn: Callable[..., float]) -> Callable[..., float]:
    def run(X: Any, Y: Any, conditions: Any = None, **options: Any) -> float:
        return float(fn(X, Y, **options))

    return run


def _crossnobis(method: str) -> Callable[..., float]:
    def run(X: Any, Y: Any, conditions: Any = None, **options: Any) -> float:
        if conditions is None:
            raise ValueError(
                f"crossnobis_{method} needs conditions: one condition label per time point"
            )
        return crossnobis.crossnobis_rsa(X, Y, conditions, method=method, **options)

    return run


_ALL = frozenset(INVARIANCES)
_RIGID = frozenset({"orthogonal", "permutation", "translation"})
_SIMILAR = _RIGID | {"isotropic_scaling"}
_CENTRED_NEIGHBOURS = frozenset({"orthogonal", "isotropic_scaling", "permutation"})

#: every measure by name, in the order of the config, figures and report
MEASURES: dict[str, Measure] = {
    m.name: m
    for m in (
        Measure(
            "cka_linear",
            "cka",
            "similarity",
            (0.0, 1.0),
            _SIMILAR,
            True,
            False,
            "Linear CKA: alignment of the two layers' centred Gram matrices; the default "
            "layer-comparison measure (its own analysis, `cka`).",
            _cka("linear"),
        ),
        Measure(
            "cka_debiased",
            "cka",
            "similarity",
            (-1.0, 1.0),
            _SIMILAR,
            True,
            False,
            "Linear CKA with the unbiased HSIC: near 0 for independent layers whatever the "
            "number of units (its own analysis, `cka`).",
            _cka("debiased"),
        ),
        Measure(
            "procrustes_angular",
            "shape",
            "distance",
            (0.0, math.pi),
            _SIMILAR,
            True,
            False,
            "Angular Procrustes shape distance (α = 1): the angle between the centred layers "
            "after the best rotation; a metric, for model spaces (MDS, clustering).",
            _shape(1.0, "angular"),
        ),
        Measure(
            "procrustes_euclidean",
            "shape",
            "distance",
            (0.0, math.inf),
            _RIGID,
            True,
            False,
            "Euclidean Procrustes distance (α = 1): RMS residual after the best rotation, in "
            "activation units; sensitive to the overall scale of the layers.",
            _shape(1.0, "euclidean"),
        ),
        Measure(
            "cca_angular",
            "shape",
            "distance",
            (0.0, math.pi),
            _ALL,
            True,
            False,
            "Angular shape distance at α = 0 (CCA-like): the angle after whitening both "
            "layers; blind to any invertible linear re-mixing of the units.",
            _shape(0.0, "angular"),
        ),
        Measure(
            "svcca",
            "cca",
            "similarity",
            (0.0, 1.0),
            _SIMILAR,
            True,
            False,
            "SVCCA: mean canonical correlation after keeping the principal components with "
            "99 % of each layer's variance; ignores low-variance directions.",
            _function(cca.svcca),
        ),
        Measure(
            "pwcca",
            "cca",
            "similarity",
            (0.0, 1.0),
            frozenset({"isotropic_scaling", "permutation", "translation"}),
            False,
            False,
            "PWCCA: canonical correlations weighted by how much of the first layer's units "
            "each canonical direction accounts for; asymmetric.",
            _function(cca.pwcca),
        ),
        Measure(
            "mutual_knn",
            "neighbourhood",
            "similarity",
            (0.0, 1.0),
            _CENTRED_NEIGHBOURS,
            True,
            False,
            "Mutual k-NN: the fraction of each time point's k cosine neighbours shared by "
            "the two layers; local structure only.",
            _function(neighbourhood.mutual_knn),
        ),
        Measure(
            "jaccard_knn",
            "neighbourhood",
            "similarity",
            (0.0, 1.0),
            _CENTRED_NEIGHBOURS,
            True,
            False,
            "Jaccard k-NN: intersection over union of the two layers' k cosine-neighbour sets.",
            _function(neighbourhood.jaccard_knn),
        ),
        Measure(
            "cknna",
            "neighbourhood",
            "similarity",
            (-1.0, 1.0),
            _CENTRED_NEIGHBOURS,
            False,
            False,
            "CKNNA: CKA restricted to pairs of time points that are mutual k-NN in both "
            "layers; between CKA (global) and mutual k-NN (local).",
            _function(neighbourhood.cknna),
        ),
        Measure(
            "crossnobis_cosine_cov",
            "crossnobis",
            "similarity",
            (-1.0, 1.0),
            _SIMILAR,
            True,
            True,
            "Whitened cosine between the layers' crossnobis RDMs (cross-validated Mahalanobis "
            "distances between conditions); unbiased by noise.",
            _crossnobis("cosine_cov"),
        ),
        Measure(
            "crossnobis_corr_cov",
            "crossnobis",
            "similarity",
            (-1.0, 1.0),
            _SIMILAR,
            True,
            True,
            "Whitened Pearson correlation between the layers' crossnobis RDMs; ignores an "
            "overall offset of the distances.",
            _crossnobis("corr_cov"),
        ),
    )
}


def get_measure(name: str) -> Measure:
    """The registry entry of ``name``.

    Raises:
        ValueError: unknown name, listing the valid ones.
    """
    if name not in MEASURES:
        raise ValueError(f"unknown similarity measure {name!r}; valid: {list(MEASURES)}")
    return MEASURES[name]


def compute(
    name: str, X: Any, Y: Any, conditions: Any = None, options: Mapping[str, Any] | None = None
) -> float:
    """Measure ``name`` between layers ``X`` (``T × d_x``) and ``Y`` (``T × d_y``), rows paired.

    ``conditions``: one condition per time point (crossnobis measures only). ``options``:
    keyword arguments of the family's function (e.g. ``{"k": 20}`` for neighbourhood
    measures, ``{"variance_fraction": 0.9}`` for SVCCA, ``{"n_folds": 4}`` for crossnobis).
    """
    measure = get_measure(name)
    return measure.function(X, Y, conditions, **dict(options or {}))


def measures_of_family(family: str) -> list[str]:
    """Registry names of ``family`` in registry order."""
    return [m.name for m in MEASURES.values() if m.family == family]
