"""Train, load and inspect CEBRA models.

The exceptions are imported eagerly; every other name loads its module (and with it torch
and cebra) on first use, so code that only needs :class:`ModelFileError` or
:class:`ArchitectureError` (planning a run) never imports torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cebra_lens_core.lazy import lazy_exports
from cebra_lens_core.models.errors import ArchitectureError, ModelFileError, TrainingError

if TYPE_CHECKING:  # the lazily loaded names, for type checkers and readers
    from cebra_lens_core.models.encoder import get_encoder
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

#: public name -> the submodule that defines it (imported on first access)
_LAZY = {
    "get_encoder": "encoder",
    "LayerInfo": "layers",
    "build_encoder": "layers",
    "check_architecture_name": "layers",
    "describe_architecture": "layers",
    "list_layers": "layers",
    "load_model": "load",
    "read_checkpoint": "load",
    "TrainingSpec": "train",
    "save_model": "train",
    "seeded_cebra": "train",
    "train_model": "train",
    "training_history": "train",
}

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

__getattr__, __dir__ = lazy_exports(__name__, globals(), _LAZY)
