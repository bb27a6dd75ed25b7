"""Names the package invents and the rules that match them; a leaf: it imports nothing of
the package.

:func:`corresponding_layers`: which layers of two models correspond (by name, else by index;
the embeddings always).
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["corresponding_layers"]


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
