"""Per-layer activations of CEBRA encoders and the zarr stores that hold them.

- :mod:`~cebra_lens_core.activations.store`: the activation store format (zarr v3 through
  xarray, written atomically); reads and writes stores, runs no model and imports no torch.
- :mod:`~cebra_lens_core.activations.extract`: the alignment rule, chunked extraction and
  :func:`write_activation_store` (imports torch and cebra).
- :mod:`~cebra_lens_core.activations.baselines`: PCA, t-SNE and UMAP embeddings written as
  one-layer stores.

The extraction names below load :mod:`~cebra_lens_core.activations.extract` (and with it
torch and cebra) on first use, so code that only reads stores
(``from cebra_lens_core.activations.store import open_activation_store``) never imports torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cebra_lens_core.lazy import lazy_exports

if TYPE_CHECKING:  # the lazily loaded names, for type checkers and readers
    from cebra_lens_core.activations.extract import (
        DEFAULT_CHUNK_SIZE,
        ReferencePlan,
        base_attrs,
        check_model_input,
        extract_activations,
        iter_activation_chunks,
        layer_table,
        receptive_field_mean,
        reference_plan,
        write_activation_store,
    )

#: public name -> the submodule that defines it (imported on first access)
_LAZY = {
    "DEFAULT_CHUNK_SIZE": "extract",
    "ReferencePlan": "extract",
    "base_attrs": "extract",
    "check_model_input": "extract",
    "extract_activations": "extract",
    "iter_activation_chunks": "extract",
    "layer_table": "extract",
    "receptive_field_mean": "extract",
    "reference_plan": "extract",
    "write_activation_store": "extract",
}

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "ReferencePlan",
    "base_attrs",
    "check_model_input",
    "extract_activations",
    "iter_activation_chunks",
    "layer_table",
    "receptive_field_mean",
    "reference_plan",
    "write_activation_store",
]

__getattr__, __dir__ = lazy_exports(__name__, globals(), _LAZY)
