"""Options shared by the uncertainty estimates: the bootstrap block length in samples."""

from __future__ import annotations

#: Block length (samples) when the bin width of the data is unknown and none is configured.
DEFAULT_BLOCK_SAMPLES = 50


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
