"""Representation metrics computed on per-layer activations (time × units arrays).

Submodules: :mod:`cebra_lens_core.metrics.cka` (centred kernel alignment), and the RSA,
distance, decoding, dimensionality and consistency metrics.
"""
