r"""Decoding behavioural labels from layer activations (kNN and ridge), with a shuffled control.

Arrays are ``time × units`` (rows are samples). The caller provides a training split and a
held-out test split (time-blocked, see METHODS.md). The hyperparameter (``k`` or ``alpha``)
is chosen by *blocked cross-validation* over the training split; the decoder is then
refitted with the chosen value on the whole training split and scored once on the test split.

Blocked cross-validation (:func:`blocked_folds`): the ``n`` training rows are cut into
``K = n_folds`` (default 5) blocks contiguous in time, fold ``f`` = rows
``[⌊f·n/K⌋, ⌊(f+1)·n/K⌋)`` (sizes differ by at most one row). Rows are never shuffled:
neighbouring time bins are nearly duplicates, so random folds would reward overfitting (e.g.
``k = 1``). For every candidate ``c`` and fold ``f`` the decoder is fitted on the other
``K − 1`` folds and scored on fold ``f``; the cross-validation score is the unweighted mean
over folds

    CV(c) = (1/K) Σ_f score_f(c),

and the chosen value is ``argmax_c CV(c)``; ties go to the first candidate in increasing
order (the smallest ``k`` / ``alpha``). A single validation tail (what this module did
before) let one stretch of behaviour decide: on a rat hippocampus recording one layer got
R² = 0.02 from its tail where its neighbours got 0.4.

Fold score: continuous labels ``score_f = mean_l (1 − MSE_f,l / Var_train,l)`` (an R²
normalised by each label's variance on the whole training split, so it stays defined when a
label is constant on a short fold); discrete labels: accuracy on fold ``f``.

Grid edges: when the chosen value is the smallest or the largest candidate actually
evaluated (``k`` above the reference rows of a cross-validation fit are skipped, see below)
and its CV score is strictly higher than its neighbour's, the score still rises towards the
edge and the optimum may lie outside the grid. :attr:`DecodingResult.grid_edge` is then
``−1`` / ``+1``, else ``0`` (inside the grid; a plateau of equal scores reaching into the
grid, e.g. accuracy 1 for every small ``alpha``; a grid of a single value, which is not a
choice); the results rows report it as metric ``at_grid_edge``
(:func:`cebra_lens_core.analyses.decoding.decoding_records`).

Decoders:

- ``"knn"``: k-nearest neighbours with cosine distance, brute force, uniform weights (as
  ``sklearn.neighbors.KNeighborsRegressor`` / ``KNeighborsClassifier`` with
  ``metric="cosine", algorithm="brute"``), on the raw activations (cosine is scale-free per
  sample; as in CEBRA's ``KNNDecoder``). ``k`` from ``k_grid`` (default
  ``DEFAULT_K_GRID`` = 1 … 500, ratio ≈ 1.5–1.7); values larger than the reference rows of
  the smallest cross-validation fit (the training rows outside the largest fold) are
  skipped. Several continuous labels are predicted jointly (the mean of the neighbours'
  label vectors). Classification: majority vote, ties to the smallest class. One neighbour
  search per fold with ``max(k)`` neighbours scores every ``k`` and every shuffled-label
  control (the first ``k`` of the list are the ``k`` nearest for every ``k`` of the grid:
  exact nested sets from :func:`~cebra_lens_core.metrics.neighbours.cosine_neighbours`,
  screened in float32 and decided in float64); one search of the test rows serves every
  variant, and the predictions of all variants that chose the same ``k`` are one sparse
  product. Equal to sklearn's predictions to float64 rounding (the order of the sums
  differs).
- ``"ridge"``: units standardised with the statistics of the rows the model is fitted on
  (as ``StandardScaler``; constant units get scale 1), then ridge regression with an
  intercept (as ``sklearn.linear_model.Ridge``; several labels jointly) or, for discrete
  labels, the ridge classifier (as ``RidgeClassifier``: one-vs-all least squares on ±1
  targets — one column for two classes — prediction = argmax, or the sign for two
  classes). ``alpha`` from ``alphas`` (default ``DEFAULT_ALPHAS`` = 1e-6 … 1e6, one per
  decade). Solved in closed form from sufficient statistics (below), equal to the sklearn
  pipeline to float64 rounding.

Test metrics:

- continuous: ``R²_l = 1 − SS_res,l / SS_tot,l`` per label (test truth centred on its own
  test mean; NaN with a warning if the label is constant on the test split), their mean,
  and the median absolute error ``median_t |y_tl − ŷ_tl|`` per label in the label's unit;
- discrete: accuracy; the chance level ``max_c n_c / n_train`` (frequency of the most
  common training class) and the test accuracy of always predicting that class are
  reported alongside. Test classes that never occur in training cannot be predicted: they
  are counted as errors and a :class:`RuntimeWarning` names them (no error: a rare class
  falling only into the test block of a time-blocked split is legitimate data).

Shuffled-label control (``shuffle_labels``): only the *training* labels are rearranged
(test labels stay true) with ``numpy.random.default_rng(seed)``, before the folds are cut,
so the whole pipeline including the cross-validated choice sees the control labels (the
control chooses its own ``k`` / ``alpha`` by the same CV; that costs almost nothing: the
kNN neighbour lists and the ridge sufficient statistics do not depend on the labels and are
shared by the decoding and all its controls, ``shuffle_seeds`` of :func:`decode`).

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

One control draw is one sample of the null. For a linear classifier on clustered data it
scatters widely (two separable clusters, permuted labels: accuracy 0 to 0.83 over 20
seeds, mean 0.54; on a hippocampus recording one draw gave 0.67 against a chance level of
0.54), because the hyperplane fitted to noise cuts whole clusters; kNN draws scatter much
less (0.41 to 0.61). Repeat the control over several seeds (the analysis default is 5) and
report the mean and range.

Long recordings: :func:`decode` takes lazy layers (a store's ``DataArray``) or in-memory
arrays and reads both chunk by chunk with the same code.

- Ridge is exact: one pass over the training rows accumulates the centred moments of
  ``[x, targets]`` per fold (:class:`~cebra_lens_core.metrics.streaming.MomentAccumulator`);
  the moments of "all folds but ``f``" are the merge of the other folds' (Chan et al.'s
  update, no cancellation), so every ``(fold, alpha)`` model is a ``d × d`` closed form
  without refitting on data; a second pass scores every model on its fold; the merge of
  all folds gives the final fit; a pass over the test rows predicts.
- kNN cannot stream (every test row needs every reference row): it uses at most
  ``knn_max_samples`` training rows (a seeded subsample stratified by fold,
  :func:`knn_subsample`; all test rows are scored), for the cross-validation and as the
  reference rows of the final fit, so its memory is bounded and its cost is
  ``O((n_train_used · (1 − 1/K) + n_test) · n_train_used · d)``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np

from cebra_lens_core.metrics._validation import check_alphas, check_layer
from cebra_lens_core.metrics.linear import ridge_from_moments
from cebra_lens_core.metrics.neighbours import cosine_neighbours, unit_rows
from cebra_lens_core.metrics.streaming import (
    DEFAULT_CHUNK_ROWS,
    MomentAccumulator,
    iter_chunks,
    merge_moments,
    take_rows,
)

__all__ = [
    "DECODERS",
    "LABEL_KINDS",
    "SHUFFLE_METHODS",
    "DEFAULT_K_GRID",
    "DEFAULT_ALPHAS",
    "DEFAULT_N_FOLDS",
    "DEFAULT_KNN_MAX_SAMPLES",
    "DecodingResult",
    "blocked_folds",
    "decode",
    "knn_subsample",
    "shuffle_training_labels",
]

Decoder = Literal["knn", "ridge"]
LabelKind = Literal["continuous", "discrete"]
DECODERS: tuple[str, ...] = ("knn", "ridge")
LABEL_KINDS: tuple[str, ...] = ("continuous", "discrete")
SHUFFLE_METHODS: tuple[str, ...] = ("permutation", "circular")
#: Candidate ``k`` of the kNN decoder: 1 to 500 on a roughly geometric grid (ratio 1.5–1.7).
DEFAULT_K_GRID: tuple[int, ...] = (1, 2, 3, 5, 8, 12, 20, 30, 50, 80, 120, 200, 300, 500)
#: Candidate ridge penalties: ``10^-6 … 10^6``, one per decade (on standardised units).
DEFAULT_ALPHAS: tuple[float, ...] = (
    1e-6,
    1e-5,
    1e-4,
    1e-3,
    1e-2,
    0.1,
    1.0,
    10.0,
    100.0,
    1e3,
    1e4,
    1e5,
    1e6,
)
#: Blocked cross-validation folds over the training split.
DEFAULT_N_FOLDS = 5
#: Minimum circular shift of the control, as a fraction of the training length.
MIN_SHIFT_FRACTION = 0.1
#: Cap on the elements of one block of ridge fold predictions (rows × alphas × targets).
RIDGE_SCORE_BLOCK_ELEMENTS = 2**21


@dataclass(frozen=True, eq=False)
class DecodingResult:
    """Test-split metrics of one decoder, with the chosen hyperparameter.

    Attributes:
        decoder: ``"knn"`` or ``"ridge"``.
        kind: ``"continuous"`` or ``"discrete"``.
        label_names: one name per label column.
        param_name: ``"k"`` (kNN) or ``"alpha"`` (ridge).
        param: the chosen value (an ``int`` for ``k``).
        grid: the candidates evaluated by cross-validation, increasing.
        validation_scores: cross-validation score of each candidate, the mean over folds
            of ``fold_scores`` (see the module docstring).
        fold_scores: ``(n_folds, len(grid))`` score of each candidate on each fold.
        folds: ``(lo, hi)`` training rows of each blocked fold (:func:`blocked_folds`).
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
        n_train, n_test: row counts.
        n_reference: kNN: training rows used (cross-validation and final reference rows;
            ``< n_train`` when capped by ``knn_max_samples``); ``None`` for ridge.
        shuffle: ``None``, ``"circular"`` or ``"permutation"`` (the control, if any).
        shuffle_offset: the circular shift applied to the training labels, if any.
        seed: seed of the control's random generator.
        controls: the shuffled-label controls decoded with it (``shuffle_seeds`` of
            :func:`decode`), each a :class:`DecodingResult`.
    """

    decoder: str
    kind: str
    label_names: tuple[str, ...]
    param_name: str
    param: float
    grid: np.ndarray
    validation_scores: np.ndarray
    fold_scores: np.ndarray
    folds: tuple[tuple[int, int], ...]
    predictions: np.ndarray
    n_train: int
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
    controls: tuple[DecodingResult, ...] = ()

    @property
    def shuffled(self) -> bool:
        """Whether this is a shuffled-label control."""
        return self.shuffle is not None

    @property
    def n_folds(self) -> int:
        """Number of blocked cross-validation folds."""
        return len(self.folds)

    @property
    def grid_edge(self) -> int:
        """``−1`` / ``+1`` when ``param`` sits at the smallest / largest evaluated candidate.

        Flagged only while the cross-validation score still rises towards that edge: the
        edge candidate scores strictly higher than its neighbour in the grid. A plateau of
        equal scores reaching into the grid (e.g. accuracy 1 for every small ``alpha``) is
        ``0``: a wider grid cannot score higher there. ``0`` also for a grid of a single
        candidate, which is not a choice.
        """
        scores = self.validation_scores
        if len(self.grid) < 2:
            return 0
        if self.param == self.grid[0] and scores[0] > scores[1]:
            return -1
        if self.param == self.grid[-1] and scores[-1] > scores[-2]:
            return 1
        return 0


# --------------------------------------------------------------------------------------
# Validation helpers
# --------------------------------------------------------------------------------------


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


def _check_n_folds(n_folds: int) -> int:
    if isinstance(n_folds, bool) or not isinstance(n_folds, int | np.integer) or int(n_folds) < 2:
        raise ValueError(f"n_folds must be an integer >= 2, got {n_folds!r}")
    return int(n_folds)


def blocked_folds(n_train: int, n_folds: int = DEFAULT_N_FOLDS) -> list[tuple[int, int]]:
    """Contiguous cross-validation folds of ``n_train`` rows: ``[(lo_f, hi_f), ...]``.

    Fold ``f`` is rows ``[⌊f·n/K⌋, ⌊(f+1)·n/K⌋)`` of the training split (in time order), so
    the folds are consecutive, cover every row exactly once and differ in size by at most
    one row.

    Raises:
        ValueError: ``n_folds`` is not an integer ≥ 2, or fewer than ``n_folds`` rows.
    """
    k = _check_n_folds(n_folds)
    n = int(n_train)
    if n < k:
        raise ValueError(
            f"the training split has {n} rows, fewer than n_folds={k}: every blocked "
            "cross-validation fold needs at least one row (more training rows or fewer folds)"
        )
    edges = (np.arange(k + 1) * n) // k
    return [(int(edges[f]), int(edges[f + 1])) for f in range(k)]


def _fold_parts(edges: np.ndarray, lo: int, hi: int):
    """``(f, a, b)`` for each fold ``f`` meeting rows ``[lo, hi)``: its rows ``[a, b)`` there."""
    f = int(np.searchsorted(edges, lo, side="right")) - 1
    while f < len(edges) - 1 and edges[f] < hi:
        a, b = max(lo, int(edges[f])), min(hi, int(edges[f + 1]))
        if b > a:
            yield f, a, b
        f += 1


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
# kNN: subsample, cross-validation, prediction
# --------------------------------------------------------------------------------------


#: Cap on the elements of one block of gathered neighbour labels (queries × k × columns).
KNN_SCORE_BLOCK_ELEMENTS = 2**22


def _knn_scores(
    idx: np.ndarray,
    y_ref: np.ndarray,
    y_query: np.ndarray,
    ks: np.ndarray,
    task: _Task,
) -> np.ndarray:
    """Fold score ``(n_variants, len(ks))`` of every ``k`` from nested neighbour sets.

    ``idx`` (n_query × max k) indexes the reference rows; its first ``k`` columns are the
    ``k`` nearest for every ``k`` of ``ks`` (:func:`~cebra_lens_core.metrics.neighbours.cosine_neighbours`). Continuous: ``y_ref`` /
    ``y_query`` hold the labels of every variant side by side (``n × (variants · L)``);
    discrete: one column of class codes per variant. The neighbours' labels are gathered
    once (in blocks of queries), summed between consecutive ``k`` (``np.add.reduceat``) and
    accumulated (``cumsum``): the running mean (continuous) or running vote counts per
    class (discrete, ties to the smallest class) at every ``k``.
    """
    ks = np.asarray(ks, dtype=np.int64)
    kmax, n_q = int(ks[-1]), len(idx)
    starts = np.r_[0, ks[:-1]]
    width = y_ref.shape[1]
    if task.discrete:
        n_cls = len(task.classes)  # type: ignore[arg-type]
        hits = np.zeros((len(ks), width))
        block = max(1, KNN_SCORE_BLOCK_ELEMENTS // (kmax * width * n_cls))
        for s in range(0, n_q, block):
            codes = y_ref[idx[s : s + block, :kmax]]  # (b, kmax, variants)
            counts = np.stack(
                [
                    np.cumsum(np.add.reduceat((codes == c).astype(np.int32), starts, axis=1), 1)
                    for c in range(n_cls)
                ],
                axis=-1,
            )  # (b, len(ks), variants, classes)
            hits += (np.argmax(counts, axis=-1) == y_query[s : s + block, None, :]).sum(axis=0)
        return (hits / n_q).T
    n_labels = task.ytr.shape[1]
    sse = np.zeros((len(ks), width))
    block = max(1, KNN_SCORE_BLOCK_ELEMENTS // (kmax * width))
    for s in range(0, n_q, block):
        near = y_ref[idx[s : s + block, :kmax]]  # (b, kmax, variants · L)
        mean = np.cumsum(np.add.reduceat(near, starts, axis=1), axis=1) / ks[None, :, None]
        sse += ((mean - y_query[s : s + block, None, :]) ** 2).sum(axis=0)
    mse = (sse / n_q).reshape(len(ks), -1, n_labels)  # (len(ks), variants, L)
    return np.mean(1.0 - mse / task.var, axis=2).T  # type: ignore[operator]


def _knn_predict(
    idx: np.ndarray, labels: Sequence[np.ndarray], ks: Sequence[int], task: _Task
) -> list[np.ndarray]:
    """kNN predictions of every label variant from nested neighbour sets (as
    ``KNeighbors*.predict``, uniform weights): variant ``v`` uses the first ``ks[v]``
    neighbours of ``idx`` (n_query × max k, indices of the reference rows).

    One sparse product per distinct ``k``: ``A_k`` (n_query × n_ref) holds a 1 at each
    query's ``k`` nearest reference rows, so ``A_k Y / k`` is the neighbours' mean label
    (continuous; ``Y`` = every variant with that ``k`` side by side) and ``A_k 1[y = c]``
    the vote count of class ``c`` (discrete; the most votes wins, ties to the smallest
    class code). ~15× faster than gathering ``n_query × k`` labels per variant; equal to
    sklearn's mean to rounding (the order of the sum differs), votes exactly.
    """
    from scipy.sparse import csr_matrix  # deferred: scipy costs ~0.3 s to import

    n_ref = len(labels[0])
    n_cls = len(task.classes) if task.discrete else 0  # type: ignore[arg-type]
    out: list[np.ndarray] = [np.empty(0)] * len(labels)
    for k in sorted(set(int(k) for k in ks)):
        variants = [v for v, kv in enumerate(ks) if kv == k]
        near = np.ascontiguousarray(idx[:, :k]).ravel()
        ones = np.ones(near.size)
        steps = np.arange(0, near.size + 1, k)
        neighbours = csr_matrix((ones, near, steps), shape=(len(idx), n_ref))
        if task.discrete:
            onehot = [(labels[v][:, None] == np.arange(n_cls)).astype(np.float64) for v in variants]
            counts = neighbours @ np.concatenate(onehot, axis=1)
            for i, v in enumerate(variants):
                out[v] = np.argmax(counts[:, i * n_cls : (i + 1) * n_cls], axis=1)
        else:
            stacked = np.concatenate([labels[v] for v in variants], axis=1)
            means = (neighbours @ stacked) / k
            width = labels[variants[0]].shape[1]
            for i, v in enumerate(variants):
                out[v] = means[:, i * width : (i + 1) * width]
    return out


def knn_subsample(
    n_train: int,
    max_samples: int | None,
    seed: int = 0,
    n_folds: int = DEFAULT_N_FOLDS,
) -> np.ndarray:
    """Training rows used by kNN when the training split is capped at ``max_samples`` rows.

    Returns sorted row indices into the training split: all rows ``0 … n_train − 1`` when
    ``max_samples`` is ``None`` or at least ``n_train``; otherwise, from every blocked fold
    ``f`` (:func:`blocked_folds`), ``c_f = ⌊(f+1)·m/K⌋ − ⌊f·m/K⌋`` rows (``m`` =
    ``max_samples``; at most the fold's size) drawn without replacement with
    ``numpy.random.default_rng([seed, f])``. Stratifying by fold keeps every fold
    represented; the same rows serve the cross-validation (queries of their own fold,
    references of the others) and as the reference rows of the final fit.

    Raises:
        ValueError: ``max_samples`` not ``None`` and not an integer ≥ ``max(2, n_folds)``.
    """
    k = _check_n_folds(n_folds)
    cap = _check_max_samples(max_samples, k)
    folds = blocked_folds(n_train, k)
    if cap is None or n_train <= cap:
        return np.arange(int(n_train))
    quota = np.diff((np.arange(k + 1) * cap) // k)
    out = []
    for f, (lo, hi) in enumerate(folds):
        rng = np.random.default_rng([int(seed), f])
        size = min(int(quota[f]), hi - lo)
        out.append(lo + np.sort(rng.choice(hi - lo, size=size, replace=False)))
    return np.concatenate(out)


def _check_max_samples(max_samples: int | None, n_folds: int = 2) -> int | None:
    if max_samples is None:
        return None
    least = max(2, int(n_folds))
    if isinstance(max_samples, bool) or int(max_samples) != max_samples or max_samples < least:
        raise ValueError(
            f"knn_max_samples must be an integer >= {least} (at least one row per "
            f"cross-validation fold) or None, got {max_samples!r}"
        )
    return int(max_samples)


def _knn_grid(k_grid: Sequence[int], n_reference: int) -> np.ndarray:
    ks = _check_k_grid(k_grid)
    grid = ks[ks <= n_reference]
    if grid.size == 0:
        raise ValueError(
            f"every k in k_grid {ks.tolist()} exceeds the {n_reference} reference rows of "
            "the smallest cross-validation fit (the training rows outside the largest fold)"
        )
    return grid


def _decode_knn(
    x_train: Any,
    x_test: Any,
    task: _Task,
    ys: list[np.ndarray],
    k_grid: Sequence[int],
    cap: int | None,
    knn_seed: int,
    chunk_size: int,
    cache: dict | None = None,
) -> tuple[np.ndarray, list[tuple[int, np.ndarray, np.ndarray]], int]:
    """kNN of every label variant: ``(grid, [(k, fold scores, test predictions)], rows used)``.

    The neighbour lists do not depend on the labels: one search per fold (and one for the
    test rows) serves every variant; with ``cache`` the fold searches are kept for the next
    call on the same ``x_train`` (another label of the same layer).
    """
    n_folds = len(task.folds)
    rows = knn_subsample(task.n_train, cap, knn_seed, n_folds)
    fold_of = np.searchsorted(task.edges, rows, side="right") - 1
    per_fold = np.bincount(fold_of, minlength=n_folds)
    grid = _knn_grid(k_grid, int(len(rows) - per_fold.max()))
    data = unit_rows(take_rows(x_train, rows, chunk_size))
    labels = [y[rows] for y in ys]
    # every variant side by side: continuous (rows, variants · L), discrete (rows, variants)
    stacked = np.concatenate([y.reshape(len(rows), -1) for y in labels], axis=1)
    fold_scores = np.empty((len(ys), n_folds, len(grid)))
    key = (id(x_train), task.n_train, cap, int(knn_seed), n_folds, tuple(grid.tolist()))
    cached = None if cache is None else cache.get(key)
    neighbours = []
    for f in range(n_folds):
        query = fold_of == f
        if cached is None:
            idx = cosine_neighbours(data[~query], data[query], grid)
        else:
            idx = cached[f]
        neighbours.append(idx)
        fold_scores[:, f] = _knn_scores(idx, stacked[~query], stacked[query], grid, task)
    if cache is not None:
        cache.clear()  # one layer at a time: memory O(rows used · max k)
        cache[key] = neighbours
    chosen = [int(grid[int(np.argmax(s.mean(axis=0)))]) for s in fold_scores]
    preds: list[list[np.ndarray]] = [[] for _ in ys]
    for _, _, chunk in iter_chunks(x_test, chunk_size, name="X_test"):
        neigh = cosine_neighbours(data, unit_rows(chunk), chosen)
        for v, pred in enumerate(_knn_predict(neigh, labels, chosen, task)):
            preds[v].append(pred)
    out = [(chosen[v], fold_scores[v], np.concatenate(preds[v], axis=0)) for v in range(len(ys))]
    return grid, out, len(rows)


# --------------------------------------------------------------------------------------
# Ridge: sufficient statistics per fold
# --------------------------------------------------------------------------------------


def _ridge_targets(task: _Task, ys: Sequence[np.ndarray]) -> np.ndarray:
    """Regression targets of every variant side by side: labels, or ±1 one-vs-all columns
    (discrete ``ys`` are class codes; two classes: one column, +1 for the second class)."""
    if not task.discrete:
        return np.concatenate([np.asarray(y, dtype=np.float64) for y in ys], axis=1)
    n_cls = len(task.classes)  # type: ignore[arg-type]
    cols = np.arange(1, 2) if n_cls == 2 else np.arange(n_cls)
    return np.concatenate([np.where(y[:, None] == cols[None, :], 1.0, -1.0) for y in ys], axis=1)


def _ridge_codes(scores: np.ndarray) -> np.ndarray:
    """Class codes from decision values (last axis: one column = sign, else argmax)."""
    if scores.shape[-1] == 1:
        return (scores[..., 0] > 0).astype(np.int64)
    return np.argmax(scores, axis=-1)


def _decode_ridge(
    x_train: Any,
    x_test: Any,
    task: _Task,
    ys: list[np.ndarray],
    alphas: np.ndarray,
    chunk_size: int,
) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """Ridge of every label variant: ``[(alpha, fold scores, test predictions)]``.

    Pass 1 accumulates the moments of ``[x, targets of every variant]`` per fold; the model
    of fold ``f`` and every ``alpha`` comes from the merged moments of the other folds; pass
    2 scores each model on its fold (blocks of at most ``RIDGE_SCORE_BLOCK_ELEMENTS``
    predictions); the merge of all folds gives the final fit, and pass 3 predicts the test
    rows.
    """
    d = int(x_train.shape[1])
    targets = _ridge_targets(task, ys)
    width = d + targets.shape[1]
    n_var, n_alpha, n_folds = len(ys), len(alphas), len(task.folds)
    q = targets.shape[1] // n_var  # target columns per variant
    accs = [MomentAccumulator(width) for _ in range(n_folds)]
    for lo, hi, chunk in iter_chunks(x_train, chunk_size, name="X_train"):
        w = np.concatenate([chunk, targets[lo:hi]], axis=1)
        for f, a, b in _fold_parts(task.edges, lo, hi):
            accs[f].add(w[a - lo : b - lo])

    models = []
    for f in range(n_folds):
        rest = merge_moments((acc for g, acc in enumerate(accs) if g != f), width)
        fit = ridge_from_moments(rest, d)
        w_f = fit.standardised_weights(alphas)
        models.append((w_f.transpose(1, 0, 2).reshape(d, -1), fit))
    if task.discrete:
        codes = np.stack(ys, axis=1)  # (n_train, n_var)
    err = np.zeros((n_folds, n_alpha, targets.shape[1]))  # continuous: SSE
    correct = np.zeros((n_folds, n_alpha, n_var))  # discrete: hits
    block = max(1, RIDGE_SCORE_BLOCK_ELEMENTS // (n_alpha * targets.shape[1]))
    for lo, hi, chunk in iter_chunks(x_train, chunk_size, name="X_train"):
        for f, a, b in _fold_parts(task.edges, lo, hi):
            w_flat, fit = models[f]
            for s in range(a, b, block):
                e = min(b, s + block)
                z = fit.standardise(chunk[s - lo : e - lo])
                pred = (z @ w_flat).reshape(e - s, n_alpha, -1) + fit.mean_y
                if task.discrete:
                    for v in range(n_var):
                        hit = _ridge_codes(pred[:, :, v * q : (v + 1) * q]) == codes[s:e, v, None]
                        correct[f, :, v] += hit.sum(axis=0)
                else:
                    err[f] += ((pred - targets[s:e, None, :]) ** 2).sum(axis=0)
    sizes = np.diff(task.edges).astype(np.float64)
    chosen, fold_scores = [], []
    for v in range(n_var):
        if task.discrete:
            sc = correct[:, :, v] / sizes[:, None]
        else:
            mse = err[:, :, v * q : (v + 1) * q] / sizes[:, None, None]
            sc = np.mean(1.0 - mse / task.var, axis=2)  # type: ignore[operator]
        fold_scores.append(sc)
        chosen.append(float(alphas[int(np.argmax(sc.mean(axis=0)))]))

    # final fit per variant on the whole training split, then predict the test rows
    full = merge_moments(accs, width)
    finals = []
    for v in range(n_var):
        fit = ridge_from_moments(full, d, np.arange(v * q, (v + 1) * q))
        finals.append((fit.standardised_weights(np.array([chosen[v]]))[0], fit))
    preds: list[list[np.ndarray]] = [[] for _ in range(n_var)]
    for _, _, chunk in iter_chunks(x_test, chunk_size, name="X_test"):
        for v, (w, fit) in enumerate(finals):
            out = fit.standardise(chunk) @ w + fit.mean_y
            preds[v].append(_ridge_codes(out) if task.discrete else out)
    return [(chosen[v], fold_scores[v], np.concatenate(preds[v], axis=0)) for v in range(n_var)]


# --------------------------------------------------------------------------------------
# Shared preparation and scoring
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _Task:
    """Validated labels, folds and split sizes of one decoding problem."""

    kind: str
    discrete: bool
    names: tuple[str, ...]
    ytr: np.ndarray  # continuous: (n_train, L) float64; discrete: (n_train,)
    yte: np.ndarray
    n_train: int
    n_test: int
    folds: tuple[tuple[int, int], ...]
    edges: np.ndarray  # fold boundaries, (n_folds + 1,)
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
    n_folds: int,
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
    folds = tuple(blocked_folds(n_train, n_folds))
    common = dict(
        kind=kind,
        discrete=discrete,
        names=names,
        n_train=n_train,
        n_test=n_test,
        folds=folds,
        edges=np.array([lo for lo, _ in folds] + [n_train], dtype=np.int64),
        out_shape=yte.shape,
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


def _result(
    task: _Task,
    decoder: str,
    param_name: str,
    param: float,
    grid: np.ndarray,
    fold_scores: np.ndarray,
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
        validation_scores=fold_scores.mean(axis=0),
        fold_scores=fold_scores,
        folds=task.folds,
        predictions=pred.reshape(task.out_shape),
        n_train=task.n_train,
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


def _decode_variants(
    x_train: Any,
    x_test: Any,
    task: _Task,
    variants: list[tuple[str | None, int | None, int, np.ndarray]],
    decoder: str,
    k_grid: Sequence[int],
    alphas: Sequence[float],
    cap: int | None,
    knn_seed: int,
    chunk_size: int,
    knn_cache: dict | None = None,
) -> list[DecodingResult]:
    """Decode every label variant ``(shuffle method, offset, seed, y_train)`` in shared passes."""
    ys = [v[3] for v in variants]
    if task.discrete:  # class codes (searchsorted in the sorted training classes)
        ys = [np.searchsorted(task.classes, y) for y in ys]  # type: ignore[arg-type]
    if decoder == "ridge":
        grid = check_alphas(alphas)
        fitted = _decode_ridge(x_train, x_test, task, ys, grid, chunk_size)
        param_name, n_reference = "alpha", None
    else:
        grid, fitted, n_reference = _decode_knn(
            x_train, x_test, task, ys, k_grid, cap, knn_seed, chunk_size, knn_cache
        )
        param_name = "k"
    results = []
    for (method, offset, seed, _), (param, scores, pred) in zip(variants, fitted, strict=True):
        if task.discrete:
            pred = task.classes[pred]  # type: ignore[index]
        results.append(
            _result(
                task,
                decoder,
                param_name,
                param,
                grid,
                scores,
                pred,
                method,
                offset,
                seed,
                n_reference,
            )
        )
    return results


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------

#: Cap on the kNN training rows used by the workflow (see :func:`knn_subsample`).
DEFAULT_KNN_MAX_SAMPLES = 20_000


def decode(
    X_train: Any,
    y_train: Any,
    X_test: Any,
    y_test: Any,
    decoder: Decoder = "knn",
    *,
    kind: LabelKind | None = None,
    label_names: Sequence[str] | None = None,
    n_folds: int = DEFAULT_N_FOLDS,
    k_grid: Sequence[int] = DEFAULT_K_GRID,
    alphas: Sequence[float] = DEFAULT_ALPHAS,
    shuffle_labels: bool | Literal["circular", "permutation"] = False,
    seed: int = 0,
    shuffle_seeds: Sequence[int] = (),
    shuffle_method: Literal["permutation", "circular"] = "permutation",
    knn_max_samples: int | None = None,
    knn_seed: int = 0,
    chunk_size: int = DEFAULT_CHUNK_ROWS,
    knn_cache: dict | None = None,
) -> DecodingResult:
    r"""Decode labels from activations: choose by blocked CV, refit, score on the test split.

    ``X_train`` / ``X_test`` are numpy arrays or lazy layers (an ``xarray.DataArray`` of an
    activation store, a zarr array; see :mod:`cebra_lens_core.metrics.streaming`), read
    chunk by chunk; labels are in memory. The same engine serves both, so a lazy layer and
    the same rows in memory give the same result.

    - ``"ridge"``: exact, from sufficient statistics. One pass over the training rows
      accumulates the centred moments of ``[x, targets of every variant]`` per fold (chunks
      merged with Chan et al.'s update, so no ``X^T X − n x̄ x̄^T`` cancellation); the
      standardised ridge solution of every ``(fold, alpha)`` is solved in closed form from
      the merged moments of the other folds (:mod:`cebra_lens_core.metrics.linear`); one
      more pass scores every model on its fold for every variant; the merged moments of
      all folds give the final fit; one pass over the test rows predicts. Memory
      ``O(chunk · d + n_folds · (d + targets)^2)``; cost ``O(T d (d + alphas · targets))``.
    - ``"knn"``: every test row needs every reference row, so the training rows used are
      read into memory: all of them, or at most ``knn_max_samples`` (seeded subsample
      stratified by fold, :func:`knn_subsample`); the test rows are queried chunk by
      chunk. The neighbour lists do not depend on the labels, so they are searched once per
      fold (and once for the test rows) for the decoding and all its controls. Memory
      ``O(n_reference · (d + max k))`` plus one block of distances
      (:data:`cebra_lens_core.metrics.neighbours.WORKING_MEMORY_MIB`).

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
        n_folds: contiguous cross-validation folds of the training split
            (:func:`blocked_folds`); the candidate with the best mean fold score is chosen.
        k_grid: candidate ``k`` (positive integers); those above the reference rows of the
            smallest cross-validation fit are skipped.
        alphas: candidate ridge penalties (positive).
        shuffle_labels: ``False``; ``True`` or ``"permutation"``: permute the training
            labels (seeded); ``"circular"``: roll them by a seeded random offset of at least
            10 % of ``n_train`` (invalid for periodic labels; see the module docstring).
        seed: seed of that shuffle (the decoders are deterministic).
        shuffle_seeds: one shuffled-label control per seed, decoded in the same passes
            (:attr:`DecodingResult.controls`); each equals
            ``decode(..., shuffle_labels=shuffle_method, seed=s)`` and chooses its own
            ``k`` / ``alpha`` by the same blocked cross-validation on its own labels.
        shuffle_method: ``"permutation"`` or ``"circular"``: the shuffle of the controls.
        knn_max_samples: kNN only: cap on the training rows used (:func:`knn_subsample`);
            ``None`` (default): no cap (the workflow uses ``DEFAULT_KNN_MAX_SAMPLES``).
            Test rows are never subsampled.
        knn_seed: seed of that subsample.
        chunk_size: rows read per chunk.
        knn_cache: an optional dict (one per layer) that keeps the cross-validation
            neighbour lists (``n_reference × max k`` int32) for the next call on the same
            ``X_train`` object, the same training rows and grid, e.g. a discrete label after
            the continuous ones: the neighbours do not depend on the labels. The key includes
            ``id(X_train)``; the dict holds one entry at a time.

    Returns:
        :class:`DecodingResult` (its ``controls`` hold one result per ``shuffle_seeds``).

    Raises:
        ValueError: rows of ``X`` and ``y`` differ (both named); ``X_train`` and ``X_test``
            have different numbers of units; NaN/inf; empty training or test split, or
            fewer training rows than folds; several label columns for a discrete label or
            different label columns in train and test; a continuous label constant on the
            training split; a discrete label with a single training class; unknown
            ``decoder`` / ``kind`` / shuffle method (valid values listed); bad grids or
            ``n_folds``.

    Warns:
        RuntimeWarning: discrete test classes that never occur in training (counted as
            errors); a continuous label constant on the test split (its ``R²`` is NaN).
    """
    decoder = _check_decoder(decoder)
    method = _check_shuffle(shuffle_labels)
    control_method = _check_shuffle(shuffle_method)
    n_folds = _check_n_folds(n_folds)
    cap = _check_max_samples(knn_max_samples, n_folds)
    xtr = check_layer(X_train, "X_train")
    xte = check_layer(X_test, "X_test")
    task = _prepare_task(
        tuple(xtr.shape), tuple(xte.shape), y_train, y_test, kind, label_names, n_folds
    )
    ytr, offset = task.ytr, None
    if method is not None:
        ytr, offset = shuffle_training_labels(ytr, method, seed)
    variants: list[tuple[str | None, int | None, int, np.ndarray]] = [
        (method, offset, int(seed), ytr)
    ]
    for s in shuffle_seeds:
        y, off = shuffle_training_labels(task.ytr, control_method, int(s))  # type: ignore[arg-type]
        variants.append((control_method, off, int(s), y))
    results = _decode_variants(
        xtr, xte, task, variants, decoder, k_grid, alphas, cap, knn_seed, chunk_size, knn_cache
    )
    return replace(results[0], controls=tuple(results[1:]))
