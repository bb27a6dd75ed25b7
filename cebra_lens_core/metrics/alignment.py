r"""Alignment of a layer with the recorded neural activity: cRSA, encoding regression, eRSA.

Arrays are ``time × units``: ``X`` is a layer's activations, ``Y`` the recorded activity
(``time × neurons``) on the same time points, ``conditions`` an integer condition id per time
point (a discrete label, or a continuous label binned with
:func:`~cebra_lens_core.metrics.conditions.bin_continuous`). The three scores follow
DeepJuice (Conwell et al.) and are reported per split (train / test) so that the best layer
can be *chosen* on the training split and *reported* on the test split
(:func:`select_best_layer`):

- **cRSA** (classical RSA, Kriegeskorte et al. 2008): ``compare(RDM(X), RDM(Y))`` where each
  RDM is built from the condition means of the split's rows
  (:func:`~cebra_lens_core.metrics.conditions.condition_means`,
  :func:`~cebra_lens_core.metrics.rdm.rdm_from_means`) and compared on the upper triangles
  (:func:`~cebra_lens_core.metrics.rdm.compare_rdms`). All units weigh equally: a strict,
  fit-free test of the representational geometry.
- **eReg** (encoding regression, :func:`~cebra_lens_core.metrics.encoding.encoding_regression`):
  ridge from the layer to every neuron, ``α`` by contiguous K-fold CV on the training split;
  test score = mean Pearson ``r`` over neurons; train score = the out-of-fold ``r``.
- **eRSA** (encoding / feature-reweighted RSA, Kaniuth & Hebart 2022):
  ``compare(RDM(Ŷ), RDM(Y))`` with ``Ŷ`` the encoding model's predictions: on the test
  split the predictions of the model fitted on the training split, on the training split the
  out-of-fold predictions. It asks whether a linear reweighting of the layer's units
  reproduces the neural geometry. When the layer *is* the neural data, ``Ŷ = Y`` (up to the
  penalty) and eRSA = cRSA = 1.

Conditions missing from a split are dropped (never NaN); the two RDMs of one score always
share the same conditions because they come from the same rows. An RDM with undefined
entries (a condition mean constant across units for the correlation distance) gives a NaN
score with a :class:`RuntimeWarning`.

The participation ratio of the layer on the training split
(:func:`~cebra_lens_core.metrics.dimensionality.participation_ratio`) is reported beside the
scores ("effective dimensionality").
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from cebra_lens_core.metrics._validation import check_activations
from cebra_lens_core.metrics.conditions import check_codes, condition_means
from cebra_lens_core.metrics.dimensionality import participation_ratio
from cebra_lens_core.metrics.encoding import EncodingResult, encoding_regression
from cebra_lens_core.metrics.rdm import compare_rdms, rdm_from_means, rdm_metric_name

__all__ = [
    "BestLayer",
    "LayerAlignment",
    "condition_rdm",
    "crsa",
    "ersa",
    "align_layer",
    "select_best_layer",
]


def condition_rdm(
    X: Any,
    conditions: Any,
    metric: str = "correlation",
    *,
    per_unit: bool = False,
    name: str = "X",
) -> tuple[np.ndarray, np.ndarray]:
    """RDM of the condition means of ``X`` and the condition ids of its rows.

    Like :func:`~cebra_lens_core.metrics.rdm.rdm_result`, with ``name`` used in errors.

    Returns:
        ``(rdm (C × C), ids (C,))``.
    """
    x = check_activations(X, name)
    codes = check_codes(getattr(conditions, "codes", conditions), x.shape[0], "conditions")
    means, ids, _ = condition_means(x, codes)
    return rdm_from_means(means, metric, per_unit=per_unit, ids=ids.tolist()), ids  # type: ignore[arg-type]


def crsa(
    X: Any,
    Y: Any,
    conditions: Any,
    *,
    metric: str = "correlation",
    method: str = "spearman",
    per_unit: bool = False,
) -> float:
    """Classical RSA between a layer and the recorded activity on the same conditions.

    ``compare_rdms(RDM(X), RDM(Y), method)``, both RDMs from the condition means of the
    given rows.

    Args:
        X: ``(T, d)`` layer activations.
        Y: ``(T, n_neurons)`` recorded activity, same rows.
        conditions: ``(T,)`` integer condition ids (or a ``Conditions``); at least 3
            conditions must occur.
        metric: RDM distance (``"correlation"``, ``"cosine"``, ``"euclidean"``).
        method: comparator (``"spearman"``, ``"pearson"``, ``"rho_a"``, ``"kendall_tau_a"``,
            ``"cosine"``).
        per_unit: Euclidean only: divide by ``sqrt(units)`` (RMS per unit).

    Returns:
        The score; NaN (with a :class:`RuntimeWarning`) if an RDM has undefined entries.

    Raises:
        ValueError: ``X``/``Y`` not 2-D, not finite or with different rows (both named);
            bad ``conditions``; fewer than 3 conditions; unknown metric or comparator.
    """
    rdm_metric_name(metric, per_unit)
    x = check_activations(X, "X")
    y = check_activations(Y, "Y")
    if x.shape[0] != y.shape[0]:
        raise ValueError(
            f"X has {x.shape[0]} rows but Y (neural data) has {y.shape[0]}; "
            "they must be the same time points"
        )
    dx, ids = condition_rdm(x, conditions, metric, per_unit=per_unit, name="X")
    if len(ids) < 3:
        raise ValueError(
            f"RSA needs at least 3 conditions with samples, got {len(ids)} (ids: {ids.tolist()})"
        )
    dy, _ = condition_rdm(y, conditions, metric, per_unit=per_unit, name="Y")
    if not (np.isfinite(dx).all() and np.isfinite(dy).all()):
        warnings.warn(
            "an RDM has undefined entries (a condition mean constant across units); "
            "the RSA score is NaN",
            RuntimeWarning,
            stacklevel=2,
        )
        return float("nan")
    return compare_rdms(dx, dy, method)  # type: ignore[arg-type]


def ersa(
    predictions: Any,
    Y: Any,
    conditions: Any,
    *,
    metric: str = "correlation",
    method: str = "spearman",
    per_unit: bool = False,
) -> float:
    """Encoding (feature-reweighted) RSA: ``compare(RDM(Ŷ), RDM(Y))``.

    ``predictions`` are an encoding model's predicted responses ``Ŷ`` (``T × n_neurons``,
    e.g. :attr:`EncodingResult.predictions` on the test rows) and ``Y`` the recorded
    responses on the same rows. Same arguments, result and errors as :func:`crsa`.
    """
    return crsa(predictions, Y, conditions, metric=metric, method=method, per_unit=per_unit)


@dataclass(frozen=True, eq=False)
class LayerAlignment:
    """cRSA, encoding regression and eRSA of one layer against the recorded activity.

    Attributes:
        crsa_train, crsa_test: cRSA on the training / test rows (``None`` without
            conditions, or when the split has fewer than 3 conditions).
        ersa_train, ersa_test: eRSA with out-of-fold (train) and held-out (test)
            predictions (``None`` without conditions).
        encoding: the :class:`~cebra_lens_core.metrics.encoding.EncodingResult`.
        effective_dimensionality: participation ratio of the layer on the training rows.
        n_conditions_train, n_conditions_test: conditions in each split (0 without).
        metric: RDM distance; method: comparator.
    """

    crsa_train: float | None
    crsa_test: float | None
    ersa_train: float | None
    ersa_test: float | None
    encoding: EncodingResult
    effective_dimensionality: float
    n_conditions_train: int
    n_conditions_test: int
    metric: str
    method: str


def align_layer(
    X_train: Any,
    X_test: Any,
    Y_train: Any,
    Y_test: Any,
    conditions_train: Any | None = None,
    conditions_test: Any | None = None,
    *,
    metric: str = "correlation",
    method: str = "spearman",
    per_unit: bool = False,
    **encoding_options: Any,
) -> LayerAlignment:
    """All alignment scores of one layer: cRSA, eReg and eRSA on both splits, and its PR.

    Args:
        X_train, X_test: ``(n, d)`` layer activations of the training / test split.
        Y_train, Y_test: ``(n, n_neurons)`` recorded activity on the same rows.
        conditions_train, conditions_test: ``(n,)`` condition ids of each split's rows, or
            ``None`` for both (encoding regression only).
        metric, method, per_unit: RDM distance and comparator (see :func:`crsa`).
        **encoding_options: passed to
            :func:`~cebra_lens_core.metrics.encoding.encoding_regression` (``alphas``,
            ``n_folds``, ``projection``, ``n_components``, ``eps``, ``seed``, ...).

    Returns:
        :class:`LayerAlignment`.

    Raises:
        ValueError: see :func:`crsa` and ``encoding_regression``; only one of the two
            condition arrays given.
    """
    if (conditions_train is None) != (conditions_test is None):
        raise ValueError(
            "give conditions for both splits (conditions_train and conditions_test) or neither"
        )
    rdm_metric_name(metric, per_unit)
    enc = encoding_regression(X_train, Y_train, X_test, Y_test, **encoding_options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        pr = participation_ratio(np.asarray(X_train, dtype=np.float64))
    scores: dict[str, float | None] = dict.fromkeys(("ct", "cs", "et", "es"))
    n_tr = n_te = 0
    if conditions_train is not None:
        opts = dict(metric=metric, method=method, per_unit=per_unit)
        pred_tr, pred_te = enc.train_predictions, enc.predictions
        ytr = np.asarray(Y_train, dtype=np.float64).reshape(len(pred_tr), -1)
        yte = np.asarray(Y_test, dtype=np.float64).reshape(len(pred_te), -1)
        codes_tr = check_codes(
            getattr(conditions_train, "codes", conditions_train), len(ytr), "conditions_train"
        )
        codes_te = check_codes(
            getattr(conditions_test, "codes", conditions_test), len(yte), "conditions_test"
        )
        n_tr, n_te = len(np.unique(codes_tr)), len(np.unique(codes_te))
        if n_tr >= 3:
            scores["ct"] = crsa(X_train, ytr, codes_tr, **opts)  # type: ignore[arg-type]
            scores["et"] = ersa(pred_tr, ytr, codes_tr, **opts)  # type: ignore[arg-type]
        if n_te >= 3:
            scores["cs"] = crsa(X_test, yte, codes_te, **opts)  # type: ignore[arg-type]
            scores["es"] = ersa(pred_te, yte, codes_te, **opts)  # type: ignore[arg-type]
    return LayerAlignment(
        crsa_train=scores["ct"],
        crsa_test=scores["cs"],
        ersa_train=scores["et"],
        ersa_test=scores["es"],
        encoding=enc,
        effective_dimensionality=pr,
        n_conditions_train=n_tr,
        n_conditions_test=n_te,
        metric=rdm_metric_name(metric, per_unit),
        method=method,
    )


class BestLayer(NamedTuple):
    """The layer chosen on the training split and its score on the test split."""

    index: int
    train_value: float
    test_value: float


def select_best_layer(
    train_scores: Sequence[float] | np.ndarray,
    test_scores: Sequence[float] | np.ndarray,
    *,
    higher_is_better: bool = True,
) -> BestLayer:
    """Choose the layer on the training split, report its test score (no double dipping).

    ``index = argmax_l train_scores[l]`` (``argmin`` if ``higher_is_better=False``); NaN
    training scores are never chosen; ties go to the first (shallowest) layer. The reported
    value is ``test_scores[index]`` — not the best test score, which would be an optimistic
    selection on the test data.

    Args:
        train_scores: ``(L,)`` one score per layer on the training split.
        test_scores: ``(L,)`` the same metric on the test split.
        higher_is_better: direction of the metric.

    Returns:
        :class:`BestLayer` ``(index, train_value, test_value)``.

    Raises:
        ValueError: not 1-D, empty, different lengths, or every training score NaN.
    """
    tr = np.asarray(train_scores, dtype=np.float64)
    te = np.asarray(test_scores, dtype=np.float64)
    if tr.ndim != 1 or tr.size == 0:
        raise ValueError(
            f"train_scores must be a non-empty 1-D array (one per layer), got {tr.shape}"
        )
    if te.shape != tr.shape:
        raise ValueError(
            f"test_scores has shape {te.shape} but train_scores has {tr.shape}; "
            "give one score per layer in both"
        )
    ok = ~np.isnan(tr)
    if not ok.any():
        raise ValueError("every training score is NaN: no layer can be selected")
    sign = 1.0 if higher_is_better else -1.0
    index = int(np.argmax(np.where(ok, sign * tr, -np.inf)))
    return BestLayer(index, float(tr[index]), float(te[index]))
