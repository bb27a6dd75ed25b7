r"""Generalised linear shape metrics between layer activations (Williams et al., 2021).

Arrays are ``time × units`` (rows are samples, paired between the two layers). ``X`` is
``T × d_x``, ``Y`` is ``T × d_y``. The distance is fitted on a training split and scored on a
test split (or on the training rows when no test split is given).

Definition
----------
1. Centre with the *training* column means ``μ_x``, ``μ_y``: ``Xc = X − μ_x``.
2. Partial whitening with ``α ∈ [0, 1]`` from the training covariance
   ``C_x = Xc_trainᵀ Xc_train / T_train``::

       W_x = (α I + (1 − α) C_x)^(−1/2),   X̃ = Xc W_x,   Ỹ = Yc W_y

   ``α = 1``: ``W = I`` (Procrustes: rotations only); ``α = 0``: ``W = C^(−1/2)`` (full
   whitening, CCA-like: invariant to any invertible linear map).
3. Fit the alignment on the training split (orthogonal Procrustes): with the SVD
   ``M = X̃_trainᵀ Ỹ_train = U S Vᵀ`` (``d_x × d_y``, thin, ``k = min(d_x, d_y)``), ``Ỹ`` is
   mapped by ``Q = V Uᵀ`` (``d_y × d_x``).
4. Score on the test split — rows centred with the *training* means, whitened with the
   *training* ``W`` and aligned with the *training* ``Q``::

       angular    θ = arccos( ⟨X̃, Ỹ Q⟩_F / (‖X̃‖_F ‖Ỹ‖_F) )        ∈ [0, π]
       euclidean  e = ‖X̃ − Ỹ Q‖_F / √T_test
                    = sqrt( (‖X̃‖_F² + ‖Ỹ‖_F² − 2 ⟨X̃, Ỹ Q⟩_F) / T_test )

   Without a test split the training rows are scored, and then ``⟨X̃, Ỹ Q⟩_F = ‖M‖_* = Σ S``
   (nuclear norm), so ``θ = arccos(‖X̃ᵀỸ‖_* / (‖X̃‖_F ‖Ỹ‖_F))``: the paper's metric.

At ``α = 0`` the singular values of ``M / T`` are the canonical correlations ``ρ_k`` and
``‖X̃‖_F² = T d_x``, so on the training rows ``cos θ = Σ ρ_k / sqrt(d_x d_y)`` (the arccos of
the mean canonical correlation when ``d_x = d_y``) and ``e² = d_x + d_y − 2 Σ ρ_k``.

Conventions (where the paper and its reference code, netrep's ``LinearMetric``, leave a choice)
----------------------------------------------------------------------------------------------
- ``d_x ≠ d_y``. netrep zero-pads the smaller representation to ``max(d_x, d_y)`` columns and
  fits a square orthogonal ``Q``. Here the thin SVD of the ``d_x × d_y`` cross-moment is used;
  it gives the same optimum: the padded cross-moment has the same non-zero singular values, the
  first ``d_x`` columns (``d_y > d_x``) or rows (``d_x > d_y``) of the padded ``Q`` are
  ``V Uᵀ``, and the rest acts only on zero columns. Because the padded ``Q`` is orthogonal the
  score uses the full norm ``‖Ỹ‖_F`` (= ``‖Ỹ Q_pad‖_F``), not ``‖Ỹ V Uᵀ‖_F`` (which is smaller
  when ``d_y > d_x``). ``tests/metrics/test_shape.py`` checks this against explicit padding.
- Singular covariance. The eigenvalues of ``C_x`` are floored at
  ``EIGENVALUE_FLOOR · λ_max`` before ``(α + (1 − α) λ)^(−1/2)`` is taken (netrep floors at an
  absolute ``1e-7``). A direction with no training variance then carries (numerically) nothing,
  so at ``α = 0`` a layer with a redundant unit has the distances of the layer without it;
  genuine directions with variance below the floor are whitened only up to the floor.
- Whitening scale. ``W`` is exactly the formula above (``C`` divided by ``T_train``; ``α I``
  is in units of variance). netrep instead uses ``Z = α I + (1 − α)(XcᵀXc)^(−1/2)`` on the
  scatter and rescales ``Z`` to keep the total variance ``tr(XcᵀXc)``. Both are ``I`` at
  ``α = 1`` and ``∝ C^(−1/2)`` at ``α = 0``, so the *angular* distances agree exactly at
  ``α ∈ {0, 1}``; at intermediate ``α`` the two interpolations differ. Neither form is
  invariant to isotropic scaling at ``0 < α < 1`` (the relative weight of ``α I`` changes with
  the scale of ``C``).
- Euclidean scale. netrep scores ``‖X̃ − Ỹ Q‖_F`` (no division by ``√T``) and does **not**
  normalise the representations to unit Frobenius norm. Here, too, nothing is normalised (the
  euclidean form at ``α = 1`` keeps the units of the activations: an RMS distance per time
  point), but the norm is divided by ``√T`` so the value does not grow with the recording
  length; at ``α = 1`` it equals netrep's score divided by ``√T``.

Invariances (each verified in the tests): both forms are invariant to translation, to a
permutation of units and to any orthogonal transform of either layer (every ``α``); at
``α = 0`` to any invertible linear map; the angular form to isotropic scaling at ``α ∈ {0, 1}``
(the euclidean form at ``α = 1`` scales with the data). On one split both forms are metrics
(symmetric, triangle inequality; ``0`` for identical layers); with a test split they are
cross-validated estimates, symmetric but not guaranteed to satisfy the triangle inequality.

Streaming
---------
Everything comes from second moments: with ``G = ZᵀZ`` the scatter of the centred, stacked
layers of a split (:func:`~cebra_lens_core.metrics.cka.stacked_covariance`; ``d × d`` blocks,
never ``T × T``), the test moments about the *training* means are
``S = G_test + T_test (m_test − μ)(m_test − μ)ᵀ`` (:func:`scatter_about`) and::

    ‖X̃‖_F² = tr(W_x S_xx W_x),   ⟨X̃, Ỹ Q⟩_F = ⟨W_x S_xy W_y, U Vᵀ⟩_F

(``S = G_train`` without a test split). :func:`shape_distance_matrix` makes one stacked
covariance per split over all layers of both models (two streamed passes over the rows in
chunks of ``chunk_size``), then ``L`` eigendecompositions and one ``d_x × d_y`` SVD per pair:
``O(T (Σd)²)`` time and ``O((Σd)² + chunk · Σd)`` memory, so ``T = 10^6`` streams. Callers that
already hold the stacked covariances use :func:`shape_distances_from_covariance`.

Precision: the distances come from moments, so a distance near 0 is resolved to about
``sqrt(ε_machine) ≈ 1e-8`` relative to the norms (identical layers in one list are set to 0
exactly). A layer with zero training variance has no shape: its distances are NaN, with a
:class:`RuntimeWarning` naming it; so is an angular distance with a zero test norm.

Reference:
    Williams, Kunz, Kornblith, Linderman (2021). Generalized shape metrics on neural
    representations. NeurIPS. Reference code: https://github.com/ahwillia/netrep
    (``netrep.metrics.LinearMetric``, ``netrep.utils.whiten``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from cebra_lens_core.metrics._validation import check_layer, check_same_time, check_sequence
from cebra_lens_core.metrics.cka import DEFAULT_CHUNK_SIZE, StackedCovariance, stacked_covariance

__all__ = [
    "EIGENVALUE_FLOOR",
    "FORMS",
    "MIN_TRAIN_SAMPLES",
    "scatter_about",
    "shape_distance",
    "shape_distance_matrix",
    "shape_distances_from_covariance",
    "whitening_matrix",
]

#: Score forms: ``"angular"`` (radians, in ``[0, π]``) and ``"euclidean"`` (RMS per time point).
FORMS: tuple[str, ...] = ("angular", "euclidean")
#: Eigenvalues of the training covariance are floored at this fraction of the largest one
#: before the partial whitening (see the module docstring).
EIGENVALUE_FLOOR = 1e-10
#: Fewest training rows (a covariance needs two).
MIN_TRAIN_SAMPLES = 2


# --------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------


def _check_alpha(alpha: float) -> float:
    """``alpha`` as a float in ``[0, 1]``."""
    try:
        value = float(alpha)
    except (TypeError, ValueError):
        value = math.nan
    if isinstance(alpha, bool | str) or not (0.0 <= value <= 1.0):
        raise ValueError(
            f"alpha must be a number in [0, 1] (1: Procrustes, no whitening; "
            f"0: full whitening, CCA-like), got {alpha!r}"
        )
    return value


def _check_forms(forms: str | Sequence[str]) -> tuple[str, ...]:
    """``forms`` as a non-empty tuple of known forms (a single string is one form)."""
    items = (forms,) if isinstance(forms, str) else tuple(forms)
    if not items:
        raise ValueError(f"forms is empty: give at least one of {FORMS}")
    for form in items:
        if form not in FORMS:
            valid = ", ".join(repr(f) for f in FORMS)
            raise ValueError(f"unknown shape distance form {form!r}; valid forms: {valid}")
    return tuple(dict.fromkeys(items))


def _check_chunk_size(chunk_size: int) -> int:
    if isinstance(chunk_size, bool) or int(chunk_size) < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    return int(chunk_size)


def _layers(
    items: Any, arg: str, names: Sequence[str] | None = None
) -> tuple[list[Any], list[str]]:
    """Checked layers (NaN/inf of in-memory arrays found at once) and their names."""
    layers = check_sequence(items, arg, "2-D (time × units) arrays", "layer")
    names = list(names) if names is not None else [f"{arg}[{i}]" for i in range(len(layers))]
    return [check_layer(a, n) for a, n in zip(layers, names, strict=True)], names


def _check_test_layers(
    train: Sequence[Any],
    test: Sequence[Any],
    train_names: Sequence[str],
    test_names: Sequence[str],
    train_arg: str,
    test_arg: str,
) -> None:
    """The test split holds the same layers (count and units) as the training split."""
    if len(test) != len(train):
        raise ValueError(
            f"{test_arg} has {len(test)} layers but {train_arg} has {len(train)}; "
            "give the held-out rows of every training layer, in the same order"
        )
    for a, b, na, nb in zip(train, test, train_names, test_names, strict=True):
        if int(a.shape[1]) != int(b.shape[1]):
            raise ValueError(
                f"{nb} has {int(b.shape[1])} units but {na} has {int(a.shape[1])}; "
                "the test split must hold the same units as the training split"
            )


# --------------------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------------------


def whitening_matrix(covariance: np.ndarray, alpha: float) -> np.ndarray:
    r"""Partial whitening ``W = (α I + (1 − α) C)^(−1/2)`` of a covariance ``C`` (``d × d``).

    With the eigendecomposition ``C = V diag(λ) Vᵀ``::

        W = V diag( (α + (1 − α) max(λ_k, EIGENVALUE_FLOOR · λ_max))^(−1/2) ) Vᵀ

    (symmetric). ``α = 1`` returns ``I`` exactly.

    Raises:
        ValueError: ``C`` not square, ``α`` outside ``[0, 1]``, or ``α = 0`` with no positive
            eigenvalue (a constant layer cannot be whitened).
    """
    alpha = _check_alpha(alpha)
    c = np.asarray(covariance, dtype=np.float64)
    if c.ndim != 2 or c.shape[0] != c.shape[1]:
        raise ValueError(f"covariance must be a square matrix, got shape {c.shape}")
    d = c.shape[0]
    if alpha == 1.0:
        return np.eye(d)
    lam, vec = np.linalg.eigh(0.5 * (c + c.T))
    lam = np.maximum(lam, EIGENVALUE_FLOOR * max(float(lam[-1]), 0.0))
    scale = alpha + (1.0 - alpha) * lam
    if not (scale > 0.0).all():
        raise ValueError(
            "covariance has no positive eigenvalue: a constant layer cannot be whitened (alpha=0)"
        )
    return (vec * scale**-0.5) @ vec.T


def scatter_about(cov: StackedCovariance, centre: np.ndarray) -> np.ndarray:
    r"""Stacked scatter about a given centre: ``Σ_t (z_t − c)(z_t − c)ᵀ`` (``D × D``).

    From the scatter about the split's own means ``G = Σ_t (z_t − m)(z_t − m)ᵀ``::

        S = G + n (m − c)(m − c)ᵀ,   n = cov.n_samples

    (the cross terms vanish because ``Σ_t (z_t − m) = 0``). Used with ``c`` = the training
    means to get the test split's moments.
    """
    c = np.asarray(centre, dtype=np.float64)
    if c.shape != cov.means.shape:
        raise ValueError(
            f"centre has shape {c.shape} but the stacked layers have {cov.means.shape[0]} units"
        )
    delta = cov.means - c
    return cov.scatter + cov.n_samples * np.outer(delta, delta)


def _blocks(matrix: np.ndarray, offsets: np.ndarray, i: int, j: int) -> np.ndarray:
    return matrix[offsets[i] : offsets[i + 1], offsets[j] : offsets[j + 1]]


def _scores(
    inner: float, norm_x: float, norm_y: float, n_score: int, forms: Sequence[str]
) -> dict[str, float]:
    """Angular / euclidean scores from ``⟨X̃, ỸQ⟩_F``, ``‖X̃‖_F²`` and ``‖Ỹ‖_F²``."""
    out = {}
    if "angular" in forms:
        if norm_x > 0.0 and norm_y > 0.0:
            cos = inner / math.sqrt(norm_x * norm_y)
            out["angular"] = math.acos(min(1.0, max(-1.0, cos)))
        else:
            out["angular"] = math.nan
    if "euclidean" in forms:
        out["euclidean"] = math.sqrt(max(norm_x + norm_y - 2.0 * inner, 0.0) / n_score)
    return out


class ShapeFit:
    """The training-split fit of shape distances at one ``alpha``, computed on demand and
    kept: the whitening ``W_i`` of each layer and the rotation ``U Vᵀ`` of each layer pair
    (``W_i G_ij W_j = U S Vᵀ``). Valid for one training covariance only; reuse it across
    scorings of the same layers (bootstrap replicates of the test split)."""

    def __init__(self, alpha: float) -> None:
        self.alpha = _check_alpha(alpha)
        self._ok: dict[int, bool] = {}
        self._whiten: dict[int, np.ndarray] = {}
        self._rotation: dict[tuple[int, int], np.ndarray] = {}

    def usable(self, train: StackedCovariance, layers: Sequence[int]) -> dict[int, bool]:
        """Whether each layer has variance on the training split."""
        for i in layers:
            if i not in self._ok:
                self._ok[i] = float(np.trace(train.block(i))) > 0.0
        return {i: self._ok[i] for i in layers}

    def whitening(self, train: StackedCovariance, layers: Sequence[int]) -> dict[int, np.ndarray]:
        """``W_i`` of each layer (:func:`whitening_matrix` of its training covariance)."""
        for i in layers:
            if i not in self._whiten:
                self._whiten[i] = whitening_matrix(train.block(i) / train.n_samples, self.alpha)
        return {i: self._whiten[i] for i in layers}

    def rotation(self, train: StackedCovariance, p: int, q: int) -> np.ndarray:
        """``U Vᵀ`` of the SVD of ``W_p G_pq W_q`` (training split)."""
        if (p, q) not in self._rotation:
            w = self.whitening(train, [p, q])
            u, _, vt = np.linalg.svd(w[p] @ train.block(p, q) @ w[q], full_matrices=False)
            self._rotation[(p, q)] = u @ vt
        return self._rotation[(p, q)]


def shape_distances_from_covariance(
    train: StackedCovariance,
    test: StackedCovariance | None = None,
    rows: Sequence[int] | None = None,
    cols: Sequence[int] | None = None,
    *,
    alpha: float = 1.0,
    forms: str | Sequence[str] = FORMS,
    names: Sequence[str] | None = None,
    fit: ShapeFit | None = None,
) -> dict[str, np.ndarray]:
    r"""Shape distances between stacked layers, from their stacked covariances.

    For every ``i`` in ``rows`` and ``j`` in ``cols`` (block indices of ``train``; default all
    layers): ``W_i = (α I + (1 − α) G_ii / n_train)^(−1/2)`` (:func:`whitening_matrix`),
    ``W_i G_ij W_j = U S Vᵀ`` (training split), and with ``S`` the scoring moments
    (``G_train``, or the test scatter about the training means, :func:`scatter_about`)::

        ‖X̃‖² = tr(W_i S_ii W_i),  ⟨X̃, ỸQ⟩ = ⟨W_i S_ij W_j, U Vᵀ⟩_F,  n = T of the scored split
        angular = arccos(⟨X̃, ỸQ⟩ / (‖X̃‖ ‖Ỹ‖)),  euclidean = sqrt((‖X̃‖² + ‖Ỹ‖² − 2⟨X̃, ỸQ⟩) / n)

    Each unordered pair is computed once; ``i == j`` gives 0 (NaN for a constant layer).

    Args:
        train: :func:`~cebra_lens_core.metrics.cka.stacked_covariance` of the training rows.
        test: the same layers' stacked covariance on the test rows, or ``None`` to score the
            training rows.
        rows, cols: block indices (default ``range(train.n_layers)``).
        alpha: partial-whitening parameter in ``[0, 1]``.
        forms: ``"angular"``, ``"euclidean"`` or both.
        names: layer names for warnings (default ``layer i``).
        fit: a :class:`ShapeFit` kept across calls with the **same** ``train`` (e.g. for
            bootstrap replicates of ``test``): the whitening and rotations are fitted once.

    Returns:
        ``{form: len(rows) × len(cols) float64 array}``.

    Raises:
        ValueError: bad ``alpha``/``forms``, block index out of range, ``test`` with other
            layer widths than ``train``, fewer than 2 training rows.
    """
    alpha = _check_alpha(alpha)
    forms = _check_forms(forms)
    n_layers = train.n_layers
    rows = list(range(n_layers)) if rows is None else [int(i) for i in rows]
    cols = list(range(n_layers)) if cols is None else [int(j) for j in cols]
    for k in rows + cols:
        if not 0 <= k < n_layers:
            raise ValueError(f"block index {k} out of range: the covariance has {n_layers} layers")
    offsets = np.asarray(train.offsets)
    if test is not None and not np.array_equal(np.asarray(test.offsets), offsets):
        raise ValueError(
            f"test covariance has layer widths {np.diff(test.offsets).tolist()} but train has "
            f"{np.diff(offsets).tolist()}; stack the same layers in the same order"
        )
    if train.n_samples < MIN_TRAIN_SAMPLES:
        raise ValueError(
            f"need at least {MIN_TRAIN_SAMPLES} training time points (rows), got {train.n_samples}"
        )
    names = list(names) if names is not None else [f"layer {i}" for i in range(n_layers)]

    used = sorted(set(rows) | set(cols))
    fit = fit if fit is not None else ShapeFit(alpha)
    if fit.alpha != alpha:
        raise ValueError(f"the shape fit was made with alpha={fit.alpha}, not {alpha}")
    ok = fit.usable(train, used)
    bad = [names[i] for i in used if not ok[i]]
    if bad:
        warnings.warn(
            f"{', '.join(bad)} has zero variance on the training split: "
            "its shape distances are undefined and reported as NaN",
            RuntimeWarning,
            stacklevel=2,
        )
    whiten = fit.whitening(train, [i for i in used if ok[i]])
    if test is None:
        moments, n_score = train.scatter, train.n_samples
    else:
        moments, n_score = scatter_about(test, train.means), test.n_samples
    norms = {i: float(np.vdot(_blocks(moments, offsets, i, i), w @ w)) for i, w in whiten.items()}

    cache: dict[tuple[int, int], dict[str, float]] = {}
    out = {form: np.full((len(rows), len(cols)), np.nan) for form in forms}
    for a, i in enumerate(rows):
        for b, j in enumerate(cols):
            if not (ok[i] and ok[j]):
                continue
            key = (min(i, j), max(i, j))
            if key not in cache:
                p, q = key
                if p == q:
                    cache[key] = {"angular": 0.0 if norms[p] > 0 else math.nan, "euclidean": 0.0}
                else:
                    s = whiten[p] @ _blocks(moments, offsets, p, q) @ whiten[q]
                    inner = float(np.vdot(s, fit.rotation(train, p, q)))
                    cache[key] = _scores(inner, norms[p], norms[q], n_score, forms)
            for form in forms:
                out[form][a, b] = cache[key][form]
    if "angular" in forms and test is not None:
        empty = [names[i] for i in used if ok[i] and norms[i] <= 0.0]
        if empty:
            warnings.warn(
                f"{', '.join(empty)} is constant at its training mean on the test split: "
                "its angular distances are undefined and reported as NaN",
                RuntimeWarning,
                stacklevel=2,
            )
    return out


# --------------------------------------------------------------------------------------
# Public API on layers
# --------------------------------------------------------------------------------------


def _distance_matrix(
    a_train: Any,
    b_train: Any | None,
    a_test: Any | None,
    b_test: Any | None,
    *,
    alpha: float,
    forms: str | Sequence[str],
    chunk_size: int,
    args: tuple[str, str, str, str],
    single: bool = False,
) -> dict[str, np.ndarray]:
    """Validate everything, stream one stacked covariance per split, then score all pairs."""
    alpha = _check_alpha(alpha)
    forms = _check_forms(forms)
    chunk_size = _check_chunk_size(chunk_size)
    arg_a, arg_b, arg_at, arg_bt = args
    cross = b_train is not None
    if b_test is not None and not cross:
        raise ValueError(f"{arg_bt} given without {arg_b}: give the training rows of both models")
    if cross and (a_test is None) != (b_test is None):
        raise ValueError(
            f"give both {arg_at} and {arg_bt} (the held-out rows of both models) or neither"
        )

    def named(items: Any, arg: str) -> tuple[list[Any], list[str]]:
        return _layers([items] if single else items, arg, [arg] if single else None)

    la, na = named(a_train, arg_a)
    lb, nb = named(b_train, arg_b) if cross else ([], [])
    train_layers, train_names = la + lb, na + nb
    check_same_time(train_layers, train_names, MIN_TRAIN_SAMPLES)
    test_layers: list[Any] = []
    test_names: list[str] = []
    if a_test is not None:
        lat, nat = named(a_test, arg_at)
        _check_test_layers(la, lat, na, nat, arg_a, arg_at)
        test_layers, test_names = lat, nat
        if cross:
            lbt, nbt = named(b_test, arg_bt)
            _check_test_layers(lb, lbt, nb, nbt, arg_b, arg_bt)
            test_layers, test_names = lat + lbt, nat + nbt
        check_same_time(test_layers, test_names, 1)

    train = stacked_covariance(train_layers, chunk_size=chunk_size, names=train_names)
    test = (
        stacked_covariance(test_layers, chunk_size=chunk_size, names=test_names)
        if test_layers
        else None
    )
    n_a = len(la)
    cols = range(n_a, n_a + len(lb)) if cross else range(n_a)
    return shape_distances_from_covariance(
        train, test, range(n_a), cols, alpha=alpha, forms=forms, names=train_names
    )


def shape_distance_matrix(
    layers_a_train: Sequence[Any],
    layers_b_train: Sequence[Any] | None = None,
    layers_a_test: Sequence[Any] | None = None,
    layers_b_test: Sequence[Any] | None = None,
    *,
    alpha: float = 1.0,
    forms: str | Sequence[str] = FORMS,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> dict[str, np.ndarray]:
    r"""Shape distances between every layer of ``a`` and every layer of ``b`` (or ``a`` vs ``a``).

    One stacked covariance per split over all layers of both models
    (:func:`~cebra_lens_core.metrics.cka.stacked_covariance`, streamed in chunks of
    ``chunk_size`` rows), then :func:`shape_distances_from_covariance`. Definitions: module
    docstring; ``α = 1`` Procrustes, ``α = 0`` CCA-like.

    Args:
        layers_a_train: sequence of ``(T_train, d_i)`` numpy arrays or lazy array-likes
            (``.shape`` and row slicing ``a[start:stop]``: zarr arrays, xarray).
        layers_b_train: second model's layers on the same training rows; ``None`` for the
            within-model matrix ``a`` vs ``a``.
        layers_a_test, layers_b_test: the same layers on held-out rows (``T_test``), scored
            with the training means, whitening and alignment; ``None`` (both) scores the
            training rows.
        alpha: partial whitening in ``[0, 1]``.
        forms: ``"angular"`` (radians, ``[0, π]``), ``"euclidean"`` (``‖X̃ − ỸQ‖_F / √T``) or
            both.
        chunk_size: rows read per chunk.

    Returns:
        ``{form: L_a × L_b float64 array}`` (``L_a × L_a``, symmetric with zero diagonal,
        within a model). NaN for a layer with zero training variance (with a warning).

    Raises:
        ValueError: ``alpha`` outside ``[0, 1]``; unknown form; a layer that is not 2-D, holds
            NaN/inf or has other rows than its split (named); a test layer with other units
            than its training layer or a missing test list; fewer than 2 training rows.
        TypeError: a single array passed instead of a sequence of layers.
    """
    return _distance_matrix(
        layers_a_train,
        layers_b_train,
        layers_a_test,
        layers_b_test,
        alpha=alpha,
        forms=forms,
        chunk_size=chunk_size,
        args=("layers_a_train", "layers_b_train", "layers_a_test", "layers_b_test"),
    )


def shape_distance(
    X_train: Any,
    Y_train: Any,
    X_test: Any | None = None,
    Y_test: Any | None = None,
    *,
    alpha: float = 1.0,
    form: str = "angular",
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> float:
    r"""Generalised shape distance between two layers (Williams et al. 2021).

    Fitted on ``(X_train, Y_train)`` (``T_train × d_x``, ``T_train × d_y``, rows paired),
    scored on ``(X_test, Y_test)`` or, if both are ``None``, on the training rows::

        X̃ = (X − μ_x^train) (α I + (1 − α) C_x^train)^(−1/2)
        Q = V Uᵀ  from  X̃_trainᵀ Ỹ_train = U S Vᵀ
        angular   = arccos(⟨X̃, ỸQ⟩_F / (‖X̃‖_F ‖Ỹ‖_F))  (training rows: ‖X̃ᵀỸ‖_* on top)
        euclidean = ‖X̃ − ỸQ‖_F / √T

    See the module docstring for conventions (``d_x ≠ d_y``, singular covariances).

    Args:
        X_train, Y_train: numpy arrays or lazy array-likes with ``.shape`` and row slicing.
        X_test, Y_test: held-out rows of the same units (both or neither).
        alpha: ``1`` Procrustes (default), ``0`` full whitening (CCA-like), in between partial.
        form: ``"angular"`` (default, radians) or ``"euclidean"``.
        chunk_size: rows read per chunk.

    Returns:
        The distance as a Python float (NaN, with a warning, if a layer is constant).

    Raises:
        ValueError: see :func:`shape_distance_matrix`.
    """
    if isinstance(form, str):
        _check_forms(form)
    else:
        raise ValueError(f"form must be one of {FORMS}, got {form!r}")
    if (X_test is None) != (Y_test is None):
        raise ValueError(
            "give both X_test and Y_test (the held-out rows of both layers) or neither"
        )
    out = _distance_matrix(
        X_train,
        Y_train,
        X_test,
        Y_test,
        alpha=alpha,
        forms=(form,),
        chunk_size=chunk_size,
        args=("X_train", "Y_train", "X_test", "Y_test"),
        single=True,
    )
    return float(out[form][0, 0])
