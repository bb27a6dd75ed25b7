"""Train, load and inspect CEBRA models."""

from cebra_lens_core.models.errors import ArchitectureError, ModelFileError, TrainingError
from cebra_lens_core.models.layers import (
    LayerInfo,
    build_encoder,
    check_architecture_name,
    describe_architecture,
    list_layers,
)
from cebra_lens_core.models.load import load_model, read_checkpoint
from cebra_lens_core.models.train import (
    TrainingSpec,
    save_model,
    seeded_cebra,
    train_model,
    training_history,
)

__all__ = [
    "ArchitectureError",
    "LayerInfo",
    "ModelFileError",
    "TrainingError",
    "TrainingSpec",
    "build_encoder",
    "check_architecture_name",
    "describe_architecture",
    "get_encoder",
    "list_layers",
    "load_model",
    "read_checkpoint",
    "save_model",
    "seeded_cebra",
    "train_model",
    "training_history",
]


def get_encoder(model, session_id: int | None = None):
    """The torch encoder of a fitted ``cebra.CEBRA`` (``model.model_[session_id]`` for multi-session).

    Raises:
        ValueError: ``session_id`` missing for a multi-session model, given for a
            single-session one, or out of range.
    """
    import torch.nn as nn

    encoders = model.model_
    if isinstance(encoders, nn.ModuleList):
        n = len(encoders)
        if session_id is None:
            raise ValueError(
                f"this is a multi-session model with {n} sessions; pass session_id in 0..{n - 1}"
            )
        if not 0 <= int(session_id) < n:
            raise ValueError(
                f"session_id {session_id} is out of range for a model with {n} sessions (0..{n - 1})"
            )
        return encoders[int(session_id)]
    if session_id not in (None, 0):
        raise ValueError(f"session_id {session_id} given for a single-session model; use None or 0")
    return encoders
