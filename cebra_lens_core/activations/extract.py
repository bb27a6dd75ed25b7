"""Per-layer activations of a CEBRA encoder, aligned to the input time points.

Alignment rule (conv models, see METHODS.md). With offset ``(left, right)`` the
encoder sees ``R = left + right - 1`` extra samples: the input is padded by
replicating edge samples (``left`` before, ``right - 1`` after), exactly as
``CEBRA.transform`` does, and run once through ``net``. A layer whose cumulative
time reduction is ``r`` (valid convolutions shorten the sequence) has length
``T + R - r``; dropping ``cl = (R - r) // 2`` samples at the start and
``R - r - cl`` at the end leaves one row per input time point, row ``t`` being
the layer's response centred on input time ``t``. The last layer then equals
``transform()``.

Because every conv layer is a valid convolution, a window of input rows
``[start - left, stop + right - 1)`` determines the output rows
``[start, stop)`` exactly, so long recordings are processed in chunks that carry
``R`` samples of context and give the same result as a single pass, without ever
building the whole padded tensor. MLP models (``offset1-model*``) see one time
bin at a time (``R = 0``) and are chunked trivially.
"""

from __future__ import annotations

import copy
import logging
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import xarray as xr

import cebra_lens_core
from cebra_lens_core.activations.store import (
    REFERENCE_VARIABLES,
    ZARR_TIME_CHUNK,
    chunk_dataset,
    label_coords,
    write_manifest,
    write_zarr,
)
from cebra_lens_core.atomic import atomic_path
from cebra_lens_core.data.types import DataError, LabelInfo, validate_neural
from cebra_lens_core.devices import torch_device
from cebra_lens_core.models.encoder import get_encoder
from cebra_lens_core.models.errors import ArchitectureError
from cebra_lens_core.models.layers import LayerInfo, list_layers, shared_module_positions
from cebra_lens_core.progress import ProgressLog
from cebra_lens_core.provenance import current_record

log = logging.getLogger(__name__)

DEFAULT_CHUNK_SIZE = 50_000


@dataclass(frozen=True)
class _Plan:
    """How to run one encoder: its layers, padding and whether it is convolutional."""

    encoder: torch.nn.Module
    layers: list[LayerInfo]
    left: int
    context: int  # R: extra input samples needed per output sample
    convolutional: bool
    device: torch.device


def _encoder_device(encoder: torch.nn.Module) -> torch.device:
    for tensor in (*encoder.parameters(), *encoder.buffers()):
        return tensor.device
    return torch.device("cpu")


def _make_plan(model, session_id: int | None, device=None, capture: str = "blocks") -> _Plan:
    # deferred: cebra (imports torch), loaded only on this path
    import cebra.models

    encoder = get_encoder(model, session_id)
    current = _encoder_device(encoder)
    target = torch_device(device) or current
    if target != current:  # a copy on the requested device; the caller's model is untouched
        encoder = copy.deepcopy(encoder).to(target)
    layers = list_layers(encoder, capture)
    offset = encoder.get_offset()
    convolutional = isinstance(encoder, cebra.models.ConvolutionalModelMixin)
    if convolutional and len(offset) >= 2:
        left, context = int(offset.left), int(offset.left + offset.right - 1)
    else:
        left, context = 0, 0
    shared = shared_module_positions(encoder)
    if shared:
        log.warning(
            "%s reuses the same module object at net positions %s; each call is captured "
            "as its own layer",
            type(encoder).__name__,
            shared,
        )
    return _Plan(encoder, layers, left, context, convolutional, target)


def _input_window(neural: np.ndarray, start: int, stop: int, plan: _Plan) -> torch.Tensor:
    """Encoder input for output rows ``[start, stop)``; edge rows are replicated (clip indices)."""
    lo, hi = start - plan.left, stop - plan.left + plan.context
    if lo >= 0 and hi <= len(neural):
        rows = neural[lo:hi]  # interior chunk: a view, no gather
    else:
        rows = neural[np.clip(np.arange(lo, hi), 0, len(neural) - 1)]
    if plan.convolutional:  # (1, neurons, time), contiguous: conv1d's fast layout
        window = torch.from_numpy(np.ascontiguousarray(rows.T, dtype=np.float32)).unsqueeze(0)
    else:
        window = torch.from_numpy(np.ascontiguousarray(rows, dtype=np.float32))
    return window.to(plan.device)  # uploaded once; every layer then runs on the device


def _run_net(plan: _Plan, x: torch.Tensor) -> list[torch.Tensor]:
    """Walk ``encoder.net`` position by position and collect the captured outputs (for an
    ``inner`` layer: the output of the block's first module, taken by a forward hook)."""
    wanted = {layer.position: layer for layer in plan.layers if layer.position is not None}
    outputs: list[torch.Tensor | None] = [None] * len(plan.layers)
    for position, module in enumerate(plan.encoder.net):
        layer = wanted.get(position)
        if layer is not None and layer.inner:
            caught: list[torch.Tensor] = []
            handle = module.module[0].register_forward_hook(
                lambda m, i, o, sink=caught: sink.append(o)
            )
            try:
                x = module(x)
            finally:
                handle.remove()
            outputs[layer.index] = caught[0]
            continue
        x = module(x)
        if layer is not None:
            outputs[layer.index] = x
    if plan.layers[-1].kind == "clip":
        outputs[-1] = plan.encoder.clamp(x)
    return outputs  # type: ignore[return-value]


def _to_time_major(t: torch.Tensor, convolutional: bool) -> np.ndarray:
    if convolutional:
        t = t.squeeze(0).T if t.dim() == 3 else t
    return t.detach().cpu().numpy().astype(np.float32, copy=False)


def _cropped_to_host(t: torch.Tensor, n_rows: int, plan: _Plan) -> np.ndarray:
    """Time-major, cropped on the device (only the kept rows are copied back), float32 numpy."""
    if plan.convolutional and t.dim() == 3:
        t = t.squeeze(0).T
    t = _crop(t, n_rows, plan.context)
    return t.detach().to("cpu", torch.float32).numpy()


def _crop(arr, n_rows: int, context: int):
    """Drop ``cl = (R - r)//2`` leading and ``R - r - cl`` trailing rows (METHODS alignment rule)."""
    reduction = context + n_rows - arr.shape[0]
    excess = context - reduction
    if excess < 0 or reduction < 0:
        raise ArchitectureError(
            f"layer output has {arr.shape[0]} rows for {n_rows} time points with "
            f"{context} samples of context; cannot align it to input time"
        )
    cl = excess // 2
    return arr[cl : cl + n_rows]


def _check_forward_matches(plan: _Plan, neural: np.ndarray) -> None:
    """Verify on a short window that walking ``net`` reproduces ``encoder(x)`` exactly."""
    stop = min(len(neural), 64)
    x = _input_window(neural, 0, stop, plan)
    with torch.no_grad():
        ours = _run_net(plan, x)[-1]
        reference = plan.encoder(x)
    ours_np = _to_time_major(ours, plan.convolutional)
    ref_np = _to_time_major(reference, plan.convolutional)
    if ours_np.shape != ref_np.shape or not np.allclose(
        ours_np, ref_np, atol=1e-5, rtol=1e-5, equal_nan=True
    ):
        raise ArchitectureError(
            f"{type(plan.encoder).__name__}.forward() does more than run `net`; its per-layer "
            "activations cannot be captured faithfully"
        )


def check_model_input(model, neural: np.ndarray, session_id: int | None = None) -> np.ndarray:
    """Validate ``neural`` for ``model`` (2-D, finite, right number of neurons); return it as float32.

    Raises:
        DataError: shape, NaN/inf, or neuron count different from what the model was trained on.
        ValueError: ``session_id`` invalid for the model.
    """
    neural = validate_neural(neural, where="neural data")
    encoder = get_encoder(model, session_id)
    expected = getattr(encoder, "num_input", None)
    if expected is not None and neural.shape[1] != expected:
        where = "" if session_id is None else f" (session {session_id})"
        raise DataError(
            f"the model{where} was trained on {expected} neurons but the neural data has "
            f"{neural.shape[1]} columns (shape {neural.shape})"
        )
    return np.asarray(neural, dtype=np.float32)


def iter_activation_chunks(
    model,
    neural: np.ndarray,
    session_id: int | None = None,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: Callable[[int, int], None] | None = None,
    device=None,
    capture: str = "blocks",
) -> Iterator[tuple[int, int, list[np.ndarray]]]:
    """Yield ``(start, stop, [layer arrays])`` over consecutive chunks of input time.

    Each array is ``(stop - start, units)`` float32, aligned per the module rule.
    Concatenating all chunks equals a single pass over the whole recording.

    ``device``: ``None`` runs where the model is; ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or
    ``"auto"`` (see :mod:`cebra_lens_core.devices`) run a copy of the encoder there. Each
    input window is uploaded once, every layer is computed and cropped on the device, and
    only the kept rows are copied back.
    """
    if int(chunk_size) < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    neural = check_model_input(model, neural, session_id)
    plan = _make_plan(model, session_id, device, capture)
    plan.encoder.eval()
    _check_forward_matches(plan, neural)
    n = len(neural)
    with torch.no_grad():
        for start in range(0, n, int(chunk_size)):
            stop = min(n, start + int(chunk_size))
            outputs = _run_net(plan, _input_window(neural, start, stop, plan))
            arrays = [_cropped_to_host(o, stop - start, plan) for o in outputs]
            if progress is not None:
                progress(stop, n)
            yield start, stop, arrays


def layer_table(model, session_id: int | None = None, capture: str = "blocks") -> list[LayerInfo]:
    """The captured layers of ``model`` (its session's encoder), in forward order
    (``capture``: see :func:`cebra_lens_core.models.layers.list_layers`)."""
    return list_layers(get_encoder(model, session_id), capture)


def receptive_field_mean(
    neural: np.ndarray, start: int, stop: int, left: int, right: int
) -> np.ndarray:
    """Mean of the input over the receptive field of output rows ``[start, stop)``.

    ``out[t] = (1 / (left + right)) Σ_{s = t − left}^{t + right − 1} x̃[s]`` with ``x̃`` the
    recording padded by replicating its edge samples, exactly the window the encoder sees
    for row ``t`` (module docstring). float32, ``(stop − start, neurons)``.
    """
    width = int(left) + int(right)
    rows = np.clip(np.arange(start - left, stop + right), 0, len(neural) - 1)
    cumulative = np.zeros((len(rows) + 1, neural.shape[1]))
    np.cumsum(neural[rows], axis=0, dtype=np.float64, out=cumulative[1:])
    n = stop - start
    return ((cumulative[width : width + n] - cumulative[:n]) / width).astype(np.float32)


@dataclass(frozen=True)
class ReferencePlan:
    """Adds the reference variables (input, receptive-field mean) to a chunk of a store."""

    names: tuple[str, ...]
    left: int
    right: int

    def __call__(self, chunk: xr.Dataset, neural: np.ndarray) -> xr.Dataset:
        start, stop = int(chunk["time"].values[0]), int(chunk["time"].values[-1]) + 1
        window = f"{self.left + self.right} samples ({self.left} before, {self.right - 1} after)"
        for name in self.names:
            if name == "input":
                values, attrs = neural[start:stop], {"kind": "input"}
            else:
                values = receptive_field_mean(neural, start, stop, self.left, self.right)
                attrs = {"kind": "input_rf_mean", "window": window}
            chunk[name] = (
                ("time", f"{name}_unit"),
                np.asarray(values, dtype=np.float32),
                {"layer_name": name, **attrs},
            )
        return chunk


def reference_plan(model, session_id: int | None, references: Sequence[str]) -> ReferencePlan:
    """Which reference variables a store of ``model`` gets: ``input`` always when asked,
    ``input_rf_mean`` only for a convolutional encoder (an MLP sees one bin: it equals the input)."""
    # deferred: cebra (imports torch), loaded only on this path
    import cebra.models

    unknown = sorted(set(references) - set(REFERENCE_VARIABLES))
    if unknown:
        raise ValueError(f"unknown reference layers {unknown}; valid: {list(REFERENCE_VARIABLES)}")
    encoder = get_encoder(model, session_id)
    offset = encoder.get_offset()
    convolutional = isinstance(encoder, cebra.models.ConvolutionalModelMixin)
    left, right = (int(offset.left), int(offset.right)) if convolutional else (0, 1)
    names = tuple(
        n for n in REFERENCE_VARIABLES if n in references and (n == "input" or left + right > 1)
    )
    return ReferencePlan(names, left, right)


def base_attrs(
    model, session_id: int | None, layers: Sequence[LayerInfo], extra: Mapping | None
) -> dict:
    """Provenance attributes of an activation store (model, versions, per-layer paths)."""
    # deferred: cebra (imports torch), loaded only on this path
    import cebra

    encoder = get_encoder(model, session_id)
    attrs = {
        "architecture": str(model.model_architecture),
        "solver": str(getattr(model, "solver_name_", "")),
        "output_dimension": int(model.output_dimension),
        "session_id": -1 if session_id is None else int(session_id),
        "n_neurons": int(getattr(encoder, "num_input", -1)),
        "offset_left": int(encoder.get_offset().left),
        "offset_right": int(encoder.get_offset().right),
        "layer_names": [L.name for L in layers],
        "layer_module_paths": [L.module_path for L in layers],
        "layer_kinds": [L.kind for L in layers],
        "layer_widths": [int(L.width) for L in layers],
        "cebra_version": cebra.__version__,
        "torch_version": torch.__version__,
        "cebra_lens_core_version": cebra_lens_core.__version__,
        "provenance": current_record(),
    }
    parts = getattr(model, "parts_", None)  # xCEBRA: the behaviour and time dimensions
    if parts:
        attrs["embedding_parts"] = {p: [int(a), int(b)] for p, (a, b) in parts.items()}
    for key, value in (extra or {}).items():
        attrs[key] = value
    return attrs


def extract_activations(
    model,
    neural: np.ndarray,
    session_id: int | None = None,
    *,
    labels: Mapping[str, np.ndarray] | None = None,
    label_info: Mapping[str, LabelInfo] | None = None,
    train: np.ndarray | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    attrs: Mapping | None = None,
    device=None,
    references: Sequence[str] = ("input", "input_rf_mean"),
    capture: str = "blocks",
) -> xr.Dataset:
    """Activations of every captured layer of ``model`` on ``neural``, one row per input time point.

    Args:
        model: a fitted ``cebra.CEBRA`` (see :func:`cebra_lens_core.models.load_model`).
        neural: ``(T, neurons)`` recording of the session.
        session_id: encoder of a multi-session model (``None`` for single-session).
        labels, label_info: optional labels stored as ``label_<name>`` coordinates.
        train: optional boolean split mask stored as coordinate ``train``.
        chunk_size: time points per forward pass (memory bound); results do not depend on it.
        attrs: extra provenance attributes (model name, dataset, seed, config hash ...).
        device: where the encoder runs (``None``: where the model is; see
            :func:`iter_activation_chunks`). Results do not depend on it beyond float32
            rounding of the device's kernels.
        references: reference variables stored beside the layers: ``input`` (the
            recording, float32) and ``input_rf_mean`` (its mean over the receptive field,
            conv models only); ``()`` for none.
        capture: ``"blocks"`` (each residual block's output) or ``"cebra_lens"`` (the
            convolution inside each block, as CEBRA-Lens captures it); see
            :func:`cebra_lens_core.models.layers.list_layers`.

    Returns:
        ``xarray.Dataset`` with variables ``layer_00 ...`` of dims ``(time, layer_XX_unit)``,
        float32, coordinate ``time`` = 0..T-1, label coordinates and attributes as in
        the activation-store contract.
    """
    neural = check_model_input(model, neural, session_id)
    coords = label_coords(labels, label_info, train, len(neural))
    layers = layer_table(model, session_id, capture)
    chunks = [
        arrays
        for _, _, arrays in iter_activation_chunks(
            model, neural, session_id, chunk_size=chunk_size, device=device, capture=capture
        )
    ]
    whole = [np.concatenate([c[i] for c in chunks], axis=0) for i in range(len(layers))]
    add_references = reference_plan(model, session_id, references)
    ds = add_references(chunk_dataset(0, whole, layers, coords), neural)
    ds.attrs.update(base_attrs(model, session_id, layers, attrs))
    ds.attrs["reference_layers"] = list(add_references.names)
    ds.attrs["capture"] = capture
    return ds


def write_activation_store(
    path: str | os.PathLike,
    model,
    neural: np.ndarray,
    session_id: int | None = None,
    *,
    labels: Mapping[str, np.ndarray] | None = None,
    label_info: Mapping[str, LabelInfo] | None = None,
    train: np.ndarray | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    attrs: Mapping | None = None,
    device=None,
    references: Sequence[str] = REFERENCE_VARIABLES,
    capture: str = "blocks",
) -> Path:
    """Extract all layers of ``model`` on ``neural`` and stream them into a zarr store at ``path``.

    Arguments as in :func:`extract_activations` (``device``:
    where the encoder runs, ``None`` = where the model is). Peak memory is about one chunk
    of activations, whatever the recording length.
    Inputs are validated before anything is written. ``references``: the reference
    variables to store beside the layers
    (:data:`cebra_lens_core.activations.store.REFERENCE_VARIABLES`; ``input_rf_mean`` only
    for convolutional encoders). ``capture``: what is taken of each residual block
    (``blocks`` or ``cebra_lens``; :func:`cebra_lens_core.models.layers.list_layers`).
    """
    neural = check_model_input(model, neural, session_id)
    coords = label_coords(labels, label_info, train, len(neural))
    layers = layer_table(model, session_id, capture)
    # align extraction chunks to zarr chunks so appends never rewrite partial chunks
    chunk_size = max(ZARR_TIME_CHUNK, (int(chunk_size) // ZARR_TIME_CHUNK) * ZARR_TIME_CHUNK)
    progress = ProgressLog(f"extract {Path(path).name}")
    store_attrs = base_attrs(model, session_id, layers, attrs)
    add_references = reference_plan(model, session_id, references)
    store_attrs["reference_layers"] = list(add_references.names)
    store_attrs["capture"] = capture
    with atomic_path(path) as tmp:
        for start, _, arrays in iter_activation_chunks(
            model,
            neural,
            session_id,
            chunk_size=chunk_size,
            progress=progress,
            device=device,
            capture=capture,
        ):
            ds = add_references(chunk_dataset(start, arrays, layers, coords), neural)
            # every append rewrites the group attributes, so each chunk carries them
            ds.attrs.update(store_attrs)
            if start == 0:
                encoding = {
                    name: {"chunks": (ZARR_TIME_CHUNK, ds[name].shape[1])} for name in ds.data_vars
                }
                write_zarr(ds, tmp, mode="w", encoding=encoding)
            else:
                write_zarr(ds, tmp, append_dim="time")
        write_manifest(tmp)
    return Path(path)
