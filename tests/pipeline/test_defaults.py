"""Defaults live in one place: the schema's default of every analysis setting equals the
default of the library function that takes it (so a notebook call and a workflow run with
default settings compute the same numbers)."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
import yaml

from cebra_lens_core.analyses import store_analyses
from cebra_lens_core.analyses.cka import cka_rows_for_pairs
from cebra_lens_core.metrics.cka import DEFAULT_MAX_SAMPLES

SCHEMA = yaml.safe_load(
    (
        Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"
    ).read_text()
)


def _schema_defaults(block: dict) -> dict:
    return {k: v["default"] for k, v in block.get("properties", {}).items() if "default" in v}


def _same(schema_value, function_value) -> bool:
    """Equal up to list/tuple, with an empty list meaning what ``None`` means (all)."""
    if isinstance(schema_value, list) and not schema_value and function_value in (None, ()):
        return True
    if isinstance(schema_value, list) and isinstance(function_value, tuple):
        return schema_value == list(function_value)
    return schema_value == function_value


def _disagreements(function, defaults: dict) -> dict:
    parameters = inspect.signature(function).parameters
    return {
        key: (value, parameters[key].default)
        for key, value in defaults.items()
        if key in parameters
        and parameters[key].default is not inspect.Parameter.empty
        and not _same(value, parameters[key].default)
    }


@pytest.mark.parametrize("analysis", sorted(store_analyses()))
def test_analysis_defaults_agree_with_the_schema(analysis):
    defaults = _schema_defaults(SCHEMA["properties"]["analyses"]["properties"][analysis])
    assert _disagreements(store_analyses()[analysis], defaults) == {}


def test_cka_defaults_agree_with_the_schema():
    defaults = _schema_defaults(SCHEMA["properties"]["cka"])
    assert _disagreements(cka_rows_for_pairs, defaults) == {}
    # the metric's own sample cap for RBF CKA is the workflow's (one cap, not two)
    assert defaults["rbf_max_samples"] == DEFAULT_MAX_SAMPLES


def test_disagreement_is_found():
    def f(k: int = 3, labels=None):
        return k, labels

    assert _disagreements(f, {"k": 5, "labels": []}) == {"k": (5, 3)}
