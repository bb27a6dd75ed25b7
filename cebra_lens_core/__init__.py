"""cebra_lens_core: mechanistic interpretability of CEBRA models.

Per-layer activations aligned to input time, layer similarity (CKA, RSA),
decoding, distances and attribution, as pure functions usable from a notebook
or from the Snakemake workflow in ``workflow/``.
"""

__version__ = "0.1.0"
