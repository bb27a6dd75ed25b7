"""Array outputs of the analyses (``.npz``): what their figures draw, with provenance."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from cebra_lens_core.atomic import atomic_path
from cebra_lens_core.provenance import NPZ_KEY, current_record

__all__ = ["load_arrays", "save_arrays"]


def save_arrays(arrays: Mapping[str, np.ndarray], path: str | os.PathLike) -> Path:
    """Save named arrays (keys may contain ``/``) to one ``.npz`` atomically, with the
    provenance record as the JSON string entry ``provenance``."""
    if NPZ_KEY in arrays:
        raise ValueError(f"'{NPZ_KEY}' is reserved for the provenance record")
    entries = {k: np.asarray(v) for k, v in arrays.items()}
    entries[NPZ_KEY] = np.array(json.dumps(current_record(), sort_keys=True))
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **entries)
    return Path(path)


def load_arrays(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Load arrays written by :func:`save_arrays`."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"array file {path} does not exist")
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files if k != NPZ_KEY}
