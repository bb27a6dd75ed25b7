"""Property-based tests (hypothesis): random configs and random recording files.

Valid configs plan; invalid ones (wrong types, unknown keys, missing keys, values out of
range) raise the project's own ``ConfigError`` naming the key, before any job could start.
Recording files in CEBRA's formats with wrong keys, wrong shapes, NaN/inf, labels of the wrong
length or kind, or no time points raise ``DataError`` naming the file or the label — never a
bare library traceback. Each test counts its cases (``-s`` prints them).
"""

from __future__ import annotations

import copy
import math
from pathlib import Path

import joblib
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cebra_lens_core.data import load_dataset
from cebra_lens_core.data.types import DataError
from cebra_lens_core.pipeline.config import ConfigError, prepare_config, read_yaml
from cebra_lens_core.pipeline.plan import plan_cka_pairs, plan_model_sheet, plan_stores

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
DEFAULT = read_yaml(REPO / "config" / "config.yaml")
COUNTS: dict[str, int] = {}


def _plan(config: dict) -> None:
    cfg = prepare_config(config, SCHEMA)
    stores = plan_stores(cfg)
    plan_cka_pairs(cfg, stores)
    plan_model_sheet(cfg, stores)


def _paths(node, prefix=()):
    """Every key path of a nested config (dict keys and list indices)."""
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in items:
        yield (*prefix, key)
        if isinstance(value, dict | list) and value:
            yield from _paths(value, (*prefix, key))


PATHS = list(_paths(DEFAULT))
WRONG_VALUES = [None, "text", -3, 2.5, [], {}, True, math.nan, "", 10**12, [1, "a"]]


def _parent(config, path):
    node = config
    for key in path[:-1]:
        node = node[key]
    return node


def _named(message: str, path: tuple, extra: str | None = None) -> bool:
    """The error names the key: one of the path's names (or the added key) is in it."""
    names = [str(k) for k in path if isinstance(k, str)] + ([extra] if extra else [])
    return any(name in message for name in names)


@settings(
    max_examples=250, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    path=st.sampled_from(PATHS),
    kind=st.sampled_from(["wrong_value", "unknown_key", "delete"]),
    value=st.sampled_from(WRONG_VALUES),
    word=st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=3, max_size=12),
)
def test_random_invalid_configs_get_our_error_naming_the_key(path, kind, value, word):
    config = copy.deepcopy(DEFAULT)
    parent = _parent(config, path)
    extra = None
    original = parent[path[-1]]
    if kind == "wrong_value":
        if type(original) is type(value) and original == value:
            return
        parent[path[-1]] = value
    elif kind == "unknown_key":
        target = parent[path[-1]]
        if not isinstance(target, dict):
            return
        extra = f"zz_{word}"
        target[extra] = 1
    else:
        if not isinstance(parent, dict):
            return
        del parent[path[-1]]
    COUNTS[kind] = COUNTS.get(kind, 0) + 1
    try:
        _plan(config)
    except ConfigError as error:
        COUNTS["rejected"] = COUNTS.get("rejected", 0) + 1
        assert _named(str(error), path, extra), (path, kind, value, str(error))
        return
    # accepted: the mutation must have been valid (a key with a default removed, another
    # name, a value of the right type in range)
    COUNTS["accepted"] = COUNTS.get("accepted", 0) + 1
    assert kind != "unknown_key", f"unknown key {extra} under {path} was accepted"
    if kind == "wrong_value":
        assert _plausible(original, value), f"{path}: {value!r} accepted for {original!r}"


def _plausible(original, value) -> bool:
    """Could ``value`` replace ``original`` in a valid config (same kind, finite, in range)?"""
    if isinstance(original, bool) or isinstance(value, bool):
        return isinstance(original, bool) and isinstance(value, bool)
    if isinstance(original, int | float):
        if not isinstance(value, int | float) or not math.isfinite(value):
            return False
        if isinstance(original, int) and not isinstance(value, int):
            return False
        return 0 <= value < 2**63
    if isinstance(original, str):
        return isinstance(value, str) or original == "all"  # cka.pairs: "all" or a list
    return isinstance(value, type(original))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    output_dimension=st.integers(2, 32),
    seeds=st.lists(st.integers(0, 1000), min_size=1, max_size=4, unique=True),
    kinds=st.lists(st.sampled_from(["linear", "debiased", "rbf"]), min_size=1, unique=True),
    n_neurons=st.integers(5, 200),
    test_fraction=st.floats(0.05, 0.5),
)
def test_random_valid_configs_plan(output_dimension, seeds, kinds, n_neurons, test_fraction):
    config = copy.deepcopy(DEFAULT)
    config["model_defaults"]["output_dimension"] = output_dimension
    config["models"][0]["seeds"] = seeds
    config["cka"]["kinds"] = kinds
    config["datasets"]["hippocampus"]["params"]["n_neurons"] = n_neurons
    config["datasets"]["hippocampus"]["test_fraction"] = test_fraction
    _plan(config)
    COUNTS["valid_planned"] = COUNTS.get("valid_planned", 0) + 1


# --------------------------------------------------------------------------- recordings

T = 60


def _write(path: Path, arrays: dict) -> None:
    suffix = path.suffix
    if suffix == ".npz":
        np.savez(path, **arrays)
    elif suffix == ".jl":
        joblib.dump(arrays, path)
    elif suffix == ".h5":
        import h5py

        with h5py.File(path, "w") as f:
            for key, value in arrays.items():
                f[key] = value
    else:
        raise AssertionError(suffix)


FAULTS = [
    "none",
    "wrong_neural_key",
    "no_key",
    "nan",
    "inf",
    "label_length",
    "label_nan",
    "discrete_float",
    "one_dim_neural",
    "empty",
    "wrong_label_key",
]


@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    suffix=st.sampled_from([".npz", ".jl", ".h5"]),
    fault=st.sampled_from(FAULTS),
    n_neurons=st.integers(1, 12),
    seed=st.integers(0, 2**16),
)
def test_random_recording_files_load_or_name_the_problem(
    tmp_path_factory, suffix, fault, n_neurons, seed
):
    rng = np.random.default_rng(seed)
    neural = rng.poisson(2.0, (T, n_neurons)).astype(np.float64)
    position = rng.uniform(0, 1.6, T)
    direction = rng.integers(0, 2, T)
    arrays = {"spikes": neural, "position": position, "direction": direction}
    labels = {
        "position": {"key": "position", "unit": "m"},
        "direction": {"key": "direction", "kind": "discrete"},
    }
    neural_spec = {"key": "spikes"}
    if fault == "wrong_neural_key":
        neural_spec = {"key": "spikez"}
    elif fault == "no_key":
        neural_spec = {}
    elif fault in ("nan", "inf"):
        neural[rng.integers(T), rng.integers(n_neurons)] = np.nan if fault == "nan" else np.inf
    elif fault == "label_length":
        arrays["position"] = position[: T - 1 - int(rng.integers(10))]
    elif fault == "label_nan":
        position[int(rng.integers(T))] = np.nan
    elif fault == "discrete_float":
        arrays["direction"] = direction + 0.5
    elif fault == "one_dim_neural":
        arrays["spikes"] = neural[:, 0]
    elif fault == "empty":
        arrays = {k: v[:0] for k, v in arrays.items()}
    elif fault == "wrong_label_key":
        labels["position"] = {"key": "pos", "unit": "m"}
    path = tmp_path_factory.mktemp("rec") / f"rec{suffix}"
    _write(path, arrays)
    spec = {
        "source": "files",
        "sessions": [{"neural": {"file": str(path), **neural_spec}, "labels": labels}],
    }
    COUNTS[f"file_{fault}"] = COUNTS.get(f"file_{fault}", 0) + 1
    try:
        ds = load_dataset("rec", spec)
    except DataError as error:
        assert fault != "none", str(error)
        message = str(error)
        assert path.name in message or "'position'" in message or "'direction'" in message, (
            fault,
            message,
        )
        return
    assert fault == "none", f"{fault} in {path.name} was accepted"
    np.testing.assert_array_equal(ds.sessions[0].neural, neural)


@pytest.fixture(scope="module", autouse=True)
def report_counts():
    yield
    print("\nfuzz cases:", dict(sorted(COUNTS.items())))
