r"""xCEBRA: regularised multi-objective contrastive training (Schneider et al., AISTATS 2025).

CEBRA 0.6.1 offers xCEBRA only through its PyTorch API (``cebra.solver.multiobjective``,
``cebra.models.JacobianReg``); its ``cebra.CEBRA`` estimator cannot train, save or load it.
This module trains it from a :class:`~cebra_lens_core.models.train.TrainingSpec` with
``conditional="xcebra"`` and wraps the result in :class:`XCebraModel`, which offers what the
rest of the package uses of a fitted ``cebra.CEBRA`` (``model_``, ``transform``,
``model_architecture``, ``output_dimension``, ``num_sessions_``) plus the embedding parts.

The model
---------
The embedding ``f(x) ∈ R^D`` is split into two contiguous parts: the **behaviour part**,
dimensions ``[0, k)`` with ``k = behavior_dimensions``, and the **time part**, ``[k, D)``.
Each part has its own InfoNCE objective on shared reference and negative samples
(``ContrastiveMultiObjectiveLoader``, ``refneg_shared``):

- behaviour part: positives sampled by CEBRA's ``time_delta`` distribution on the
  continuous ``labels`` (as CEBRA-Behavior), ``time_delta = time_offsets``;
- time part: positives ``time_offsets`` samples later (as CEBRA-Time).

With ``distance: cosine`` the encoder is an unnormalised architecture (``*-mse*``) and each
part is normalised to unit length on its own (``renormalize=True``; :class:`PartNorm`), with
``FixedCosineInfoNCE``; with ``distance: euclidean`` the parts are not normalised and the loss
is ``FixedEuclideanInfoNCE``. The temperature is fixed (``temperature``).

The Jacobian regulariser
------------------------
Per part ``p`` the loss adds ``w(s) · R_p`` with ``R_p`` CEBRA's ``JacobianReg`` estimate of
``½ ‖J_{f_p}(x)‖_F²`` averaged over the reference batch (``n`` random projections,
``regularizer_projections``; ``-1``: exact), so the total at step ``s`` is
``L = Σ_p InfoNCE_p + w(s) Σ_p R_p``. The weight schedule (CEBRA's ``LinearRampUp``) is

    w(s) = none                                   for s < s0  (the term is not computed)
    w(s) = w0 + (w1 − w0) · (s − s0) / (s1 − s0)  for s0 ≤ s ≤ s1
    w(s) = w1                                     for s > s1

with ``s0 = regularizer_warmup_start``, ``s1 = regularizer_warmup_end``, ``w0 =
regularizer_start_weight``, ``w1 = regularizer_weight`` (steps count from 0; ``s1 = s0``
switches straight to ``w1``). ``regularizer_weight = regularizer_start_weight = 0`` trains
the unregularised twin (no Jacobian is computed).

Files
-----
:meth:`XCebraModel.save` writes a plain dict (tensors, numbers, strings; format
:data:`XCEBRA_FORMAT`) that ``torch.load(weights_only=True)`` reads, so
:func:`cebra_lens_core.models.load_model` loads it with the same safe loader as ``cebra.CEBRA``
files. A model trained with CEBRA's own PyTorch API is converted with :func:`from_solver`.
"""

from __future__ import annotations

import contextlib
import copy
import io
import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from cebra_lens_core.models.errors import ModelFileError, TrainingError

#: value of ``checkpoint["format"]`` in files written by :meth:`XCebraModel.save`
XCEBRA_FORMAT = "cebra_lens_core.xcebra"
XCEBRA_FORMAT_VERSION = 1
#: the two embedding parts, in embedding order
PARTS = ("behavior", "time")
#: progress is reported this many times over a training run
_PROGRESS_STEPS = 100


@dataclass(frozen=True)
class RegularizerSchedule:
    """Weight of the Jacobian regulariser per training step (module docstring).

    Attributes:
        weight: ``w1``, the weight after the warm-up (0 with ``start_weight`` 0: no regulariser).
        start_weight: ``w0``, the weight at ``warmup_start``.
        warmup_start: ``s0``, first step (from 0) with the regulariser.
        warmup_end: ``s1 >= s0``, step from which the weight is ``w1``.
        projections: random projections of ``JacobianReg`` (``-1``: the exact norm).
    """

    weight: float = 0.0
    start_weight: float = 0.0
    warmup_start: int = 0
    warmup_end: int = 0
    projections: int = 1

    def __post_init__(self) -> None:
        for name in ("weight", "start_weight"):
            value = float(getattr(self, name))
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"regularizer_{name} must be a finite number >= 0, got {value}")
        if int(self.warmup_start) < 0:
            raise ValueError(f"regularizer_warmup_start must be >= 0, got {self.warmup_start}")
        if int(self.warmup_end) < int(self.warmup_start):
            raise ValueError(
                f"regularizer_warmup_end ({self.warmup_end}) must be >= regularizer_warmup_start "
                f"({self.warmup_start})"
            )
        if int(self.projections) == 0 or int(self.projections) < -1:
            raise ValueError(
                f"regularizer_projections must be >= 1, or -1 for the exact norm, got {self.projections}"
            )

    @property
    def enabled(self) -> bool:
        """Whether the regulariser is ever applied with a non-zero weight."""
        return float(self.weight) > 0 or float(self.start_weight) > 0

    def weight_at(self, step: int) -> float | None:
        """``w(step)``, or ``None`` before ``warmup_start`` and for a disabled schedule."""
        s0, s1 = int(self.warmup_start), int(self.warmup_end)
        if not self.enabled or step < s0:
            return None
        if step >= s1:
            return float(self.weight)
        w0, w1 = float(self.start_weight), float(self.weight)
        return w0 + (w1 - w0) * (step - s0) / (s1 - s0)


class PartNorm(nn.Module):
    """Normalise each embedding part to unit Euclidean length along dimension 1.

    ``out[:, a:b] = x[:, a:b] / ‖x[:, a:b]‖₂`` for every part ``[a, b)`` (what CEBRA's
    ``SubspaceMultiobjectiveModel(renormalize=True)`` does after the encoder). Works on
    ``(n, D)`` rows and on ``(1, D, T)`` time series. No parameters.
    """

    def __init__(self, bounds: list[tuple[int, int]]):
        super().__init__()
        self.bounds = [(int(a), int(b)) for a, b in bounds]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat(
            [x[:, a:b] / torch.norm(x[:, a:b], dim=1, keepdim=True) for a, b in self.bounds],
            dim=1,
        )

    def extra_repr(self) -> str:
        return f"bounds={self.bounds}"


def part_bounds(output_dimension: int, behavior_dimensions: int) -> dict[str, tuple[int, int]]:
    """``{"behavior": (0, k), "time": (k, D)}``; raises ``ValueError`` unless ``1 <= k < D``."""
    D, k = int(output_dimension), int(behavior_dimensions)
    if not 1 <= k < D:
        raise ValueError(
            f"behavior_dimensions must be between 1 and output_dimension - 1 = {D - 1} "
            f"(the rest is the time part), got {k}"
        )
    return {"behavior": (0, k), "time": (k, D)}


def _with_part_norm(encoder: nn.Module, bounds: list[tuple[int, int]]) -> nn.Module:
    """Insert :class:`PartNorm` into ``encoder.net`` before its final ``Squeeze`` (in place)."""
    modules = list(encoder.net)
    tail = [m for m in modules[-1:] if type(m).__name__ == "Squeeze"]
    body = modules[: len(modules) - len(tail)]
    encoder.net = nn.Sequential(*body, PartNorm(bounds), *tail)
    return encoder


def _check_unnormalised(encoder: nn.Module, architecture: str) -> None:
    if getattr(encoder, "normalize", False):
        raise ValueError(
            f"xCEBRA normalises each embedding part itself, so the architecture must not "
            f"normalise the whole embedding: {architecture!r} ends in a normalisation layer; "
            f"use its unnormalised variant (e.g. offset10-model-mse for offset10-model)"
        )


class XCebraModel:
    """A fitted xCEBRA model with the interface of a fitted ``cebra.CEBRA`` that this package uses.

    Attributes:
        model_: the encoder (a ``cebra.models.Model``; with cosine distance its ``net`` ends
            in :class:`PartNorm`), in eval mode. ``model_(x)`` is the full embedding.
        parts_: ``{"behavior": (0, k), "time": (k, D)}`` embedding dimensions of each part.
        model_architecture, output_dimension, num_hidden_units: as in ``cebra.CEBRA``.
        training_: the training settings (plain values) and ``labels``.
        log_: training curves: ``loss_<part>`` (InfoNCE per part, every step), ``total``
            (the optimised sum, every step), ``regularizer_<part>`` and ``regularizer_weight``
            (NaN at steps without the regulariser).
        num_sessions_: always ``None`` (xCEBRA is a single-session model).
        solver_name_: ``"multiobjective-solver"``.
    """

    solver_name_ = "multiobjective-solver"
    num_sessions_ = None

    def __init__(
        self,
        encoder: nn.Module,
        *,
        architecture: str,
        parts: Mapping[str, tuple[int, int]],
        num_hidden_units: int,
        training: Mapping[str, Any],
        log: Mapping[str, list[float]],
    ):
        self.model_ = encoder.eval()
        self.model_architecture = str(architecture)
        self.parts_ = {p: (int(a), int(b)) for p, (a, b) in parts.items()}
        self.output_dimension = max(b for _, b in self.parts_.values())
        self.num_hidden_units = int(num_hidden_units)
        self.training_ = dict(training)
        self.log_ = {k: [float(v) for v in values] for k, values in log.items()}

    @property
    def n_features_(self) -> int:
        return int(self.model_.num_input)

    def transform(self, neural: np.ndarray, session_id: int | None = None) -> np.ndarray:
        """The embedding ``(T, D)`` of ``neural`` ``(T, N)``, edges padded as ``cebra.CEBRA``.

        A convolutional encoder with offset ``(left, right)`` sees the recording padded by
        replicating its first sample ``left`` times and its last ``right − 1`` times (CEBRA's
        ``pad_before_transform``), so row ``t`` is the response centred on input time ``t``.
        """
        if session_id not in (None, 0):
            raise ValueError(f"session_id {session_id} given for a single-session xCEBRA model")
        X = np.asarray(neural, dtype=np.float32)
        if X.ndim != 2 or X.shape[1] != self.n_features_:
            raise ValueError(
                f"expected neural data of shape (T, {self.n_features_}), got {X.shape}"
            )
        device = next(self.model_.parameters()).device
        offset = self.model_.get_offset()
        left, right = int(offset.left), int(offset.right)
        convolutional = left + right > 1
        with torch.no_grad():
            if not convolutional:
                out = self.model_(torch.from_numpy(X).to(device))
                return out.cpu().numpy()
            rows = np.clip(np.arange(-left, len(X) + right - 1), 0, len(X) - 1)
            x = torch.from_numpy(np.ascontiguousarray(X[rows].T)).unsqueeze(0).to(device)
            return self.model_(x).squeeze(0).T.cpu().numpy()

    def part_embedding(self, embedding: np.ndarray, part: str) -> np.ndarray:
        """Columns of ``embedding`` that belong to ``part``."""
        a, b = self.parts_[part]
        return np.asarray(embedding)[:, a:b]

    def history(self) -> pd.DataFrame:
        """Training curves: ``iteration``, ``loss`` (the optimised total), ``loss_<part>``,
        ``regularizer_<part>``, ``regularizer_weight``, and ``temperature`` (fixed)."""
        n = len(self.log_.get("total", []))
        frame = {"iteration": np.arange(1, n + 1), "loss": self.log_.get("total", [])}
        for key in sorted(k for k in self.log_ if k != "total"):
            frame[key] = self.log_[key]
        frame["temperature"] = np.full(n, float(self.training_.get("temperature", 1.0)))
        return pd.DataFrame(frame)

    def checkpoint(self) -> dict:
        """The dict :meth:`save` writes (tensors on the CPU, plain values otherwise)."""
        # deferred: cebra, only for the version record
        import cebra

        return {
            "format": XCEBRA_FORMAT,
            "format_version": XCEBRA_FORMAT_VERSION,
            "architecture": self.model_architecture,
            "num_neurons": self.n_features_,
            "num_hidden_units": self.num_hidden_units,
            "output_dimension": int(self.output_dimension),
            "parts": {p: [a, b] for p, (a, b) in self.parts_.items()},
            "normalize_parts": any(isinstance(m, PartNorm) for m in self.model_.net),
            "training": dict(self.training_),
            "log": {k: list(v) for k, v in self.log_.items()},
            "state_dict": {k: v.detach().cpu() for k, v in self.model_.state_dict().items()},
            "cebra_version": str(cebra.__version__),
            "torch_version": str(torch.__version__),
        }

    def save(self, file) -> None:
        """Write :meth:`checkpoint` with ``torch.save`` (a path or a binary file object)."""
        torch.save(self.checkpoint(), file)

    def __repr__(self) -> str:
        parts = ", ".join(f"{p}={a}:{b}" for p, (a, b) in self.parts_.items())
        return f"XCebraModel({self.model_architecture}, {parts})"


def is_xcebra_checkpoint(checkpoint: Any) -> bool:
    return isinstance(checkpoint, dict) and checkpoint.get("format") == XCEBRA_FORMAT


def from_checkpoint(checkpoint: Mapping, device: str = "cpu", *, path: str = "") -> XCebraModel:
    """Rebuild an :class:`XCebraModel` from the dict of :meth:`XCebraModel.checkpoint`.

    Raises:
        ModelFileError: a newer file format, missing keys, or weights that do not fit the
            named architecture.
    """
    # deferred: cebra (imports torch), loaded only on this path
    import cebra.models

    where = f"{path}: " if path else ""
    version = int(checkpoint.get("format_version", 0))
    if version > XCEBRA_FORMAT_VERSION:
        raise ModelFileError(
            f"{where}xCEBRA file format version {version} is newer than this package reads "
            f"({XCEBRA_FORMAT_VERSION}); update cebra_lens_core"
        )
    required = ("architecture", "num_neurons", "num_hidden_units", "output_dimension", "parts")
    missing = [k for k in (*required, "state_dict") if k not in checkpoint]
    if missing:
        raise ModelFileError(f"{where}xCEBRA checkpoint misses the keys {missing}")
    parts = {p: (int(a), int(b)) for p, (a, b) in checkpoint["parts"].items()}
    try:
        encoder = cebra.models.init(
            checkpoint["architecture"],
            num_neurons=int(checkpoint["num_neurons"]),
            num_units=int(checkpoint["num_hidden_units"]),
            num_output=int(checkpoint["output_dimension"]),
        )
        if checkpoint.get("normalize_parts", True):
            _with_part_norm(encoder, list(parts.values()))
        encoder.load_state_dict(checkpoint["state_dict"])
    except (KeyError, RuntimeError, ValueError) as err:
        raise ModelFileError(
            f"{where}could not rebuild the xCEBRA encoder {checkpoint['architecture']!r}: "
            f"{type(err).__name__}: {str(err).splitlines()[0]}"
        ) from None
    return XCebraModel(
        encoder.to(device),
        architecture=checkpoint["architecture"],
        parts=parts,
        num_hidden_units=int(checkpoint["num_hidden_units"]),
        training=checkpoint.get("training", {}),
        log=checkpoint.get("log", {}),
    )


def from_solver(
    solver, architecture: str, *, num_hidden_units: int, parts: Mapping[str, tuple[int, int]]
) -> XCebraModel:
    """Wrap an xCEBRA solver trained with CEBRA's PyTorch API (``cebra.solver.init(
    "multiobjective-solver", ...)``) so that it can be saved and analysed here.

    Args:
        solver: the fitted multi-objective solver (its ``model`` is CEBRA's
            ``SubspaceMultiobjectiveModel`` around a ``cebra.models.Model``).
        architecture: the ``cebra.models.get_options()`` name the encoder was built with
            (the solver does not record it); checked by rebuilding and loading the weights.
        num_hidden_units: ``num_units`` the encoder was built with.
        parts: ``{"behavior": (0, k), "time": (k, D)}``: the embedding parts, in order,
            as given to ``feature_ranges``.

    Raises:
        ModelFileError: the weights do not fit ``architecture`` / ``num_hidden_units``.
    """
    inner = solver.model.module
    checkpoint = {
        "format": XCEBRA_FORMAT,
        "format_version": XCEBRA_FORMAT_VERSION,
        "architecture": architecture,
        "num_neurons": int(inner.num_input),
        "num_hidden_units": int(num_hidden_units),
        "output_dimension": int(inner.num_output),
        "parts": {p: list(b) for p, b in parts.items()},
        "normalize_parts": bool(solver.model.renormalize),
        "state_dict": {k: v.detach().cpu() for k, v in inner.state_dict().items()},
        "log": _curves(solver.log, list(parts)),
    }
    return from_checkpoint(checkpoint)


def _curves(log: Mapping, parts: list[str]) -> dict[str, list[float]]:
    """CEBRA's multi-objective log (tuple keys, regulariser entries only where applied) as
    per-step curves named by part; steps without the regulariser are NaN."""
    total = list(log.get(("sum_loss_train",), []))

    def padded(key: tuple) -> list[float]:
        values = list(log.get(key, []))
        return [math.nan] * (len(total) - len(values)) + values

    out: dict[str, list[float]] = {"total": total}
    for i, part in enumerate(parts):
        out[f"loss_{part}"] = list(log.get(("loss_train", i), []))
        out[f"regularizer_{part}"] = padded(("regularizer", i))
    out["regularizer_weight"] = padded(("regularizer_weight", 0))  # the same for every part
    return out


def _objectives(loader, parts: Mapping[str, tuple[int, int]], loss_name: str, spec):
    """CEBRA's ``MultiObjectiveConfig``: behaviour part on ``time_delta`` of the labels, time
    part on ``time`` offsets, both ``loss_name`` at a fixed temperature."""
    # deferred: cebra (imports torch), loaded only on this path
    import cebra.solver

    config = cebra.solver.MultiObjectiveConfig(loader)
    distributions = {
        "behavior": (
            "time_delta",
            {"time_delta": int(spec.time_offsets), "label_name": "behavior"},
        ),
        "time": ("time", {"time_offset": int(spec.time_offsets)}),
    }
    with contextlib.redirect_stdout(io.StringIO()):  # cebra prints every slice it adds
        for part, (a, b) in parts.items():
            name, kwargs = distributions[part]
            config.set_slice(a, b)
            config.set_loss(loss_name, temperature=float(spec.temperature))
            config.set_distribution(name, **kwargs)
            config.push()
        config.finalize()
    return config


def _fit(solver, loader, schedule: RegularizerSchedule, n_parts: int, progress, architecture: str):
    """One ``solver.step`` per batch with the scheduled regulariser weight; stops on divergence."""
    steps = len(loader)
    every = max(1, steps // _PROGRESS_STEPS)
    with warnings.catch_warnings():
        # JacobianReg calls a deprecated torch.addcdiv signature at every step
        warnings.filterwarnings("ignore", message=".*addcdiv.*", category=UserWarning)
        for step, batch in enumerate(loader):
            weight = schedule.weight_at(step)
            stats = solver.step(
                batch, weights_regularizer=None if weight is None else [weight] * n_parts
            )
            total = float(stats["sum_loss_train"])
            if not math.isfinite(total) or abs(total) > 1e6:
                raise TrainingError(
                    f"xCEBRA training of {architecture} diverged at step {step} "
                    f"(loss {total:.3g}); lower the learning rate or the regulariser weight"
                )
            if progress is not None and 0 < step < steps and step % every == 0:
                progress(step, steps, f"loss {total:.4f}")


def check_xcebra_data(dataset, spec) -> None:
    """Raise ``ValueError`` unless ``dataset`` is single-session and ``spec.labels`` continuous."""
    if dataset.n_sessions != 1:
        raise ValueError(
            f"xCEBRA trains single-session models; dataset {dataset.name!r} has "
            f"{dataset.n_sessions} sessions"
        )
    discrete = [lab for lab in spec.labels if dataset.label_info[lab].kind != "continuous"]
    if discrete:
        raise ValueError(
            f"xCEBRA's behaviour part samples positives on continuous labels (CEBRA's "
            f"time_delta distribution); {discrete} are discrete"
        )


def train_xcebra(
    neural: np.ndarray,
    behavior: np.ndarray,
    spec,
    device: str = "cpu",
    progress: Callable[[int, int, str], None] | None = None,
) -> XCebraModel:
    """Train an xCEBRA model (module docstring) on ``neural`` ``(T, N)`` with the continuous
    labels ``behavior`` ``(T, k)`` (the training split, already shuffled for a control).

    ``spec`` is a :class:`~cebra_lens_core.models.train.TrainingSpec` with
    ``conditional="xcebra"``. Call it inside ``seeded_cebra(spec.seed)`` (as
    ``train_model`` does) for a deterministic result. ``progress(done, total, note)`` as in
    ``train_model``.

    Raises:
        ValueError: a normalising architecture with cosine distance;
        TrainingError: a non-finite loss.
    """
    import cebra.data  # deferred: cebra (imports torch), loaded only on this path
    import cebra.models  # deferred: as above
    import cebra.solver  # deferred: as above

    parts = part_bounds(spec.output_dimension, spec.behavior_part_dimensions)
    schedule = spec.regularizer_schedule()
    neural = np.asarray(neural, dtype=np.float32)
    behavior = np.asarray(behavior, dtype=np.float32)
    cosine = spec.distance == "cosine"
    loss_name = "FixedCosineInfoNCE" if cosine else "FixedEuclideanInfoNCE"
    steps = max(int(spec.max_iterations), 1)
    untrained = int(spec.max_iterations) == 0

    encoder = cebra.models.init(
        spec.architecture,
        num_neurons=neural.shape[1],
        num_units=int(spec.num_hidden_units),
        num_output=int(spec.output_dimension),
    )
    if cosine:
        _check_unnormalised(encoder, spec.architecture)
    data = cebra.data.DatasetxCEBRA(
        torch.from_numpy(neural), device=device, behavior=torch.from_numpy(behavior)
    )
    data.configure_for(encoder)
    loader = cebra.data.ContrastiveMultiObjectiveLoader(
        dataset=data, num_steps=steps, batch_size=int(spec.batch_size)
    )
    config = _objectives(loader, parts, loss_name, spec)
    optimizer = torch.optim.Adam(
        list(encoder.parameters()) + list(config.criterion.parameters()),
        lr=0.0 if untrained else float(spec.learning_rate),
    )
    regularizer = (
        cebra.models.JacobianReg(n=int(schedule.projections)) if schedule.enabled else None
    )
    solver = cebra.solver.init(
        "multiobjective-solver",
        model=encoder,
        criterion=config.criterion,
        optimizer=optimizer,
        feature_ranges=config.feature_ranges,
        renormalize=cosine,
        regularizer=regularizer,
        use_sam=False,
        tqdm_on=False,
    )
    solver.n_features = int(neural.shape[1])
    solver.to(device)
    solver.model.train()
    _fit(solver, loader, schedule, len(parts), progress, spec.architecture)
    solver.model.eval()
    inner = solver.model.module
    if cosine:
        _with_part_norm(inner, list(parts.values()))
    model = XCebraModel(
        inner,
        architecture=spec.architecture,
        parts=parts,
        num_hidden_units=int(spec.num_hidden_units),
        training=spec.as_dict(),
        log=_curves(solver.log, list(parts)),
    )
    if progress is not None:
        last = model.log_["total"][-1] if model.log_["total"] else math.nan
        progress(steps, steps, f"loss {last:.4f}")
    return model


def jacobian_norm(encoder: nn.Module, windows: torch.Tensor) -> np.ndarray:
    """``‖J_f(x)‖_F`` per sample for ``windows`` ``(n, N, W)`` (or rows ``(n, N)``), float64.

    The exact Frobenius norm of the encoder's Jacobian with respect to its whole input
    window, one backward pass per output dimension (what the regulariser estimates).
    """
    f = copy.deepcopy(encoder).double().eval()
    x = windows.detach().double().requires_grad_(True)
    out = f(x)
    squares = torch.zeros(len(x), dtype=torch.float64)
    for d in range(out.shape[1]):
        (grad,) = torch.autograd.grad(out[:, d].sum(), x, retain_graph=True)
        squares += grad.reshape(len(x), -1).pow(2).sum(dim=1)
    return squares.sqrt().numpy()
