"""The torch-free list of CEBRA architectures used at planning time equals CEBRA's registry."""

from __future__ import annotations

import cebra.models

from cebra_lens_core.pipeline.architectures import (
    CEBRA_ARCHITECTURES,
    unknown_architecture_message,
)


def test_list_equals_the_installed_cebra_registry():
    assert list(CEBRA_ARCHITECTURES) == list(cebra.models.get_options()), (
        "cebra_lens_core/pipeline/architectures.py is out of date with the installed CEBRA; "
        "regenerate CEBRA_ARCHITECTURES from cebra.models.get_options()"
    )


def test_known_name_passes_unknown_name_gets_closest_match():
    assert unknown_architecture_message("offset10-model") is None
    message = unknown_architecture_message("offset10-modle")
    assert "unknown CEBRA architecture 'offset10-modle'" in message
    assert "did you mean offset10-model" in message
    assert "did you mean" not in unknown_architecture_message("zzzz")
