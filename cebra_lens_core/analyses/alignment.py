r"""Alignment of every layer of an activation store with the recorded neural activity.

For one activation store and the neural data of its session (``Y``, ``time × neurons``,
row ``t`` = the store's ``time`` coordinate ``t``), per layer ``X`` (read lazily, one layer
at a time):

- **cRSA** (analysis ``crsa``): ``compare(RDM(X), RDM(Y))`` with both RDMs built from the
  condition means of one label on the same rows (a discrete label's codes, or a continuous
  label in ``n_bins`` equal-width bins over its range on the whole recording), per split
  (:func:`~cebra_lens_core.metrics.alignment.crsa`).
- **Encoding regression** (analysis ``encoding``): ridge from the layer (optionally after a
  seeded sparse random projection to the Johnson–Lindenstrauss dimension) to every neuron,
  ``α`` per neuron by contiguous K-fold CV on the training split, scored on the test split:
  Pearson ``r`` and ``R² = 1 − SS_res / SS_tot`` per neuron, summarised by mean and median
  over neurons (:func:`~cebra_lens_core.metrics.encoding.encoding_regression`). Train
  rows hold the out-of-fold scores.
- **eRSA** (analysis ``ersa``): ``compare(RDM(Ŷ), RDM(Y))`` with ``Ŷ`` the ridge
  predictions (held-out on the test split, out-of-fold on the training split).
- **Effective dimensionality**: participation ratio ``PR = tr(C)² / ||C||²_F`` of the layer
  on the training split (analysis ``encoding``, metric ``participation_ratio``).
- **Best layer** (analysis ``best_layer``): per metric, the layer with the highest
  *training* score, reported with its *test* score
  (:func:`~cebra_lens_core.metrics.alignment.select_best_layer`; no double dipping).
- **Relative representations** (analysis ``relative``): every row re-expressed as its cosine
  similarity to ``A`` anchors (condition means of the label on the training split, or the
  layer at user-given sample indices), optionally after subtracting the layer's training
  mean (:func:`~cebra_lens_core.metrics.relative.relative_representation`). Reported next to
  the original layer: decoding of the label
  (:func:`~cebra_lens_core.metrics.decoding.decode`, fitted on the training split, scored on
  the test split), RSA of the test-split RDM with the ordinal oracle (continuous labels)
  and with the neural RDM, the participation ratio, and ``reduction_ratio = A / d``.

Rows (results-table contract): ``label`` = the condition label (empty for the encoding rows,
which do not use it); ``variant`` = the split (``train`` / ``test``) for ``crsa``,
``ersa``, ``encoding`` and ``best_layer``; for ``relative`` it is
``<representation>/<decoder>`` (decoding) or ``<representation>/<rdm metric>/<comparator>``
(RSA) with representation ``original`` or ``relative``. ``n`` = conditions (RSA), time
points of the split (encoding, decoding), candidate layers (best layer) or anchors
(reduction ratio).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from cebra_lens_core.analyses.common import (
    StoreLabel,
    array_key,
    dataset_name,
    label_conditions,
    layer_views,
    split_rows,
    store_labels,
)
from cebra_lens_core.analyses.decoding import decoding_records
from cebra_lens_core.metrics.alignment import (
    LayerAlignment,
    align_layer,
    condition_rdm,
    select_best_layer,
)
from cebra_lens_core.metrics.decoding import decode
from cebra_lens_core.metrics.dimensionality import participation_ratio
from cebra_lens_core.metrics.encoding import DEFAULT_ALPHAS
from cebra_lens_core.metrics.rdm import COMPARATORS, compare_rdms, oracle_rdm, rdm_metric_name
from cebra_lens_core.metrics.relative import (
    condition_anchors,
    relative_representation,
    sample_anchors,
)
from cebra_lens_core.results import make_rows

log = logging.getLogger(__name__)

#: config keys that steer the workflow, not the analysis
_WORKFLOW_KEYS = {"enabled"}
ANCHOR_KINDS = ("label", "indices")
PROJECTIONS = ("none", "sparse")
CENTRES = ("train_mean", "none")


@dataclass(frozen=True)
class AlignmentOptions:
    """Settings of :func:`alignment_analysis` (the config section ``analyses.alignment``).

    Attributes:
        label: label whose conditions define the RDMs and the anchors, and that the
            relative representation is decoded for; ``None`` = the first label.
        n_bins: equal-width bins of a continuous label.
        rdm_metric: RDM distance (``correlation``, ``cosine``, ``euclidean``).
        comparator: RDM comparison (``spearman``, ``pearson``, ``kendall_tau_a``,
            ``rho_a``, ``cosine``).
        alphas: ridge penalties searched by cross-validation.
        n_folds: contiguous folds of the training split for the penalty.
        projection: ``none`` or ``sparse`` (sparse random projection before the ridge).
        eps: Johnson–Lindenstrauss distortion giving the projection dimension.
        n_components: projection dimension (overrides ``eps``); ``None`` = JL dimension.
        max_train_samples: at most this many training rows, evenly spaced in time (keeps
            the order for the contiguous folds); ``None`` = all.
        anchors: ``label`` (condition means on the training split) or ``indices``.
        anchor_indices: sample indices (the store's ``time`` coordinate, training split)
            of the anchors when ``anchors == "indices"``.
        centre: ``train_mean`` (subtract the layer's training mean before the cosine) or
            ``none`` (as in Moschella et al. 2023).
        decoders: decoders of the relative-representation comparison (``knn``, ``ridge``).
        seed: seed of the random projection.
        layers: restrict to these layers (positions or names); empty = every layer. The
            store's references are always included (``input`` trivially matches the
            neurons it is; ``input_rf_mean`` is the fair baseline), never as a best layer.
    """

    label: str | None = None
    n_bins: int = 10
    rdm_metric: str = "correlation"
    comparator: str = "spearman"
    alphas: tuple[float, ...] = DEFAULT_ALPHAS
    n_folds: int = 5
    projection: str = "none"
    eps: float = 0.1
    n_components: int | None = None
    max_train_samples: int | None = None
    anchors: str = "label"
    anchor_indices: tuple[int, ...] = field(default_factory=tuple)
    centre: str = "train_mean"
    decoders: tuple[str, ...] = ("knn", "ridge")
    seed: int = 0
    layers: tuple[int | str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        rdm_metric_name(self.rdm_metric)
        _check_choice("comparator", self.comparator, COMPARATORS)
        _check_choice("projection", self.projection, PROJECTIONS)
        _check_choice("anchors", self.anchors, ANCHOR_KINDS)
        _check_choice("centre", self.centre, CENTRES)
        for d in self.decoders:
            _check_choice("decoders", d, ("knn", "ridge"))
        if self.n_bins < 3:
            raise ValueError(f"alignment: n_bins must be >= 3, got {self.n_bins}")
        if self.n_folds < 2:
            raise ValueError(f"alignment: n_folds must be >= 2, got {self.n_folds}")
        if self.n_components is not None and self.projection != "sparse":
            raise ValueError(
                f"alignment: n_components={self.n_components} applies only with "
                "projection: sparse (projection is 'none')"
            )
        if self.max_train_samples is not None and self.max_train_samples < 2 * self.n_folds:
            raise ValueError(
                f"alignment: max_train_samples={self.max_train_samples} leaves too few rows "
                f"for {self.n_folds} folds (need at least {2 * self.n_folds})"
            )
        if self.anchors == "indices" and not self.anchor_indices:
            raise ValueError(
                "alignment: anchors is 'indices' but anchor_indices is empty; list the sample "
                "indices (training split) of the anchors, or use anchors: label"
            )

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any] | None) -> AlignmentOptions:
        """Options from a config mapping (``enabled`` is ignored; unknown keys are an error)."""
        options = {k: v for k, v in dict(options or {}).items() if k not in _WORKFLOW_KEYS}
        valid = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - valid)
        if unknown:
            raise ValueError(f"alignment: unknown options {unknown}; valid: {sorted(valid)}")
        for key in ("alphas", "anchor_indices", "decoders", "layers"):
            if key in options and options[key] is not None:
                options[key] = tuple(options[key])
        return cls(**options)

    def encoding_options(self) -> dict[str, Any]:
        """Keyword arguments of :func:`~cebra_lens_core.metrics.encoding.encoding_regression`."""
        return {
            "alphas": self.alphas,
            "n_folds": self.n_folds,
            "projection": "sparse" if self.projection == "sparse" else None,
            "n_components": self.n_components,
            "eps": self.eps,
            "seed": self.seed,
        }


def _check_choice(key: str, value: Any, valid: Sequence[str]) -> None:
    if value not in valid:
        raise ValueError(f"alignment: {key} must be one of {list(valid)}, got {value!r}")


# --------------------------------------------------------------------------------------
# Inputs: neural data aligned to the store, the condition label, the rows
# --------------------------------------------------------------------------------------


def session_neural(dataset: Any, session: int | None, *, source: str = "dataset") -> np.ndarray:
    """The ``time × neurons`` array of one session of a :class:`~cebra_lens_core.data.Dataset`
    (``session`` ``None`` = the only session of a single-session dataset).

    Raises:
        ValueError: the session does not exist (naming the file and the number of sessions).
    """
    k = 0 if session is None else int(session)
    n = len(dataset.sessions)
    if not 0 <= k < n:
        raise ValueError(f"{source}: session {k} requested but the dataset has {n} session(s)")
    return np.asarray(dataset.sessions[k].neural)


def align_neural(store: xr.Dataset, neural: Any, *, name: str = "store") -> np.ndarray:
    """The neural data on the store's time points: ``Y[k] = neural[time[k]]`` (float64).

    The store holds one row per input time point, so the neural data must have exactly as
    many time points as the store, and the store's ``time`` coordinate (sample indices)
    must lie inside the recording.

    Raises:
        ValueError: neural data not 2-D (time × neurons) or not finite; a different number
            of time points than the store (both named); neurons that differ from the
            store's ``n_neurons`` attribute (another session); time indices out of range.
    """
    y = np.asarray(neural)
    if y.ndim != 2:
        raise ValueError(
            f"neural data for {name} must be 2-D (time × neurons), got shape {y.shape}"
        )
    time = np.asarray(store["time"].values)
    if y.shape[0] != time.size:
        raise ValueError(
            f"the neural data has {y.shape[0]} time points but the activation store {name} "
            f"has {time.size} (its `time` coordinate); they must come from the same "
            "recording and session"
        )
    expected = store.attrs.get("n_neurons")
    if expected is not None and int(expected) > 0 and int(expected) != y.shape[1]:
        raise ValueError(
            f"the neural data has {y.shape[1]} neurons but the model of activation store "
            f"{name} was fed {int(expected)} (store attribute n_neurons); wrong session?"
        )
    if time.size and (time.min() < 0 or time.max() >= y.shape[0]):
        raise ValueError(
            f"activation store {name}: time indices {int(time.min())}..{int(time.max())} "
            f"fall outside the neural data's {y.shape[0]} time points"
        )
    y = np.asarray(y[time], dtype=np.float64)
    if not np.isfinite(y).all():
        row = int(np.argwhere(~np.isfinite(y))[0][0])
        raise ValueError(f"neural data for {name} has NaN/inf values (first at time {row})")
    return y


def choose_label(
    store: xr.Dataset, label: str | None, label_order: Sequence[str] | None = None
) -> StoreLabel:
    """The condition label: ``label``, or the first of ``label_order`` (the dataset's order)
    that the store has, or the store's first label by name.

    Raises:
        ValueError: the store has no labels, or not ``label`` (naming the available ones).
    """
    available = store_labels(store)
    if not available:
        raise ValueError("alignment: the activation store has no label_<name> coordinates")
    if label is not None:
        if label not in available:
            raise ValueError(
                f"alignment: label {label!r} is not in the activation store "
                f"(available: {sorted(available)})"
            )
        return available[label]
    for name in label_order or ():
        if name in available:
            return available[name]
    return available[sorted(available)[0]]


def split_indices(store: xr.Dataset, split: str) -> np.ndarray:
    """Row indices (into the store) of a split, increasing."""
    rows = split_rows(store, split)
    if isinstance(rows, slice):
        return np.arange(rows.start, rows.stop)
    return np.asarray(rows)


def evenly_spaced(rows: np.ndarray, max_rows: int | None) -> np.ndarray:
    """At most ``max_rows`` of ``rows``, evenly spaced (``round(linspace(0, n − 1, max))``),
    in time order; all rows when ``max_rows`` is ``None`` or not smaller."""
    if max_rows is None or len(rows) <= max_rows:
        return rows
    return rows[np.unique(np.round(np.linspace(0, len(rows) - 1, int(max_rows))).astype(int))]


def anchor_rows(store: xr.Dataset, indices: Sequence[int]) -> np.ndarray:
    """Store rows of the anchor samples (``indices`` are values of the ``time`` coordinate).

    Raises:
        ValueError: an index that is not a time point of the store, or not in the
            training split (anchors from the test split would leak into its scores).
    """
    time = np.asarray(store["time"].values)
    where = {int(t): k for k, t in enumerate(time)}
    train = set(split_indices(store, "train").tolist())
    out = []
    for index in indices:
        row = where.get(int(index))
        if row is None:
            raise ValueError(
                f"alignment: anchor index {index} is not a time point of the store "
                f"(time runs {int(time.min())}..{int(time.max())})"
            )
        if row not in train:
            raise ValueError(
                f"alignment: anchor index {index} is not in the training split; anchors must "
                "come from training rows (test rows would leak into the test scores)"
            )
        out.append(row)
    return np.asarray(out, dtype=np.int64)


def layer_anchors(view: xr.DataArray, rows: np.ndarray) -> np.ndarray:
    """``(A, d)`` the layer at store rows ``rows`` (read from the lazy layer), float64."""
    order = np.unique(rows)
    block = np.asarray(view.isel(time=order).values, dtype=np.float64)
    return sample_anchors(block, np.searchsorted(order, rows))


# --------------------------------------------------------------------------------------
# Rows
# --------------------------------------------------------------------------------------


def _chosen_alpha_cv_r2(result: LayerAlignment) -> np.ndarray:
    """Out-of-fold ``R²`` per neuron at its chosen penalty (training split)."""
    enc = result.encoding
    idx = np.searchsorted(enc.alphas, enc.alpha)
    return enc.cv_r2[idx, np.arange(enc.cv_r2.shape[1])]


def _nan_stat(values: np.ndarray, fn: Any) -> float:
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    return float(fn(v)) if v.size else float("nan")


def layer_rows(result: LayerAlignment, label: str, comparator: str) -> list[dict[str, Any]]:
    """Rows of one layer: cRSA and eRSA per split, encoding summaries, PR, feature count.

    ``crsa``/``ersa``: metric = comparator, ``n`` = conditions. ``encoding``: metrics
    ``mean_pearson_r``, ``median_pearson_r``, ``mean_r2``, ``median_r2`` (test: held-out;
    train: out-of-fold at the chosen penalty), ``participation_ratio`` of the layer,
    ``n_features`` entering the ridge (after the projection), ``median_alpha`` (train).
    """
    enc = result.encoding
    rows: list[dict[str, Any]] = []
    for analysis, split, value, n in (
        ("crsa", "train", result.crsa_train, result.n_conditions_train),
        ("crsa", "test", result.crsa_test, result.n_conditions_test),
        ("ersa", "train", result.ersa_train, result.n_conditions_train),
        ("ersa", "test", result.ersa_test, result.n_conditions_test),
    ):
        if value is not None:
            rows.append(
                dict(
                    analysis=analysis,
                    metric=comparator,
                    label=label,
                    variant=split,
                    value=value,
                    n=n,
                )
            )
    cv_r2 = _chosen_alpha_cv_r2(result)
    for metric, split, value, n in (
        ("mean_pearson_r", "test", enc.mean_r, enc.n_test),
        ("median_pearson_r", "test", enc.median_r, enc.n_test),
        ("mean_r2", "test", enc.mean_r2, enc.n_test),
        ("median_r2", "test", enc.median_r2, enc.n_test),
        ("mean_pearson_r", "train", enc.cv_mean_r, enc.n_train),
        ("median_pearson_r", "train", _nan_stat(enc.cv_pearson_r, np.median), enc.n_train),
        ("mean_r2", "train", _nan_stat(cv_r2, np.mean), enc.n_train),
        ("median_r2", "train", _nan_stat(cv_r2, np.median), enc.n_train),
        ("participation_ratio", "train", result.effective_dimensionality, enc.n_train),
        ("n_features", "train", float(enc.n_components), enc.n_train),
        ("median_alpha", "train", float(np.median(enc.alpha)), enc.n_train),
    ):
        rows.append(
            dict(analysis="encoding", metric=metric, label="", variant=split, value=value, n=n)
        )
    return rows


#: best-layer metrics: name -> (analysis, metric of the layer rows, uses the label)
BEST_LAYER_METRICS = {
    "crsa": ("crsa", None, True),
    "ersa": ("ersa", None, True),
    "encoding_mean_pearson_r": ("encoding", "mean_pearson_r", False),
    "encoding_mean_r2": ("encoding", "mean_r2", False),
}


def best_layer_rows(rows: pd.DataFrame, comparator: str) -> list[dict[str, Any]]:
    """Per metric, the layer with the best *training* score and its *test* score.

    Metric names: ``crsa_<comparator>``, ``ersa_<comparator>``, ``encoding_mean_pearson_r``,
    ``encoding_mean_r2``. Two rows each, on the chosen layer: variant ``test`` (the
    reported, held-out score) and variant ``train`` (the score it was chosen on);
    ``n`` = number of candidate layers. Metrics whose training score is NaN on every layer
    are left out.
    """
    out: list[dict[str, Any]] = []
    for name, (analysis, metric, uses_label) in BEST_LAYER_METRICS.items():
        metric = metric or comparator
        part = rows[(rows["analysis"] == analysis) & (rows["metric"] == metric)]
        part = part[part["layer"].notna()]  # the references (input ...) are not candidates
        train = part[part["variant"] == "train"].set_index("layer")["value"]
        test = part[part["variant"] == "test"].set_index("layer")["value"]
        layers = sorted(set(train.index) & set(test.index))
        if not layers:
            continue
        tr = train.loc[layers].to_numpy(dtype=float)
        if np.isnan(tr).all():
            log.warning("best layer of %s: every training score is NaN; left out", name)
            continue
        best = select_best_layer(tr, test.loc[layers].to_numpy(dtype=float))
        layer = int(layers[best.index])
        layer_name = str(part.loc[part["layer"] == layer, "layer_name"].iloc[0])
        full = f"{name}_{comparator}" if metric == comparator else name
        label = str(part["label"].iloc[0]) if uses_label else ""
        for split, value in (("test", best.test_value), ("train", best.train_value)):
            out.append(
                dict(
                    analysis="best_layer",
                    layer=layer,
                    layer_name=layer_name,
                    metric=full,
                    label=label,
                    variant=split,
                    value=value,
                    n=len(layers),
                )
            )
    return out


def _rsa_or_none(
    X: np.ndarray, target: np.ndarray, codes: np.ndarray, metric: str, comparator: str
) -> float | None:
    """``compare(RDM(X), target)`` on the condition means of ``codes``; ``None`` when an RDM
    entry is undefined."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        D, _ = condition_rdm(X, codes, metric)
    if not (np.isfinite(D).all() and np.isfinite(target).all()):
        return None
    return compare_rdms(D, target, comparator)  # type: ignore[arg-type]


def _main_decoding_record(result: Any, label: str) -> dict[str, Any]:
    metric = "r2" if result.kind == "continuous" else "accuracy"
    for r in decoding_records(result):
        if r["metric"] == metric and r["label"] == label:
            return r
    raise AssertionError(f"decoding gave no {metric} for {label}")  # pragma: no cover


def relative_rows(
    X_train: np.ndarray,
    X_test: np.ndarray,
    Y_test: np.ndarray,
    label: StoreLabel,
    y_train: np.ndarray,
    y_test: np.ndarray,
    codes_train: np.ndarray,
    codes_test: np.ndarray,
    options: AlignmentOptions,
    anchors: np.ndarray | None,
    anchor_ids: np.ndarray | None,
    n_levels: int | None,
) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
    """Relative representation of one layer beside the original: decoding, RSA, PR, ratio.

    Anchors: condition means of ``codes_train`` on ``X_train`` (``anchors`` is ``None``)
    or the given ``(A, d)`` anchors (the layer at sample indices ``anchor_ids``); centre: the
    training mean of the layer (or none). ``R = cos(x − c, a_k − c)`` on both splits. Decoding of ``label`` (fit on the
    training split, test-split ``r2`` / ``accuracy``) per decoder; test-split RDMs compared
    with the neural RDM (``neural_similarity``) and, for a continuous label, the ordinal
    oracle ``|i − j| / (B − 1)`` (``oracle_similarity``); ``participation_ratio`` on the
    training split; ``reduction_ratio = A / d`` (``n`` = ``A``).
    """
    if anchors is None:
        cm = condition_anchors(X_train, codes_train)
        anchors, ids = cm.means, cm.ids
    else:
        ids = np.arange(len(anchors)) if anchor_ids is None else np.asarray(anchor_ids)
    centre = X_train.mean(axis=0) if options.centre == "train_mean" else None
    rel_train = relative_representation(X_train, anchors, centre=centre, anchor_ids=ids)
    rel_test = relative_representation(X_test, anchors, centre=centre, anchor_ids=ids)
    reps = {"original": (X_train, X_test), "relative": (rel_train.values, rel_test.values)}
    metric, comparator = options.rdm_metric, options.comparator
    rows: list[dict[str, Any]] = []
    n_test = len(X_test)
    test_ids = np.unique(codes_test)
    neural_rdm = oracle = None
    if len(test_ids) >= 3:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            neural_rdm, _ = condition_rdm(Y_test, codes_test, metric)
        if label.kind == "continuous":
            oracle = oracle_rdm(test_ids, kind="ordinal", n_levels=n_levels)
    for rep, (xtr, xte) in reps.items():
        for decoder in options.decoders:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                result = decode(
                    xtr, y_train, xte, y_test, decoder, kind=label.kind, label_names=[label.name]
                )
            r = _main_decoding_record(result, label.name)
            rows.append(
                dict(metric=r["metric"], variant=f"{rep}/{decoder}", value=r["value"], n=n_test)
            )
        for what, target in (("oracle_similarity", oracle), ("neural_similarity", neural_rdm)):
            if target is None:
                continue
            value = _rsa_or_none(xte, target, codes_test, metric, comparator)
            if value is not None:
                rows.append(
                    dict(
                        metric=what,
                        variant=f"{rep}/{metric}/{comparator}",
                        value=value,
                        n=len(test_ids),
                    )
                )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            pr = participation_ratio(xtr)
        rows.append(dict(metric="participation_ratio", variant=rep, value=pr, n=len(xtr)))
    rows.append(
        dict(
            metric="reduction_ratio",
            variant="relative",
            value=rel_test.reduction_ratio,
            n=rel_test.n_anchors,
        )
    )
    for r in rows:
        r.update(analysis="relative", label=label.name)
    return rows, {"anchor_ids": np.asarray(ids)}


# --------------------------------------------------------------------------------------
# Store-level entry point
# --------------------------------------------------------------------------------------


def alignment_analysis(
    store: xr.Dataset,
    neural: Any,
    options: Mapping[str, Any] | AlignmentOptions | None = None,
    name: str = "store",
    *,
    label_order: Sequence[str] | None = None,
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """cRSA, encoding regression, eRSA, best layer and relative representations of a store.

    Args:
        store: activation store (``layer_XX`` variables, ``time``, ``train`` and
            ``label_<name>`` coordinates); layers are read one at a time.
        neural: ``(T, neurons)`` recorded activity of the store's session, ``T`` = the
            store's time points (row ``t`` = sample index ``t``).
        options: the config section ``analyses.alignment`` (:class:`AlignmentOptions`).
        name: the store's name (model column of the rows, error messages).
        label_order: the dataset's label names in order; the default condition label is the
            first of them.

    Returns:
        ``(rows, arrays)``: results rows (module docstring) and arrays ``ids`` (condition
        ids), ``neural_rdm/train``, ``neural_rdm/test``, and per layer ``layer_XX/rdm_test``,
        ``layer_XX/pearson_r``, ``layer_XX/r2``, ``layer_XX/alpha`` (per neuron, test
        split) and ``layer_XX/anchor_ids``.

    Raises:
        ValueError: bad options; neural data not matching the store (time points, neurons);
            unknown label; anchor indices outside the training split; fewer than 2
            conditions; errors of the metrics (e.g. too few training rows for the folds).
    """
    opts = (
        options if isinstance(options, AlignmentOptions) else AlignmentOptions.from_mapping(options)
    )
    Y = align_neural(store, neural, name=name)
    label = choose_label(store, opts.label, label_order)
    cond = label_conditions(label, opts.n_bins)  # bins over the whole recording
    train_rows = evenly_spaced(split_indices(store, "train"), opts.max_train_samples)
    test_rows = split_indices(store, "test")
    Y_train, Y_test = Y[train_rows], Y[test_rows]
    codes_train, codes_test = cond.codes[train_rows], cond.codes[test_rows]
    y_train, y_test = label.values[train_rows], label.values[test_rows]
    anchor_store_rows = (
        anchor_rows(store, opts.anchor_indices) if opts.anchors == "indices" else None
    )
    metric, comparator = opts.rdm_metric, opts.comparator
    targets = [f"neuron_{j}" for j in range(Y.shape[1])]
    base = {"dataset": dataset_name(store), "model": name}
    rows: list[dict[str, Any]] = []
    arrays: dict[str, np.ndarray] = {"ids": cond.ids}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for split, yy, cc in (("train", Y_train, codes_train), ("test", Y_test, codes_test)):
            if len(np.unique(cc)) >= 2:
                arrays[f"neural_rdm/{split}"] = condition_rdm(yy, cc, metric)[0]
    log.info(
        "%s: alignment with %d neurons, label %s (%d conditions), %d train / %d test rows",
        name,
        Y.shape[1],
        label.name,
        cond.n_conditions,
        len(train_rows),
        len(test_rows),
    )
    views = layer_views(store, layers=opts.layers)
    for index, layer_name, view in views:
        X_train = np.asarray(view.isel(time=_selector(train_rows)).values, dtype=np.float64)
        X_test = np.asarray(view.isel(time=_selector(test_rows)).values, dtype=np.float64)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            result = align_layer(
                X_train,
                X_test,
                Y_train,
                Y_test,
                codes_train,
                codes_test,
                metric=metric,
                method=comparator,
                target_names=targets,
                **opts.encoding_options(),
            )
        layer_base = {**base, "layer": index, "layer_name": layer_name}
        rows += [{**layer_base, **r} for r in layer_rows(result, label.name, comparator)]
        key = array_key(index, layer_name)
        arrays[f"{key}/pearson_r"] = result.encoding.pearson_r
        arrays[f"{key}/r2"] = result.encoding.r2
        arrays[f"{key}/alpha"] = result.encoding.alpha
        if len(np.unique(codes_test)) >= 2:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                arrays[f"{key}/rdm_test"] = condition_rdm(X_test, codes_test, metric)[0]
        try:
            rel, rel_arrays = relative_rows(
                X_train,
                X_test,
                Y_test,
                label,
                y_train,
                y_test,
                codes_train,
                codes_test,
                opts,
                None if anchor_store_rows is None else layer_anchors(view, anchor_store_rows),
                None if anchor_store_rows is None else np.asarray(opts.anchor_indices),
                cond.n_bins,
            )
        except ValueError as err:
            if "zero norm" not in str(err):
                raise
            log.warning("%s %s: no relative representation: %s", name, layer_name, err)
        else:
            rows += [{**layer_base, **r} for r in rel]
            arrays[f"{key}/anchor_ids"] = rel_arrays["anchor_ids"]
        log.info(
            "%s %s: cRSA %.3f, eRSA %.3f, encoding mean r %.3f (test)",
            name,
            layer_name,
            _or_nan(result.crsa_test),
            _or_nan(result.ersa_test),
            result.encoding.mean_r,
        )
    frame = make_rows(rows)
    best = [{**base, **r} for r in best_layer_rows(frame, comparator)]
    return make_rows(rows + best), arrays


def _selector(rows: np.ndarray) -> np.ndarray | slice:
    """A slice for contiguous rows (sequential lazy reads), else the indices."""
    if len(rows) and rows[-1] - rows[0] + 1 == len(rows):
        return slice(int(rows[0]), int(rows[-1]) + 1)
    return rows


def _or_nan(value: float | None) -> float:
    return float("nan") if value is None else float(value)


__all__ = [
    "AlignmentOptions",
    "BEST_LAYER_METRICS",
    "align_neural",
    "alignment_analysis",
    "anchor_rows",
    "best_layer_rows",
    "choose_label",
    "evenly_spaced",
    "layer_anchors",
    "layer_rows",
    "relative_rows",
    "session_neural",
]
