"""Names the package invents and the rules that match them; a leaf: it imports nothing of
the package.

:func:`corresponding_layers`: which layers of two models correspond (by name, else by index;
the embeddings always); :func:`session_name`: the ``_session<k>`` suffix of stores, seed groups
and recordings; :func:`unknown_architecture_message`: the error for an unknown architecture name;
:data:`XCEBRA_TRAINING_KEYS`: the training keys only xCEBRA models take.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

__all__ = [
    "XCEBRA_TRAINING_KEYS",
    "corresponding_layers",
    "session_name",
    "unknown_architecture_message",
]

#: training keys that only xCEBRA models (``conditional: xcebra``) use, with the neutral value
#: every other model has (the schema's defaults and ``TrainingSpec``'s; checked by a test).
#: Here, a leaf, so that config validation (torch-free) and ``TrainingSpec`` share one list.
XCEBRA_TRAINING_KEYS: dict[str, object] = {
    "behavior_dimensions": None,
    "regularizer_weight": 0.0,
    "regularizer_start_weight": 0.0,
    "regularizer_warmup_start": 0,
    "regularizer_warmup_end": 0,
    "regularizer_projections": 1,
}


def session_name(name: str, session: int | None) -> str:
    """``name`` on a single-session dataset (``session=None``), else ``<name>_session<k>``:
    the names of stores, seed groups and recordings of session ``k``."""
    return name if session is None else f"{name}_session{session}"


def corresponding_layers(names_a: Sequence[str], names_b: Sequence[str]) -> list[tuple[int, int]]:
    """Layer pairs ``(i, j)`` that correspond between two models.

    Layers of the same (non-empty) name correspond (``conv_in``–``conv_in``, ``block_1``–
    ``block_1``, ``norm``–``norm``, also across depths); without a common name, layers of the
    same index when both models have the same depth. The last layers (the embeddings) always
    correspond.
    """
    la, lb = len(names_a), len(names_b)
    pairs = {(i, j) for i, a in enumerate(names_a) for j, b in enumerate(names_b) if a and a == b}
    if not pairs and la == lb:
        pairs = {(i, i) for i in range(la)}
    if la and lb:
        pairs.add((la - 1, lb - 1))
    return sorted(pairs)


def did_you_mean(value: object, choices: Sequence[str], cutoff: float = 0.6) -> str:
    """`` — did you mean 'x'?`` for the choice closest to ``value`` (``difflib``), else ``""``."""
    close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=1, cutoff=cutoff)
    return f" — did you mean {close[0]!r}?" if close else ""


def unknown_architecture_message(architecture: str, options: Sequence[str]) -> str | None:
    """``None`` when ``architecture`` is one of the registered CEBRA architecture names
    ``options``, else the error text with the closest valid names (``difflib``, cutoff 0.5)."""
    if architecture in options:
        return None
    close = difflib.get_close_matches(str(architecture), list(options), n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return (
        f"unknown CEBRA architecture {architecture!r}{hint} "
        "(see cebra.models.get_options() for all names)"
    )
