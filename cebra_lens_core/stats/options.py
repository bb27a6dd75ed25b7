"""Options shared by the uncertainty estimates: the bootstrap and null settings, and the
bootstrap block length in samples.

Intervals are percentile intervals (``confidence``, default 95 %) of ``n_resamples``
seeded replicates. The block length is given in samples (the workflow converts the
configured seconds with the dataset's bin width) and is capped at ``T // min_blocks`` so
that every bootstrap has at least ``min_blocks`` blocks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "DEFAULT_BLOCK_SAMPLES",
    "MIN_SHIFT_FRACTION",
    "BATCH_ELEMENTS",
    "BootstrapOptions",
    "NullOptions",
    "resolve_block_length",
]

#: Block length (samples) when the bin width of the data is unknown and none is configured.
DEFAULT_BLOCK_SAMPLES = 50
#: Default minimum circular shift of :func:`~cebra_lens_core.stats.cka.cka_shift_null`, as a
#: fraction of ``T``.
MIN_SHIFT_FRACTION = 0.1
#: Cap on the replicate batch of the decoding bootstrap (elements of ``(B, T)`` arrays).
BATCH_ELEMENTS = 2**22


def resolve_block_length(
    bin_width_s: float | None, block_seconds: float, block_samples: int | None = None
) -> int:
    """Bootstrap block length in samples: ``max(1, round(block_seconds / bin_width_s))``.

    ``block_samples`` (when given) is used as it is, and also when the bin width is unknown
    (``None`` or NaN); without either, :data:`DEFAULT_BLOCK_SAMPLES`.
    """
    if block_samples is not None:
        return max(1, int(block_samples))
    width = float("nan") if bin_width_s is None else float(bin_width_s)
    if not (width > 0 and width < float("inf")):
        return DEFAULT_BLOCK_SAMPLES
    seconds = float(block_seconds)
    if not seconds > 0:
        raise ValueError(f"block length in seconds must be positive, got {block_seconds}")
    return max(1, int(round(seconds / width)))


@dataclass(frozen=True)
class BootstrapOptions:
    """Block-bootstrap settings shared by the analyses.

    Attributes:
        n_resamples: replicates ``B``.
        block_length: block length ``L`` in samples.
        confidence: level of the percentile interval.
        seed: seed of the block draws (the same draws for every layer of a store).
        min_blocks: ``L`` is capped at ``T // min_blocks`` rows.
    """

    n_resamples: int = 100
    block_length: int = DEFAULT_BLOCK_SAMPLES
    confidence: float = 0.95
    seed: int = 0
    min_blocks: int = 10

    def __post_init__(self):
        if int(self.n_resamples) < 1:
            raise ValueError(f"n_resamples must be >= 1, got {self.n_resamples}")
        if int(self.block_length) < 1:
            raise ValueError(f"block_length must be >= 1 sample, got {self.block_length}")
        if not 0.0 < float(self.confidence) < 1.0:
            raise ValueError(f"confidence must be in (0, 1), got {self.confidence}")
        if int(self.min_blocks) < 1:
            raise ValueError(f"min_blocks must be >= 1, got {self.min_blocks}")

    def length_for(self, n_rows: int) -> int:
        """Block length used on ``n_rows`` rows: ``min(L, n_rows // min_blocks)``, >= 1."""
        return max(1, min(int(self.block_length), int(n_rows) // int(self.min_blocks)))

    @classmethod
    def from_config(cls, options: Mapping | BootstrapOptions | None) -> BootstrapOptions | None:
        """From the workflow's ``bootstrap`` params (``None`` when disabled).

        Keys: ``enabled``, ``n_resamples``, ``block_length`` (samples; or ``block_seconds``
        with ``bin_width_s``, and ``block_samples``), ``confidence``, ``seed``, ``min_blocks``.
        """
        if options is None or isinstance(options, BootstrapOptions):
            return options
        if not options.get("enabled", True):
            return None
        length = options.get("block_length")
        if length is None:
            length = resolve_block_length(
                options.get("bin_width_s"),
                float(options.get("block_seconds", 2.0)),
                options.get("block_samples"),
            )
        return cls(
            n_resamples=int(options.get("n_resamples", 100)),
            block_length=int(length),
            confidence=float(options.get("confidence", 0.95)),
            seed=int(options.get("seed", 0)),
            min_blocks=int(options.get("min_blocks", 10)),
        )


@dataclass(frozen=True)
class NullOptions:
    """Null-distribution settings.

    Attributes:
        n_permutations: null draws (circular shifts for CKA, condition permutations for RSA).
        min_shift_fraction: CKA: the smallest circular shift as a fraction of ``T``.
        seed: seed of the shifts / permutations.
        layers: ``"corresponding"`` (layer pairs of the same name, see
            :func:`~cebra_lens_core.naming.corresponding_layers`) or ``"all"`` layer pairs.
        quantile: the null quantile reported as ``null_95th``.
    """

    n_permutations: int = 99
    min_shift_fraction: float = MIN_SHIFT_FRACTION
    seed: int = 0
    layers: str = "corresponding"
    quantile: float = 0.95

    def __post_init__(self):
        if int(self.n_permutations) < 1:
            raise ValueError(f"n_permutations must be >= 1, got {self.n_permutations}")
        if not 0.0 < float(self.min_shift_fraction) <= 0.5:
            raise ValueError(
                f"min_shift_fraction must be in (0, 0.5], got {self.min_shift_fraction}"
            )
        if self.layers not in ("corresponding", "all"):
            raise ValueError(f"layers must be 'corresponding' or 'all', got {self.layers!r}")

    def min_shift(self, n_rows: int) -> int:
        """Smallest circular shift in samples on ``n_rows`` rows (between 1 and ``T // 2``)."""
        return max(1, min(int(n_rows) // 2, math.ceil(float(self.min_shift_fraction) * n_rows)))

    @classmethod
    def from_config(cls, options: Mapping | NullOptions | None) -> NullOptions | None:
        """From the workflow's ``nulls`` params (``None`` when disabled)."""
        if options is None or isinstance(options, NullOptions):
            return options
        if not options.get("enabled", True):
            return None
        return cls(
            n_permutations=int(options.get("n_permutations", 99)),
            min_shift_fraction=float(options.get("min_shift_fraction", MIN_SHIFT_FRACTION)),
            seed=int(options.get("seed", 0)),
            layers=str(options.get("layers", "corresponding")),
        )
