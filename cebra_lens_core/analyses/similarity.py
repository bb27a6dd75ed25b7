"""Representational-similarity measures beyond CKA between the layers of store pairs, as rows.

The measures are those of :data:`cebra_lens_core.metrics.similarity.MEASURES` outside the
``cka`` family (CKA has its own analysis, :mod:`cebra_lens_core.analyses.cka`). Each family is
computed once for every store of a job and then sliced per pair, so a job reads each store a
fixed number of times however many pairs it has:

- ``shape`` (Procrustes angular/euclidean at α = 1, ``cca_angular`` at α = 0): one
  :func:`~cebra_lens_core.metrics.cka.stacked_covariance` of all layers of all stores on the
  fitting rows (the training split) and one on the scored rows (``split``), then
  :func:`~cebra_lens_core.metrics.shape.shape_distances_from_covariance` per pair;
- ``cca`` (SVCCA, PWCCA): :func:`~cebra_lens_core.metrics.cca.cca_matrix_from_covariance` on the
  stacked covariance of the scored rows (shared with ``shape``);
- ``neighbourhood`` (mutual k-NN, Jaccard k-NN, CKNNA): one
  :func:`~cebra_lens_core.metrics.neighbourhood.neighbourhood_similarity_matrix` over all layers
  (neighbour lists once per layer), sliced per pair;
- ``crossnobis``: one :func:`~cebra_lens_core.metrics.crossnobis.crossnobis_rdm` per layer,
  compared per pair with :func:`~cebra_lens_core.metrics.crossnobis.compare_rdms_whitened`.

Nothing is ``T × T``. The values equal :func:`cebra_lens_core.metrics.similarity.compute` on
the same rows (shape measures with a test split: ``shape_distance(X_train, Y_train, X_test,
Y_test)``).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import xarray as xr

from cebra_lens_core.activations.store import layer_names, select_split, split_rows
from cebra_lens_core.analyses.cka import check_same_time_points
from cebra_lens_core.analyses.common import dataset_name, label_conditions, store_labels
from cebra_lens_core.metrics.cca import cca_matrix_from_covariance, check_variance_fraction
from cebra_lens_core.metrics.cka import StackedCovariance, stacked_covariance
from cebra_lens_core.metrics.crossnobis import (
    check_shrinkage,
    compare_rdms_whitened,
    contiguous_folds,
    crossnobis_rdm,
    fold_layout,
)
from cebra_lens_core.metrics.neighbourhood import (
    CKNNA_MIN_K,
    CKNNA_MIN_SAMPLES,
    neighbourhood_rows,
    neighbourhood_similarity_matrix,
)
from cebra_lens_core.metrics.shape import (
    MIN_TRAIN_SAMPLES,
    ShapeFit,
    shape_distances_from_covariance,
)
from cebra_lens_core.metrics.similarity import MEASURES
from cebra_lens_core.results import make_rows
from cebra_lens_core.stats.options import BootstrapOptions
from cebra_lens_core.stats.resampling import check_int
from cebra_lens_core.stats.similarity import covariance_intervals, covariance_replicates

log = logging.getLogger(__name__)

#: Families computed here (``cka`` is the ``cka`` analysis).
FAMILIES: tuple[str, ...] = ("shape", "cca", "neighbourhood", "crossnobis")
#: Every registry measure of :data:`FAMILIES`, in registry order (the default).
DEFAULT_MEASURES: tuple[str, ...] = tuple(m.name for m in MEASURES.values() if m.family in FAMILIES)
#: Rows a similarity can be computed on.
SPLITS: tuple[str, ...] = ("train", "test", "all")

#: Shape measures: ``(alpha, form)`` of :func:`shape_distances_from_covariance`.
_SHAPE = {
    "procrustes_angular": (1.0, "angular"),
    "procrustes_euclidean": (1.0, "euclidean"),
    "cca_angular": (0.0, "angular"),
}
#: Crossnobis measures: the whitened comparator of the two RDMs.
_CROSSNOBIS = {"crossnobis_cosine_cov": "cosine_cov", "crossnobis_corr_cov": "corr_cov"}


class _Values(NamedTuple):
    """A measure's ``L_a × L_b`` values of one pair, time points used, interval bounds."""

    values: np.ndarray
    n: int
    low: np.ndarray | None = None
    high: np.ndarray | None = None


@dataclass(frozen=True)
class _Stack:
    """All model layers of the stores named in the pairs, stacked in one list."""

    stores: list[str]  # store names in order of first appearance in the pairs
    variables: dict[str, list[str]]  # store -> its layer variables
    start: dict[str, int]  # store -> index of its first layer in the stack
    labels: list[str]  # "store:variable" of every stacked layer

    def block(self, store: str) -> list[int]:
        """Stack indices of the layers of ``store``."""
        return list(range(self.start[store], self.start[store] + len(self.variables[store])))

    def layers(self, selected: Mapping[str, xr.Dataset]) -> list[xr.DataArray]:
        """The stacked layers (lazy) of the given split of every store."""
        return [selected[s][v] for s in self.stores for v in self.variables[s]]


def similarity_rows_for_pairs(
    stores: Mapping[str, xr.Dataset],
    pairs: Sequence[tuple[str, str]],
    *,
    measures: Sequence[str] = DEFAULT_MEASURES,
    split: str = "test",
    label: str | None = None,
    n_bins: int = 10,
    variance_fraction: float = 0.99,
    k: int = 10,
    max_samples: int | None = 5000,
    seed: int = 0,
    n_folds: int = 5,
    shrinkage: str = "ledoit_wolf",
    chunk_size: int = 65536,
    bootstrap: Mapping | BootstrapOptions | None = None,
) -> pd.DataFrame:
    """Every similarity measure between every layer of ``a`` and every layer of ``b``.

    Args:
        stores: store name -> activation store (zarr-backed or in memory).
        pairs: ``(a, b)`` store names; ``a == b`` compares the layers of one store (all
            ``L × L`` ordered layer pairs, as for CKA).
        measures: registry names (:data:`DEFAULT_MEASURES`: every non-CKA measure).
        split: rows scored (``train``, ``test`` or ``all``). Shape measures are fitted on the
            training split and scored on ``split``; with ``train`` or ``all`` they are fitted
            and scored on the same rows. The other families use ``split`` only.
        label: crossnobis conditions: a store label (``position`` ...); ``None`` = the
            store's first label (by name) with at least 3 conditions on ``split`` (the
            whitened comparators need 3). A store without such a label: its crossnobis
            measures are skipped with a logged warning.
        n_bins: equal-width bins of a continuous label over its whole range.
        variance_fraction: SVCCA's kept fraction of each layer's variance.
        k, max_samples, seed: neighbourhood measures (cosine neighbours per row; at most this
            many rows, the same seeded draw for every layer).
        n_folds, shrinkage: crossnobis (contiguous folds; noise covariance shrinkage).
        chunk_size: rows read per chunk.
        bootstrap: ``statistics.bootstrap`` settings (or ``None``): ``ci_low``/``ci_high`` of
            the shape and CCA values = block-bootstrap percentile interval of the scored rows
            with the training fit held fixed (:mod:`cebra_lens_core.stats.similarity`). The
            neighbourhood and crossnobis rows have none (their statistics are not sums over
            rows: a resampled row repeated would be its own neighbour, and folds are blocks).

    Returns:
        Results rows, for each pair in order, each measure in the order of ``measures``, each
        layer ``i`` of ``a`` and ``j`` of ``b``: ``analysis`` = the measure's family,
        ``variant`` = the measure, ``metric`` = ``similarity`` or ``distance``,
        ``model``/``layer`` = ``a``/``i``, ``other_model``/``other_layer`` = ``b``/``j``,
        ``label`` = the crossnobis label (else empty), ``n`` = time points used (shape and
        CCA: scored rows; neighbourhood: rows after the cap; crossnobis: rows with a
        condition).

    Raises:
        ValueError: before any layer is read: unknown or CKA measure; empty or malformed
            pairs, or pairs naming stores not given; a store without layers; bad split, or
            stores not covering the same time points; bad numeric options; for crossnobis,
            an unknown label (names the store's labels), labels that differ between the
            stores of a pair, fewer than 3 conditions or conditions missing from folds.
    """
    chosen = _check_measures(measures)
    boot = BootstrapOptions.from_config(bootstrap)
    if split not in SPLITS:
        raise ValueError(f"split must be one of {list(SPLITS)}, got {split!r}")
    chunk_size = check_int(chunk_size, "chunk_size", 1)
    by_family = {f: [m for m in chosen if MEASURES[m].family == f] for f in FAMILIES}
    names = _check_pairs(stores, pairs)
    scored = _selected(stores, names, split)
    fit_split = "train" if split == "test" else split
    fitted = (
        _selected(stores, names, fit_split) if by_family["shape"] and fit_split != split else {}
    )
    for n in names:
        if not layer_names(scored[n]):
            raise ValueError(f"activation store {n} has no layer variables (layer_00, ...)")
    n_scored = scored[names[0]].sizes["time"]
    if by_family["shape"]:
        n_fit = (fitted or scored)[names[0]].sizes["time"]
        if n_fit < MIN_TRAIN_SAMPLES:
            raise ValueError(
                f"shape measures need at least {MIN_TRAIN_SAMPLES} {fit_split} time points "
                f"to fit on, got {n_fit}"
            )
    if by_family["cca"]:
        check_variance_fraction(variance_fraction)
    if by_family["neighbourhood"]:
        _check_neighbourhood(by_family["neighbourhood"], n_scored, k, max_samples, seed)
    conditions: dict[str, tuple[str, np.ndarray, int]] = {}
    if by_family["crossnobis"]:
        check_shrinkage(shrinkage)
        conditions = _crossnobis_conditions(stores, names, pairs, split, label, n_bins, n_folds)

    stack = _stack(scored, names)
    results: dict[tuple[str, str, str], _Values] = {}
    if by_family["shape"] or by_family["cca"]:
        results |= _covariance_families(
            stack, pairs, scored, fitted, by_family, variance_fraction, chunk_size, split, boot
        )
    if by_family["neighbourhood"]:
        results |= _neighbourhood(
            stack, pairs, scored, by_family["neighbourhood"], k, max_samples, seed, chunk_size
        )
    if by_family["crossnobis"]:
        results |= _crossnobis(
            stack,
            pairs,
            scored,
            by_family["crossnobis"],
            conditions,
            shrinkage,
            chunk_size,
        )

    rows: list[dict] = []
    for a, b in pairs:
        layer_label = [str(scored[a][v].attrs.get("layer_name", "")) for v in stack.variables[a]]
        dataset = dataset_name(stores[a])
        for name in chosen:
            if (name, a, b) not in results:  # crossnobis of a store without labels
                continue
            values, n, low, high = results[(name, a, b)]
            measure = MEASURES[name]
            row_label = conditions[a][0] if measure.family == "crossnobis" else ""
            rows += [
                {
                    "analysis": measure.family,
                    "dataset": dataset,
                    "model": a,
                    "layer": i,
                    "layer_name": layer_label[i],
                    "other_model": b,
                    "other_layer": j,
                    "metric": measure.kind,
                    "label": row_label,
                    "variant": name,
                    "value": float(values[i, j]),
                    "ci_low": float(low[i, j]) if low is not None else None,
                    "ci_high": float(high[i, j]) if high is not None else None,
                    "n": n,
                }
                for i in range(values.shape[0])
                for j in range(values.shape[1])
            ]
    return make_rows(rows)


# --------------------------------------------------------------------------------------
# Validation (nothing here reads a layer)
# --------------------------------------------------------------------------------------


def _check_measures(measures: Any) -> list[str]:
    items = [measures] if isinstance(measures, str) else list(measures)
    if not items:
        raise ValueError(f"measures is empty; choose from {list(DEFAULT_MEASURES)}")
    for name in items:
        if name not in MEASURES:
            raise ValueError(
                f"unknown similarity measure {name!r}; valid: {list(DEFAULT_MEASURES)}"
            )
        family = MEASURES[name].family
        if family == "cka":
            raise ValueError(
                f"{name} is a CKA measure: use the cka analysis (analyses.cka) for it; "
                f"the similarity analysis computes {list(DEFAULT_MEASURES)}"
            )
        known = name in _SHAPE or name in _CROSSNOBIS or family in ("cca", "neighbourhood")
        if family not in FAMILIES or not known:
            raise ValueError(
                f"similarity measure {name!r} (family {family}) is not computed by the "
                f"similarity analysis; valid: {list(DEFAULT_MEASURES)}"
            )
    return list(dict.fromkeys(items))


def _check_pairs(stores: Mapping[str, xr.Dataset], pairs: Sequence[Any]) -> list[str]:
    """Store names of the pairs, in order of first appearance."""
    pairs = list(pairs)
    if not pairs:
        raise ValueError("pairs is empty: give at least one (store_a, store_b) pair")
    for pair in pairs:
        if isinstance(pair, str) or len(pair) != 2:
            raise ValueError(f"each pair must be (store_a, store_b), got {pair!r}")
    names = list(dict.fromkeys(s for pair in pairs for s in pair))
    missing = [n for n in names if n not in stores]
    if missing:
        raise ValueError(f"pairs name stores {missing} that were not given (have {list(stores)})")
    return names


def _selected(
    stores: Mapping[str, xr.Dataset], names: Sequence[str], split: str
) -> dict[str, xr.Dataset]:
    """The ``split`` rows of every store (lazy), all on the same time points."""
    selected = {}
    for n in names:
        try:
            selected[n] = select_split(stores[n], split)
        except ValueError as err:
            raise ValueError(f"activation store {n}: {err}") from err
    for n in names[1:]:
        check_same_time_points(
            selected[names[0]], selected[n], names[0], n, f"similarity ({split} split)"
        )
    return selected


def _check_neighbourhood(
    measures: Sequence[str], n_time: int, k: Any, max_samples: Any, seed: int
) -> None:
    """``max_samples`` and ``k`` against the rows the neighbourhood measures will use."""
    rows = neighbourhood_rows(n_time, max_samples, seed)
    minimum = CKNNA_MIN_K if "cknna" in measures else 1
    k = check_int(k, "k", minimum)
    if k >= len(rows):
        raise ValueError(
            f"k={k} must be smaller than the number of rows the neighbourhood measures use "
            f"(n={len(rows)}: {n_time} time points, max_samples={max_samples})"
        )
    if "cknna" in measures and len(rows) < CKNNA_MIN_SAMPLES:
        raise ValueError(f"CKNNA needs at least {CKNNA_MIN_SAMPLES} rows, got n={len(rows)}")


def _default_label(available: Mapping[str, Any], n_bins: int, rows: Any) -> Any:
    """The first label (by name) with at least 3 conditions on ``rows`` (a binned
    continuous label or a discrete one with 3+ classes), else ``None``."""
    for candidate in available.values():
        if label_conditions(candidate, n_bins, rows).n_conditions >= 3:
            return candidate
    return None


def usable_folds(codes: np.ndarray, n_folds: int) -> int | None:
    """The largest number of contiguous folds ``F <= n_folds`` (``F >= 2``) with which every
    condition occurs in at least two folds and every pair of conditions shares two (what a
    crossnobis RDM needs, :func:`~cebra_lens_core.metrics.crossnobis.fold_layout`); ``None``
    when even two folds do not work (e.g. a condition only in the first half of the rows)."""
    n_time = len(codes)
    contiguous_folds(n_time, n_folds)  # n_folds an integer in [2, T]: else ValueError
    for folds in range(int(n_folds), 1, -1):
        try:
            fold_layout(codes, contiguous_folds(n_time, folds), n_time)
        except ValueError:
            continue
        return folds
    return None


def _crossnobis_conditions(
    stores: Mapping[str, xr.Dataset],
    names: Sequence[str],
    pairs: Sequence[tuple[str, str]],
    split: str,
    label: str | None,
    n_bins: int,
    n_folds: int,
) -> dict[str, tuple[str, np.ndarray, int]]:
    """``store -> (label name, condition codes on the split rows, folds)``.

    Stores without a usable label are left out with a warning (no labels; ``label=None`` and
    no label with 3+ conditions, or none whose conditions can be cross-validated). When the
    conditions cannot be cross-validated with ``n_folds`` contiguous folds, fewer folds are
    used (:func:`usable_folds`, with a warning); an explicit ``label`` that cannot be
    cross-validated even with 2 folds is an error.
    """
    out: dict[str, tuple[str, np.ndarray, int]] = {}
    for n in names:
        available = store_labels(stores[n])
        if not available:
            log.warning("activation store %s has no labels: its crossnobis measures are skipped", n)
            continue
        if label is None:
            chosen = _default_label(available, n_bins, split_rows(stores[n], split))
            if chosen is None:
                log.warning(
                    "activation store %s: no label with at least 3 conditions (labels %s): its "
                    "crossnobis measures are skipped; set analyses.similarity.label",
                    n,
                    sorted(available),
                )
                continue
        elif label in available:
            chosen = available[label]
        else:
            raise ValueError(
                f"label {label!r} is not in activation store {n} (its labels: {sorted(available)})"
            )
        where = f"crossnobis conditions of label {chosen.name!r} in activation store {n} ({split} split)"
        cond = label_conditions(chosen, n_bins, split_rows(stores[n], split))
        if cond.n_conditions < 3:
            raise ValueError(
                f"{where}: {cond.n_conditions} conditions (ids {cond.ids.tolist()}); the whitened "
                "RDM comparison needs at least 3: choose another label or more bins"
            )
        folds = usable_folds(cond.codes, n_folds)
        if folds is None:
            n_time = len(cond.codes)
            try:
                fold_layout(cond.codes, contiguous_folds(n_time, 2), n_time)
                problem = "they cannot be cross-validated"
            except ValueError as err:
                problem = str(err)
            message = (
                f"{where}: even with 2 contiguous folds (halves of the {split} split) {problem}; "
                f"use a longer {split} split, fewer bins (n_bins) or another label"
            )
            if label is not None:
                raise ValueError(message)
            log.warning("%s; its crossnobis measures are skipped", message)
            continue
        if folds < n_folds:
            log.warning(
                "%s: not every condition (pair) occurs in 2 of %d contiguous folds; using %d folds",
                where,
                n_folds,
                folds,
            )
        out[n] = (chosen.name, cond.codes, folds)
    for a, b in pairs:
        if a in out and b in out:
            (la, ca, _), (lb, cb, _) = out[a], out[b]
            if la != lb or not np.array_equal(ca, cb):
                raise ValueError(
                    f"activation stores {a} (label {la!r}) and {b} (label {lb!r}) have different "
                    "crossnobis conditions on the same time points; their RDMs cannot be compared"
                )
    return out


# --------------------------------------------------------------------------------------
# Families
# --------------------------------------------------------------------------------------


def _stack(selected: Mapping[str, xr.Dataset], names: Sequence[str]) -> _Stack:
    variables, start, labels = {}, {}, []
    for n in names:
        start[n] = len(labels)
        variables[n] = layer_names(selected[n])
        labels += [f"{n}:{v}" for v in variables[n]]
    return _Stack(list(names), variables, start, labels)


def _covariance(
    stack: _Stack, selected: Mapping[str, xr.Dataset], chunk_size: int
) -> StackedCovariance:
    return stacked_covariance(stack.layers(selected), chunk_size=chunk_size, names=stack.labels)


def _pair_values(
    fit_cov: StackedCovariance,
    test_cov: StackedCovariance | None,
    rows: Sequence[int],
    cols: Sequence[int],
    by_family: Mapping[str, list[str]],
    variance_fraction: float,
    names: Sequence[str],
    fits: Mapping[float, ShapeFit] | None = None,
) -> dict[str, np.ndarray]:
    """Shape and CCA values of layers ``rows`` vs ``cols`` (block indices of the covariances):
    shape fitted on ``fit_cov`` (or the kept ``fits`` of it, per alpha) and scored on
    ``test_cov`` (``None``: on ``fit_cov``), CCA on the scored covariance."""
    out: dict[str, np.ndarray] = {}
    alphas: dict[float, list[str]] = {}
    for name in by_family["shape"]:
        alpha, form = _SHAPE[name]
        alphas.setdefault(alpha, []).append(form)
    for alpha, forms in alphas.items():
        values = shape_distances_from_covariance(
            fit_cov,
            test_cov,
            rows,
            cols,
            alpha=alpha,
            forms=forms,
            names=names,
            fit=(fits or {}).get(alpha),
        )
        for name in by_family["shape"]:
            if _SHAPE[name][0] == alpha:
                out[name] = values[_SHAPE[name][1]]
    if by_family["cca"]:
        out |= cca_matrix_from_covariance(
            test_cov if test_cov is not None else fit_cov,
            rows,
            cols,
            measures=by_family["cca"],
            variance_fraction=variance_fraction,
            names=names,
        )
    return out


def _sub_covariance(cov: StackedCovariance, blocks: Sequence[int]) -> StackedCovariance:
    """The stacked covariance of the layers ``blocks`` only (in that order)."""
    columns = np.concatenate([np.arange(cov.offsets[i], cov.offsets[i + 1]) for i in blocks])
    widths = [int(cov.offsets[i + 1] - cov.offsets[i]) for i in blocks]
    return StackedCovariance(
        scatter=cov.scatter[np.ix_(columns, columns)],
        means=cov.means[columns],
        offsets=np.concatenate([[0], np.cumsum(widths)]).astype(np.intp),
        n_samples=cov.n_samples,
    )


def _pair_intervals(
    stack: _Stack,
    pair: tuple[str, str],
    scored: Mapping[str, xr.Dataset],
    fit_cov: StackedCovariance | None,
    by_family: Mapping[str, list[str]],
    variance_fraction: float,
    boot: BootstrapOptions,
    chunk_size: int,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Block-bootstrap percentile intervals of the shape and CCA values of one pair: the
    scored rows resampled (:func:`~cebra_lens_core.stats.similarity.covariance_replicates`),
    the training fit held fixed."""
    a, b = pair
    blocks = list(stack.block(a)) + ([] if a == b else list(stack.block(b)))
    layers = [scored[n][v] for n in dict.fromkeys(pair) for v in stack.variables[n]]
    names = [stack.labels[i] for i in blocks]
    n_a = len(stack.block(a))
    rows = list(range(n_a))
    cols = rows if a == b else list(range(n_a, len(blocks)))
    fit = _sub_covariance(fit_cov, blocks) if fit_cov is not None else None
    replicates = covariance_replicates(layers, boot, chunk_size=chunk_size)

    # the training fit (whitening, rotations) is the same for every replicate: fitted once
    fits = {_SHAPE[m][0]: ShapeFit(_SHAPE[m][0]) for m in by_family["shape"]}

    def statistic(cov: StackedCovariance) -> dict[str, np.ndarray]:
        if fit is None:  # fitted and scored on the same (resampled) rows
            return _pair_values(cov, None, rows, cols, by_family, variance_fraction, names)
        return _pair_values(fit, cov, rows, cols, by_family, variance_fraction, names, fits)

    with warnings.catch_warnings():  # a degenerate replicate is NaN; the point estimate warns
        warnings.simplefilter("ignore", RuntimeWarning)
        return covariance_intervals(replicates, statistic, boot.confidence)


def _covariance_families(
    stack: _Stack,
    pairs: Sequence[tuple[str, str]],
    scored: Mapping[str, xr.Dataset],
    fitted: Mapping[str, xr.Dataset],
    by_family: Mapping[str, list[str]],
    variance_fraction: float,
    chunk_size: int,
    split: str,
    boot: BootstrapOptions | None,
) -> dict[tuple[str, str, str], _Values]:
    """Shape and CCA measures from one stacked covariance per split (fit, score), with
    block-bootstrap intervals per pair when ``boot`` is given."""
    n_time = scored[stack.stores[0]].sizes["time"]
    log.info(
        "stacked covariance of %d layers (%d stores) on %d %s time points",
        len(stack.labels),
        len(stack.stores),
        n_time,
        split,
    )
    score_cov = _covariance(stack, scored, chunk_size)
    fit_cov: StackedCovariance | None = None
    if by_family["shape"] and fitted:
        log.info("stacked covariance of the training split (shape measures are fitted on it)")
        fit_cov = _covariance(stack, fitted, chunk_size)
    measures = [*by_family["shape"], *by_family["cca"]]
    log.info("%s for %d pairs", ", ".join(measures), len(pairs))
    if boot is not None:
        log.info(
            "block bootstrap of the %s rows: %d replicates per pair, blocks of %d rows",
            split,
            boot.n_resamples,
            boot.length_for(n_time),
        )
    # shape fitted on the training split and scored on `split`, or both on the same rows
    fit, test = (fit_cov, score_cov) if fit_cov is not None else (score_cov, None)
    out: dict[tuple[str, str, str], _Values] = {}
    for a, b in pairs:
        rows, cols = stack.block(a), stack.block(b)
        values = _pair_values(fit, test, rows, cols, by_family, variance_fraction, stack.labels)
        intervals = {}
        if boot is not None:
            intervals = _pair_intervals(
                stack, (a, b), scored, fit_cov, by_family, variance_fraction, boot, chunk_size
            )
        for name in measures:
            low, high = intervals.get(name, (None, None))
            out[(name, a, b)] = _Values(values[name], score_cov.n_samples, low, high)
    return out


def _neighbourhood(
    stack: _Stack,
    pairs: Sequence[tuple[str, str]],
    scored: Mapping[str, xr.Dataset],
    measures: Sequence[str],
    k: int,
    max_samples: int | None,
    seed: int,
    chunk_size: int,
) -> dict[tuple[str, str, str], _Values]:
    """Neighbour lists once per layer of every store, then every block of the pairs."""
    n_time = scored[stack.stores[0]].sizes["time"]
    n = len(neighbourhood_rows(n_time, max_samples, seed))
    log.info(
        "neighbourhood measures %s: k=%d cosine neighbours of %d layers on %d of %d time points",
        ", ".join(measures),
        k,
        len(stack.labels),
        n,
        n_time,
    )
    matrices = neighbourhood_similarity_matrix(
        stack.layers(scored),
        None,
        measures=tuple(measures),
        k=k,
        max_samples=max_samples,
        seed=seed,
        names_a=stack.labels,
        chunk_size=chunk_size,
    )
    out = {}
    for a, b in pairs:
        rows, cols = stack.block(a), stack.block(b)
        for m in measures:
            out[(m, a, b)] = _Values(matrices[m][np.ix_(rows, cols)], n)
    return out


def _crossnobis(
    stack: _Stack,
    pairs: Sequence[tuple[str, str]],
    scored: Mapping[str, xr.Dataset],
    measures: Sequence[str],
    conditions: Mapping[str, tuple[str, np.ndarray, int]],
    shrinkage: Any,
    chunk_size: int,
) -> dict[tuple[str, str, str], _Values]:
    """One crossnobis RDM per layer of every store with labels, compared per pair."""
    used = [n for n in stack.stores if n in conditions]
    log.info(
        "crossnobis RDMs of %d layers (%d stores, %s folds), measures %s",
        sum(len(stack.variables[n]) for n in used),
        len(used),
        sorted({conditions[n][2] for n in used}),
        ", ".join(measures),
    )
    rdms = {
        n: [
            crossnobis_rdm(
                scored[n][v],
                conditions[n][1],
                n_folds=conditions[n][2],
                shrinkage=shrinkage,
                chunk_size=chunk_size,
                name=f"{n}:{v}",
            )[0]
            for v in stack.variables[n]
        ]
        for n in used
    }
    out = {}
    for a, b in pairs:
        if a not in rdms or b not in rdms:
            continue
        for m in measures:
            method = _CROSSNOBIS[m]
            values = np.array(
                [[compare_rdms_whitened(x, y, method) for y in rdms[b]] for x in rdms[a]]
            )
            out[(m, a, b)] = _Values(values, len(conditions[a][1]))
    return out
