"""Config validation: defaults, unknown keys with suggestions, cross references, seed expansion."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from cebra_lens_core.config import ConfigError, config_hash, prepare_config, read_yaml

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
DEFAULT = read_yaml(REPO / "config" / "config.yaml")


def prepare(cfg):
    return prepare_config(cfg, SCHEMA)


def test_default_config_is_valid_and_expanded():
    cfg = prepare(DEFAULT)
    names = [m.name for m in cfg["_models"]]
    assert names[:2] == ["offset10_behavior_seed0", "offset10_behavior_seed1"]
    assert len(names) == 9 and len(set(names)) == 9
    control = cfg["_models"][-1]  # the default run includes a shuffled-label control
    assert control.name == "offset10_shuffled" and control.training["control"] == "shuffled_labels"
    m = cfg["_models"][0]
    assert m.group == "offset10_behavior" and m.seed == 0 and m.trained
    assert m.training["max_iterations"] == 400 and m.training["labels"] == ["position", "direction"]
    # defaults filled in
    assert cfg["cka"]["rbf_max_samples"] == 2000 and cfg["trust_model_files"] is False
    stats = cfg["statistics"]
    assert stats["bootstrap"]["min_blocks"] == 10 and stats["bootstrap"]["block_samples"] is None
    assert stats["nulls"]["layers"] == "corresponding" and stats["noise_ceiling"]["enabled"]
    assert cfg["model_defaults"]["architecture"] == "offset10-model"


def _with(change):
    cfg = copy.deepcopy(DEFAULT)
    change(cfg)
    return cfg


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda c: c.update(modle_defaults={}),
            "unknown key 'modle_defaults'.*did you mean 'model_defaults'",
        ),
        (
            lambda c: c["models"][0].update(architecure="x"),
            "unknown key 'architecure'.*did you mean 'architecture'",
        ),
        (
            lambda c: c["cka"].update(kinds=["linaer"]),
            "'linaer' is not one of.*did you mean 'linear'",
        ),
        (
            lambda c: c["models"][0].update(output_dimension=0),
            "output_dimension.*minimum of 1|0 is less than the minimum",
        ),
        (lambda c: c["datasets"]["hippocampus"].update(test_fraction=1.5), "test_fraction"),
        (
            lambda c: c["models"][0].update(dataset="hipocampus"),
            "unknown dataset 'hipocampus'.*did you mean 'hippocampus'",
        ),
        (lambda c: c["models"].append(copy.deepcopy(c["models"][0])), "duplicate model names"),
        (
            lambda c: c["models"][0].update(labels=["speed"]),
            r"labels \['speed'\] are not in dataset",
        ),
        (lambda c: c["models"][1].update(labels=["position"]), "conditional 'time' uses no labels"),
        (
            lambda c: c["cka"].update(pairs=[["offset10_time_seed0", "nope"]]),
            "cka.pairs names unknown model 'nope'",
        ),
        (
            lambda c: c["datasets"]["hippocampus"]["params"].update(n_nerons=3),
            "unknown parameter 'n_nerons'.*did you mean 'n_neurons'",
        ),
        (
            lambda c: c["datasets"]["hippocampus"].update(source="hipocampus"),
            "did you mean 'hippocampus'",
        ),
        (lambda c: c["models"][0].update(name="a__b"), "name"),
        (lambda c: c["models"][0].update(file="m.pt"), "loaded from file"),
        (lambda c: c["datasets"].update(mine={"source": "files"}), "needs `sessions`"),
        (
            lambda c: c["models"][0].update(architecture="offset10-modle"),
            "did you mean offset10-model",
        ),
        (
            lambda c: (
                c["datasets"]["hippocampus"]["params"].update(n_sessions=2),
                [m.update(labels=["position"]) for m in c["models"] if m.get("labels")],
            ),
            "multi-session models only with labels",
        ),
        (
            lambda c: c["datasets"]["hippocampus"]["params"].update(n_sessions=2),
            "multi-session models on continuous labels only",
        ),
        (
            lambda c: c["datasets"]["hippocampus"].update(bin_width_s=0.1),
            "do not apply to source .hippocampus.",
        ),
        (
            lambda c: c.update(analyses={"decoding": {"labels": ["positon"]}}),
            "analyses.decoding.labels: label 'positon'.*did you mean 'position'",
        ),
        (
            lambda c: c.update(analyses={"distance": {"repeat_label": "repeat"}}),
            "analyses.distance.repeat_label",
        ),
    ],
)
def test_invalid_configs_name_the_problem(change, message):
    with pytest.raises(ConfigError, match=message):
        prepare(_with(change))


def test_file_model_and_explicit_pairs():
    cfg = _with(
        lambda c: c["models"].append(
            {"name": "mine", "dataset": "hippocampus", "file": "models/mine.pt"}
        )
    )
    cfg["cka"]["pairs"] = [["mine", "offset10_time_seed0"]]
    out = prepare(cfg)
    mine = [m for m in out["_models"] if m.name == "mine"][0]
    assert mine.file == "models/mine.pt" and not mine.trained and mine.training == {}


def test_config_hash_is_stable_and_sensitive():
    assert config_hash({"a": 1, "b": [1, 2]}) == config_hash({"b": [1, 2], "a": 1})
    assert config_hash({"a": 1}) != config_hash({"a": 2})
