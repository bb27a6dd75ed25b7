"""The ``device`` option shared by extraction, CKA and attribution.

Every function that can run on a GPU takes ``device``:

- ``None`` (default): extraction and attribution run where the model already is (the device
  given to :func:`cebra_lens_core.models.load_model`); CKA uses its numpy path (no torch);
- ``"cpu"``, ``"cuda"``, ``"cuda:N"``: that torch device; ``"cuda"`` without a GPU is an
  error (the workflow maps the config's ``cuda`` to ``cpu`` first, with a warning);
- ``"auto"`` (alias ``"cuda_if_available"``, the config's spelling): ``"cuda"`` if
  ``torch.cuda.is_available()``, else ``"cpu"``.

On CUDA the data of one step stays on the GPU: extraction uploads each input window once and
runs every layer on the device (cropped there, copied back once per chunk); CKA uploads each
row chunk once and accumulates ``G = Z^T Z`` in float64 on the device (and keeps the chunks on
the device between its two passes when they fit, see
:func:`cebra_lens_core.metrics.cka.stacked_covariance`); attribution keeps the recording and
the model copies on the device.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DEVICE_CHOICES", "torch_device"]

#: Accepted spellings (besides ``cuda:N`` and ``None``).
DEVICE_CHOICES: tuple[str, ...] = ("auto", "cuda_if_available", "cpu", "cuda")


def torch_device(device: Any) -> Any:
    """Resolve ``device`` (see the module docstring) to a ``torch.device``; ``None`` stays ``None``.

    Raises:
        ValueError: an unknown spelling, or a CUDA device requested without a usable GPU.
    """
    if device is None:
        return None
    # deferred: torch, loaded only on this path
    import torch

    if isinstance(device, torch.device):
        spec = str(device)
    else:
        spec = str(device).strip().lower()
    if spec in ("auto", "cuda_if_available"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if spec == "cpu":
        return torch.device("cpu")
    if spec == "cuda" or spec.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise ValueError(
                f"device {device!r} requested but no CUDA GPU is available "
                "(use device='auto' to fall back to the CPU)"
            )
        dev = torch.device(spec)
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(
                f"device {device!r}: only {torch.cuda.device_count()} CUDA device(s) present"
            )
        return dev
    valid = ", ".join(repr(c) for c in DEVICE_CHOICES)
    raise ValueError(f"unknown device {device!r}; valid: None, {valid} or 'cuda:N'")
