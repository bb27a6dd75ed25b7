"""The bad-input catalogue: every case stops with an error that names what is wrong and what was
expected, raised by the library function that receives the input (so notebook users see the same
message as workflow users) or by config validation, before heavy work, leaving no output behind.

Each case is one entry of ``CASES``: a function that triggers the error (given a scratch folder and
the shared toy fixtures), the exception type, and the phrases the message must contain.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch

from cebra_lens_core.activations import write_activation_store
from cebra_lens_core.data import load_dataset
from cebra_lens_core.data.types import DataError, blocked_split
from cebra_lens_core.models import TrainingSpec, load_model, save_model, train_model
from cebra_lens_core.models.errors import ArchitectureError, ModelFileError
from cebra_lens_core.pipeline.config import ConfigError, prepare_config

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"

BASE_CONFIG = {
    "datasets": {"rat": {"source": "hippocampus", "params": {"n_neurons": 8, "duration_s": 10}}},
    "models": [
        {"name": "beh", "dataset": "rat", "conditional": "behavior", "labels": ["position"]},
        {"name": "time", "dataset": "rat", "conditional": "time"},
    ],
}


def config_with(**changes) -> dict:
    """BASE_CONFIG with dotted-path changes, e.g. ``config_with(**{"cka.pairs": [...]})``."""
    config = copy.deepcopy(BASE_CONFIG)
    for dotted, value in changes.items():
        node = config
        *parents, leaf = dotted.split(".")
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
        if isinstance(node, list):
            node[int(leaf)] = value
        else:
            node[leaf] = value
    return config


def check_config(config: dict) -> None:
    prepare_config(config, SCHEMA)


def files_dataset(tmp: Path, neural, labels: dict | None = None, **label_spec) -> None:
    """Write ``neural`` (and label arrays) to rec.npz and load it as a `files` dataset."""
    arrays = {"neural": neural, **(labels or {})}
    np.savez(tmp / "rec.npz", **arrays)
    spec = {"source": "files", "sessions": [{"neural": {"file": "rec.npz", "key": "neural"}}]}
    if label_spec:
        spec["sessions"][0]["labels"] = label_spec
    load_dataset("rec", spec, base_dir=tmp)


GOOD = np.random.default_rng(0).normal(size=(200, 6)).astype(np.float32)


@dataclass
class Case:
    trigger: Callable  # (tmp_path, fixtures) -> None, must raise
    error: type[BaseException]
    phrases: tuple[str, ...]
    outputs: tuple[str, ...] = ()  # paths (relative to tmp_path) that must not exist afterwards


def _missing_file(tmp, fx):
    spec = {"source": "files", "sessions": [{"neural": {"file": "absent.npz", "key": "x"}}]}
    load_dataset("rec", spec, base_dir=tmp)


def _wrong_npz_key(tmp, fx):
    np.savez(tmp / "rec.npz", spikes=GOOD)
    spec = {"source": "files", "sessions": [{"neural": {"file": "rec.npz", "key": "neural"}}]}
    load_dataset("rec", spec, base_dir=tmp)


def _wrong_h5_key(tmp, fx):
    import h5py

    with h5py.File(tmp / "rec.h5", "w") as f:
        f["spikes"] = GOOD
    spec = {"source": "files", "sessions": [{"neural": {"file": "rec.h5", "key": "neural"}}]}
    load_dataset("rec", spec, base_dir=tmp)


def _with_value(value):
    def trigger(tmp, fx):
        bad = GOOD.copy()
        bad[17, 2] = value
        files_dataset(tmp, bad)

    return trigger


def _one_dimensional(tmp, fx):
    files_dataset(tmp, GOOD[:, 0])


def _label_length(tmp, fx):
    files_dataset(tmp, GOOD, {"pos": np.zeros(190)}, position={"key": "pos", "kind": "continuous"})


def _label_not_in_file(tmp, fx):
    files_dataset(tmp, GOOD, {"pos": np.zeros(200)}, position={"key": "behaviour"})


def _discrete_given_floats(tmp, fx):
    files_dataset(
        tmp,
        GOOD,
        {"trial": np.linspace(0, 3, 200)},
        trial={"key": "trial", "kind": "discrete"},
    )


def _continuous_given_text(tmp, fx):
    files_dataset(
        tmp,
        GOOD,
        {"pos": np.array(["left", "right"] * 100)},
        position={"key": "pos", "kind": "continuous"},
    )


def _empty_bins(tmp, fx):
    from cebra_lens_core.metrics.conditions import make_conditions

    # every sample falls in the first of 10 bins over the declared range 0-10
    make_conditions(np.linspace(0, 0.5, 200), kind="continuous", n_bins=10, value_range=(0, 10))


def _unknown_architecture_config(tmp, fx):
    check_config(config_with(**{"models.0.architecture": "offset11-model"}))


def _unknown_architecture_library(tmp, fx):
    TrainingSpec(architecture="offset11-model", output_dimension=3)


def _output_dimension_config(tmp, fx):
    check_config(config_with(**{"models.0.output_dimension": 0}))


def _output_dimension_library(tmp, fx):
    TrainingSpec(architecture="offset10-model", output_dimension=0)


def _truncated_model(tmp, fx):
    path = tmp / "model.pt"
    save_model(fx["mlp_model"], path)
    path.write_bytes(path.read_bytes()[:200])
    load_model(path)


def _not_a_checkpoint(tmp, fx):
    torch.save({"weights": torch.zeros(3)}, tmp / "model.pt")
    load_model(tmp / "model.pt")


def _missing_model(tmp, fx):
    load_model(tmp / "absent.pt")


def _wrong_neuron_count(tmp, fx):
    write_activation_store(tmp / "out.zarr", fx["mlp_model"], GOOD[:, :5])


def _session_out_of_range(tmp, fx):
    neural = fx["multi_dataset"].sessions[0].neural
    write_activation_store(tmp / "out.zarr", fx["multi_model"], neural, session_id=5)


def _single_class_in_test(tmp, fx):
    from cebra_lens_core.metrics.decoding import decode

    y_train = np.tile([0, 1], 50)
    decode(GOOD[:100], y_train, GOOD[100:150], np.zeros(50, dtype=int), kind="discrete")


def _split(fraction):
    def trigger(tmp, fx):
        blocked_split(200, fraction)

    return trigger


def _split_config(fraction):
    def trigger(tmp, fx):
        check_config(config_with(**{"datasets.rat.test_fraction": fraction}))

    return trigger


def _unknown_analysis(tmp, fx):
    check_config(config_with(**{"analyses.rdn": {"enabled": True}}))


def _unknown_metric_config(tmp, fx):
    check_config(config_with(**{"analyses.rdm.metric": "corr"}))


def _unknown_metric_library(tmp, fx):
    from cebra_lens_core.metrics.rdm import rdm

    rdm(GOOD, np.repeat(np.arange(4), 50), metric="corr")


def _unknown_cka_kind(tmp, fx):
    from cebra_lens_core.metrics.cka import cka

    cka(GOOD, GOOD, kind="kernel")


def _pair_unknown_model(tmp, fx):
    check_config(config_with(**{"cka.pairs": [["beh", "tmie"]]}))


def _duplicate_models(tmp, fx):
    config = config_with()
    config["models"][1]["name"] = "beh"
    check_config(config)


def _typo_key(tmp, fx):
    config = config_with()
    config["modle_defaults"] = {}
    check_config(config)


def _unknown_dataset(tmp, fx):
    check_config(config_with(**{"models.1.dataset": "mouse"}))


def _unknown_model_label(tmp, fx):
    check_config(config_with(**{"models.0.labels": ["speed"]}))


def _cka_length_mismatch(tmp, fx):
    from cebra_lens_core.metrics.cka import cka

    cka(GOOD, GOOD[:150])


def _condition_length(tmp, fx):
    from cebra_lens_core.metrics.distance import class_distances

    class_distances(GOOD, np.repeat(np.arange(4), 40))


def _nan_activations(tmp, fx):
    from cebra_lens_core.metrics.cka import cka

    bad = GOOD.copy()
    bad[3, 1] = np.nan
    cka(bad, GOOD)


def _registry_offline(tmp, fx):
    load_dataset("rat", {"source": "registry", "name": "rat-hippocampus-single-achilles"})


def _bad_generator_parameter(tmp, fx):
    check_config(config_with(**{"datasets.rat.params": {"n_neurns": 8}}))


CASES: dict[str, Case] = {
    "missing data file": Case(_missing_file, DataError, ("absent.npz", "does not exist")),
    "wrong key in .npz": Case(_wrong_npz_key, DataError, ("'neural'", "spikes")),
    "wrong key in .h5": Case(_wrong_h5_key, DataError, ("'neural'", "spikes", "rec.h5")),
    "NaN in neural data": Case(_with_value(np.nan), DataError, ("NaN",)),
    "inf in neural data": Case(_with_value(np.inf), DataError, ("inf",)),
    "1-D neural data": Case(_one_dimensional, DataError, ("2-D", "(200,)")),
    "label length differs": Case(_label_length, DataError, ("190", "200")),
    "label key not in file": Case(_label_not_in_file, DataError, ("'behaviour'", "pos")),
    "discrete label with float values": Case(
        _discrete_given_floats, DataError, ("trial", "discrete", "non-integer")
    ),
    "continuous label with text values": Case(
        _continuous_given_text, DataError, ("position", "'pos'", "numeric")
    ),
    "continuous label binned into empty bins": Case(
        _empty_bins, ValueError, ("empty bins", "at least 2 conditions")
    ),
    "unknown architecture (config)": Case(
        _unknown_architecture_config, ConfigError, ("offset11-model", "offset1-model")
    ),
    "unknown architecture (library)": Case(
        _unknown_architecture_library, ArchitectureError, ("offset11-model",)
    ),
    "output dimension < 1 (config)": Case(
        _output_dimension_config, ConfigError, ("output_dimension", "minimum")
    ),
    "output dimension < 1 (library)": Case(
        _output_dimension_library, ValueError, ("output_dimension", ">= 1")
    ),
    "truncated model file": Case(_truncated_model, ModelFileError, ("model.pt",)),
    "not a CEBRA checkpoint": Case(_not_a_checkpoint, ModelFileError, ("model.pt", "CEBRA")),
    "missing model file": Case(_missing_model, FileNotFoundError, ("absent.pt", "does not exist")),
    "model saved for another neuron count": Case(
        _wrong_neuron_count, DataError, ("12", "5", "neurons"), outputs=("out.zarr",)
    ),
    "session id out of range": Case(
        _session_out_of_range, ValueError, ("session", "5", "2"), outputs=("out.zarr",)
    ),
    "single class in the test split": Case(
        _single_class_in_test, ValueError, ("only one class", "test split")
    ),
    "empty test split": Case(_split(0.0), DataError, ("test_fraction", "between 0 and 1")),
    "test split larger than the data": Case(
        _split(1.5), DataError, ("test_fraction", "between 0 and 1")
    ),
    "test split rounds to nothing": Case(_split(0.001), DataError, ("0 test points",)),
    "empty test split (config)": Case(_split_config(0.0), ConfigError, ("test_fraction",)),
    "unknown analysis": Case(_unknown_analysis, ConfigError, ("'rdn'", "'rdm'")),
    "unknown metric (config)": Case(_unknown_metric_config, ConfigError, ("corr", "correlation")),
    "unknown metric (library)": Case(_unknown_metric_library, ValueError, ("corr", "correlation")),
    "unknown CKA kind": Case(_unknown_cka_kind, ValueError, ("kernel", "linear")),
    "model pair names an unknown model": Case(_pair_unknown_model, ConfigError, ("tmie", "time")),
    "duplicate model names": Case(_duplicate_models, ConfigError, ("duplicate", "beh")),
    "config key typo": Case(_typo_key, ConfigError, ("modle_defaults", "model_defaults")),
    "model on an unknown dataset": Case(_unknown_dataset, ConfigError, ("mouse", "rat")),
    "model label not in the dataset": Case(_unknown_model_label, ConfigError, ("speed",)),
    "unknown generator parameter": Case(_bad_generator_parameter, ConfigError, ("n_neurns",)),
    "CKA inputs of different length": Case(_cka_length_mismatch, ValueError, ("200", "150")),
    "conditions of the wrong length": Case(_condition_length, ValueError, ("160", "200")),
    "NaN in activations": Case(_nan_activations, ValueError, ("NaN",)),
    "registry dataset not on disk": Case(_registry_offline, DataError, ("CEBRA_DATADIR",)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_named(name, tmp_path, request):
    case = CASES[name]
    needs = {
        "truncated model file": ("mlp_model",),
        "model saved for another neuron count": ("mlp_model",),
        "session id out of range": ("multi_dataset", "multi_model"),
    }.get(name, ())
    fx = {n: request.getfixturevalue(n) for n in needs}
    with pytest.raises(case.error) as info:
        case.trigger(tmp_path, fx)
    message = str(info.value)
    for phrase in case.phrases:
        assert phrase in message, f"{name}: {phrase!r} not in {message!r}"
    for output in case.outputs:
        assert not (tmp_path / output).exists(), f"{name}: {output} left behind"
    leftovers = [p.name for p in tmp_path.rglob(".*tmp-*")]
    assert not leftovers, f"{name}: temporary files left behind: {leftovers}"


def test_catalogue_has_at_least_25_cases():
    assert len(CASES) >= 25


def test_training_stops_before_fitting_on_bad_labels(toy):
    """A behaviour model naming a label the dataset lacks fails before any iteration runs."""
    spec = TrainingSpec(
        architecture="offset10-model",
        output_dimension=3,
        conditional="behavior",
        labels=["speed"],
        max_iterations=5,
    )
    with pytest.raises((DataError, ValueError), match="speed"):
        train_model(toy, spec)
