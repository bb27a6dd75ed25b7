"""Enumerate the capturable layers of a CEBRA encoder.

CEBRA's offset models are ``net = Sequential(...)`` stacks. The captured layers
(in forward order) are the outputs of every weight layer or residual block and
of the output-shaping modules after the last weight layer:

- conv models: the first ``Conv1d`` (``conv_in``), each ``_Skip`` block (the
  residual stream after the add, ``block_1`` ...), the final ``Conv1d``
  (``conv_out``, pre-normalisation), then ``_Norm`` (``norm``) or ``Tanh``, or for
  xCEBRA models the per-part normalisation (``part_norm``);
- MLP models (``offset1-model*``): each ``Linear`` / ``_SkipLinear``
  (``linear_1`` ..., ``linear_out``), then ``norm`` / ``tanh``;
- ``-mse-clip-*`` models: the clamp applied in ``forward()`` (``clip``).

The last captured layer is always the embedding returned by ``transform()``.
Activation functions (GELU) are not captured separately: a block's output
already includes them. A module object that is reused at several positions
(``offset1-model-mse-v2-*``, ``-resnet-*``) is captured once per call, each as
its own layer, because extraction walks the ``Sequential`` position by position.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from cebra_lens_core.models.errors import ArchitectureError
from cebra_lens_core.models.xcebra import PartNorm
from cebra_lens_core.naming import unknown_architecture_message


@dataclass(frozen=True)
class LayerInfo:
    """One captured layer.

    Attributes:
        index: position among captured layers (0 = first, last = embedding).
        name: readable name, e.g. ``conv_in``, ``block_2``, ``norm``.
        module_path: attribute path in the encoder, e.g. ``net.3``.
        kind: ``conv``, ``residual_block``, ``linear``, ``norm``, ``tanh`` or ``clip``.
        width: number of units (channels / features) of the layer output.
        position: index in ``encoder.net`` after which the output is taken
            (``None`` for the clip applied outside ``net``).
        inner: the output of the first module *inside* the residual block at ``position``
            (its convolution, before the nonlinearity and the skip addition) instead of the
            block's output (``capture="cebra_lens"``).
    """

    index: int
    name: str
    module_path: str
    kind: str
    width: int
    position: int | None
    inner: bool = False


def _cebra_layers():
    # deferred: cebra (imports torch), loaded only on this path
    import cebra.models.layers as cl

    return cl


def check_supported(encoder: nn.Module) -> None:
    """Raise :class:`ArchitectureError` if per-layer extraction is undefined for ``encoder``.

    Unsupported: models that resample time (``*-subsample``, ``resample*``),
    supervised classifier models, and anything without a ``net`` Sequential.
    """
    # deferred: cebra (imports torch), loaded only on this path
    import cebra.models as cm

    name = type(encoder).__name__
    if isinstance(encoder, cm.ResampleModelMixin):
        raise ArchitectureError(
            f"{name} downsamples time (output rate below the input rate), so its layers "
            "cannot be aligned one row per input time point; use a non-subsampling "
            "architecture such as offset10-model"
        )
    if isinstance(encoder, cm.ClassifierModel):
        raise ArchitectureError(
            f"{name} is a supervised classifier model (supervised*-model); per-layer CEBRA "
            "activations are only defined for contrastive offset models"
        )
    if not isinstance(getattr(encoder, "net", None), nn.Sequential):
        raise ArchitectureError(
            f"{name} has no `net` Sequential; only CEBRA offset models "
            "(cebra.models.get_options()) are supported"
        )


def _width(module: nn.Module, previous: int) -> int:
    cl = _cebra_layers()
    if isinstance(module, nn.Conv1d):
        return module.out_channels
    if isinstance(module, nn.Linear):
        return module.out_features
    if isinstance(module, cl._SkipLinear):
        return module.module.out_features
    if isinstance(module, cl._Skip):
        width = previous
        for sub in module.module:
            if isinstance(sub, (nn.Conv1d, nn.Linear)):
                width = sub.out_channels if isinstance(sub, nn.Conv1d) else sub.out_features
        return width
    return previous


def _kind(module: nn.Module) -> str | None:
    cl = _cebra_layers()
    if isinstance(module, nn.Conv1d):
        return "conv"
    if isinstance(module, nn.Linear):
        return "linear"
    if isinstance(module, cl._SkipLinear):
        return "linear"
    if isinstance(module, cl._Skip):
        return "residual_block"
    if isinstance(module, cl._Norm):
        return "norm"
    if isinstance(module, PartNorm):  # xCEBRA: each embedding part normalised on its own
        return "part_norm"
    if isinstance(module, nn.Tanh):
        return "tanh"
    return None


#: what is captured of each residual block: ``blocks``, the residual stream after the skip
#: addition (METHODS.md); ``cebra_lens``, the convolution inside the block (what CEBRA-Lens
#: hooks), before its GELU and the addition
CAPTURE_MODES = ("blocks", "cebra_lens")


def list_layers(encoder: nn.Module, capture: str = "blocks") -> list[LayerInfo]:
    """List the captured layers of a CEBRA encoder (a ``cebra.models.Model``), in forward order.

    ``capture``: ``"blocks"`` (default) takes each residual block's output (the residual
    stream); ``"cebra_lens"`` takes the convolution inside each block instead (named
    ``block_<k>_conv``, module path ``net.<p>.module.0``), as CEBRA-Lens does. Both align to
    input time the same way (the inner convolution shortens time as much as the block).

    Raises:
        ArchitectureError: for architectures where per-layer alignment is undefined, or an
            unknown ``capture``.
    """
    if capture not in CAPTURE_MODES:
        raise ArchitectureError(f"capture must be one of {list(CAPTURE_MODES)}, got {capture!r}")
    check_supported(encoder)
    net: nn.Sequential = encoder.net
    raw: list[tuple[int, str, int]] = []
    width = int(getattr(encoder, "num_input", 0) or 0)
    for position, module in enumerate(net):
        kind = _kind(module)
        width = _width(module, width)
        if kind is not None:
            raw.append((position, kind, width))
    if not raw:
        raise ArchitectureError(f"{type(encoder).__name__}: no capturable layers found in `net`")

    weight_positions = [p for p, k, _ in raw if k in ("conv", "linear", "residual_block")]
    last_weight = max(weight_positions)
    first_weight = min(weight_positions)
    layers: list[LayerInfo] = []
    block = 0
    hidden = 0
    for position, kind, w in raw:
        if kind == "residual_block":
            block += 1
            name = f"block_{block}"
        elif kind == "conv":
            name = (
                "conv_out"
                if position == last_weight
                else ("conv_in" if position == first_weight else f"conv_{position}")
            )
        elif kind == "linear":
            hidden += 1
            name = "linear_out" if position == last_weight else f"linear_{hidden}"
        else:
            name = kind
        if kind == "residual_block" and capture == "cebra_lens":
            inner = net[position].module[0]
            layers.append(
                LayerInfo(
                    len(layers),
                    f"{name}_conv",
                    f"net.{position}.module.0",
                    "block_conv",
                    int(getattr(inner, "out_channels", w)),
                    position,
                    inner=True,
                )
            )
            continue
        layers.append(LayerInfo(len(layers), name, f"net.{position}", kind, w, position))

    clamp = getattr(encoder, "clamp", None)
    if isinstance(clamp, nn.Module):
        layers.append(LayerInfo(len(layers), "clip", "clamp", "clip", layers[-1].width, None))
    return layers


def shared_module_positions(encoder: nn.Module) -> list[list[int]]:
    """Groups of ``net`` positions that hold the *same* module object (reused weights)."""
    seen: dict[int, list[int]] = {}
    for position, module in enumerate(encoder.net):
        if any(True for _ in module.parameters()):
            seen.setdefault(id(module), []).append(position)
    return [positions for positions in seen.values() if len(positions) > 1]


def describe_architecture(
    architecture: str, num_neurons: int = 10, num_units: int = 32, num_output: int = 3
) -> list[LayerInfo]:
    """Build a fresh ``architecture`` (a ``cebra.models.get_options()`` name) and list its layers.

    Raises:
        ArchitectureError: unknown name (closest names suggested) or unsupported model.
    """
    encoder = build_encoder(architecture, num_neurons, num_units, num_output)
    return list_layers(encoder)


def build_encoder(
    architecture: str, num_neurons: int, num_units: int, num_output: int
) -> nn.Module:
    """Instantiate a registered CEBRA architecture, with a helpful error for unknown names."""
    # deferred: cebra (imports torch), loaded only on this path
    import cebra.models

    check_architecture_name(architecture)
    return cebra.models.init(
        architecture, num_neurons=num_neurons, num_units=num_units, num_output=num_output
    )


def check_architecture_name(architecture: str) -> None:
    """Raise :class:`ArchitectureError` naming the closest valid names if ``architecture`` is unknown."""
    # deferred: cebra (imports torch), loaded only on this path
    import cebra.models

    message = unknown_architecture_message(architecture, cebra.models.get_options())
    if message is not None:
        raise ArchitectureError(message)
