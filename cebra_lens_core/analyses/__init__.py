"""Store-level analyses: read activation stores, call a metric, return results-table rows.

``cebra_lens_core.metrics`` holds the pure maths on arrays; each module here
applies one metric to the layers of activation stores (respecting the split)
and formats the values as rows of the tidy results table.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from cebra_lens_core.analyses.decoding import decoding_analysis
from cebra_lens_core.analyses.dimensionality import dimensionality_analysis
from cebra_lens_core.analyses.distance import distance_analysis
from cebra_lens_core.analyses.embedding import embedding_analysis
from cebra_lens_core.analyses.rdm import rdm_analysis
from cebra_lens_core.analyses.single_units import single_unit_analysis
from cebra_lens_core.atomic import atomic_path
from cebra_lens_core.provenance import NPZ_KEY, current_record

#: options in the config that steer the workflow or the figures, not the analysis function
_NOT_ANALYSIS_OPTIONS = {"enabled", "color_label", "marker_label", "plot_layer"}


def store_analyses() -> dict[str, Callable]:
    """Per-store analyses by config name (``analyses.<name>`` in the config)."""
    return {
        "rdm": rdm_analysis,
        "distance": distance_analysis,
        "decoding": decoding_analysis,
        "dimensionality": dimensionality_analysis,
        "embedding": embedding_analysis,
        "single_unit": single_unit_analysis,
    }


#: analyses that also write arrays (``.npz``) for their figures
ANALYSES_WITH_ARRAYS = ("rdm", "embedding", "single_unit")


def run_store_analysis(analysis: str, store, name: str, options: Mapping):
    """Run analysis ``analysis`` on one activation store with the config's ``options``.

    Returns ``(rows, arrays)``; ``arrays`` is ``None`` for analyses without arrays.
    """
    functions = store_analyses()
    if analysis not in functions:
        raise ValueError(f"unknown analysis {analysis!r}; valid: {sorted(functions)}")
    kwargs = {k: v for k, v in options.items() if k not in _NOT_ANALYSIS_OPTIONS}
    out = functions[analysis](store, name=name, **kwargs)
    return out if isinstance(out, tuple) else (out, None)


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
