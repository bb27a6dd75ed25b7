"""Robust model loading: CPU mapping of GPU checkpoints, old files, corrupt and unsafe files."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from cebra_lens_core.models import ModelFileError, load_model, save_model


def _checkpoint(model, path: Path) -> dict:
    save_model(model, path)
    from cebra.integrations.sklearn.cebra import CEBRA_LOAD_SAFE_GLOBALS

    with torch.serialization.safe_globals(CEBRA_LOAD_SAFE_GLOBALS):
        return torch.load(path, weights_only=True)


def test_round_trip(conv_model, toy, tmp_path):
    path = tmp_path / "m.pt"
    save_model(conv_model, path)
    loaded = load_model(path)
    X = toy.sessions[0].neural
    np.testing.assert_array_equal(loaded.transform(X), conv_model.transform(X))
    assert not list(tmp_path.glob(".*tmp*"))  # atomic save leaves no temporary


def test_checkpoint_saved_on_gpu_loads_on_cpu(conv_model, toy, tmp_path):
    """A checkpoint whose device fields say CUDA (as written on a GPU machine) loads on CPU."""
    ck = _checkpoint(conv_model, tmp_path / "m.pt")
    ck["args"]["device"] = "cuda"
    ck["state"]["device_"] = "cuda:0"
    torch.save(ck, tmp_path / "gpu.pt")
    with pytest.raises(
        (RuntimeError, AssertionError)
    ):  # what plain CEBRA does on a CPU-only machine
        import cebra

        cebra.CEBRA.load(tmp_path / "gpu.pt").transform(toy.sessions[0].neural)
    loaded = load_model(tmp_path / "gpu.pt")
    assert loaded.device_ == "cpu"
    X = toy.sessions[0].neural
    np.testing.assert_allclose(loaded.transform(X), conv_model.transform(X), atol=1e-6)


def test_old_cebra_file_missing_attributes(conv_model, toy, tmp_path):
    """Files from older CEBRA releases lack n_features_in_, num_sessions_, masking_kwargs, solver n_features."""
    ck = _checkpoint(conv_model, tmp_path / "m.pt")
    ck["args"].pop("masking_kwargs")
    ck["args"]["removed_option"] = 3  # an argument the installed CEBRA no longer knows
    for key in ("n_features_in_", "num_sessions_"):
        ck["state"].pop(key)
    for key in ("n_features", "log", "decode"):
        ck["state_dict"].pop(key)
    torch.save(ck, tmp_path / "old.pt")
    with pytest.warns(UserWarning, match="removed_option"):
        loaded = load_model(tmp_path / "old.pt")
    X = toy.sessions[0].neural
    np.testing.assert_allclose(loaded.transform(X), conv_model.transform(X), atol=1e-6)


def test_multi_session_model_exposes_each_encoder(multi_model, multi_dataset, tmp_path):
    save_model(multi_model, tmp_path / "ms.pt")
    loaded = load_model(tmp_path / "ms.pt")
    assert len(loaded.model_) == 2
    for k, s in enumerate(multi_dataset.sessions):
        np.testing.assert_allclose(
            loaded.transform(s.neural, session_id=k),
            multi_model.transform(s.neural, session_id=k),
            atol=1e-6,
        )


def test_truncated_file(conv_model, tmp_path):
    save_model(conv_model, tmp_path / "m.pt")
    data = (tmp_path / "m.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="truncated, corrupt or not a PyTorch checkpoint"):
        load_model(tmp_path / "cut.pt")


def test_not_a_checkpoint(tmp_path):
    (tmp_path / "text.pt").write_text("hello")
    with pytest.raises(ModelFileError, match="cut.pt|not a PyTorch checkpoint"):
        load_model(tmp_path / "text.pt")
    torch.save({"weights": torch.zeros(3)}, tmp_path / "other.pt")
    with pytest.raises(
        ModelFileError, match=r"not a CEBRA checkpoint: keys \['args', 'state', 'state_dict'\]"
    ):
        load_model(tmp_path / "other.pt")


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.pt"):
        load_model(tmp_path / "nope.pt")


class _Payload:
    """Unpickling this object would run os.system-like code (here: write a marker file)."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (Path(self.marker), "payload ran"))


def test_malicious_pickle_refused_and_payload_never_runs(conv_model, tmp_path):
    ck = _checkpoint(conv_model, tmp_path / "m.pt")
    marker = tmp_path / "pwned.txt"
    ck["state"]["evil"] = _Payload(str(marker))
    torch.save(ck, tmp_path / "evil.pt", pickle_protocol=pickle.HIGHEST_PROTOCOL)
    with pytest.raises(ModelFileError, match="trust_model_files: true"):
        load_model(tmp_path / "evil.pt")
    assert not marker.exists()


# --------------------------------------------------------------------------- users' files


def test_legacy_gpu_multi_session_checkpoint_transforms_every_session(
    multi_model, multi_dataset, tmp_path
):
    """A multi-session model saved by CEBRA 0.4 on a GPU (no solver `num_sessions`, CUDA
    device strings) used to fail in transform() with an AttributeError."""
    from tests.forge import write_legacy_checkpoint

    path = write_legacy_checkpoint(multi_model, tmp_path / "old_ms.pt")
    loaded = load_model(path)
    assert loaded.device_ == "cpu" and loaded.num_sessions == 2
    for k, session in enumerate(multi_dataset.sessions):
        np.testing.assert_allclose(
            loaded.transform(session.neural, session_id=k),
            multi_model.transform(session.neural, session_id=k),
            atol=1e-6,
        )
    from cebra_lens_core.models.load import checkpoint_input_widths

    assert checkpoint_input_widths(path) == [s.n_neurons for s in multi_dataset.sessions]


def test_pickled_cebra_object_needs_trust_and_then_loads(multi_model, multi_dataset, tmp_path):
    """`torch.save(model)` (how many users save): a ModelFileError that says how to re-save,
    with no terminal escape codes, unless the file is trusted; then it loads and transforms."""
    path = tmp_path / "pickled.pt"
    torch.save(multi_model, path)
    with pytest.raises(ModelFileError) as info:
        load_model(path)
    message = str(info.value)
    assert "trust_model_files: true" in message and "model.save(path)" in message
    assert "\x1b" not in message
    loaded = load_model(path, trust=True)
    X = multi_dataset.sessions[1].neural
    np.testing.assert_allclose(
        loaded.transform(X, session_id=1), multi_model.transform(X, session_id=1), atol=1e-6
    )


def test_pickled_object_of_an_older_cebra_loads_when_trusted(multi_model, multi_dataset, tmp_path):
    """An object pickled by an older CEBRA lacks attributes that CEBRA._get_state reads."""
    import copy

    old = copy.deepcopy(multi_model)
    for key in ("n_features_in_", "num_sessions_"):
        old.__dict__.pop(key)
    del old.solver_.n_features, old.solver_.num_sessions
    torch.save(old, tmp_path / "old_object.pt")
    loaded = load_model(tmp_path / "old_object.pt", trust=True)
    X = multi_dataset.sessions[0].neural
    np.testing.assert_allclose(
        loaded.transform(X, session_id=0), multi_model.transform(X, session_id=0), atol=1e-6
    )


def test_model_file_error_messages_are_plain_text():
    assert str(ModelFileError("\x1b[31mbad\x1b[0m file")) == "bad file"
