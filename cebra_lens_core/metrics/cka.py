r"""Centred kernel alignment (CKA) between layer activations.

Arrays are ``time × units`` (rows are samples, shared between the two layers). ``Xc`` and
``Yc`` denote column-centred copies, ``n = T`` the number of time points.

Linear CKA (Kornblith et al., 2019), computed in feature space — the ``T × T`` Gram
matrices are never formed::

    CKA(X, Y) = ||Yc^T Xc||_F^2 / (||Xc^T Xc||_F · ||Yc^T Yc||_F)

This equals the Gram-matrix definition ``HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L))`` with
``K = X X^T``, ``L = Y Y^T`` and ``HSIC(K, L) = tr(K H L H) / (n - 1)^2``,
``H = I - 11^T / n``, because ``H K H = Xc Xc^T`` and ``tr(Xc Xc^T Yc Yc^T) = ||Yc^T Xc||_F^2``.

Debiased CKA replaces the biased HSIC by the unbiased estimator of Song et al. (2012, eq. 5),
again in feature space (see :func:`debiased_hsic` for the derivation)::

    dHSIC(X, Y) ∝ ||Yc^T Xc||_F^2 − n/(n−2) · r_x^T r_y + s_x s_y / ((n−1)(n−2))
    dCKA(X, Y)  = dHSIC(X, Y) / sqrt(dHSIC(X, X) · dHSIC(Y, Y))

with ``r_x(t) = ||Xc[t]||^2`` the squared row norms and ``s_x = Σ_t r_x(t)``. It can be
negative and stays ≈ 0 for independent data even when ``T`` is not ≫ ``d`` (biased CKA of two
independent Gaussians with T=100, d=256 is ≈ 0.72).

RBF CKA needs ``T × T`` Gram matrices, so it is computed on at most ``max_samples`` rows
(subsampled without replacement with ``numpy.random.default_rng(seed)``, the same rows for
every layer); ``return_result=True`` reports the number of rows used.

Many layers at once (:func:`cka_matrix`): the centred layers are stacked into
``Z = [Xc_1 … Xc_L]`` (``T × Σd``) and ``G = Z^T Z`` is formed with one GEMM (a SYRK, as
``Z^T Z`` is symmetric), streamed over chunks of rows and accumulated in float64 (see
:func:`stacked_covariance`). Then ``CKA_ij = ||G_ij||_F^2 / (||G_ii||_F ||G_jj||_F)``.
Inputs can be numpy arrays or lazily indexable array-likes (``xarray.DataArray``, zarr
arrays): anything with ``.shape`` whose ``a[start:stop]`` converts with ``np.asarray``.

Devices: ``device=None`` (default) computes ``G`` with numpy (a float64 SYRK per chunk, the
fastest CPU path); ``device="cuda"`` (or ``"cpu"``, ``"auto"``; see
:mod:`cebra_lens_core.devices`) runs the same two passes with torch on that device, float64
accumulation, each chunk uploaded once and, on CUDA, kept on the GPU between the two passes
when the data fit in ``device_cache_bytes`` (the store is then read once).

Precision: all moments are accumulated in float64 from data that is centred *before* the
product (two passes: column means first, then centred cross-products). The one-pass
shortcut ``Σ z z^T − T μ μ^T`` cancels catastrophically when ``|μ| ≫ sd``: it loses about
``log10((|μ|/sd)^2)`` digits, i.e. 4 of float32's 7 at ``|μ|/sd = 100`` and all of them at
``10^4`` (8 of float64's 16).

Undefined cases: a layer with zero variance (all rows equal) has ``||G_ii||_F = 0``; its CKA
with anything is undefined and returned as NaN, with a :class:`RuntimeWarning` naming the
layer. The same holds for debiased CKA when ``dHSIC(X, X) <= 0`` (possible only for
degenerate data or tiny ``T``).

References:
    Kornblith, Norouzi, Lee, Hinton (2019). Similarity of neural network representations
    revisited. ICML.
    Song, Smola, Gretton, Bedo, Borgwardt (2012). Feature selection via dependence
    maximization. JMLR 13.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from cebra_lens_core.devices import torch_device
from cebra_lens_core.metrics._validation import check_finite, check_layers, check_same_time
from cebra_lens_core.metrics.streaming import storage_rows

__all__ = [
    "KINDS",
    "CKAKind",
    "CKAResult",
    "CKAMatrixResult",
    "StackedCovariance",
    "cka",
    "cka_matrix",
    "stacked_covariance",
    "cka_from_covariance",
    "linear_hsic",
    "debiased_hsic",
    "rbf_subsample_indices",
    "rbf_centred_gram",
    "median_pairwise_distance",
]

CKAKind = Literal["linear", "debiased", "rbf"]
KINDS: tuple[str, ...] = ("linear", "debiased", "rbf")
#: Minimum number of time points per kind (debiased needs n(n-3) > 0).
MIN_SAMPLES: dict[str, int] = {"linear": 2, "debiased": 4, "rbf": 2}
DEFAULT_CHUNK_SIZE = 65536
#: Cap on the float64 row buffer of the streamed GEMM (rows = min(chunk_size, this / (8 Σd))).
DEFAULT_MAX_CHUNK_BYTES = 256 * 2**20
#: RBF CKA uses at most this many time points (the same seeded rows for both layers); the
#: workflow's ``cka.rbf_max_samples`` default is this value (tests/pipeline/test_defaults.py)
DEFAULT_MAX_SAMPLES = 2000
#: Memory allowed for caching centred RBF Gram matrices in :func:`cka_matrix`.
DEFAULT_RBF_CACHE_BYTES = 2**30


# --------------------------------------------------------------------------------------
# Validation helpers
# --------------------------------------------------------------------------------------


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        valid = ", ".join(repr(k) for k in KINDS)
        raise ValueError(f"unknown CKA kind {kind!r}; valid kinds: {valid}")
    return kind


def _prepare(
    layers_a: Any,
    layers_b: Any | None,
    min_samples: int,
    names_a: Sequence[str] | None = None,
    names_b: Sequence[str] | None = None,
) -> tuple[list[Any], list[str], int, int]:
    """Validate both layer lists; return (all layers, names, La, T)."""
    la = check_layers(layers_a, "layers_a", names_a or None)
    names = list(names_a) if names_a else [f"layers_a[{i}]" for i in range(len(la))]
    lb = [] if layers_b is None else check_layers(layers_b, "layers_b", names_b or None)
    names += list(names_b) if names_b else [f"layers_b[{j}]" for j in range(len(lb))]
    layers = la + lb
    n_time = check_same_time(layers, names, min_samples)
    return layers, names, len(la), n_time


def _read_rows(layer: Any, start: int, stop: int) -> np.ndarray:
    """Rows ``start:stop`` of a numpy or lazy layer as a numpy array (no copy for numpy)."""
    return np.asarray(layer[start:stop])


def _check_finite_chunk(chunk: np.ndarray, chunk_sum: np.ndarray, name: str, start: int) -> None:
    """Raise if a chunk holds NaN/inf (detected cheaply through its float64 sum)."""
    if np.isfinite(chunk_sum).all():
        return
    check_finite(chunk, name, start)
    raise ValueError(f"{name} has values too large to sum in float64 (overflow)")


def _warn_undefined(names: Sequence[str], kind: str) -> None:
    for name in names:
        warnings.warn(
            f"{name} has zero variance (or non-positive {kind} self-HSIC): "
            "CKA is undefined and reported as NaN",
            RuntimeWarning,
            stacklevel=3,
        )


def _chunk_rows(
    chunk_size: int, max_chunk_bytes: int | None, width: int, layers: Sequence[Any] = ()
) -> int:
    """Rows per streamed chunk: ``min(chunk_size, max_chunk_bytes / (8 · width))``.

    If every layer is stored in the same on-disk row chunk ``c <= rows`` (zarr), ``rows`` is
    rounded down to a multiple of ``c`` so no storage chunk is decoded twice per pass.
    """
    if int(chunk_size) < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size}")
    rows = int(chunk_size)
    if max_chunk_bytes is not None:
        rows = min(rows, max(1, int(max_chunk_bytes) // (8 * width)))
    stored = {storage_rows(a) for a in layers}
    if len(stored) == 1 and (c := stored.pop()) is not None and c <= rows:
        rows = (rows // c) * c
    return rows


# --------------------------------------------------------------------------------------
# Streaming stacked covariance (linear / debiased)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class StackedCovariance:
    r"""Centred second moments of several layers stacked column-wise.

    With ``Z = [Xc_1 … Xc_L]`` (``T × D``, ``D = Σ d_i``, each layer centred with its own
    column means):

    Attributes:
        scatter: ``G = Z^T Z`` (``D × D``, float64, **not** divided by ``T``; symmetric).
            Block ``G_ij = Xc_i^T Xc_j`` is :meth:`block`.
        means: column means ``μ`` of the raw data (``D``, float64).
        offsets: block boundaries (``L + 1``): layer ``i`` is columns
            ``offsets[i]:offsets[i + 1]``.
        n_samples: ``T``.
        row_norm_products: ``P_ij = Σ_t r_i(t) r_j(t)`` with ``r_i(t) = ||Xc_i[t]||^2``
            (``L × L``), or ``None`` if not requested.
        row_norm_sums: ``s_i = Σ_t r_i(t)`` (``L``; equals ``tr(G_ii)``), or ``None``.

    The diagonal blocks give covariance matrices ``C_i = G_ii / (T − 1)``
    (:meth:`covariance`) and the participation ratio
    ``PR_i = tr(C_i)^2 / ||C_i||_F^2`` (:meth:`participation_ratio`), so dimensionality
    metrics can reuse the single pass made for CKA.
    """

    scatter: np.ndarray
    means: np.ndarray
    offsets: np.ndarray
    n_samples: int
    row_norm_products: np.ndarray | None = None
    row_norm_sums: np.ndarray | None = None

    @property
    def n_layers(self) -> int:
        """Number of stacked layers ``L``."""
        return len(self.offsets) - 1

    def _slice(self, i: int) -> slice:
        return slice(int(self.offsets[i]), int(self.offsets[i + 1]))

    def block(self, i: int, j: int | None = None) -> np.ndarray:
        """``G_ij = Xc_i^T Xc_j`` (a view; ``j`` defaults to ``i``)."""
        j = i if j is None else j
        return self.scatter[self._slice(i), self._slice(j)]

    def layer_means(self, i: int) -> np.ndarray:
        """Column means of layer ``i``."""
        return self.means[self._slice(i)]

    def participation_ratio(self, i: int) -> float:
        r"""``PR_i = tr(C_i)^2 / ||C_i||_F^2 = (Σ λ)^2 / Σ λ^2``; NaN for a constant layer.

        Scale-free, so ``G_ii`` is used directly.
        """
        g = self.block(i)
        denom = float(np.vdot(g, g))
        if denom <= 0.0:
            return float("nan")
        return float(np.trace(g)) ** 2 / denom


def _column_means(
    layers: Sequence[Any], names: Sequence[str], n_time: int, rows: int
) -> list[np.ndarray]:
    """Pass 1: float64 column means, summed relative to the first row (shifted sums).

    Subtracting a data point before summing keeps the partial sums at the scale of the
    spread rather than of the mean, and makes a constant column's mean exact. The same
    pass checks every value for NaN/inf, so bad input fails before the GEMM pass.
    """
    means = []
    for layer, name in zip(layers, names, strict=True):
        shift = np.asarray(_read_rows(layer, 0, 1), dtype=np.float64)[0]
        total = np.zeros_like(shift)
        for start in range(0, n_time, rows):
            chunk = _read_rows(layer, start, min(start + rows, n_time))
            s = np.sum(chunk - shift, axis=0, dtype=np.float64)
            _check_finite_chunk(chunk, s, name, start)
            total += s
        means.append(shift + total / n_time)
    return means


def stacked_covariance(
    layers: Sequence[Any],
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    max_chunk_bytes: int | None = DEFAULT_MAX_CHUNK_BYTES,
    row_norms: bool = False,
    gemm_dtype: Literal["float64", "float32"] = "float64",
    names: Sequence[str] | None = None,
    device: Any = None,
    device_cache_bytes: int | None = None,
) -> StackedCovariance:
    r"""Stream ``G = Z^T Z`` for the centred, column-stacked layers ``Z = [Xc_1 … Xc_L]``.

    Two passes over the rows, both in chunks of ``min(chunk_size, max_chunk_bytes / (8 D))``
    rows (``D = Σ d_i``; rounded down to a multiple of the on-disk row chunk when all layers
    are zarr arrays with the same time chunking, so no storage chunk is decoded twice):

    1. column means ``μ`` in float64 (:func:`_column_means`; also checks NaN/inf);
    2. for each chunk, convert to float64, subtract ``μ`` and add ``Zc^T Zc`` to ``G``
       (one SYRK per chunk; float64 accumulation). With ``row_norms=True`` the squared row
       norms ``r_i(t) = ||Xc_i[t]||^2`` of each chunk are formed (``R``, chunk × ``L``) and
       ``R^T R`` and ``Σ_t R`` are accumulated as well (needed by debiased CKA).

    Why two passes: the one-pass form ``G = Σ_t z z^T − T μ μ^T`` subtracts two numbers of
    size ``T |μ|^2`` to get one of size ``T sd^2``; with ``|μ| / sd = 10^4`` that loses 8
    digits in float64 and everything in float32. Centring first costs one extra read of
    the data (the mean pass: for in-memory arrays ≈ 10 % of the time, for a compressed zarr
    store on disk one decode pass), and the result is then as accurate as a float64
    computation on centred in-memory data, independently of the offset.

    Args:
        layers: sequence of ``(T, d_i)`` numpy arrays or lazy array-likes (``.shape`` and
            ``a[start:stop]``), all with the same ``T``.
        chunk_size: maximum rows per chunk (results do not depend on it beyond rounding).
        max_chunk_bytes: cap on the float64 chunk buffer (``rows · D · 8`` bytes);
            ``None`` for no cap.
        row_norms: also accumulate ``row_norm_products`` and ``row_norm_sums``.
        gemm_dtype: ``"float64"`` (default) or ``"float32"``: the product of each *centred*
            chunk is then taken in float32 (faster; relative error of ``G`` of order
            ``1e-7 · sqrt(rows)``) and still summed across chunks in float64.
        names: names for error messages (default ``layers[i]``).
        device: ``None`` (default): numpy (on the CPU the fastest path: a float64 SYRK).
            ``"cpu"``, ``"cuda"`` or ``"cuda:N"``: the same two passes with torch on that
            device — each chunk is uploaded once, centred there and ``G`` (and the row-norm
            moments) accumulated in float64 on the device; only the ``D × D`` result comes
            back. ``"auto"`` (alias ``"cuda_if_available"``): ``"cuda"`` when a GPU is
            available, else the numpy path.
        device_cache_bytes: torch path only: keep the uploaded chunks on the device between
            the mean pass and the product pass when all of them fit in this many bytes, so
            the layers are read once instead of twice. Default (``None``): 2 GiB on CUDA,
            0 (off: bounded host memory) on the CPU.

    Returns:
        :class:`StackedCovariance`. Memory: ``8 D^2`` bytes for ``G`` plus the chunk buffer.

    Raises:
        ValueError: non-2-D layer, different ``T``, NaN/inf values, bad ``chunk_size``.
    """
    if gemm_dtype not in ("float64", "float32"):
        raise ValueError(f"gemm_dtype must be 'float64' or 'float32', got {gemm_dtype!r}")
    layers = check_layers(layers, "layers", names)
    names = list(names) if names is not None else [f"layers[{i}]" for i in range(len(layers))]
    n_time = check_same_time(layers, names)
    widths = [int(a.shape[1]) for a in layers]
    offsets = np.concatenate([[0], np.cumsum(widths)]).astype(np.intp)
    width = int(offsets[-1])
    rows = _chunk_rows(chunk_size, max_chunk_bytes, width, layers)
    if isinstance(device, str) and device.lower() in ("auto", "cuda_if_available"):
        # deferred: torch, loaded only on this path
        import torch

        device = "cuda" if torch.cuda.is_available() else None  # no GPU: the numpy path
    if device is not None:
        return _stacked_covariance_torch(
            layers,
            names,
            offsets,
            n_time,
            rows,
            row_norms=row_norms,
            gemm_dtype=gemm_dtype,
            device=device,
            cache_bytes=device_cache_bytes,
        )

    mean = np.concatenate(_column_means(layers, names, n_time, rows))
    gram = np.zeros((width, width), dtype=np.float64)
    n_layers = len(layers)
    rr = np.zeros((n_layers, n_layers), dtype=np.float64) if row_norms else None
    rs = np.zeros(n_layers, dtype=np.float64) if row_norms else None
    buf = np.empty((min(rows, n_time), width), dtype=np.float64)
    buf32 = np.empty(buf.shape, dtype=np.float32) if gemm_dtype == "float32" else None

    for start in range(0, n_time, rows):
        stop = min(start + rows, n_time)
        z = buf[: stop - start]
        for layer, lo, hi in zip(layers, offsets[:-1], offsets[1:], strict=True):
            z[:, lo:hi] = _read_rows(layer, start, stop)
        z -= mean
        if buf32 is None:
            gram += z.T @ z  # same buffer transposed: numpy dispatches to SYRK
        else:
            z32 = buf32[: stop - start]
            z32[...] = z
            gram += z32.T @ z32
        if rr is not None:
            np.square(z, out=z)
            r = np.add.reduceat(z, offsets[:-1], axis=1)  # (rows, L) squared row norms
            rr += r.T @ r
            rs += r.sum(axis=0)
    return StackedCovariance(
        scatter=gram,
        means=mean,
        offsets=offsets,
        n_samples=n_time,
        row_norm_products=rr,
        row_norm_sums=rs,
    )


#: Default of ``device_cache_bytes`` on CUDA (chunks kept on the GPU between the two passes).
DEFAULT_DEVICE_CACHE_BYTES = 2 * 2**30


def _stacked_covariance_torch(
    layers: Sequence[Any],
    names: Sequence[str],
    offsets: np.ndarray,
    n_time: int,
    rows: int,
    *,
    row_norms: bool,
    gemm_dtype: str,
    device: Any,
    cache_bytes: int | None,
) -> StackedCovariance:
    """The two passes of :func:`stacked_covariance` with torch on ``device`` (float64 sums)."""
    # deferred: torch, loaded only on this path
    import torch

    dev = torch_device(device)
    width = int(offsets[-1])
    n_layers = len(layers)
    dtypes = {np.dtype(getattr(a, "dtype", np.float64)) for a in layers}
    host_dtype = np.float32 if dtypes == {np.dtype(np.float32)} else np.float64
    if cache_bytes is None:
        cache_bytes = DEFAULT_DEVICE_CACHE_BYTES if dev.type == "cuda" else 0
    itemsize = np.dtype(host_dtype).itemsize
    caching = n_time * width * itemsize <= int(cache_bytes)
    buf = np.empty((min(rows, n_time), width), dtype=host_dtype)
    pinned = dev.type == "cuda"

    def upload(start: int, stop: int) -> Any:
        z = buf[: stop - start]
        for layer, lo, hi in zip(layers, offsets[:-1], offsets[1:], strict=True):
            z[:, lo:hi] = _read_rows(layer, start, stop)
        t = torch.from_numpy(z)
        if pinned:
            t = t.pin_memory()
        return t.to(dev, non_blocking=pinned, copy=True)

    f64 = torch.float64
    shift = torch.from_numpy(
        np.concatenate([np.asarray(_read_rows(a, 0, 1), dtype=np.float64)[0] for a in layers])
    ).to(dev)
    total = torch.zeros(width, dtype=f64, device=dev)
    cache: list[Any] = []
    for start in range(0, n_time, rows):
        stop = min(start + rows, n_time)
        chunk = upload(start, stop)
        part = (chunk.to(f64) - shift).sum(dim=0)
        if not bool(torch.isfinite(part).all()):
            host = chunk.cpu().numpy()
            for layer_name, lo, hi in zip(names, offsets[:-1], offsets[1:], strict=True):
                _check_finite_chunk(host[:, lo:hi], part[lo:hi].cpu().numpy(), layer_name, start)
        total += part
        if caching:
            cache.append(chunk)
    mean = shift + total / n_time

    gram = torch.zeros((width, width), dtype=f64, device=dev)
    rr = torch.zeros((n_layers, n_layers), dtype=f64, device=dev) if row_norms else None
    rs = torch.zeros(n_layers, dtype=f64, device=dev) if row_norms else None
    for k, start in enumerate(range(0, n_time, rows)):
        stop = min(start + rows, n_time)
        chunk = cache[k] if caching else upload(start, stop)
        z = chunk.to(f64) - mean
        if caching:
            cache[k] = None  # free device memory as we go
        if gemm_dtype == "float32":
            z32 = z.to(torch.float32)
            gram += (z32.T @ z32).to(f64)
        else:
            gram.addmm_(z.T, z)
        if rr is not None and rs is not None:
            sq = z.square_()
            r = torch.stack(
                [sq[:, lo:hi].sum(dim=1) for lo, hi in zip(offsets[:-1], offsets[1:], strict=True)],
                dim=1,
            )
            rr.addmm_(r.T, r)
            rs += r.sum(dim=0)
    return StackedCovariance(
        scatter=gram.cpu().numpy(),
        means=mean.cpu().numpy(),
        offsets=offsets,
        n_samples=n_time,
        row_norm_products=None if rr is None else rr.cpu().numpy(),
        row_norm_sums=None if rs is None else rs.cpu().numpy(),
    )


def _block_sq_norms(gram: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """``F_ij = ||G_ij||_F^2`` for all blocks (``L × L``, exactly symmetric)."""
    sq = np.square(gram)
    f = np.add.reduceat(np.add.reduceat(sq, offsets[:-1], axis=0), offsets[:-1], axis=1)
    return 0.5 * (f + f.T)


def linear_hsic(cov: StackedCovariance) -> np.ndarray:
    r"""Biased linear HSIC up to the factor ``1/(n−1)^2``: ``||G_ij||_F^2`` (``L × L``)."""
    return _block_sq_norms(cov.scatter, cov.offsets)


def debiased_hsic(cov: StackedCovariance) -> np.ndarray:
    r"""Unbiased linear HSIC (Song et al. 2012) up to the factor ``1/(n(n−3))`` (``L × L``).

    Derivation. Song et al. (2012, eq. 5), with ``K̃``, ``L̃`` the Gram matrices with zeroed
    diagonals::

        n(n−3) HSIC_1 = tr(K̃ L̃) + (1^T K̃ 1)(1^T L̃ 1) / ((n−1)(n−2)) − 2/(n−2) · 1^T K̃ L̃ 1

    Take the linear kernels of the centred data, ``K = Xc Xc^T`` and ``L = Yc Yc^T``.
    Then ``K̃ = K − diag(r_x)`` with ``r_x = diag(K)`` the squared row norms, and
    ``K 1 = 0`` because the columns of ``Xc`` sum to zero. Hence ``K̃ 1 = −r_x``,
    ``1^T K̃ 1 = −s_x``, ``1^T K̃ L̃ 1 = r_x^T r_y`` and
    ``tr(K̃ L̃) = tr(K L) − 2 r_x^T r_y + r_x^T r_y = ||Yc^T Xc||_F^2 − r_x^T r_y``, so::

        n(n−3) HSIC_1 = ||Yc^T Xc||_F^2 − n/(n−2) · r_x^T r_y + s_x s_y / ((n−1)(n−2))

    since ``1 + 2/(n−2) = n/(n−2)``. The U-statistic is invariant to adding a constant
    row vector to ``X`` (its kernel combines ``k_ij + k_qr − k_iq − k_jr``, in which the
    shift cancels), so using the centred data changes nothing but makes ``K 1 = 0`` and the
    feature-space form possible. Verified against the ``T × T`` formula in the tests.
    """
    if cov.row_norm_products is None or cov.row_norm_sums is None:
        raise ValueError("debiased HSIC needs stacked_covariance(..., row_norms=True)")
    n = cov.n_samples
    if n < MIN_SAMPLES["debiased"]:
        raise ValueError(f"debiased CKA needs at least 4 time points (rows), got {n}")
    s = cov.row_norm_sums
    h = (
        _block_sq_norms(cov.scatter, cov.offsets)
        - (n / (n - 2.0)) * cov.row_norm_products
        + np.outer(s, s) / ((n - 1.0) * (n - 2.0))
    )
    return 0.5 * (h + h.T)


def _normalise_hsic(hsic: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``hsic_ij / sqrt(hsic_ii hsic_jj)``; NaN where a self-term is ``<= 0``. Returns (cka, ok)."""
    self_terms = np.diag(hsic).copy()
    ok = self_terms > 0.0
    safe = np.where(ok, self_terms, 1.0)
    norm = np.sqrt(safe)
    out = hsic / np.outer(norm, norm)
    out[~ok, :] = np.nan
    out[:, ~ok] = np.nan
    idx = np.flatnonzero(ok)
    out[idx, idx] = 1.0
    return out, ok


def cka_from_covariance(
    cov: StackedCovariance,
    kind: Literal["linear", "debiased"] = "linear",
    rows: Sequence[int] | slice | None = None,
    cols: Sequence[int] | slice | None = None,
) -> np.ndarray:
    """CKA between the stacked layers of ``cov`` (``L × L``, or the ``rows × cols`` part).

    ``CKA_ij = ||G_ij||_F^2 / (||G_ii||_F ||G_jj||_F)`` (linear) or the debiased analogue
    (:func:`debiased_hsic`). The full matrix is symmetric with unit diagonal; entries of a
    zero-variance layer are NaN.
    """
    kind = _check_kind(kind)
    if kind == "rbf":
        raise ValueError("RBF CKA cannot be computed from covariances; use cka_matrix(kind='rbf')")
    hsic = linear_hsic(cov) if kind == "linear" else debiased_hsic(cov)
    out, _ = _normalise_hsic(hsic)
    rows = slice(None) if rows is None else rows
    cols = slice(None) if cols is None else cols
    return out[np.ix_(np.arange(cov.n_layers)[rows], np.arange(cov.n_layers)[cols])]


# --------------------------------------------------------------------------------------
# RBF
# --------------------------------------------------------------------------------------


def rbf_subsample_indices(n_total: int, max_samples: int, seed: int = 0) -> np.ndarray:
    """Sorted row indices used by RBF CKA: all rows, or ``max_samples`` of them.

    Drawn without replacement with ``np.random.default_rng(seed).choice``; identical for
    identical ``(n_total, max_samples, seed)``.
    """
    if n_total <= max_samples:
        return np.arange(n_total)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n_total, size=max_samples, replace=False))


def _take_rows(layer: Any, idx: np.ndarray, n_time: int, rows: int) -> np.ndarray:
    """``layer[idx]`` as float64 for sorted ``idx``; lazy layers are read in row chunks."""
    if isinstance(layer, np.ndarray):
        return np.asarray(layer[idx] if len(idx) < n_time else layer, dtype=np.float64)
    parts = []
    for start in range(int(idx[0]), int(idx[-1]) + 1, rows):
        stop = min(start + rows, n_time)
        lo, hi = np.searchsorted(idx, [start, stop])
        if hi > lo:
            chunk = _read_rows(layer, start, stop)
            parts.append(np.asarray(chunk[idx[lo:hi] - start], dtype=np.float64))
    return np.concatenate(parts, axis=0)


def _squared_distances(x: np.ndarray) -> np.ndarray:
    """Pairwise squared Euclidean distances (``n × n``), from centred ``x``, zero diagonal."""
    xc = x - x.mean(axis=0)
    r = np.einsum("ij,ij->i", xc, xc)
    sq = xc @ xc.T
    sq *= -2.0
    sq += r[:, None]
    sq += r[None, :]
    np.maximum(sq, 0.0, out=sq)
    np.fill_diagonal(sq, 0.0)
    return sq


def median_pairwise_distance(sq: np.ndarray) -> float:
    """Median of ``||x_i − x_j||`` over pairs ``i < j``, given squared distances ``sq``.

    If that median is 0 (more than half of the rows coincide) the median of the non-zero
    distances is returned; 0 only if all rows are equal.
    """
    n = sq.shape[0]
    iu = np.empty(n * (n - 1) // 2, dtype=np.float64)
    pos = 0
    for i in range(n - 1):
        iu[pos : pos + n - i - 1] = sq[i, i + 1 :]
        pos += n - i - 1
    np.sqrt(iu, out=iu)
    med = float(np.median(iu, overwrite_input=True))
    if med == 0.0:
        nonzero = iu[iu > 0.0]
        med = float(np.median(nonzero)) if nonzero.size else 0.0
    return med


def rbf_centred_gram(x: np.ndarray, sigma: float | None = None) -> tuple[np.ndarray, float]:
    r"""Centred RBF Gram matrix ``H K H`` with ``K_ij = exp(−||x_i − x_j||^2 / (2 σ^2))``.

    Args:
        x: ``(n, d)`` float64 rows.
        sigma: kernel width; ``None`` uses the median heuristic
            ``σ = median_{i<j} ||x_i − x_j||`` (:func:`median_pairwise_distance`).

    Returns:
        ``(H K H, σ)``. For a constant layer (all distances 0) ``K`` is all ones and the
        centred Gram is 0; ``σ`` is then reported as 0.
    """
    sq = _squared_distances(x)
    if sigma is None:
        sigma = median_pairwise_distance(sq)
    sigma = float(sigma)
    if sigma == 0.0:  # all rows equal: K = 1, H K H = 0
        sq[...] = 0.0
        return sq, sigma
    sq *= -1.0 / (2.0 * sigma * sigma)
    k = np.exp(sq, out=sq)
    m = k.mean(axis=0)  # K symmetric: row means == column means
    k -= m[:, None]
    k -= m[None, :]
    k += m.mean()
    return k, sigma


@dataclass(frozen=True)
class CKAResult:
    """A CKA value with how it was obtained.

    Attributes:
        value: the CKA (NaN if undefined).
        kind: ``"linear"``, ``"debiased"`` or ``"rbf"``.
        n_samples: rows that entered the computation (``< n_total`` if subsampled).
        n_total: rows of the input.
        subsampled: whether rows were subsampled (RBF with ``n_total > max_samples``).
        seed: seed of the subsampling (``None`` if none took place).
        sigma_x, sigma_y: RBF kernel widths (``None`` for linear kinds).
    """

    value: float
    kind: str
    n_samples: int
    n_total: int
    subsampled: bool = False
    seed: int | None = None
    sigma_x: float | None = None
    sigma_y: float | None = None


@dataclass(frozen=True, eq=False)
class CKAMatrixResult:
    """A CKA matrix (``La × Lb``) with how it was obtained (see :class:`CKAResult`).

    ``sigmas_a`` / ``sigmas_b`` hold the RBF widths per layer (``None`` for linear kinds;
    ``sigmas_b`` is ``None`` when ``layers_b`` was not given).
    """

    values: np.ndarray
    kind: str
    n_samples: int
    n_total: int
    subsampled: bool = False
    seed: int | None = None
    sigmas_a: np.ndarray | None = None
    sigmas_b: np.ndarray | None = None


def _rbf_matrix(
    layers: Sequence[Any],
    names: Sequence[str],
    n_a: int,
    cross: bool,
    n_time: int,
    *,
    rbf_sigma: float | None,
    max_samples: int,
    seed: int,
    rows: int,
    cache_bytes: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """RBF CKA on shared subsampled rows. Returns (values, idx, sigmas, undefined names)."""
    idx = rbf_subsample_indices(n_time, max_samples, seed)
    n = len(idx)
    data = []
    for layer, name in zip(layers, names, strict=True):
        x = _take_rows(layer, idx, n_time, rows)
        if not np.isfinite(x).all():
            raise ValueError(f"{name} contains NaN or inf values (in the rows used for RBF CKA)")
        data.append(x)
    capacity = max(1, int(cache_bytes) // (8 * n * n))
    cache: dict[int, np.ndarray] = {}
    sigmas = np.full(len(layers), np.nan)
    norms = np.full(len(layers), np.nan)

    def gram(i: int) -> np.ndarray:
        if i in cache:
            return cache[i]
        k, sigmas[i] = rbf_centred_gram(data[i], rbf_sigma)
        norms[i] = math.sqrt(float(np.vdot(k, k)))
        if len(cache) < capacity:
            cache[i] = k
        return k

    row_ids = list(range(n_a))
    col_ids = list(range(n_a, len(layers))) if cross else row_ids
    values = np.full((len(row_ids), len(col_ids)), np.nan)
    for a, i in enumerate(row_ids):
        ki = gram(i)
        for b, j in enumerate(col_ids):
            if not cross and j < i:
                continue
            kj = ki if i == j else gram(j)
            if norms[i] > 0 and norms[j] > 0:
                values[a, b] = 1.0 if i == j else float(np.vdot(ki, kj)) / (norms[i] * norms[j])
            if not cross:
                values[b, a] = values[a, b]
    bad = [names[i] for i in range(len(layers)) if not norms[i] > 0]
    return values, idx, sigmas, bad


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------


def cka_matrix(
    layers_a: Sequence[Any],
    layers_b: Sequence[Any] | None = None,
    kind: CKAKind = "linear",
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    max_chunk_bytes: int | None = DEFAULT_MAX_CHUNK_BYTES,
    gemm_dtype: Literal["float64", "float32"] = "float64",
    rbf_sigma: float | None = None,
    max_samples: int = DEFAULT_MAX_SAMPLES,
    seed: int = 0,
    rbf_cache_bytes: int = DEFAULT_RBF_CACHE_BYTES,
    device: Any = None,
    device_cache_bytes: int | None = None,
    names_a: Sequence[str] | None = None,
    names_b: Sequence[str] | None = None,
    return_result: bool = False,
) -> np.ndarray | CKAMatrixResult:
    """Pairwise CKA between layers: ``(La, La)`` within ``layers_a`` or ``(La, Lb)`` across.

    Linear/debiased: all layers (``layers_a`` and, if given, ``layers_b``) are centred and
    stacked into one ``Z`` and ``G = Z^T Z`` is streamed over row chunks in float64
    (:func:`stacked_covariance`); ``CKA_ij = ||G_ij||_F^2 / (||G_ii||_F ||G_jj||_F)``
    (:func:`cka_from_covariance`). Cost ``O(T (Σd)^2)`` time, ``O((Σd)^2 + rows · Σd)``
    memory; never ``T^2``. RBF: one seeded subsample of at most ``max_samples`` rows shared
    by all layers, then centred Gram matrices per layer (``8 n^2`` bytes each, cached up to
    ``rbf_cache_bytes``, recomputed otherwise) compared pairwise.

    Args:
        layers_a: sequence of ``(T, d_i)`` arrays: numpy arrays or lazy array-likes
            (``xarray.DataArray``, zarr arrays; anything with ``.shape`` and row slicing).
        layers_b: optional second sequence with the same ``T``; then the cross block
            ``CKA(layers_a[i], layers_b[j])`` is returned.
        kind: ``"linear"``, ``"debiased"`` or ``"rbf"``.
        chunk_size: maximum rows read per chunk.
        max_chunk_bytes: cap on the float64 chunk buffer (``rows · Σd · 8`` bytes).
        gemm_dtype: ``"float64"`` (default) or ``"float32"`` for the per-chunk product of the
            centred data (float64 accumulation across chunks either way).
        rbf_sigma: RBF width for every layer; ``None``: per-layer median pairwise distance.
        max_samples: RBF only: maximum rows used (subsampled beyond).
        seed: RBF only: seed of the subsample.
        rbf_cache_bytes: RBF only: memory for caching centred Gram matrices.
        device: linear/debiased only: ``None`` (default) computes ``G`` with numpy;
            ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"`` with torch on that device,
            float64 accumulation, data uploaded once per chunk (see
            :func:`stacked_covariance`). RBF always runs with numpy.
        device_cache_bytes: see :func:`stacked_covariance`.
        names_a, names_b: names of the layers in error messages and warnings (default
            ``layers_a[i]`` / ``layers_b[j]``).
        return_result: return a :class:`CKAMatrixResult` (the values with the rows used,
            whether they were subsampled, the RBF widths) instead of the bare array.

    Returns:
        float64 array (or :class:`CKAMatrixResult`). Within one list: symmetric with unit
        diagonal. Rows/columns of a zero-variance layer are NaN (with a
        :class:`RuntimeWarning`).

    Raises:
        ValueError: unknown ``kind``; a layer that is not 2-D, has a different ``T``
            (named), holds NaN/inf (named); fewer than 2 (linear, rbf) / 4 (debiased) rows.
        TypeError: a single array passed instead of a sequence of layers.
    """
    kind = _check_kind(kind)
    if kind == "rbf":
        if int(max_samples) < MIN_SAMPLES["rbf"]:
            raise ValueError(f"max_samples must be at least 2, got {max_samples}")
        if rbf_sigma is not None and not (np.isfinite(rbf_sigma) and rbf_sigma > 0):
            raise ValueError(f"rbf_sigma must be a positive finite number or None, got {rbf_sigma}")
    layers, names, n_a, n_time = _prepare(layers_a, layers_b, MIN_SAMPLES[kind], names_a, names_b)
    cross = layers_b is not None
    width = sum(int(a.shape[1]) for a in layers)

    if kind == "rbf":
        rows = _chunk_rows(chunk_size, max_chunk_bytes, width, layers)
        values, idx, sigmas, bad = _rbf_matrix(
            layers,
            names,
            n_a,
            cross,
            n_time,
            rbf_sigma=rbf_sigma,
            max_samples=int(max_samples),
            seed=seed,
            rows=rows,
            cache_bytes=rbf_cache_bytes,
        )
        if bad:
            _warn_undefined(bad, kind)
        subsampled = len(idx) < n_time
        result = CKAMatrixResult(
            values=values,
            kind=kind,
            n_samples=len(idx),
            n_total=n_time,
            subsampled=subsampled,
            seed=seed if subsampled else None,
            sigmas_a=sigmas[:n_a],
            sigmas_b=sigmas[n_a:] if cross else None,
        )
        return result if return_result else result.values

    cov = stacked_covariance(
        layers,
        chunk_size=chunk_size,
        max_chunk_bytes=max_chunk_bytes,
        row_norms=kind == "debiased",
        gemm_dtype=gemm_dtype,
        names=names,
        device=device,
        device_cache_bytes=device_cache_bytes,
    )
    hsic = linear_hsic(cov) if kind == "linear" else debiased_hsic(cov)
    full, ok = _normalise_hsic(hsic)
    if not ok.all():
        _warn_undefined([names[i] for i in np.flatnonzero(~ok)], kind)
    values = full[:n_a, n_a:] if cross else full
    result = CKAMatrixResult(values=values.copy(), kind=kind, n_samples=n_time, n_total=n_time)
    return result if return_result else result.values


def cka(
    X: Any,
    Y: Any,
    kind: CKAKind = "linear",
    *,
    rbf_sigma: float | None = None,
    max_samples: int = DEFAULT_MAX_SAMPLES,
    seed: int = 0,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    max_chunk_bytes: int | None = DEFAULT_MAX_CHUNK_BYTES,
    gemm_dtype: Literal["float64", "float32"] = "float64",
    device: Any = None,
    return_result: bool = False,
) -> float | CKAResult:
    r"""Centred kernel alignment between two layers ``X`` (``T × d1``) and ``Y`` (``T × d2``).

    - ``"linear"``: ``||Yc^T Xc||_F^2 / (||Xc^T Xc||_F ||Yc^T Yc||_F)``, in ``[0, 1]``.
    - ``"debiased"``: linear CKA with the unbiased HSIC estimator (:func:`debiased_hsic`);
      can be negative, ≈ 0 for independent data. Needs ``T >= 4``.
    - ``"rbf"``: ``<HKH, HLH>_F / (||HKH||_F ||HLH||_F)`` with Gaussian kernels
      ``exp(−||x_i − x_j||^2 / (2σ^2))``; ``σ = rbf_sigma`` or, if ``None``, the median
      pairwise Euclidean distance of each layer (over ``i < j``). Uses at most
      ``max_samples`` rows (the same seeded subsample for ``X`` and ``Y``); use
      ``return_result=True`` to learn how many.

    Invariant to orthogonal transforms, isotropic scaling and constant offsets of either
    input. Rows are paired: row ``t`` of ``X`` and ``Y`` is the same time point.

    Args:
        X, Y: numpy arrays or lazy array-likes with ``.shape`` and row slicing.
        kind: ``"linear"`` (default), ``"debiased"`` or ``"rbf"``.
        rbf_sigma, max_samples, seed: RBF options (see above).
        chunk_size, max_chunk_bytes, gemm_dtype, device: streaming options (see
            :func:`stacked_covariance`).
        return_result: return a :class:`CKAResult` (the value with the rows used, whether
            they were subsampled, the RBF widths) instead of the bare float.

    Returns:
        The CKA as a Python float (or :class:`CKAResult`); NaN (with a
        :class:`RuntimeWarning`) if either input has zero variance.

    Raises:
        ValueError: see :func:`cka_matrix`.
    """
    res = cka_matrix(
        [X],
        [Y],
        kind,
        chunk_size=chunk_size,
        max_chunk_bytes=max_chunk_bytes,
        gemm_dtype=gemm_dtype,
        rbf_sigma=rbf_sigma,
        max_samples=max_samples,
        seed=seed,
        names_a=["X"],
        names_b=["Y"],
        device=device,
        return_result=True,
    )
    if not return_result:
        return float(res.values[0, 0])
    sig_a, sig_b = res.sigmas_a, res.sigmas_b
    return CKAResult(
        value=float(res.values[0, 0]),
        kind=res.kind,
        n_samples=res.n_samples,
        n_total=res.n_total,
        subsampled=res.subsampled,
        seed=res.seed,
        sigma_x=None if sig_a is None else float(sig_a[0]),
        sigma_y=None if sig_b is None else float(sig_b[0]),
    )
