"""Exceptions raised by :mod:`cebra_lens_core.models`."""


class ModelFileError(ValueError):
    """A model file is missing, truncated, unsafe to unpickle or not a CEBRA checkpoint."""


class ArchitectureError(ValueError):
    """An architecture is unknown or its layers cannot be aligned to input time."""


class TrainingError(RuntimeError):
    """Training failed or diverged (non-finite loss)."""
