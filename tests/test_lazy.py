"""Lazily exported names: loaded on first access only, cached, listed, unknown names refused."""

from __future__ import annotations

import subprocess
import sys

import pytest

from cebra_lens_core.lazy import lazy_exports


def test_names_load_on_first_access_and_are_cached():
    namespace: dict = {}
    getattr_, dir_ = lazy_exports("cebra_lens_core", namespace, {"REGISTRY": "analyses"})
    assert "REGISTRY" in dir_() and "REGISTRY" not in namespace
    registry = getattr_("REGISTRY")
    assert "decoding" in registry and namespace["REGISTRY"] is registry
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        getattr_("nope")


def test_reading_stores_and_model_errors_does_not_import_torch():
    code = (
        "import sys\n"
        "import cebra_lens_core.activations.store, cebra_lens_core.models, cebra_lens_core.stats\n"
        "from cebra_lens_core.models import ModelFileError\n"
        "print('torch' in sys.modules)\n"
        "from cebra_lens_core.activations import extract_activations\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"], out.stderr
