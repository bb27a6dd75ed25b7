"""Uncertainty and significance of the metrics: block bootstrap, null distributions, noise
ceilings.

Arrays are ``time × units`` (rows are time points). Every random choice takes an integer
``seed`` and uses ``numpy.random.default_rng(seed)``, so a rerun gives identical numbers.

Modules (the shared machinery first, then one module per metric, named as in
:mod:`cebra_lens_core.metrics`):

- :mod:`~cebra_lens_core.stats.options`: :class:`BootstrapOptions`, :class:`NullOptions` and
  the defaults (block length in samples, minimum circular shift, batch sizes).
- :mod:`~cebra_lens_core.stats.resampling`: circular and non-overlapping block bootstrap
  draws, block rows and weights, percentile intervals, :func:`bootstrap_interval`, the
  shared input checks.
- :mod:`~cebra_lens_core.stats.nulls`: permutation p-values, :class:`NullResult`, circular
  shift offsets.
- :mod:`~cebra_lens_core.stats.cka`: CKA bootstrap from per-block moments, the circular
  time-shift null, both for one pair of stores.
- :mod:`~cebra_lens_core.stats.rdm`: condition-permutation null of RSA, noise ceiling across
  seeds, bootstrap of the RDM-vs-oracle score.
- :mod:`~cebra_lens_core.stats.distance`: bootstrap of the class distances.
- :mod:`~cebra_lens_core.stats.decoding`: bootstrap of the test scores of a fitted decoder.
- ``_groups``: per-block, per-group sums shared by the RDM and distance bootstraps.

The public names are re-exported here (``from cebra_lens_core.stats import cka_bootstrap``).
"""

from __future__ import annotations

from cebra_lens_core.stats._groups import BlockGroupSums, block_group_sums
from cebra_lens_core.stats.cka import (
    CKABootstrapResult,
    cka_bootstrap,
    cka_pair_statistics,
    cka_shift_null,
)
from cebra_lens_core.stats.decoding import decoding_bootstrap
from cebra_lens_core.stats.distance import distance_bootstrap
from cebra_lens_core.stats.nulls import NullResult, permutation_p_value
from cebra_lens_core.stats.options import (
    DEFAULT_BLOCK_SAMPLES,
    BootstrapOptions,
    NullOptions,
    resolve_block_length,
)
from cebra_lens_core.stats.rdm import (
    NoiseCeiling,
    noise_ceiling,
    rdm_oracle_bootstrap,
    rdm_permutation_null,
)
from cebra_lens_core.stats.resampling import (
    BOOTSTRAP_METHODS,
    BootstrapResult,
    Interval,
    block_bootstrap_indices,
    block_length_from_seconds,
    block_rows,
    block_weights,
    bootstrap_interval,
    nonoverlapping_block_draws,
    percentile_interval,
)

__all__ = [
    "BOOTSTRAP_METHODS",
    "DEFAULT_BLOCK_SAMPLES",
    "BootstrapOptions",
    "NullOptions",
    "BootstrapResult",
    "CKABootstrapResult",
    "NullResult",
    "NoiseCeiling",
    "Interval",
    "BlockGroupSums",
    "resolve_block_length",
    "block_length_from_seconds",
    "block_bootstrap_indices",
    "nonoverlapping_block_draws",
    "block_rows",
    "block_weights",
    "block_group_sums",
    "percentile_interval",
    "bootstrap_interval",
    "cka_bootstrap",
    "cka_pair_statistics",
    "permutation_p_value",
    "cka_shift_null",
    "rdm_permutation_null",
    "noise_ceiling",
    "rdm_oracle_bootstrap",
    "distance_bootstrap",
    "decoding_bootstrap",
]
