"""Exceptions raised by :mod:`cebra_lens_core.models`."""

import re

# terminal colour and cursor codes (ESC [ ... letter) that some libraries put in messages
_ESCAPE_CODES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b")


def plain_text(message: str) -> str:
    """``message`` without terminal escape codes (they garble log files and reports)."""
    return _ESCAPE_CODES.sub("", str(message))


class ModelFileError(ValueError):
    """A model file is missing, truncated, unsafe to unpickle or not a CEBRA checkpoint.

    The message is stored as plain text: escape codes of underlying libraries are removed.
    """

    def __init__(self, message: str = ""):
        super().__init__(plain_text(message))


class ArchitectureError(ValueError):
    """An architecture is unknown or its layers cannot be aligned to input time."""


class TrainingError(RuntimeError):
    """Training failed or diverged (non-finite loss)."""
