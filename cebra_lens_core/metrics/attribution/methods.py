"""Attribution maps of an encoder: the Jacobian and its pseudo-inverses (float64, CEBRA's
``cebra.attribution``) and captum's gradient, ablation, integrated-gradients and SHAP
methods, in mini-batches over sampled time bins (definitions in
:mod:`cebra_lens_core.metrics.attribution`)."""

from __future__ import annotations

import copy
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from cebra_lens_core.devices import torch_device
from cebra_lens_core.metrics._validation import check_activations

#: Every attribution method, in computation order.
METHODS: tuple[str, ...] = (
    "jacobian",
    "jacobian_inv_lsq",
    "jacobian_inv_svd",
    "neuron_gradient",
    "feature_ablation",
    "integrated_gradients",
    "gradient_shap",
)
#: Methods computed by default (``neuron_gradient`` repeats ``jacobian`` through captum).
DEFAULT_METHODS: tuple[str, ...] = tuple(m for m in METHODS if m != "neuron_gradient")
#: Methods that need the float64 Jacobian.
JACOBIAN_METHODS: tuple[str, ...] = ("jacobian", "jacobian_inv_lsq", "jacobian_inv_svd")
#: Pseudo-inverse methods (Moore–Penrose conditions are checked for them).
INVERSE_METHODS: tuple[str, ...] = ("jacobian_inv_lsq", "jacobian_inv_svd")
#: Names of the four Moore–Penrose conditions, in order.
MOORE_PENROSE_CONDITIONS: tuple[str, ...] = ("JGJ=J", "GJG=G", "(JG)^T=JG", "(GJ)^T=GJ")

_INSTALL_HINT = (
    "attribution needs the optional dependencies cvxpy and captum "
    "(`import cebra.attribution` imports cvxpy); install them with "
    "`pip install 'cebra_lens_core[attribution]'`"
)


def import_cebra_attribution():
    """Import and return ``cebra.attribution``.

    Raises:
        ImportError: naming the ``attribution`` extra when ``cvxpy`` or ``captum`` is missing.
    """
    try:
        # deferred: cebra (imports torch), loaded only on this path
        import cebra.attribution as cebra_attribution
    except ImportError as error:  # cvxpy (module level in cebra) or captum
        raise ImportError(f"{_INSTALL_HINT} ({error})") from error
    return cebra_attribution


# --------------------------------------------------------------------------- result


@dataclass
class AttributionResult:
    """Attribution maps of one encoder on one session.

    Attributes:
        maps: ``"<method>"`` -> ``(K, N)`` mean over samples of ``|a(x)|``, and
            ``"<method>_signed"`` -> ``(K, N)`` mean of ``a(x)``; ``K`` is the output
            dimension (``D``, or the read-out's columns), ``N`` the number of neurons.
        neuron_norms: ``"<method>"`` -> ``(N,)`` mean over samples of the Euclidean norm
            of column ``n`` of ``a(x)`` (invariant to orthogonal transforms of the output).
        sample_indices: ``(n,)`` int64 embedding rows (time bins) used, sorted.
        timings: ``"<method>"`` -> seconds (summed over batches). The inverse methods
            exclude the Jacobian they start from (``timings["jacobian"]``, present
            whenever a Jacobian method ran).
        moore_penrose: ``"<inverse method>"`` -> ``{"fraction": share of samples meeting
            all four conditions, "fraction_per_condition": [4 shares], "tolerance": tol}``.
        batch_sizes: number of samples in each mini-batch.
        info: window, offsets, output, dtype and every parameter used.
    """

    maps: dict[str, np.ndarray]
    neuron_norms: dict[str, np.ndarray]
    sample_indices: np.ndarray
    timings: dict[str, float]
    moore_penrose: dict[str, dict[str, Any]] = field(default_factory=dict)
    batch_sizes: list[int] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def methods(self) -> list[str]:
        return [m for m in self.maps if not m.endswith("_signed")]

    @property
    def n_samples(self) -> int:
        return int(self.sample_indices.size)


# --------------------------------------------------------------------------- encoder handling


class _Output(nn.Module):
    """Plain ``nn.Module`` view of an encoder, optionally followed by ``f(x) @ readout``.

    Not a ``cebra.models.ConvolutionalModelMixin``, so CEBRA's attribution classes take the
    windows given to them as they are instead of re-windowing a time series.
    """

    def __init__(self, encoder: nn.Module, readout: torch.Tensor | None):
        super().__init__()
        self.encoder = encoder
        if readout is None:
            self.readout = None
        else:
            self.register_buffer("readout", readout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.encoder(x)
        if out.dim() == 3 and out.shape[-1] == 1:
            out = out.squeeze(-1)
        if out.dim() != 2:
            raise ValueError(
                f"the encoder returned shape {tuple(out.shape)} for {x.shape[0]} samples; "
                "expected (samples, output dimension)"
            )
        return out if self.readout is None else out @ self.readout


def _window_of(encoder: nn.Module) -> tuple[int, int, bool]:
    """``(left, right, windowed)``: rows ``t`` use input bins ``[t − left, t + right)``."""
    try:
        # deferred: cebra (imports torch), loaded only on this path
        import cebra.models as cm
    except ImportError:  # pragma: no cover - cebra is a hard dependency
        cm = None
    if cm is not None:
        if isinstance(encoder, cm.ResampleModelMixin):
            raise ValueError(
                f"{type(encoder).__name__} downsamples time, so its embedding rows have no "
                "one-to-one input window; attribution supports offset models without resampling"
            )
        if isinstance(encoder, cm.ClassifierModel):
            raise ValueError(
                f"{type(encoder).__name__} is a supervised classifier model; attribution "
                "supports contrastive offset models"
            )
    get_offset = getattr(encoder, "get_offset", None)
    if get_offset is None:
        return 0, 1, False
    offset = get_offset()
    left, right = int(offset.left), int(offset.right)
    windowed = cm is not None and isinstance(encoder, cm.ConvolutionalModelMixin)
    if not windowed:
        if left + right != 1:
            raise ValueError(
                f"{type(encoder).__name__} has an offset of {left + right} bins but is not "
                "convolutional; cannot build its input windows"
            )
        return 0, 1, False
    return left, right, True


def _device_and_dtype(encoder: nn.Module) -> tuple[torch.device, torch.dtype]:
    for p in encoder.parameters():
        return p.device, p.dtype
    for b in encoder.buffers():
        return b.device, b.dtype
    return torch.device("cpu"), torch.float32


def _frozen_copy(module: nn.Module, dtype: torch.dtype) -> nn.Module:
    clone = copy.deepcopy(module).to(dtype).eval()
    for p in clone.parameters():
        p.requires_grad_(False)
    return clone


def _windows(neural: torch.Tensor, rows: np.ndarray, left: int, right: int, windowed: bool):
    """Model input for embedding ``rows``: ``(n, N, W)`` windows or ``(n, N)`` rows."""
    index = torch.as_tensor(rows, dtype=torch.long, device=neural.device)
    if not windowed:
        return neural[index]
    span = torch.arange(-left, right, device=neural.device)
    return neural[index[:, None] + span[None, :]].transpose(1, 2).contiguous()


# --------------------------------------------------------------------------- linear algebra


def pseudo_inverse(
    jacobian: np.ndarray, method: Literal["lsq", "svd"] = "svd", rcond: float = 1e-8
) -> np.ndarray:
    """Moore–Penrose pseudo-inverse of each ``(D, N)`` matrix of a ``(n, D, N)`` stack.

    Singular values below ``rcond · σ_max`` (per matrix) count as zero.

    Args:
        jacobian: ``(n, D, N)`` or ``(D, N)``.
        method: ``"lsq"``: ``scipy.linalg.lstsq(J, I_D, cond=rcond)`` per matrix (the
            minimum-norm least-squares solution of ``J X = I``); ``"svd"``:
            ``numpy.linalg.pinv(J, rcond)``.

    Returns:
        ``(n, N, D)`` (or ``(N, D)``), float64.
    """
    J = np.asarray(jacobian, dtype=np.float64)
    single = J.ndim == 2
    if single:
        J = J[None]
    if J.ndim != 3:
        raise ValueError(f"expected a (n, D, N) stack of matrices, got shape {jacobian.shape}")
    if method == "svd":
        G = np.linalg.pinv(J, rcond=rcond)
    elif method == "lsq":
        # deferred: scipy, loaded only on this path
        import scipy.linalg

        eye = np.eye(J.shape[1])
        G = np.empty((J.shape[0], J.shape[2], J.shape[1]))
        for i, matrix in enumerate(J):
            G[i] = scipy.linalg.lstsq(matrix, eye, cond=rcond, lapack_driver="gelsd")[0]
    else:
        raise ValueError(f"method must be 'lsq' or 'svd', got {method!r}")
    return G[0] if single else G


def moore_penrose_conditions(
    jacobian: np.ndarray, inverse: np.ndarray, tol: float = 1e-6
) -> np.ndarray:
    r"""Check the four Moore–Penrose conditions for each pair ``(J, G)``.

    ``J`` is ``(n, D, N)``, ``G`` is ``(n, N, D)`` (the inverse, not transposed). Each
    condition is checked relative to the size of its terms (Frobenius norms)::

        ‖JGJ − J‖ ≤ tol·‖J‖,  ‖GJG − G‖ ≤ tol·‖G‖,
        ‖JG − (JG)ᵀ‖ ≤ tol·‖JG‖,  ‖GJ − (GJ)ᵀ‖ ≤ tol·‖GJ‖

    (an all-zero ``J`` with ``G = 0`` satisfies all four). CEBRA's
    ``check_moores_penrose_conditions`` uses ``np.allclose`` (absolute tolerance ``1e-8``),
    which fails or passes depending on the scale of ``J``.

    Returns:
        ``(n, 4)`` boolean array, columns in the order of :data:`MOORE_PENROSE_CONDITIONS`.
    """
    J = np.asarray(jacobian, dtype=np.float64)
    G = np.asarray(inverse, dtype=np.float64)
    if J.ndim == 2:
        J, G = J[None], G[None]
    if J.ndim != 3 or G.shape != (J.shape[0], J.shape[2], J.shape[1]):
        raise ValueError(
            f"expected J of shape (n, D, N) and G of shape (n, N, D), got {J.shape} and {G.shape}"
        )

    def norm(a):
        return np.linalg.norm(a, axis=(1, 2))

    JG = J @ G
    GJ = G @ J
    ok = np.stack(
        [
            norm(JG @ J - J) <= tol * norm(J),
            norm(GJ @ G - G) <= tol * norm(G),
            norm(JG - JG.transpose(0, 2, 1)) <= tol * norm(JG),
            norm(GJ - GJ.transpose(0, 2, 1)) <= tol * norm(GJ),
        ],
        axis=1,
    )
    return ok


# --------------------------------------------------------------------------- computation


class _Accumulator:
    """Running sums of ``|a|``, ``a`` and the column norms of per-sample ``(n, K, N)`` maps."""

    def __init__(self):
        self.abs: dict[str, np.ndarray] = {}
        self.signed: dict[str, np.ndarray] = {}
        self.norm: dict[str, np.ndarray] = {}

    def add(self, method: str, per_sample: np.ndarray) -> None:
        a = np.asarray(per_sample, dtype=np.float64)
        if not np.isfinite(a).all():
            raise FloatingPointError(f"{method}: the attribution map holds NaN/inf values")
        parts = (np.abs(a).sum(axis=0), a.sum(axis=0), np.linalg.norm(a, axis=1).sum(axis=0))
        for store, value in zip((self.abs, self.signed, self.norm), parts, strict=True):
            store[method] = store[method] + value if method in store else value


def _sample_rows(
    n_timepoints: int, left: int, right: int, max_samples: int | None, seed: int
) -> np.ndarray:
    first, last = left, n_timepoints - right  # inclusive
    if last < first:
        raise ValueError(
            f"the recording has {n_timepoints} time points, fewer than the model's window "
            f"of {left + right}"
        )
    rows = np.arange(first, last + 1, dtype=np.int64)
    if max_samples is not None:
        if int(max_samples) < 1:
            raise ValueError(f"max_samples must be >= 1 or None, got {max_samples}")
        if int(max_samples) < rows.size:
            rng = np.random.default_rng(seed)
            rows = np.sort(rng.choice(rows, size=int(max_samples), replace=False))
    return rows


def _check_methods(methods: Sequence[str]) -> list[str]:
    if isinstance(methods, str):
        methods = [methods]
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown attribution methods {unknown}; choose from {list(METHODS)}")
    if not methods:
        raise ValueError(f"no attribution method given; choose from {list(METHODS)}")
    return [m for m in METHODS if m in methods]


def compute_attribution(
    encoder: nn.Module,
    neural: np.ndarray,
    *,
    methods: Sequence[str] = DEFAULT_METHODS,
    max_samples: int | None = 2000,
    seed: int = 0,
    batch_size: int = 256,
    readout: np.ndarray | None = None,
    rcond: float = 1e-8,
    mp_tol: float = 1e-6,
    baseline: Literal["zeros", "mean"] = "zeros",
    ig_steps: int = 50,
    shap_samples: int = 5,
    shap_stdevs: float = 0.0,
    shap_baselines: Literal["zeros", "shuffle"] = "zeros",
    ablation_per_eval: int = 1,
    device: Any = None,
) -> AttributionResult:
    """Attribution maps of a fitted CEBRA encoder on one session (see the module docstring).

    Args:
        encoder: a torch encoder (``nn.Module`` mapping ``(n, N)`` rows, or ``(n, N, W)``
            windows for a convolutional CEBRA model, to ``(n, D)``); for a fitted
            ``cebra.CEBRA`` pass :func:`cebra_lens_core.models.encoder.get_encoder` of it
            (with the session of a multi-session model). It is not modified (copies are
            used).
        neural: ``(T, N)`` input of that session.
        methods: names from :data:`METHODS`.
        max_samples: cap on the number of embedding rows (seeded draw); ``None``: all rows.
        seed: seeds the row draw and the random draws of gradient SHAP.
        batch_size: samples per mini-batch.
        readout: optional ``(D, K)`` matrix; the maps are then those of ``f(x) @ readout``
            (``K × N``), e.g. :func:`latent_readout` for maps aligned to true latents.
        rcond: relative cut-off for small singular values of the pseudo-inverses.
        mp_tol: relative tolerance of the Moore–Penrose check.
        baseline: reference input of feature ablation and integrated gradients: ``"zeros"``
            (CEBRA's and captum's default) or ``"mean"`` (each neuron's mean over ``neural``).
        ig_steps: integration nodes of integrated gradients (Gauss–Legendre).
        shap_samples, shap_stdevs, shap_baselines: gradient SHAP draws per sample, SD of
            the noise added to the inputs, baseline distribution (CEBRA's options).
        ablation_per_eval: neurons ablated per forward pass (``batch_size · ablation_per_eval``
            rows per pass).
        device: ``None`` (default): where the model is. ``"cpu"``, ``"cuda"``, ``"cuda:N"``
            or ``"auto"`` (see :mod:`cebra_lens_core.devices`): the model copies and the
            recording are put on that device once and every method runs there.

    Returns:
        :class:`AttributionResult`.

    Raises:
        ImportError: ``cvxpy`` / ``captum`` missing (the ``attribution`` extra).
        ValueError: ``neural`` malformed (not 2-D, NaN/inf), wrong number of neurons, or
            shorter than the window; a resampling or classifier model; unknown method or
            invalid parameter.
        TypeError: ``encoder`` is not a ``torch.nn.Module``.
    """
    methods = _check_methods(methods)
    cebra_attribution = import_cebra_attribution()
    # deferred: cebra (imports torch), loaded only on this path
    from cebra.attribution._jacobian import compute_jacobian

    for name, value, minimum in (
        ("batch_size", batch_size, 1),
        ("ig_steps", ig_steps, 1),
        ("shap_samples", shap_samples, 1),
        ("ablation_per_eval", ablation_per_eval, 1),
    ):
        if isinstance(value, bool) or int(value) != value or int(value) < minimum:
            raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if baseline not in ("zeros", "mean"):
        raise ValueError(f"baseline must be 'zeros' or 'mean', got {baseline!r}")
    if shap_baselines not in ("zeros", "shuffle"):
        raise ValueError(f"shap_baselines must be 'zeros' or 'shuffle', got {shap_baselines!r}")

    requested_device = torch_device(device)
    if not isinstance(encoder, nn.Module):
        raise TypeError(
            f"encoder must be a torch.nn.Module, got {type(encoder).__name__}; for a fitted "
            "cebra.CEBRA pass cebra_lens_core.models.encoder.get_encoder(model, session)"
        )
    left, right, windowed = _window_of(encoder)
    neural = check_activations(neural, "neural data")
    if neural.shape[0] < 2:
        raise ValueError(f"neural data needs at least 2 time points, got shape {neural.shape}")
    expected = getattr(encoder, "num_input", None)
    if expected is not None and neural.shape[1] != int(expected):
        raise ValueError(
            f"the encoder takes {expected} neurons but the neural data has {neural.shape[1]} "
            f"columns (shape {neural.shape})"
        )
    device, dtype = _device_and_dtype(encoder)
    if requested_device is not None:
        device = requested_device
    if not dtype.is_floating_point:
        dtype = torch.float32

    readout_t = None
    if readout is not None:
        readout = np.asarray(readout, dtype=np.float64)
        if readout.ndim != 2 or not np.isfinite(readout).all():
            raise ValueError(f"readout must be a finite (D, K) matrix, got shape {readout.shape}")
        readout_t = torch.as_tensor(readout, device=device)
    view = _Output(encoder, readout_t)
    view32 = _frozen_copy(view, dtype).to(device)
    view64 = (
        _frozen_copy(view, torch.float64).to(device)
        if set(methods) & set(JACOBIAN_METHODS)
        else None
    )

    data = torch.as_tensor(np.ascontiguousarray(neural, dtype=np.float32), device=device)
    data = data.to(dtype)
    rows = _sample_rows(neural.shape[0], left, right, max_samples, seed)
    with torch.no_grad():
        probe = view32(_windows(data, rows[:1], left, right, windowed))
    n_out = int(probe.shape[1])
    if readout is not None and readout.shape[1] != n_out:  # pragma: no cover - matmul checks
        raise ValueError(f"readout has {readout.shape[1]} columns but the output has {n_out}")
    width = left + right if windowed else 1

    if baseline == "mean":
        mean = data.mean(dim=0)
        base = mean[None, :, None] if windowed else mean[None, :]
    else:
        base = None  # captum: zeros
    mask = torch.arange(neural.shape[1], device=device)
    mask = mask[None, :, None].expand(1, -1, width) if windowed else mask[None, :]

    acc = _Accumulator()
    timings: dict[str, float] = {}
    mp_counts = {m: np.zeros(4, dtype=np.int64) for m in methods if m in INVERSE_METHODS}
    mp_all = {m: 0 for m in mp_counts}
    batch_sizes: list[int] = []

    def timed(method: str, start: float) -> None:
        timings[method] = timings.get(method, 0.0) + time.perf_counter() - start

    def reduce_window(values: np.ndarray, how: Literal["sum", "group"]) -> np.ndarray:
        """CEBRA's maps are window means: ``sum = W · mean``; a group value is the mean."""
        return values * width if how == "sum" else values

    for b, start_row in enumerate(range(0, rows.size, int(batch_size))):
        batch_rows = rows[start_row : start_row + int(batch_size)]
        batch_sizes.append(int(batch_rows.size))
        x = _windows(data, batch_rows, left, right, windowed)

        if view64 is not None:
            start = time.perf_counter()
            x64 = x.detach().to(torch.float64).requires_grad_(True)
            J = compute_jacobian(
                view64,
                input_vars=[x64],
                mode="autograd",
                cuda_device=str(device),
                double_precision=True,
                convert_to_numpy=True,
            )
            if windowed:
                J = J.sum(axis=-1)  # (n, K, N, W) -> (n, K, N)
            J = np.asarray(J, dtype=np.float64)
            timed("jacobian", start)
            if "jacobian" in methods:
                acc.add("jacobian", J)
            for method in INVERSE_METHODS:
                if method not in methods:
                    continue
                start = time.perf_counter()
                G = pseudo_inverse(J, method.rsplit("_", 1)[1], rcond=rcond)
                timed(method, start)
                ok = moore_penrose_conditions(J, G, tol=mp_tol)
                mp_counts[method] += ok.sum(axis=0)
                mp_all[method] += int(ok.all(axis=1).sum())
                acc.add(method, G.transpose(0, 2, 1))

        xin = x.detach()
        if "neuron_gradient" in methods:
            start = time.perf_counter()
            attr = cebra_attribution.NeuronGradientMethodBatched(
                model=view32, input_data=xin.clone().requires_grad_(True), output_dimension=n_out
            ).compute_attribution_map(batch_size=int(batch_rows.size))
            acc.add("neuron_gradient", reduce_window(attr["neuron-gradient"], "sum"))
            timed("neuron_gradient", start)
        if "feature_ablation" in methods:
            start = time.perf_counter()
            attr = cebra_attribution.FeatureAblationMethod(
                model=view32, input_data=xin, output_dimension=n_out
            ).compute_attribution_map(
                baselines=base,
                feature_mask=mask,
                perturbations_per_eval=int(ablation_per_eval),
            )
            acc.add("feature_ablation", reduce_window(attr["feature-ablation"], "group"))
            timed("feature_ablation", start)
        if "integrated_gradients" in methods:
            start = time.perf_counter()
            attr = cebra_attribution.IntegratedGradientsMethod(
                model=view32, input_data=xin, output_dimension=n_out
            ).compute_attribution_map(
                n_steps=int(ig_steps),
                method="gausslegendre",
                internal_batch_size=int(batch_size),
                baselines=base,
            )
            acc.add("integrated_gradients", reduce_window(attr["integrated-gradients"], "sum"))
            timed("integrated_gradients", start)
        if "gradient_shap" in methods:
            start = time.perf_counter()
            batch_seed = int(np.random.SeedSequence([int(seed), b]).generate_state(1)[0])
            devices = [device] if device.type == "cuda" else []
            # captum draws the interpolation coefficients from numpy's global generator
            # and the noise/baselines from torch's: seed both, restore both afterwards
            numpy_state = np.random.get_state()
            try:
                with torch.random.fork_rng(devices=devices):
                    torch.manual_seed(batch_seed)
                    np.random.seed(batch_seed % 2**32)
                    attr = cebra_attribution.NeuronGradientShapMethod(
                        model=view32, input_data=xin, output_dimension=n_out
                    ).compute_attribution_map(
                        baselines=shap_baselines,
                        n_samples=int(shap_samples),
                        stdevs=float(shap_stdevs),
                    )
            finally:
                np.random.set_state(numpy_state)
            acc.add("gradient_shap", reduce_window(attr["neuron-gradient-shap"], "sum"))
            timed("gradient_shap", start)

    n = rows.size
    maps: dict[str, np.ndarray] = {}
    norms: dict[str, np.ndarray] = {}
    for method in methods:
        maps[method] = acc.abs[method] / n
        maps[f"{method}_signed"] = acc.signed[method] / n
        norms[method] = acc.norm[method] / n
    moore_penrose = {
        m: {
            "fraction": mp_all[m] / n,
            "fraction_per_condition": (mp_counts[m] / n).tolist(),
            "tolerance": float(mp_tol),
        }
        for m in mp_counts
    }
    info = {
        "n_timepoints": int(neural.shape[0]),
        "n_neurons": int(neural.shape[1]),
        "n_outputs": n_out,
        "output": "embedding" if readout is None else "readout",
        "offset_left": left,
        "offset_right": right,
        "window": width,
        "window_reduction": "sum over the window (feature ablation: whole-window ablation)",
        "n_valid_rows": int(neural.shape[0] - left - right + 1),
        "methods": list(methods),
        "max_samples": None if max_samples is None else int(max_samples),
        "seed": int(seed),
        "batch_size": int(batch_size),
        "n_batches": len(batch_sizes),
        "rcond": float(rcond),
        "baseline": baseline,
        "ig_steps": int(ig_steps),
        "shap_samples": int(shap_samples),
        "shap_stdevs": float(shap_stdevs),
        "shap_baselines": shap_baselines,
        "ablation_per_eval": int(ablation_per_eval),
        "jacobian_dtype": "float64",
        "captum_dtype": str(dtype).replace("torch.", ""),
    }
    return AttributionResult(
        maps=maps,
        neuron_norms=norms,
        sample_indices=rows,
        timings=timings,
        moore_penrose=moore_penrose,
        batch_sizes=batch_sizes,
        info=info,
    )
