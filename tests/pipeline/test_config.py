"""Config validation: defaults, unknown keys with suggestions, cross references, seed expansion."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from cebra_lens_core.pipeline.config import ConfigError, prepare_config, read_yaml
from cebra_lens_core.provenance import config_hash

REPO = Path(__file__).resolve().parents[2]
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
        (
            lambda c: c.update(analyses={"similarity": {"label": "postion"}}),
            "analyses.similarity.label: label 'postion'.*did you mean 'position'",
        ),
        (
            lambda c: c.update(analyses={"similarity": {"measures": ["procrustes"]}}),
            "'procrustes' is not one of",
        ),
        (
            lambda c: c.update(analyses={"similarity": {"measures": ["svcca", "pwcca"]}}),
            "model_space_measure 'procrustes_angular' is not in analyses.similarity.measures",
        ),
        (
            lambda c: c.update(analyses={"similarity": {"variance_fraction": 1.5}}),
            "variance_fraction|1.5",
        ),
    ],
)
def test_invalid_configs_name_the_problem(change, message):
    with pytest.raises(ConfigError, match=message):
        prepare(_with(change))


def test_file_model_and_explicit_pairs(conv_model, tmp_path):
    from cebra_lens_core.models import save_model

    save_model(conv_model, tmp_path / "mine.pt")  # 12 neurons
    cfg = _with(
        lambda c: c["models"].append(
            {"name": "mine", "dataset": "hippocampus", "file": str(tmp_path / "mine.pt")}
        )
    )
    cfg["datasets"]["hippocampus"]["params"]["n_neurons"] = 12
    cfg["cka"]["pairs"] = [["mine", "offset10_time_seed0"]]
    out = prepare(cfg)
    mine = [m for m in out["_models"] if m.name == "mine"][0]
    assert mine.file == str(tmp_path / "mine.pt") and not mine.trained and mine.training == {}
    cfg["datasets"]["hippocampus"]["params"]["n_neurons"] = 60
    with pytest.raises(ConfigError, match=r"mine.pt\): model session 0 takes 12 neurons, but"):
        prepare(cfg)
    cfg["models"][-1]["file"] = str(tmp_path / "absent.pt")
    with pytest.raises(ConfigError, match=r"absent.pt\): the model file does not exist"):
        prepare(cfg)


def test_config_hash_is_stable_and_sensitive():
    assert config_hash({"a": 1, "b": [1, 2]}) == config_hash({"b": [1, 2], "a": 1})
    assert config_hash({"a": 1}) != config_hash({"a": 2})


# --------------------------------------------------------------------------- loaded models


def _rat_config(tmp_path, models, n_neurons=(13,)):
    """A `files` dataset of ``len(n_neurons)`` sessions (npz with `spikes`, `position`)."""
    import numpy as np

    sessions = []
    for k, n in enumerate(n_neurons):
        path = tmp_path / f"rec{k}.npz"
        np.savez(path, spikes=np.ones((50, n)), position=np.linspace(0, 1, 50))
        sessions.append(
            {
                "neural": {"file": str(path), "key": "spikes"},
                "labels": {"position": {"key": "position", "unit": "m"}},
            }
        )
    return {
        "datasets": {"rat": {"source": "files", "sessions": sessions}},
        "models": models,
    }


def test_multi_session_checkpoint_needs_session_on_a_one_session_dataset(multi_model, tmp_path):
    """A 2-session model (12 and 13 neurons) on one recording of 13 neurons."""
    from cebra_lens_core.pipeline.plan import plan_stores, store_model_session
    from tests.forge import write_legacy_checkpoint

    write_legacy_checkpoint(multi_model, tmp_path / "ms.pt")
    entry = {"name": "ms", "dataset": "rat", "file": str(tmp_path / "ms.pt")}
    with pytest.raises(
        ConfigError, match=r"ms.pt\) has 2 session\(s\) but dataset 'rat' has 1.*`session: 1`"
    ):
        prepare(_rat_config(tmp_path, [entry]))
    with pytest.raises(
        ConfigError, match=r"model session 0 takes 12 neurons, but session 0 .* has 13"
    ):
        prepare(_rat_config(tmp_path, [{**entry, "session": 0}]))
    with pytest.raises(ConfigError, match=r"names model session 2, but the model has 2"):
        prepare(_rat_config(tmp_path, [{**entry, "session": 2}]))
    cfg = prepare(_rat_config(tmp_path, [{**entry, "session": 1}]))
    stores = plan_stores(cfg)
    assert stores == {"ms": ("ms", None)}  # one store, no placeholder session
    assert store_model_session(cfg["_models"][0], None) == 1


def test_session_mapping_on_a_multi_session_dataset(multi_model, tmp_path):
    from cebra_lens_core.models import save_model
    from cebra_lens_core.pipeline.plan import plan_stores, store_model_session

    save_model(multi_model, tmp_path / "ms.pt")
    entry = {"name": "ms", "dataset": "rat", "file": str(tmp_path / "ms.pt")}
    three = (12, 99, 13)
    with pytest.raises(ConfigError, match="has 2 session.*dataset 'rat' has 3.*mapping"):
        prepare(_rat_config(tmp_path, [entry], three))
    cfg = prepare(_rat_config(tmp_path, [{**entry, "session": {0: 0, 1: 2}}], three))
    assert plan_stores(cfg) == {"ms_session0": ("ms", 0), "ms_session2": ("ms", 2)}
    assert [store_model_session(cfg["_models"][0], k) for k in (0, 2)] == [0, 1]
    with pytest.raises(ConfigError, match="two model sessions to one dataset session"):
        prepare(_rat_config(tmp_path, [{**entry, "session": {0: 0, 1: 0}}], three))
    with pytest.raises(ConfigError, match="model session 1 takes 13 neurons, but session 1"):
        prepare(_rat_config(tmp_path, [{**entry, "session": {0: 0, 1: 1}}], three))


def test_checkpoint_files_form_one_seed_group(multi_model, tmp_path):
    """`files:` (a list or a glob) gives the seeds of one model: a consistency group."""
    from cebra_lens_core.models import save_model
    from cebra_lens_core.pipeline.plan import plan_seed_groups, plan_stores

    for k in range(3):
        save_model(multi_model, tmp_path / f"rat_seed{k}.pt")
    entry = {"name": "rat", "dataset": "rat", "files": str(tmp_path / "rat_*.pt"), "session": 1}
    cfg = prepare(_rat_config(tmp_path, [entry]))
    models = cfg["_models"]
    assert [m.name for m in models] == ["rat_seed0", "rat_seed1", "rat_seed2"]
    assert {m.group for m in models} == {"rat"} and [m.seed for m in models] == [0, 1, 2]
    assert plan_seed_groups(cfg, plan_stores(cfg)) == {
        "rat": ["rat_seed0", "rat_seed1", "rat_seed2"]
    }
    listed = {**entry, "files": [str(tmp_path / "rat_seed2.pt"), str(tmp_path / "rat_seed0.pt")]}
    cfg = prepare(_rat_config(tmp_path, [{**listed, "seeds": [7, 3]}]))
    assert [(m.name, Path(m.file).name) for m in cfg["_models"]] == [
        ("rat_seed7", "rat_seed2.pt"),
        ("rat_seed3", "rat_seed0.pt"),
    ]
    with pytest.raises(ConfigError, match="one distinct seed per file"):
        prepare(_rat_config(tmp_path, [{**listed, "seeds": [1]}]))
    with pytest.raises(ConfigError, match="matches no file"):
        prepare(_rat_config(tmp_path, [{**entry, "files": str(tmp_path / "nope_*.pt")}]))
    with pytest.raises(ConfigError, match="training keys"):
        prepare(_rat_config(tmp_path, [{**entry, "architecture": "offset10-model"}]))


def test_pickled_model_object_is_refused_at_start_up(multi_model, tmp_path):
    import torch

    torch.save(multi_model, tmp_path / "obj.pt")
    entry = {"name": "obj", "dataset": "rat", "file": str(tmp_path / "obj.pt"), "session": 1}
    with pytest.raises(ConfigError, match="obj.pt.*trust_model_files: true.*model.save"):
        prepare(_rat_config(tmp_path, [entry]))
    cfg = prepare({**_rat_config(tmp_path, [entry]), "trust_model_files": True})
    assert cfg["_models"][0].sessions == {1: 0}


def _xcebra(**kw):
    entry = {
        "name": "x",
        "dataset": "hippocampus",
        "conditional": "xcebra",
        "architecture": "offset10-model-mse",
        "labels": ["position"],
        "output_dimension": 6,
        "behavior_dimensions": 3,
        "regularizer_weight": 0.1,
        **kw,
    }
    return _with(lambda c: c.update(models=[entry]))


def test_xcebra_entry_is_valid_and_keeps_its_schedule():
    cfg = prepare(_xcebra(regularizer_warmup_start=10, regularizer_warmup_end=50))
    (m,) = cfg["_models"]
    assert m.training["conditional"] == "xcebra" and m.training["regularizer_weight"] == 0.1
    assert m.training["regularizer_warmup_end"] == 50 and m.training["behavior_dimensions"] == 3
    # every other model carries the neutral values of the xCEBRA keys
    default = prepare(DEFAULT)["_models"][0].training
    assert default["regularizer_weight"] == 0.0 and default["behavior_dimensions"] is None
    from cebra_lens_core.models import TrainingSpec

    TrainingSpec(**m.training, seed=0)  # what the train rule builds
    TrainingSpec(**default, seed=0)


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"architecture": "offset10-model"}, "unnormalised '-mse' architecture"),
        ({"behavior_dimensions": 6}, "behavior_dimensions must be between 1 and"),
        ({"regularizer_warmup_start": 9, "regularizer_warmup_end": 3}, "warmup_end"),
        ({"temperature_mode": "auto"}, "fixed temperature"),
        ({"conditional": "behavior"}, r"apply only to xCEBRA models"),
        ({"regularizer_projections": 0}, "regularizer_projections"),
        ({"dataset": "two", "labels": ["latent_0"]}, "single-session"),
    ],
)
def test_bad_xcebra_entries_are_named(kw, message):
    cfg = _xcebra(**kw)
    cfg["datasets"]["two"] = {"source": "attribution", "params": {"n_sessions": 2}}
    with pytest.raises(ConfigError, match=message):
        prepare(cfg)
