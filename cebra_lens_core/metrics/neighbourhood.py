r"""Neighbourhood similarity of two layers on the same time points: mutual k-NN, Jaccard, CKNNA.

Notation: ``X`` (``T × d1``) and ``Y`` (``T × d2``) are two layers on the same ``T`` time
points (rows paired); the measures use ``n`` of these rows (all, or a seeded subset, see
below). ``x̂_i = x_i / ||x_i||`` are the unit rows (a zero row stays zero: cosine similarity
0 to every row) and ``K_ij = x̂_i · x̂_j``, ``L_ij = ŷ_i · ŷ_j`` the cosine kernels.
``N_X(i)`` is the set of the ``k`` rows ``j ≠ i`` of largest ``K_ij`` (cosine k-NN of row
``i`` among the **other** rows; the row's own index is removed, so a duplicate of row ``i``
is a neighbour of ``i`` but ``i`` itself never is). Then::

    mutual_knn(X, Y)  = (1/n) Σ_i |N_X(i) ∩ N_Y(i)| / k
    jaccard_knn(X, Y) = (1/n) Σ_i |N_X(i) ∩ N_Y(i)| / |N_X(i) ∪ N_Y(i)|,
                        |N_X(i) ∪ N_Y(i)| = 2k − |N_X(i) ∩ N_Y(i)|

(mutual k-NN alignment of Huh et al. 2024; Jaccard k-NN overlap as in the ReSi benchmark,
Klabunde et al.). CKNNA (Huh et al. 2024, appendix), transcribed from the reference code
(``platonic-rep/metrics.py``, ``AlignmentMetrics.cknna`` with its defaults
``unbiased=True, distance_agnostic=False``, on features that ``measure_alignment.py``
unit-normalises first — hence the cosine kernels above)::

    α^{KL}_ij = 1[i ≠ j, j ∈ N_X(i), j ∈ N_Y(i)]          (not symmetric in i, j)
    K' = α^{KL} ∘ K,  L' = α^{KL} ∘ L
    HSIC_u(K', L') = [ tr(K'L') + (1ᵀK'1)(1ᵀL'1) / ((n−1)(n−2)) − 2·1ᵀK'L'1 / (n−2) ] / (n(n−3))
    CKNNA(X, Y) = HSIC_u(α^{KL}∘K, α^{KL}∘L) / sqrt(HSIC_u(α^{KK}∘K, α^{KK}∘K) · HSIC_u(α^{LL}∘L, α^{LL}∘L))

with ``α^{KK}_ij = 1[i ≠ j, j ∈ N_X(i)]`` (likewise ``α^{LL}``) and ``HSIC_u`` the unbiased
estimator of Song et al. (2012, eq. 5) whose diagonal-zeroed kernels are here the masked
kernels (their diagonal is already 0). ``tr(K'L') = Σ_ij K'_ij L'_ji`` (the reference's
``sum(K̃ ∘ L̃ᵀ)``). Because the masks are not symmetric, ``1ᵀK'L'1 ≠ 1ᵀL'K'1`` in general:
CKNNA is **not symmetric** in ``(X, Y)`` (mutual k-NN and Jaccard are). Differences from the
reference, all deliberate: no ``+1e-6`` in the denominator (the self-HSIC terms are at most
about ``k/n``, so it shrinks the value by up to ~``10⁻⁶ n/k`` relative, 10⁻³ at ``n = 10⁴``,
``k = 10``; here a non-positive self-HSIC gives NaN and a :class:`RuntimeWarning`), no outlier clipping of the features (``measure_alignment.py``
clamps at the 0.95 quantile before normalising), float64 throughout, only the unbiased
variant. As in the reference, CKNNA needs ``k >= 2`` (and ``n >= 4``).

Every masked kernel has at most ``k`` non-zeros per row, so each term is a sum over the
``≤ n k`` stored entries (:func:`sparse_unbiased_hsic`): ``tr(K'L')`` pairs entry ``(i, j)``
with entry ``(j, i)``, ``1ᵀK'L'1 = Σ_l (Σ_i K'_il)(Σ_j L'_lj)`` (column sums of ``K'`` dotted
with row sums of ``L'``). Memory ``O(n k)``, exact; never ``n × n``.

Neighbours are exact float64 cosine sets from
:func:`~cebra_lens_core.metrics.neighbours.cosine_neighbours` (blocked queries, never
``n × n``), asked for ``k`` and ``k + 1`` (nested): the row's own index is dropped from the
``k + 1`` nearest, or, where it is not among them (more than ``k`` exact duplicates), the
first ``k`` are kept. Exact ties in float64 are broken arbitrarily (as any kNN tool does).
The reference codes exclude self differently but equivalently without duplicate rows:
platonic-rep sets the diagonal of ``K`` to a large negative value, ReSi drops the first of
sklearn's ``k + 1`` neighbours (with a duplicate row that may be the twin, leaving the row
itself in its own set; here it never is).

Sample cap: the ``T × T``-free neighbour search still costs ``O(n² d)`` time, so by default
``max_samples = 10_000`` rows are used: the same sorted rows
``sort(default_rng(seed).choice(T, max_samples, replace=False))`` for every layer
(:func:`neighbourhood_rows`), so layers stay paired and results are deterministic;
``max_samples=None`` uses all ``T`` rows. Lazy (zarr-backed) layers are read in chunks of
rows and only the chosen rows are kept (:func:`~cebra_lens_core.metrics.streaming.take_rows`);
NaN/inf in an in-memory layer is an error wherever it is, in a lazy layer wherever it is read.

Invariances (of the cosine kernel): orthogonal transforms of the units, isotropic scaling,
permutation of units. Not invariant to translation (adding a constant vector to every row
changes the angles) nor to general invertible linear maps.

References:
    Huh, Cheung, Wang, Isola (2024). The Platonic Representation Hypothesis. ICML.
    Klabunde, Wald, Schumacher, Strohmaier, Lemmerich (2025). ReSi: A comprehensive
    benchmark for representational similarity measures. ICLR.
    Song, Smola, Gretton, Bedo, Borgwardt (2012). Feature selection via dependence
    maximization. JMLR 13.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cebra_lens_core.metrics._validation import check_layer, check_layers, check_same_time
from cebra_lens_core.metrics.neighbours import WORKING_MEMORY_MIB, cosine_neighbours, unit_rows
from cebra_lens_core.metrics.streaming import DEFAULT_CHUNK_ROWS, take_rows

__all__ = [
    "CKNNA_MIN_K",
    "CKNNA_MIN_SAMPLES",
    "DEFAULT_K",
    "DEFAULT_MAX_SAMPLES",
    "MEASURES",
    "Neighbourhood",
    "cknna",
    "jaccard_knn",
    "layer_neighbourhood",
    "mutual_knn",
    "neighbourhood_measures",
    "neighbourhood_rows",
    "neighbourhood_similarity_matrix",
    "sparse_unbiased_hsic",
]

#: The measures of this module, in the order of :func:`neighbourhood_similarity_matrix`.
MEASURES: tuple[str, ...] = ("mutual_knn", "jaccard_knn", "cknna")
#: Neighbours per row (the reference code's ``topk`` default).
DEFAULT_K = 10
#: Rows used at most (the same seeded rows for every layer); ``None`` = all rows.
DEFAULT_MAX_SAMPLES = 10_000
#: CKNNA needs at least this many neighbours (the reference raises for ``topk < 2``).
CKNNA_MIN_K = 2
#: The unbiased HSIC divides by ``n(n − 3)``.
CKNNA_MIN_SAMPLES = 4


# --------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------


def _check_int(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_max_samples(max_samples: Any) -> int | None:
    if max_samples is None:
        return None
    return _check_int(max_samples, "max_samples", 1)


def _check_measures(measures: Any) -> tuple[str, ...]:
    if isinstance(measures, str | bytes):
        raise ValueError(
            f"measures must be a sequence of measure names, got the single string {measures!r}; "
            f"wrap it: ({measures!r},)"
        )
    out = tuple(dict.fromkeys(measures))
    if not out:
        raise ValueError(f"measures is empty; choose from {MEASURES}")
    unknown = [m for m in out if m not in MEASURES]
    if unknown:
        raise ValueError(f"unknown neighbourhood measure(s) {unknown}; valid: {MEASURES}")
    return out


def _check_k(k: Any, n_rows: int, measures: Sequence[str], n_time: int, cap: int | None) -> int:
    k = _check_int(k, "k", 1)
    if "cknna" in measures and k < CKNNA_MIN_K:
        raise ValueError(f"CKNNA needs k >= {CKNNA_MIN_K} neighbours (as the reference), got k={k}")
    if k >= n_rows:
        raise ValueError(
            f"k={k} must be smaller than the number of rows used (n={n_rows}: T={n_time}, "
            f"max_samples={cap}); each row has only n - 1 other rows"
        )
    if "cknna" in measures and n_rows < CKNNA_MIN_SAMPLES:
        raise ValueError(f"CKNNA needs at least {CKNNA_MIN_SAMPLES} rows, got n={n_rows}")
    return k


# --------------------------------------------------------------------------------------
# Rows and neighbour sets
# --------------------------------------------------------------------------------------


def neighbourhood_rows(n_total: int, max_samples: int | None, seed: int = 0) -> np.ndarray:
    """Sorted row indices used by the neighbourhood measures: all rows, or ``max_samples``.

    ``arange(n_total)`` when ``max_samples`` is ``None`` or ``>= n_total``; otherwise
    ``sort(np.random.default_rng(seed).choice(n_total, max_samples, replace=False))``:
    identical for identical ``(n_total, max_samples, seed)``, and the same rows are used
    for every layer so that layers stay paired.

    Raises:
        ValueError: ``n_total < 0`` or ``max_samples`` not ``None`` nor a positive integer.
    """
    n_total = _check_int(n_total, "n_total", 0)
    max_samples = _check_max_samples(max_samples)
    if max_samples is None or n_total <= max_samples:
        return np.arange(n_total, dtype=np.int64)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n_total, size=max_samples, replace=False)).astype(np.int64)


@dataclass(frozen=True)
class Neighbourhood:
    r"""The ``k`` cosine nearest neighbours of every used row of one layer.

    Attributes:
        rows: ``(n,)`` sorted time indices of the rows used (:func:`neighbourhood_rows`).
        indices: ``(n, k)`` int64; row ``i`` holds ``N(i)`` (positions ``0..n-1`` into
            ``rows``, never ``i`` itself), sorted ascending.
        similarity: ``(n, k)`` float64 cosine similarities ``K_ij = x̂_i · x̂_j`` of row ``i``
            to each of its neighbours, aligned with ``indices``.
    """

    rows: np.ndarray
    indices: np.ndarray
    similarity: np.ndarray

    @property
    def n(self) -> int:
        """Rows used."""
        return int(self.indices.shape[0])

    @property
    def k(self) -> int:
        """Neighbours per row."""
        return int(self.indices.shape[1])


def _drop_self(nearest: np.ndarray, k: int) -> np.ndarray:
    """``(n, k)`` from the nested ``k + 1`` nearest of every row: drop the row's own index,
    or the ``(k+1)``-th column where the row is not among them (ties with duplicates)."""
    n = nearest.shape[0]
    is_self = nearest == np.arange(n)[:, None]
    drop = np.where(is_self.any(axis=1), is_self.argmax(axis=1), k)
    keep = np.ones(nearest.shape, dtype=bool)
    keep[np.arange(n), drop] = False
    out = nearest[keep].reshape(n, k).astype(np.int64)
    out.sort(axis=1)
    return out


def _pair_similarities(
    units: np.ndarray, indices: np.ndarray, working_memory_mib: float
) -> np.ndarray:
    """``units[i] · units[indices[i, m]]`` for every row and neighbour, in row blocks."""
    n, k = indices.shape
    d = units.shape[1]
    block = max(1, int(working_memory_mib * 2**20) // (8 * k * max(1, d)))
    out = np.empty((n, k))
    for s in range(0, n, block):
        out[s : s + block] = np.einsum(
            "id,ikd->ik", units[s : s + block], units[indices[s : s + block]]
        )
    return out


def layer_neighbourhood(
    X: Any,
    k: int = DEFAULT_K,
    *,
    rows: np.ndarray | None = None,
    name: str = "X",
    chunk_size: int = DEFAULT_CHUNK_ROWS,
    working_memory_mib: float = WORKING_MEMORY_MIB,
) -> Neighbourhood:
    r"""Cosine k-NN of each used row of ``X`` among the other used rows (self excluded).

    ``N(i)`` = the ``k`` rows ``j ≠ i`` (of the rows used) of largest ``x̂_i · x̂_j`` (exact
    float64 sets, ties broken arbitrarily). Memory ``O(n d + n k)``; never ``n × n``.

    Args:
        X: ``(T, d)`` layer (numpy or lazy, read in chunks of ``chunk_size`` rows).
        k: neighbours per row, ``1 <= k < n``.
        rows: sorted time indices to use (default all ``T``).
        name: the layer's name in error messages.
        working_memory_mib: memory of one block of similarities in the search.

    Raises:
        ValueError: a bad layer (shape, dtype, NaN/inf in the rows read), bad ``rows`` or
            ``k`` outside ``[1, n − 1]``.
    """
    X = check_layer(X, name)
    n_time = int(X.shape[0])
    if rows is None:
        rows = np.arange(n_time, dtype=np.int64)
    rows = np.asarray(rows, dtype=np.int64)
    if rows.ndim != 1 or (rows.size and (rows[0] < 0 or rows[-1] >= n_time)):
        raise ValueError(f"rows must be 1-D time indices in [0, {n_time}) of {name}")
    if rows.size > 1 and not (np.diff(rows) > 0).all():
        raise ValueError("rows must be sorted and unique")
    k = _check_k(k, len(rows), (), n_time, None)
    return _search(X, k, rows, name, chunk_size, working_memory_mib)


def _search(
    X: Any, k: int, rows: np.ndarray, name: str, chunk_size: int, working_memory_mib: float
) -> Neighbourhood:
    """:func:`layer_neighbourhood` on checked arguments."""
    try:
        data = take_rows(X, rows, chunk_size)
    except ValueError as err:  # take_rows names the array "X": name the layer
        raise ValueError(f"{name} (rows read for the neighbourhood measures): {err}") from err
    units = unit_rows(data)
    del data
    nearest = cosine_neighbours(units, units, [k, k + 1], working_memory_mib=working_memory_mib)
    indices = _drop_self(nearest, k)
    similarity = _pair_similarities(units, indices, working_memory_mib)
    return Neighbourhood(rows=rows, indices=indices, similarity=similarity)


# --------------------------------------------------------------------------------------
# Measures from neighbour sets
# --------------------------------------------------------------------------------------


def _keys(nb: Neighbourhood) -> np.ndarray:
    """Flat keys ``i n + j`` of the entries ``(i, j ∈ N(i))``: sorted (rows sorted)."""
    return (np.arange(nb.n, dtype=np.int64)[:, None] * nb.n + nb.indices).ravel()


def sparse_unbiased_hsic(
    rows: np.ndarray,
    cols: np.ndarray,
    k_values: np.ndarray,
    l_values: np.ndarray,
    n_samples: int,
) -> float:
    r"""Unbiased HSIC (Song et al. 2012, eq. 5) of two ``n × n`` kernels with zero diagonal
    and a common sparsity pattern: ``K'_ij = k_values[e]``, ``L'_ij = l_values[e]`` at the
    entries ``e = (rows[e], cols[e])``, zero elsewhere (``K'``, ``L'`` need not be symmetric)::

        HSIC_u = [ Σ_ij K'_ij L'_ji + (Σ K')(Σ L') / ((n−1)(n−2))
                   − 2/(n−2) · Σ_l (Σ_i K'_il)(Σ_j L'_lj) ] / (n(n−3))

    ``O(nnz log nnz)`` time, ``O(nnz + n)`` memory. The entries must be unique, sorted by
    ``rows · n + cols`` and off the diagonal (what :func:`neighbourhood_measures` builds).
    """
    n = int(n_samples)
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    k_values = np.asarray(k_values, dtype=np.float64)
    l_values = np.asarray(l_values, dtype=np.float64)
    keys = rows * n + cols
    transposed = cols * n + rows
    pos = np.minimum(np.searchsorted(keys, transposed), max(len(keys) - 1, 0))
    match = keys[pos] == transposed if len(keys) else np.zeros(0, dtype=bool)
    trace = float(k_values[match] @ l_values[pos[match]])
    col_k = np.bincount(cols, weights=k_values, minlength=n)
    row_l = np.bincount(rows, weights=l_values, minlength=n)
    total = trace + k_values.sum() * l_values.sum() / ((n - 1) * (n - 2))
    total -= 2.0 * float(col_k @ row_l) / (n - 2)
    return total / (n * (n - 3))


def _self_hsic(nb: Neighbourhood) -> float:
    """``HSIC_u(α^{KK} ∘ K, α^{KK} ∘ K)`` of one layer."""
    rows = np.repeat(np.arange(nb.n, dtype=np.int64), nb.k)
    sim = nb.similarity.ravel()
    return sparse_unbiased_hsic(rows, nb.indices.ravel(), sim, sim, nb.n)


def _undefined_cknna(name: str) -> None:
    warnings.warn(
        f"{name}: non-positive self-HSIC of its masked kernel; CKNNA is undefined and "
        "reported as NaN",
        RuntimeWarning,
        stacklevel=3,
    )


def _cknna_value(cross: float, self_a: float, self_b: float, names: tuple[str, str]) -> float:
    ok = True
    for value, name in zip((self_a, self_b), names, strict=True):
        if not value > 0:
            _undefined_cknna(name)
            ok = False
    return cross / np.sqrt(self_a * self_b) if ok else float("nan")


def neighbourhood_measures(
    a: Neighbourhood,
    b: Neighbourhood,
    measures: Sequence[str] = MEASURES,
    *,
    self_hsic: tuple[float, float] | None = None,
    names: tuple[str, str] = ("X", "Y"),
) -> dict[str, float]:
    r"""The chosen measures between two layers' neighbour sets (module docstring formulas).

    With ``c_i = |N_X(i) ∩ N_Y(i)|``: ``mutual_knn = mean_i c_i / k``, ``jaccard_knn =
    mean_i c_i / (2k − c_i)``, ``cknna = HSIC_u(α∘K, α∘L) / sqrt(HSIC_u(α_KK∘K, α_KK∘K)
    HSIC_u(α_LL∘L, α_LL∘L))`` with ``α_ij = 1[j ∈ N_X(i) ∩ N_Y(i)]``. ``self_hsic``: the two
    self terms if already known (computed here otherwise).

    Raises:
        ValueError: the neighbourhoods use different rows or different ``k``; a bad measure.
    """
    measures = _check_measures(measures)
    if not np.array_equal(a.rows, b.rows):
        raise ValueError(f"{names[0]} and {names[1]} neighbourhoods use different rows")
    if a.k != b.k:
        raise ValueError(f"{names[0]} has k={a.k} neighbours but {names[1]} has k={b.k}")
    n, k = a.n, a.k
    if "cknna" in measures and (k < CKNNA_MIN_K or n < CKNNA_MIN_SAMPLES):
        raise ValueError(
            f"CKNNA needs k >= {CKNNA_MIN_K} and n >= {CKNNA_MIN_SAMPLES} rows, got k={k}, n={n}"
        )
    common, ia, ib = np.intersect1d(_keys(a), _keys(b), assume_unique=True, return_indices=True)
    rows = common // n
    counts = np.bincount(rows, minlength=n).astype(np.float64)
    out: dict[str, float] = {}
    if "mutual_knn" in measures:
        out["mutual_knn"] = float(np.mean(counts / k))
    if "jaccard_knn" in measures:
        out["jaccard_knn"] = float(np.mean(counts / (2 * k - counts)))
    if "cknna" in measures:
        cross = sparse_unbiased_hsic(
            rows, common - rows * n, a.similarity.ravel()[ia], b.similarity.ravel()[ib], n
        )
        self_a, self_b = self_hsic if self_hsic is not None else (_self_hsic(a), _self_hsic(b))
        out["cknna"] = float(_cknna_value(cross, self_a, self_b, names))
    return {m: out[m] for m in measures}


# --------------------------------------------------------------------------------------
# Layers -> matrices
# --------------------------------------------------------------------------------------


def neighbourhood_similarity_matrix(
    layers_a: Sequence[Any],
    layers_b: Sequence[Any] | None = None,
    *,
    measures: Sequence[str] = MEASURES,
    k: int = DEFAULT_K,
    max_samples: int | None = DEFAULT_MAX_SAMPLES,
    seed: int = 0,
    names_a: Sequence[str] | None = None,
    names_b: Sequence[str] | None = None,
    chunk_size: int = DEFAULT_CHUNK_ROWS,
    working_memory_mib: float = WORKING_MEMORY_MIB,
) -> dict[str, np.ndarray]:
    r"""Every neighbourhood measure between every layer of ``layers_a`` and of ``layers_b``.

    ``out[m][i, j] = m(layers_a[i], layers_b[j])`` (``L_a × L_b``; ``layers_b=None``: ``a``
    vs ``a``) on the rows :func:`neighbourhood_rows` ``(T, max_samples, seed)``, the same for
    every layer. Each layer's neighbour sets (and CKNNA self-HSIC) are computed once and
    reused for every pair (a layer passed twice as the same object counts once); one layer's
    rows are in memory at a time. ``mutual_knn`` and ``jaccard_knn`` are symmetric, ``cknna``
    in general is not (module docstring).

    Args:
        layers_a, layers_b: sequences of ``(T, d)`` layers (numpy or lazy), same ``T``.
        measures: names from :data:`MEASURES`.
        k: neighbours per row (``1 <= k < n``; ``>= 2`` for CKNNA).
        max_samples: rows used at most (``None``: all ``T``).
        seed: seed of the row subset.
        names_a, names_b: layer names for error messages and warnings.
        chunk_size: rows per read of a lazy layer.
        working_memory_mib: memory of one block of the neighbour search.

    Returns:
        ``{measure: (L_a, L_b) float64 array}`` in the order of ``measures``.

    Raises:
        ValueError: bad layers (shape, dtype, different ``T``, NaN/inf), bad ``k``,
            ``max_samples`` or ``measures`` — all but NaN/inf in a lazy layer before any
            neighbour search.
    """
    measures = _check_measures(measures)
    max_samples = _check_max_samples(max_samples)
    la = check_layers(layers_a, "layers_a", names_a or None)
    names_a = list(names_a) if names_a else [f"layers_a[{i}]" for i in range(len(la))]
    if layers_b is None:
        lb, names_b, extra, extra_names = la, names_a, [], []
    else:
        lb = check_layers(layers_b, "layers_b", names_b or None)
        names_b = list(names_b) if names_b else [f"layers_b[{j}]" for j in range(len(lb))]
        extra, extra_names = lb, names_b
    n_time = check_same_time(la + extra, names_a + extra_names)
    for layer, name in zip(la + extra, names_a + extra_names, strict=True):
        check_layer(layer, name)  # in-memory layers: NaN/inf anywhere, before the search
    rows = neighbourhood_rows(n_time, max_samples, seed)
    k = _check_k(k, len(rows), measures, n_time, max_samples)

    cache: dict[int, tuple[Neighbourhood, float]] = {}

    def prepared(layer: Any, name: str) -> tuple[Neighbourhood, float]:
        key = id(layer)
        if key not in cache:
            nb = _search(layer, k, rows, name, chunk_size, working_memory_mib)
            cache[key] = (nb, _self_hsic(nb) if "cknna" in measures else float("nan"))
        return cache[key]

    side_a = [prepared(layer, name) for layer, name in zip(la, names_a, strict=True)]
    side_b = [prepared(layer, name) for layer, name in zip(lb, names_b, strict=True)]
    out = {m: np.full((len(la), len(lb)), np.nan) for m in measures}
    for i, (nb_a, self_a) in enumerate(side_a):
        for j, (nb_b, self_b) in enumerate(side_b):
            values = neighbourhood_measures(
                nb_a, nb_b, measures, self_hsic=(self_a, self_b), names=(names_a[i], names_b[j])
            )
            for m, value in values.items():
                out[m][i, j] = value
    return out


def _pair(X: Any, Y: Any, measure: str, k: int, max_samples: int | None, seed: int) -> float:
    values = neighbourhood_similarity_matrix(
        [X],
        [Y],
        measures=(measure,),
        k=k,
        max_samples=max_samples,
        seed=seed,
        names_a=["X"],
        names_b=["Y"],
    )
    return float(values[measure][0, 0])


def mutual_knn(
    X: Any,
    Y: Any,
    *,
    k: int = DEFAULT_K,
    max_samples: int | None = DEFAULT_MAX_SAMPLES,
    seed: int = 0,
) -> float:
    r"""Mutual k-NN alignment (Huh et al. 2024): ``(1/n) Σ_i |N_X(i) ∩ N_Y(i)| / k``.

    Cosine neighbours among the other used rows (module docstring); ``1`` for layers with
    the same neighbour sets, ``k / (n − 1)`` expected for independent layers. See
    :func:`neighbourhood_similarity_matrix` for the arguments and errors.
    """
    return _pair(X, Y, "mutual_knn", k, max_samples, seed)


def jaccard_knn(
    X: Any,
    Y: Any,
    *,
    k: int = DEFAULT_K,
    max_samples: int | None = DEFAULT_MAX_SAMPLES,
    seed: int = 0,
) -> float:
    r"""Jaccard k-NN overlap (ReSi): ``(1/n) Σ_i |N_X(i) ∩ N_Y(i)| / |N_X(i) ∪ N_Y(i)|``.

    ``|N_X(i) ∪ N_Y(i)| = 2k − |N_X(i) ∩ N_Y(i)|``; cosine neighbours among the other used
    rows. See :func:`neighbourhood_similarity_matrix` for the arguments and errors.
    """
    return _pair(X, Y, "jaccard_knn", k, max_samples, seed)


def cknna(
    X: Any,
    Y: Any,
    *,
    k: int = DEFAULT_K,
    max_samples: int | None = DEFAULT_MAX_SAMPLES,
    seed: int = 0,
) -> float:
    r"""CKNNA (Huh et al. 2024): ``HSIC_u(α∘K, α∘L) / sqrt(HSIC_u(α_KK∘K, α_KK∘K)
    HSIC_u(α_LL∘L, α_LL∘L))``, ``α_ij = 1[i ≠ j, j ∈ N_X(i) ∩ N_Y(i)]``, cosine kernels,
    unbiased HSIC (module docstring). Not symmetric in ``(X, Y)`` in general; ``k >= 2``.
    NaN (with a :class:`RuntimeWarning`) when a self-HSIC is not positive.
    """
    return _pair(X, Y, "cknna", k, max_samples, seed)
