"""Fixtures of the synthetic-generator tests."""

from __future__ import annotations

import pytest

from cebra_lens_core.data.synthetic import GENERATORS


@pytest.fixture(scope="session")
def defaults():
    """Each generator at its defaults (built once for the test session)."""
    return {name: generator() for name, generator in GENERATORS.items()}
