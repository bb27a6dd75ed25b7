"""Lazily exported names of a package face (PEP 562); a leaf: it imports nothing of the package.

A package whose submodules import torch re-exports their names without importing them:

    __getattr__, __dir__ = lazy_exports(__name__, globals(), {"load_model": "load", ...})

``from package import load_model`` then imports ``package.load`` on first use only.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    package: str, namespace: dict[str, Any], names: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``: name ``n`` of ``names`` is loaded from the
    submodule ``package.<names[n]>`` when first accessed, then cached in ``namespace``."""

    def __getattr__(name: str) -> Any:
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{names[name]}"), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(names))

    return __getattr__, __dir__
