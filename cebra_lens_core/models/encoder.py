"""The torch encoder inside a fitted CEBRA model."""

from __future__ import annotations

import torch.nn as nn


def get_encoder(model, session_id: int | None = None):
    """The torch encoder of a fitted ``cebra.CEBRA`` (``model.model_[session_id]`` for multi-session).

    Raises:
        ValueError: ``session_id`` missing for a multi-session model, given for a
            single-session one, or out of range.
    """
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
