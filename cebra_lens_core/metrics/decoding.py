r"""Decoding behavioural labels from layer activations (kNN and ridge), with a shuffled control.

Arrays are ``time × units`` (rows are samples). The caller provides a training split and a
held-out test split (time-blocked, see METHODS.md); hyperparameters are chosen on a
*validation tail* of the training split and the decoder is then refitted on the whole
training split and scored once on the test split.

Validation tail: the last ``n_val = floor(validation_fraction · n_train)`` training rows,
contiguous in time (never random rows: neighbouring time bins are nearly duplicates, so a
random validation set would reward overfitting, e.g. ``k = 1``). Candidates are fitted on
the first ``n_fit = n_train − n_val`` rows and scored on the tail; ties go to the first
candidate in increasing order (the smallest ``k`` / ``alpha``).

Decoders:

- ``"knn"``: k-nearest neighbours with cosine distance, brute force, uniform weights
  (``sklearn.neighbors.KNeighborsRegressor`` / ``KNeighborsClassifier`` with
  ``metric="cosine", algorithm="brute"``), on the raw activations (cosine is scale-free per
  sample; as in CEBRA's ``KNNDecoder``). ``k`` from ``k_grid`` (values larger than
  ``n_fit`` are skipped). Several continuous labels are predicted jointly (the mean of the
  neighbours' label vectors). Classification: majority vote, ties to the smallest class.
- ``"ridge"``: units standardised with the statistics of the rows the model is fitted on
  (``StandardScaler``; constant units get scale 1), then ``sklearn.linear_model.Ridge``
  (continuous; multi-output, intercept) or ``RidgeClassifier`` (discrete: one-vs-all
  least squares on ±1 targets, prediction = argmax; same ``alpha`` grid and the same
  closed-form, deterministic fit as the continuous case). ``alpha`` from ``alphas``.

Validation score (what the grid search maximises): continuous labels
``mean_l (1 − MSE_val,l / Var_train,l)`` (an R² normalised by the training variance of each
label, well defined even if a label is constant on the short tail); discrete labels:
accuracy on the tail.

Test metrics:

- continuous: ``R²_l = 1 − SS_res,l / SS_tot,l`` per label (sklearn ``r2_score``, test
  truth centred on its own test mean; NaN with a warning if the label is constant on the
  test split), their mean, and the median absolute error ``median_t |y_tl − ŷ_tl|`` per
  label in the label's unit;
- discrete: accuracy; the chance level ``max_c n_c / n_train`` (frequency of the most
  common training class) and the test accuracy of always predicting that class are
  reported alongside. Test classes that never occur in training cannot be predicted: they
  are counted as errors and a :class:`RuntimeWarning` names them (no error: a rare class
  falling only into the test block of a time-blocked split is legitimate data).

Shuffled-label control (``shuffle_labels``): only the *training* labels are rearranged
(test labels stay true) with ``numpy.random.default_rng(seed)``, before the validation
split, so the whole pipeline including the grid search sees the control labels.

- ``"permutation"`` (what ``True`` means): a random permutation of the training rows. The
  decoder then learns nothing that transfers, so the control's expected score is
  ``R² ≲ 0`` / accuracy ≈ chance, whatever the label's time structure.
- ``"circular"``: ``y_train`` is rolled by an offset drawn uniformly from
  ``[ceil(0.1 n), n − ceil(0.1 n)]``. This keeps the labels' autocorrelation and class
  frequencies and breaks only their alignment with the activations (slow drifts shared by
  activations and labels cannot pass as decoding). It is **not** the default because it is
  not a valid null for periodic or repetitive behaviour (laps on a track, repeated
  stimuli): the shifted label is then a function of the behavioural phase, which the
  activations do encode, so the "control" decodes it. On a sine-like label with 4 periods
  in the training split, a random shift left R² = 0.92 (kNN) and accuracy 0.99 (ridge,
  sign of the label); a permutation gave R² = −0.06 and accuracy ≈ chance. On labels in
  alternating blocks the circular control scored either ≈ 0 or ≈ 1 depending on the offset.

Long recordings: :func:`decode_streamed` takes lazy layers (a store's ``DataArray``) and reads
them chunk by chunk. Ridge is exact there (closed form from streamed sufficient statistics,
equal to the sklearn pipeline to rounding). kNN cannot stream (every test row needs every
reference row): it uses at most ``knn_max_samples`` fitting rows, validation queries and
reference rows (a seeded subsample, :func:`knn_subsample`; all test rows are scored), so its
memory is bounded and its cost is ``O(n_test · knn_max_samples · d)``. The decoding and its
shuffled controls share each pass (and, for kNN, the neighbour search).

One control draw is one sample of the null. For a linear classifier on clustered data it
scatters widely (two separable clusters, permuted labels: accuracy 0 to 0.83 over 20
seeds, mean 0.54), because the hyperplane fitted to noise cuts whole clusters; kNN draws
scatter much less (0.41 to 0.61). Repeat the control over several seeds and report the
mean and spread.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from scipy import stats
from sklearn.linear_model import Ridge, RidgeClassifier
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor, NearestNeighbors
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from cebra_lens_core.metrics.streaming import (
    DEFAULT_CHUNK_ROWS,
    MomentAccumulator,
    iter_chunks,
    take_rows,
)

__all__ = [
    "DECODERS",
    "LABEL_KINDS",
    "SHUFFLE_METHODS",
    "DEFAULT_K_GRID",
    "DEFAULT_ALPHAS",
    "DEFAULT_KNN_MAX_SAMPLES",
    "DecodingResult",
    "decode",
    "decode_streamed",
    "knn_subsample",
    "shuffle_training_labels",
]

Decoder = Literal["knn", "ridge"]
LabelKind = Literal["continuous", "discrete"]
DECODERS: tuple[str, ...] = ("knn", "ridge")
LABEL_KINDS: tuple[str, ...] = ("continuous", "discrete")
SHUFFLE_METHODS: tuple[str, ...] = ("permutation", "circular")
DEFAULT_K_GRID: tuple[int, ...] = (1, 3, 5, 9, 15, 25, 50)
DEFAULT_ALPHAS: tuple[float, ...] = tuple(float(a) for a in np.logspace(-3, 3, 7))
#: Minimum circular shift of the control, as a fraction of the training length.
MIN_SHIFT_FRACTION = 0.1


@dataclass(frozen=True, eq=False)
class DecodingResult:
    """Test-split metrics of one decoder, with the chosen hyperparameter.

    Attributes:
        decoder: ``"knn"`` or ``"ridge"``.
        kind: ``"continuous"`` or ``"discrete"``.
        label_names: one name per label column.
        param_name: ``"k"`` (kNN) or ``"alpha"`` (ridge).
        param: the chosen value (an ``int`` for ``k``).
        grid: the candidates evaluated on the validation tail, increasing.
        validation_scores: score of each candidate on the tail (see module docstring).
        predictions: decoder output on the test rows, shaped like ``y_test``.
        r2: continuous: ``R²`` per label (NaN where a label is constant on the test split);
            ``None`` for discrete labels.
        mean_r2: continuous: mean of ``r2`` over labels; ``None`` for discrete.
        median_abs_error: continuous: median absolute error per label (label units).
        accuracy: discrete: fraction of correctly predicted test rows.
        chance_level: discrete: frequency of the most common training class.
        majority_accuracy: discrete: test accuracy of always predicting that class.
        classes: discrete: the training classes (sorted).
        unseen_test_classes: discrete: test classes absent from training (counted wrong).
        n_train, n_fit, n_validation, n_test: row counts (``n_fit + n_validation ==
            n_train``).
        n_reference: kNN: rows the test neighbours are searched among (``< n_train`` when
            capped by ``knn_max_samples``); ``None`` for ridge.
        shuffle: ``None``, ``"circular"`` or ``"permutation"`` (the control, if any).
        shuffle_offset: the circular shift applied to the training labels, if any.
        seed: seed of the control's random generator.
    """

    decoder: str
    kind: str
    label_names: tuple[str, ...]
    param_name: str
    param: float
    grid: np.ndarray
    validation_scores: np.ndarray
    predictions: np.ndarray
    n_train: int
    n_fit: int
    n_validation: int
    n_test: int
    r2: np.ndarray | None = None
    mean_r2: float | None = None
    median_abs_error: np.ndarray | None = None
    accuracy: float | None = None
    chance_level: float | None = None
    majority_accuracy: float | None = None
    classes: np.ndarray | None = None
    unseen_test_classes: tuple[Any, ...] = field(default_factory=tuple)
    n_reference: int | None = None
    shuffle: str | None = None
    shuffle_offset: int | None = None
    seed: int = 0

    @property
    def shuffled(self) -> bool:
        """Whether this is a shuffled-label control."""
        return self.shuffle is not None

    def records(self) -> list[dict[str, Any]]:
        """The metrics as rows ``{"metric", "label", "value", "n"}`` (``n`` = test rows).

        Continuous: ``r2`` and ``median_abs_error`` per label and ``mean_r2`` (label ``""``
        when there are several labels, else the label's name). Discrete: ``accuracy``,
        ``chance_level`` and ``majority_accuracy``. Always: ``k`` or ``alpha``.
        """
        rows: list[dict[str, Any]] = []

        def add(metric: str, label: str, value: float) -> None:
            rows.append({"metric": metric, "label": label, "value": float(value), "n": self.n_test})

        if self.kind == "continuous":
            assert self.r2 is not None and self.median_abs_error is not None
            for name, r2, mae in zip(self.label_names, self.r2, self.median_abs_error, strict=True):
                add("r2", name, r2)
                add("median_abs_error", name, mae)
            joint = self.label_names[0] if len(self.label_names) == 1 else ""
            add("mean_r2", joint, self.mean_r2)  # type: ignore[arg-type]
            for name in self.label_names:
                add(self.param_name, name, self.param)
        else:
            name = self.label_names[0]
            add("accuracy", name, self.accuracy)  # type: ignore[arg-type]
            add("chance_level", name, self.chance_level)  # type: ignore[arg-type]
            add("majority_accuracy", name, self.majority_accuracy)  # type: ignore[arg-type]
            add(self.param_name, name, self.param)
        return rows


# --------------------------------------------------------------------------------------
# Validation helpers
# --------------------------------------------------------------------------------------


def _check_x(x: Any, name: str) -> np.ndarray:
    a = np.asarray(x)
    if a.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D (time × units), got shape {a.shape}; reshape one unit to (T, 1)"
        )
    if not (np.issubdtype(a.dtype, np.number) or np.issubdtype(a.dtype, np.bool_)):
        raise ValueError(f"{name} must hold real numbers, got dtype {a.dtype}")
    if np.iscomplexobj(a):
        raise ValueError(f"{name} must hold real numbers, got dtype {a.dtype}")
    if a.shape[1] < 1:
        raise ValueError(f"{name} has no units (shape {a.shape})")
    a = np.asarray(a, dtype=np.float64)
    if not np.isfinite(a).all():
        row = int(np.argwhere(~np.isfinite(a))[0][0])
        raise ValueError(f"{name} contains NaN or inf values (first at row {row})")
    return a


def _check_y(y: Any, name: str) -> np.ndarray:
    a = np.asarray(y)
    if a.ndim not in (1, 2):
        raise ValueError(f"{name} must be 1-D (T,) or 2-D (T, n_labels), got shape {a.shape}")
    if a.ndim == 2 and a.shape[1] < 1:
        raise ValueError(f"{name} has no label columns (shape {a.shape})")
    if np.issubdtype(a.dtype, np.number) and not np.iscomplexobj(a):
        if not np.isfinite(a).all():
            row = int(np.argwhere(~np.isfinite(a.reshape(len(a), -1)))[0][0])
            raise ValueError(f"{name} contains NaN or inf values (first at row {row})")
    elif not (np.issubdtype(a.dtype, np.bool_) or a.dtype.kind in "USO"):
        raise ValueError(f"{name} must be numeric, boolean or strings, got dtype {a.dtype}")
    return a


def _infer_kind(y: np.ndarray, kind: str | None) -> str:
    if kind is None:
        if np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.bool_):
            return "discrete"
        if y.dtype.kind in "USO":
            return "discrete"
        return "continuous"
    if kind not in LABEL_KINDS:
        valid = ", ".join(repr(k) for k in LABEL_KINDS)
        raise ValueError(f"unknown label kind {kind!r}; valid kinds: {valid} (or None to infer)")
    if kind == "continuous" and not (
        np.issubdtype(y.dtype, np.number) or np.issubdtype(y.dtype, np.bool_)
    ):
        raise ValueError(f"continuous labels must be numeric, got dtype {y.dtype}")
    return kind


def _check_decoder(decoder: str) -> str:
    if decoder not in DECODERS:
        valid = ", ".join(repr(d) for d in DECODERS)
        raise ValueError(f"unknown decoder {decoder!r}; valid decoders: {valid}")
    return decoder


def _check_shuffle(shuffle_labels: bool | str | None) -> str | None:
    if shuffle_labels is None or shuffle_labels is False:
        return None
    if shuffle_labels is True:
        return "permutation"
    if isinstance(shuffle_labels, str) and shuffle_labels in SHUFFLE_METHODS:
        return shuffle_labels
    valid = ", ".join(repr(m) for m in SHUFFLE_METHODS)
    raise ValueError(
        f"shuffle_labels must be False, True (= 'permutation') or one of {valid}, "
        f"got {shuffle_labels!r}"
    )


def _check_k_grid(k_grid: Sequence[int]) -> np.ndarray:
    ks = np.asarray(list(k_grid))
    if ks.size == 0:
        raise ValueError("k_grid is empty")
    if not all(isinstance(k, int | np.integer) and not isinstance(k, bool) for k in k_grid):
        raise ValueError(f"k_grid must hold positive integers, got {list(k_grid)}")
    if (ks < 1).any():
        raise ValueError(f"k_grid must hold positive integers, got {list(k_grid)}")
    return np.unique(ks.astype(np.int64))


def _check_alphas(alphas: Sequence[float]) -> np.ndarray:
    al = np.asarray(list(alphas), dtype=np.float64)
    if al.size == 0:
        raise ValueError("alphas is empty")
    if not (np.isfinite(al).all() and (al > 0).all()):
        raise ValueError(f"alphas must be positive finite numbers, got {al.tolist()}")
    return np.unique(al)


def _split_sizes(n_train: int, validation_fraction: float) -> tuple[int, int]:
    f = float(validation_fraction)
    if not 0.0 < f < 1.0:
        raise ValueError(f"validation_fraction must be in (0, 1), got {validation_fraction}")
    n_val = int(math.floor(f * n_train))
    n_fit = n_train - n_val
    if n_val < 1 or n_fit < 1:
        raise ValueError(
            f"validation tail is empty: validation_fraction={f} of {n_train} training rows "
            f"gives {n_val} validation and {n_fit} fitting rows; need at least 1 of each "
            "(more training rows or a larger validation_fraction)"
        )
    return n_fit, n_val


def _label_names(label_names: Sequence[str] | None, n_labels: int) -> tuple[str, ...]:
    if label_names is None:
        return tuple(f"label_{i}" for i in range(n_labels))
    if isinstance(label_names, str):
        label_names = [label_names]
    names = tuple(str(n) for n in label_names)
    if len(names) != n_labels:
        raise ValueError(f"got {len(names)} label_names for {n_labels} label column(s)")
    return names


# --------------------------------------------------------------------------------------
# Shuffled-label control
# --------------------------------------------------------------------------------------


def shuffle_training_labels(
    y: np.ndarray, method: str = "permutation", seed: int = 0
) -> tuple[np.ndarray, int | None]:
    """Rearrange labels along time for the control; returns ``(y_shuffled, offset)``.

    ``"circular"``: ``np.roll(y, s, axis=0)`` with ``s`` uniform in
    ``[ceil(0.1 n), n − ceil(0.1 n)]`` (drawn by ``numpy.random.default_rng(seed)``);
    ``"permutation"``: ``y[rng.permutation(n)]`` (``offset`` is then ``None``).

    Raises:
        ValueError: unknown method, or fewer than 2 rows.
    """
    y = np.asarray(y)
    n = int(y.shape[0])
    if method not in SHUFFLE_METHODS:
        valid = ", ".join(repr(m) for m in SHUFFLE_METHODS)
        raise ValueError(f"unknown shuffle method {method!r}; valid methods: {valid}")
    if n < 2:
        raise ValueError(f"need at least 2 training rows to shuffle labels, got {n}")
    rng = np.random.default_rng(seed)
    if method == "permutation":
        return y[rng.permutation(n)], None
    low = max(1, math.ceil(MIN_SHIFT_FRACTION * n))
    high = max(low, n - low)
    offset = int(rng.integers(low, high + 1))
    return np.roll(y, offset, axis=0), offset


# --------------------------------------------------------------------------------------
# Model selection on the validation tail
# --------------------------------------------------------------------------------------


def _continuous_score(y_true: np.ndarray, y_pred: np.ndarray, var: np.ndarray) -> float:
    """``mean_l (1 − MSE_l / var_l)`` (var: per-label variance of the training labels)."""
    mse = np.mean((y_true - y_pred.reshape(y_true.shape)) ** 2, axis=0)
    return float(np.mean(1.0 - mse / var))


def _knn_validation(
    x_fit: np.ndarray,
    y_fit: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    ks: np.ndarray,
    discrete: bool,
    var: np.ndarray | None,
) -> np.ndarray:
    """Score every ``k`` from one neighbour search with ``max(ks)`` neighbours.

    The neighbours of a validation row are sorted by distance, so the first ``k`` of the
    ``max(ks)`` list are its ``k`` nearest neighbours.
    """
    nn = NearestNeighbors(n_neighbors=int(ks[-1]), metric="cosine", algorithm="brute")
    idx = nn.fit(x_fit).kneighbors(x_val, return_distance=False)
    return _knn_scores(idx, y_fit, y_val, ks, discrete, var)


def _knn_scores(
    idx: np.ndarray,
    y_fit: np.ndarray,
    y_val: np.ndarray,
    ks: np.ndarray,
    discrete: bool,
    var: np.ndarray | None,
) -> np.ndarray:
    """Validation score of every ``k`` from the sorted neighbour lists ``idx`` (n_val × kmax)."""
    scores = np.empty(len(ks))
    if discrete:
        classes, codes = np.unique(y_fit, return_inverse=True)
        neigh = codes.reshape(-1)[idx]  # (n_val, kmax)
        for i, k in enumerate(ks):
            vote = stats.mode(neigh[:, :k], axis=1, keepdims=False).mode  # ties: smallest
            scores[i] = float(np.mean(classes[vote] == y_val))
    else:
        csum = np.cumsum(y_fit[idx], axis=1)  # (n_val, kmax, n_labels)
        for i, k in enumerate(ks):
            scores[i] = _continuous_score(y_val, csum[:, k - 1] / k, var)  # type: ignore[arg-type]
    return scores


def _knn_predict(idx: np.ndarray, y_ref: np.ndarray, k: int, discrete: bool) -> np.ndarray:
    """kNN predictions from sorted neighbour lists (as ``KNeighbors*.predict``, uniform weights)."""
    if discrete:
        classes, codes = np.unique(y_ref, return_inverse=True)
        vote = stats.mode(codes.reshape(-1)[idx[:, :k]], axis=1, keepdims=False).mode
        return classes[vote]
    return y_ref[idx[:, :k]].mean(axis=1)


def knn_subsample(
    n_fit: int, n_train: int, max_samples: int | None, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows used by kNN when the training split is capped at ``max_samples`` rows.

    Returns sorted row indices into the training split: the fitting rows (from
    ``[0, n_fit)``), the validation queries (from the tail ``[n_fit, n_train)``) and the
    reference rows of the final fit (from ``[0, n_train)``); each is all of its range when
    it holds at most ``max_samples`` rows, else ``max_samples`` rows drawn without
    replacement with ``numpy.random.default_rng([seed, i])`` (``i`` = 0, 1, 2).
    """
    out = []
    for i, (lo, hi) in enumerate(((0, n_fit), (n_fit, n_train), (0, n_train))):
        n = hi - lo
        if max_samples is None or n <= int(max_samples):
            out.append(np.arange(lo, hi))
        else:
            rng = np.random.default_rng([int(seed), i])
            out.append(lo + np.sort(rng.choice(n, size=int(max_samples), replace=False)))
    return out[0], out[1], out[2]


def _rows(a: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``a[rows]``, as a view when ``rows`` is a contiguous range (no cap: no copy)."""
    if len(rows) and rows[-1] - rows[0] + 1 == len(rows):
        return a[int(rows[0]) : int(rows[-1]) + 1]
    return a[rows]


def _check_max_samples(max_samples: int | None) -> int | None:
    if max_samples is None:
        return None
    if isinstance(max_samples, bool) or int(max_samples) != max_samples or max_samples < 2:
        raise ValueError(f"knn_max_samples must be an integer >= 2 or None, got {max_samples!r}")
    return int(max_samples)


def _ridge_model(alpha: float, discrete: bool) -> Any:
    est = RidgeClassifier(alpha=alpha) if discrete else Ridge(alpha=alpha)
    return make_pipeline(StandardScaler(), est)


def _ridge_validation(
    x_fit: np.ndarray,
    y_fit: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    alphas: np.ndarray,
    discrete: bool,
    var: np.ndarray | None,
) -> np.ndarray:
    scores = np.empty(len(alphas))
    for i, alpha in enumerate(alphas):
        pred = _ridge_model(float(alpha), discrete).fit(x_fit, y_fit).predict(x_val)
        if discrete:
            scores[i] = float(np.mean(pred == y_val))
        else:
            scores[i] = _continuous_score(y_val, pred, var)  # type: ignore[arg-type]
    return scores


# --------------------------------------------------------------------------------------
# Shared preparation and scoring
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _Task:
    """Validated labels and split sizes of one decoding problem."""

    kind: str
    discrete: bool
    names: tuple[str, ...]
    ytr: np.ndarray  # continuous: (n_train, L) float64; discrete: (n_train,)
    yte: np.ndarray
    n_train: int
    n_test: int
    n_fit: int
    n_val: int
    out_shape: tuple[int, ...]
    var: np.ndarray | None = None
    classes: np.ndarray | None = None
    counts: np.ndarray | None = None
    unseen: tuple[Any, ...] = ()


def _check_shapes(xtr_shape, xte_shape, ytr: np.ndarray, yte: np.ndarray) -> None:
    if xtr_shape[0] != ytr.shape[0]:
        raise ValueError(
            f"X_train has {xtr_shape[0]} rows but y_train has {ytr.shape[0]}; "
            "they must be the same time points"
        )
    if xte_shape[0] != yte.shape[0]:
        raise ValueError(
            f"X_test has {xte_shape[0]} rows but y_test has {yte.shape[0]}; "
            "they must be the same time points"
        )
    if xtr_shape[0] == 0:
        raise ValueError("the training split is empty (X_train has 0 rows)")
    if xte_shape[0] == 0:
        raise ValueError("the test split is empty (X_test has 0 rows)")
    if xtr_shape[1] != xte_shape[1]:
        raise ValueError(
            f"X_train has {xtr_shape[1]} units (columns) but X_test has {xte_shape[1]}"
        )


def _prepare_task(
    xtr_shape: tuple[int, int],
    xte_shape: tuple[int, int],
    y_train: Any,
    y_test: Any,
    kind: str | None,
    label_names: Sequence[str] | None,
    validation_fraction: float,
) -> _Task:
    ytr = _check_y(y_train, "y_train")
    yte = _check_y(y_test, "y_test")
    _check_shapes(xtr_shape, xte_shape, ytr, yte)
    n_labels_tr = 1 if ytr.ndim == 1 else ytr.shape[1]
    n_labels_te = 1 if yte.ndim == 1 else yte.shape[1]
    if n_labels_tr != n_labels_te:
        raise ValueError(f"y_train has {n_labels_tr} label column(s) but y_test has {n_labels_te}")
    kind = _infer_kind(ytr, kind)
    discrete = kind == "discrete"
    names = _label_names(label_names, n_labels_tr)
    n_train, n_test = int(xtr_shape[0]), int(xte_shape[0])
    n_fit, n_val = _split_sizes(n_train, validation_fraction)
    out_shape = yte.shape
    common = dict(
        kind=kind,
        discrete=discrete,
        names=names,
        n_train=n_train,
        n_test=n_test,
        n_fit=n_fit,
        n_val=n_val,
        out_shape=out_shape,
    )
    if discrete:
        if n_labels_tr != 1:
            raise ValueError(
                f"discrete labels must be a single column, got {n_labels_tr} "
                f"({', '.join(names)}); decode each discrete label separately"
            )
        ytr, yte = ytr.reshape(-1), yte.reshape(-1)
        classes, counts = np.unique(ytr, return_counts=True)
        if classes.size < 2:
            raise ValueError(
                f"discrete label {names[0]!r} has a single class ({classes[0]!r}) in the "
                "training split; nothing to decode"
            )
        test_classes = np.unique(yte)
        if test_classes.size < 2:
            raise ValueError(
                f"discrete label {names[0]!r} has only one class ({test_classes[0]!r}) in the "
                f"test split ({n_test} samples): accuracy would only measure that class; use a "
                "larger test_fraction or decode another label"
            )
        unseen = tuple(np.setdiff1d(np.unique(yte), classes).tolist())
        if unseen:
            warnings.warn(
                f"discrete label {names[0]!r}: test classes {list(unseen)} never occur in the "
                "training split; they cannot be predicted and count as errors",
                RuntimeWarning,
                stacklevel=3,
            )
        return _Task(ytr=ytr, yte=yte, classes=classes, counts=counts, unseen=unseen, **common)
    ytr = np.asarray(ytr, dtype=np.float64).reshape(n_train, -1)
    yte = np.asarray(yte, dtype=np.float64).reshape(n_test, -1)
    var = ytr.var(axis=0)
    if (var == 0).any():
        const = [n for n, v in zip(names, var, strict=True) if v == 0]
        raise ValueError(
            f"continuous label(s) {const} are constant on the training split; nothing to decode"
        )
    return _Task(ytr=ytr, yte=yte, var=var, **common)


def _knn_grid(k_grid: Sequence[int], n_fit: int) -> np.ndarray:
    ks = _check_k_grid(k_grid)
    grid = ks[ks <= n_fit]
    if grid.size == 0:
        raise ValueError(
            f"every k in k_grid {ks.tolist()} exceeds the {n_fit} fitting rows of the "
            "training split (before its validation tail)"
        )
    return grid


def _result(
    task: _Task,
    decoder: str,
    param_name: str,
    param: float,
    grid: np.ndarray,
    scores: np.ndarray,
    pred: np.ndarray,
    method: str | None,
    offset: int | None,
    seed: int,
    n_reference: int | None,
) -> DecodingResult:
    """Test metrics of predictions ``pred`` as a :class:`DecodingResult`."""
    common = dict(
        decoder=decoder,
        kind=task.kind,
        label_names=task.names,
        param_name=param_name,
        param=param,
        grid=grid.copy(),
        validation_scores=scores,
        predictions=pred.reshape(task.out_shape),
        n_train=task.n_train,
        n_fit=task.n_fit,
        n_validation=task.n_val,
        n_test=task.n_test,
        n_reference=n_reference,
        shuffle=method,
        shuffle_offset=offset,
        seed=seed,
    )
    yte = task.yte
    if task.discrete:
        classes, counts = task.classes, task.counts
        majority = classes[int(np.argmax(counts))]  # type: ignore[index,arg-type]
        return DecodingResult(
            **common,
            accuracy=float(np.mean(pred == yte)),
            chance_level=float(counts.max() / task.n_train),  # type: ignore[union-attr]
            majority_accuracy=float(np.mean(yte == majority)),
            classes=classes,
            unseen_test_classes=task.unseen,
        )
    pred = pred.reshape(task.n_test, -1)
    ss_res = np.sum((yte - pred) ** 2, axis=0)
    ss_tot = np.sum((yte - yte.mean(axis=0)) ** 2, axis=0)
    r2 = np.full(len(task.names), np.nan)
    ok = ss_tot > 0
    r2[ok] = 1.0 - ss_res[ok] / ss_tot[ok]
    if not ok.all():
        warnings.warn(
            f"continuous label(s) {[n for n, g in zip(task.names, ok, strict=True) if not g]} are "
            "constant on the test split: R² undefined (NaN)",
            RuntimeWarning,
            stacklevel=3,
        )
    return DecodingResult(
        **common,
        r2=r2,
        mean_r2=float(np.mean(r2)),
        median_abs_error=np.median(np.abs(yte - pred), axis=0),
    )


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------


def decode(
    X_train: Any,
    y_train: Any,
    X_test: Any,
    y_test: Any,
    decoder: Decoder = "knn",
    *,
    kind: LabelKind | None = None,
    label_names: Sequence[str] | None = None,
    validation_fraction: float = 0.2,
    k_grid: Sequence[int] = DEFAULT_K_GRID,
    alphas: Sequence[float] = DEFAULT_ALPHAS,
    shuffle_labels: bool | Literal["circular", "permutation"] = False,
    seed: int = 0,
    knn_max_samples: int | None = None,
    knn_seed: int = 0,
) -> DecodingResult:
    r"""Decode labels from activations: select on the validation tail, refit, score on test.

    Args:
        X_train: ``(n_train, d)`` activations of the training split (rows in time order).
        y_train: ``(n_train,)`` or ``(n_train, n_labels)`` labels of the training split.
            Several columns are only allowed for continuous labels (decoded jointly,
            metrics per label).
        X_test: ``(n_test, d)`` activations of the test split.
        y_test: labels of the test split, same layout as ``y_train``.
        decoder: ``"knn"`` (cosine kNN, ``k`` from ``k_grid``) or ``"ridge"`` (standardised
            ridge regression / ridge classifier, ``alpha`` from ``alphas``).
        kind: ``"continuous"``, ``"discrete"`` or ``None``: infer from ``y_train``'s dtype
            (integer, boolean or string → discrete; float → continuous).
        label_names: one name per label column (default ``label_0``, ``label_1``, ...).
        validation_fraction: fraction of the training rows forming the validation tail
            (the last ``floor(validation_fraction · n_train)`` rows).
        k_grid: candidate ``k``; those above the number of fitting rows are skipped.
        alphas: candidate ridge penalties (positive).
        shuffle_labels: ``False``; ``True`` or ``"permutation"``: permute the training
            labels (seeded); ``"circular"``: roll them by a seeded random offset of at least
            10 % of ``n_train`` (invalid for periodic labels; see the module docstring).
        seed: seed of the control's random generator (the decoders are deterministic).
        knn_max_samples: kNN only: cap on the fitting rows, the validation queries and the
            reference rows of the final fit (:func:`knn_subsample`); ``None`` (default):
            no cap. Test rows are never subsampled.
        knn_seed: seed of that subsample.

    Returns:
        :class:`DecodingResult`.

    Raises:
        ValueError: rows of ``X`` and ``y`` differ (both named); ``X_train`` and ``X_test``
            have different numbers of units; NaN/inf; empty training, test or validation
            split; several label columns for a discrete label or different label columns
            in train and test; a continuous label constant on the training split; a
            discrete label with a single training class; unknown ``decoder`` / ``kind`` /
            shuffle method (valid values listed); bad grids.

    Warns:
        RuntimeWarning: discrete test classes that never occur in training (counted as
            errors); a continuous label constant on the test split (its ``R²`` is NaN).
    """
    decoder = _check_decoder(decoder)
    method = _check_shuffle(shuffle_labels)
    cap = _check_max_samples(knn_max_samples)
    xtr = _check_x(X_train, "X_train")
    xte = _check_x(X_test, "X_test")
    task = _prepare_task(
        xtr.shape, xte.shape, y_train, y_test, kind, label_names, validation_fraction
    )
    ytr = task.ytr
    offset = None
    if method is not None:
        ytr, offset = shuffle_training_labels(ytr, method, seed)

    n_fit = task.n_fit
    n_reference = None
    if decoder == "knn":
        fit_rows, val_rows, ref_rows = knn_subsample(n_fit, task.n_train, cap, knn_seed)
        grid = _knn_grid(k_grid, len(fit_rows))
        scores = _knn_validation(
            _rows(xtr, fit_rows),
            _rows(ytr, fit_rows),
            _rows(xtr, val_rows),
            _rows(ytr, val_rows),
            grid,
            task.discrete,
            task.var,
        )
        param: float = int(grid[int(np.argmax(scores))])
        cls = KNeighborsClassifier if task.discrete else KNeighborsRegressor
        model = cls(n_neighbors=param, metric="cosine", algorithm="brute")
        model.fit(_rows(xtr, ref_rows), _rows(ytr, ref_rows))
        n_reference = len(ref_rows)
        param_name = "k"
    else:
        grid = _check_alphas(alphas)
        x_fit, x_val = xtr[:n_fit], xtr[n_fit:]
        y_fit, y_val = ytr[:n_fit], ytr[n_fit:]
        scores = _ridge_validation(x_fit, y_fit, x_val, y_val, grid, task.discrete, task.var)
        param = float(grid[int(np.argmax(scores))])
        model = _ridge_model(param, task.discrete).fit(xtr, ytr)
        param_name = "alpha"

    pred = np.asarray(model.predict(xte))
    return _result(
        task, decoder, param_name, param, grid, scores, pred, method, offset, seed, n_reference
    )


# --------------------------------------------------------------------------------------
# Streamed decoding (lazy layers, several controls in one pass)
# --------------------------------------------------------------------------------------

#: Default cap of :func:`decode_streamed` on the kNN reference rows (see :func:`knn_subsample`).
DEFAULT_KNN_MAX_SAMPLES = 20_000
#: Memory (MiB) sklearn may use per block of the kNN distance matrix in :func:`decode_streamed`.
KNN_WORKING_MEMORY_MIB = 64


def _constant_features(var: np.ndarray, mean: np.ndarray, n: int) -> np.ndarray:
    """sklearn's ``_is_constant_feature``: variance indistinguishable from 0 (scale set to 1)."""
    eps = np.finfo(np.float64).eps
    return var <= n * eps * var + (n * mean * eps) ** 2


def _ridge_solution(
    acc: MomentAccumulator, d: int, alphas: np.ndarray, cols: slice | np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Standardised ridge from sufficient statistics, as ``StandardScaler`` + ``Ridge``.

    With ``m``, ``s`` the column means and SDs (``ddof=0``; constant columns ``s = 1``) of
    the rows in ``acc`` and ``S`` its centred scatter: ``w = (S_xx / s s^T + α I)^{-1}
    S_xy / s`` for every ``α`` (``(n_alpha, d, q)``), intercept ``ȳ``; prediction
    ``((x − m) / s) w + ȳ``. Returns ``(w, intercept, m, s)``.
    """
    from scipy import linalg

    n = acc.n
    m = acc.mean[:d]
    var = np.diag(acc.scatter)[:d] / n
    s = np.sqrt(var)
    s[_constant_features(var, m, n)] = 1.0
    a = acc.scatter[:d, :d] / np.outer(s, s)
    b = acc.scatter[:d, d:][:, cols] / s[:, None]
    w = np.empty((len(alphas), d, b.shape[1]))
    for i, alpha in enumerate(alphas):
        ai = a.copy()
        ai.flat[:: d + 1] += alpha
        w[i] = linalg.solve(ai, b, assume_a="pos", overwrite_a=True)
    return w, acc.mean[d:][cols], m, s


def _ridge_targets(task: _Task, ys: Sequence[np.ndarray]) -> np.ndarray:
    """Regression targets of every variant side by side: labels, or ±1 one-vs-all columns."""
    if not task.discrete:
        return np.concatenate([np.asarray(y, dtype=np.float64) for y in ys], axis=1)
    classes = task.classes
    cols = classes[1:] if len(classes) == 2 else classes  # type: ignore[index]
    return np.concatenate([np.where(y[:, None] == cols[None, :], 1.0, -1.0) for y in ys], axis=1)


def _ridge_classes(task: _Task, scores: np.ndarray) -> np.ndarray:
    classes = task.classes
    if scores.shape[-1] == 1:
        return classes[(scores[..., 0] > 0).astype(int)]  # type: ignore[index]
    return classes[np.argmax(scores, axis=-1)]  # type: ignore[index]


def _decode_ridge_streamed(
    x_train: Any,
    x_test: Any,
    task: _Task,
    ys: list[np.ndarray],
    alphas: np.ndarray,
    chunk_size: int,
) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """Per variant: (chosen alpha, validation scores, test predictions)."""
    d = int(x_train.shape[1])
    targets = _ridge_targets(task, ys)
    q = targets.shape[1] // len(ys)  # target columns per variant
    fit_acc, tail_acc = (
        MomentAccumulator(d + targets.shape[1]),
        MomentAccumulator(d + targets.shape[1]),
    )
    n_fit = task.n_fit
    for lo, hi, chunk in iter_chunks(x_train, chunk_size, name="X_train"):
        w = np.concatenate([chunk, targets[lo:hi]], axis=1)
        cut = max(0, min(hi, n_fit) - lo)
        fit_acc.add(w[:cut])
        tail_acc.add(w[cut:])

    # validation: every alpha of every variant from the fitting rows, scored on the tail
    all_cols = np.arange(targets.shape[1])
    w_fit, b_fit, m_fit, s_fit = _ridge_solution(fit_acc, d, alphas, all_cols)
    n_alpha, n_var = len(alphas), len(ys)
    err = np.zeros((n_alpha, targets.shape[1]))  # continuous: SSE; discrete: unused
    correct = np.zeros((n_alpha, n_var))
    w_flat = w_fit.transpose(1, 0, 2).reshape(d, -1)  # (d, n_alpha * columns)
    for lo, hi, chunk in iter_chunks(x_train, chunk_size, start=n_fit, name="X_train"):
        pred = (((chunk - m_fit) / s_fit) @ w_flat).reshape(hi - lo, n_alpha, -1) + b_fit
        for v, y in enumerate(ys):
            part = pred[:, :, v * q : (v + 1) * q]
            if task.discrete:
                correct[:, v] += (_ridge_classes(task, part) == y[lo:hi, None]).sum(axis=0)
            else:
                err[:, v * q : (v + 1) * q] += ((part - y[lo:hi, None, :]) ** 2).sum(axis=0)
    n_val = task.n_val
    chosen, scores = [], []
    for v in range(n_var):
        if task.discrete:
            sc = correct[:, v] / n_val
        else:
            mse = err[:, v * q : (v + 1) * q] / n_val
            sc = np.mean(1.0 - mse / task.var, axis=1)  # type: ignore[operator]
        scores.append(sc)
        chosen.append(float(alphas[int(np.argmax(sc))]))

    # final fit per variant on the whole training split, then predict the test rows
    full = fit_acc.merged(tail_acc)
    finals = []
    for v in range(n_var):
        cols = np.arange(v * q, (v + 1) * q)
        w, b, m, s = _ridge_solution(full, d, np.array([chosen[v]]), cols)
        finals.append((w[0], b, m, s))
    preds = [[] for _ in range(n_var)]
    for _, _, chunk in iter_chunks(x_test, chunk_size, name="X_test"):
        for v, (w, b, m, s) in enumerate(finals):
            out = ((chunk - m) / s) @ w + b
            preds[v].append(_ridge_classes(task, out) if task.discrete else out)
    return [(chosen[v], scores[v], np.concatenate(preds[v], axis=0)) for v in range(n_var)]


def _decode_knn_streamed(
    x_train: Any,
    x_test: Any,
    task: _Task,
    ys: list[np.ndarray],
    k_grid: Sequence[int],
    cap: int | None,
    knn_seed: int,
    chunk_size: int,
) -> tuple[list[tuple[int, np.ndarray, np.ndarray]], np.ndarray]:
    """Per variant: (chosen k, validation scores, test predictions); and the grid."""
    from sklearn import config_context

    fit_rows, val_rows, ref_rows = knn_subsample(task.n_fit, task.n_train, cap, knn_seed)
    grid = _knn_grid(k_grid, len(fit_rows))
    rows = np.union1d(np.union1d(fit_rows, val_rows), ref_rows)
    data = take_rows(x_train, rows, chunk_size)
    pos = {"fit": np.searchsorted(rows, fit_rows), "val": np.searchsorted(rows, val_rows)}
    pos["ref"] = np.searchsorted(rows, ref_rows)
    with config_context(working_memory=KNN_WORKING_MEMORY_MIB):
        nn = NearestNeighbors(n_neighbors=int(grid[-1]), metric="cosine", algorithm="brute")
        idx = nn.fit(data[pos["fit"]]).kneighbors(data[pos["val"]], return_distance=False)
        chosen, scores = [], []
        for y in ys:
            sc = _knn_scores(idx, y[fit_rows], y[val_rows], grid, task.discrete, task.var)
            scores.append(sc)
            chosen.append(int(grid[int(np.argmax(sc))]))
        ref = NearestNeighbors(n_neighbors=max(chosen), metric="cosine", algorithm="brute")
        ref.fit(data[pos["ref"]])
        preds = [[] for _ in ys]
        for _, _, chunk in iter_chunks(x_test, chunk_size, name="X_test"):
            neigh = ref.kneighbors(chunk, return_distance=False)
            for v, y in enumerate(ys):
                preds[v].append(_knn_predict(neigh, y[ref_rows], chosen[v], task.discrete))
    out = [(chosen[v], scores[v], np.concatenate(preds[v], axis=0)) for v in range(len(ys))]
    return out, grid


def decode_streamed(
    X_train: Any,
    y_train: Any,
    X_test: Any,
    y_test: Any,
    decoder: Decoder = "ridge",
    *,
    kind: LabelKind | None = None,
    label_names: Sequence[str] | None = None,
    validation_fraction: float = 0.2,
    k_grid: Sequence[int] = DEFAULT_K_GRID,
    alphas: Sequence[float] = DEFAULT_ALPHAS,
    shuffle_seeds: Sequence[int] = (),
    shuffle_method: Literal["permutation", "circular"] = "permutation",
    knn_max_samples: int | None = DEFAULT_KNN_MAX_SAMPLES,
    knn_seed: int = 0,
    chunk_size: int = DEFAULT_CHUNK_ROWS,
) -> tuple[DecodingResult, list[DecodingResult]]:
    r""":func:`decode` on lazy layers read chunk by chunk, with its controls in the same passes.

    ``X_train`` / ``X_test`` may be numpy arrays or lazy layers (an ``xarray.DataArray`` of an
    activation store, a zarr array; see :mod:`cebra_lens_core.metrics.streaming`); labels
    are in memory. Returns the decoding and one shuffled-label control per seed of
    ``shuffle_seeds``; each equals ``decode(..., shuffle_labels=shuffle_method, seed=s,
    knn_max_samples=knn_max_samples, knn_seed=knn_seed)`` on the in-memory arrays (up to
    float64 rounding).

    - ``"ridge"``: exact, from sufficient statistics. One pass over the training rows
      accumulates the centred moments of ``[x, targets of every variant]`` separately for
      the fitting rows and the validation tail (chunks merged with Chan et al.'s update, so
      no ``X^T X − n x̄ x̄^T`` cancellation); the standardised ridge solution of each
      ``alpha`` is solved in closed form (``d × d``); one pass over the tail scores every
      alpha of every variant; the merged moments give the final fit; one pass over the test
      rows predicts. Memory ``O(chunk · d + d^2)``; cost ``O(T d^2)``.
    - ``"knn"``: cannot stream exactly (every test row needs every reference row). The
      fitting rows, validation queries and reference rows are capped at ``knn_max_samples``
      each (seeded subsample, :func:`knn_subsample`) and only those rows are read into
      memory; the test rows are queried chunk by chunk. The neighbour lists do not depend on
      the labels, so they are searched once for the decoding and all its controls.
      Memory ``O(knn_max_samples · d)`` plus one block of distances
      (``KNN_WORKING_MEMORY_MIB``).

    Raises:
        ValueError: as :func:`decode`.
    """
    from cebra_lens_core.metrics.streaming import as_layer

    decoder = _check_decoder(decoder)
    method = _check_shuffle(shuffle_method)
    cap = _check_max_samples(knn_max_samples)
    xtr = as_layer(X_train, "X_train")
    xte = as_layer(X_test, "X_test")
    task = _prepare_task(
        tuple(xtr.shape),
        tuple(xte.shape),
        y_train,
        y_test,
        kind,
        label_names,
        validation_fraction,
    )
    variants: list[tuple[str | None, int | None, int, np.ndarray]] = [(None, None, 0, task.ytr)]
    for s in shuffle_seeds:
        y, offset = shuffle_training_labels(task.ytr, method, int(s))  # type: ignore[arg-type]
        variants.append((method, offset, int(s), y))
    ys = [v[3] for v in variants]
    if decoder == "ridge":
        grid = _check_alphas(alphas)
        fitted = _decode_ridge_streamed(xtr, xte, task, ys, grid, chunk_size)
        param_name, n_reference = "alpha", None
    else:
        fitted, grid = _decode_knn_streamed(xtr, xte, task, ys, k_grid, cap, knn_seed, chunk_size)
        param_name = "k"
        n_reference = len(knn_subsample(task.n_fit, task.n_train, cap, knn_seed)[2])
    results = [
        _result(task, decoder, param_name, param, grid, scores, pred, m, offset, seed, n_reference)
        for (m, offset, seed, _), (param, scores, pred) in zip(variants, fitted, strict=True)
    ]
    return results[0], results[1:]
