"""Planning of stores and CKA pairs from a config (multi-session naming, explicit pairs)."""

from __future__ import annotations

from cebra_lens_core.config import ModelEntry
from cebra_lens_core.workflow import plan_cka_pairs, plan_stores, resolve_device


def _cfg(pairs="all"):
    models = [
        ModelEntry("a", "a", "one", 0, None),
        ModelEntry("b", "b", "one", 0, None),
        ModelEntry("m", "m", "two", 0, None),
        ModelEntry("n", "n", "two", 0, None),
    ]
    datasets = {
        "one": {"source": "hippocampus", "params": {}},
        "two": {"source": "lorenz", "params": {"n_sessions": 2}},
    }
    return {"_models": models, "datasets": datasets, "cka": {"pairs": pairs}}


def test_stores_and_all_pairs():
    cfg = _cfg()
    stores = plan_stores(cfg)
    assert stores == {
        "a": ("a", None),
        "b": ("b", None),
        "m_session0": ("m", 0),
        "m_session1": ("m", 1),
        "n_session0": ("n", 0),
        "n_session1": ("n", 1),
    }
    assert plan_cka_pairs(cfg, stores) == [
        ("a", "a"),
        ("a", "b"),
        ("b", "b"),
        ("m_session0", "m_session0"),
        ("m_session0", "n_session0"),
        ("m_session1", "m_session1"),
        ("m_session1", "n_session1"),
        ("n_session0", "n_session0"),
        ("n_session1", "n_session1"),
    ]


def test_store_name_collision_refused():
    import pytest

    from cebra_lens_core.config import ConfigError

    cfg = _cfg()
    cfg["_models"].append(ModelEntry("m_session0", "x", "one", 0, None))
    with pytest.raises(ConfigError, match="same name"):
        plan_stores(cfg)


def test_explicit_pairs():
    cfg = _cfg(pairs=[["m", "n"], ["a", "a"]])
    assert plan_cka_pairs(cfg, plan_stores(cfg)) == [
        ("m_session0", "n_session0"),
        ("m_session1", "n_session1"),
        ("a", "a"),
    ]


def test_device_falls_back_to_cpu():
    assert resolve_device("cpu") == "cpu"
    assert resolve_device("cuda_if_available") in ("cpu", "cuda")
