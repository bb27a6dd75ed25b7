"""Per-layer activation extraction: alignment, chunking, transform() equality, MLP, multi-session."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cebra_lens_core.activations import extract_activations, write_activation_store
from cebra_lens_core.activations.store import (
    layer_names,
    layer_variable,
    open_activation_store,
    reference_names,
)
from cebra_lens_core.data.types import DataError
from cebra_lens_core.models import ArchitectureError, build_encoder, list_layers


def _last(ds):
    return ds[layer_names(ds)[-1]].values


@pytest.mark.parametrize("fixture", ["conv_model", "mlp_model"])
def test_last_layer_equals_transform(request, toy, fixture):
    model = request.getfixturevalue(fixture)
    X = toy.sessions[0].neural
    ds = extract_activations(model, X)
    np.testing.assert_allclose(_last(ds), model.transform(X), atol=1e-5)
    assert all(ds[v].sizes["time"] == len(X) for v in ds.data_vars)
    assert all(ds[v].dtype == np.float32 for v in ds.data_vars)


@pytest.mark.parametrize("fixture", ["conv_model", "mlp_model"])
@pytest.mark.parametrize("chunk_size", [1, 37, 500])
def test_chunked_equals_single_pass(request, toy, fixture, chunk_size):
    model = request.getfixturevalue(fixture)
    X = toy.sessions[0].neural
    whole = extract_activations(model, X, chunk_size=10**7)
    chunked = extract_activations(model, X, chunk_size=chunk_size)
    for v in whole.data_vars:
        np.testing.assert_allclose(chunked[v].values, whole[v].values, atol=1e-5, rtol=0)


def test_layers_of_conv_model(conv_model):
    names = [L.name for L in list_layers(conv_model.model_)]
    assert names == ["conv_in", "block_1", "block_2", "block_3", "conv_out", "norm"]
    widths = [L.width for L in list_layers(conv_model.model_)]
    assert widths == [16, 16, 16, 16, 3, 3]


def _impulse_model(architecture: str):
    """A conv encoder with all-positive weights so an input impulse propagates to every unit."""
    encoder = build_encoder(architecture, num_neurons=1, num_units=4, num_output=2)
    with torch.no_grad():
        for p in encoder.parameters():
            p.copy_(torch.full_like(p, 0.5) if p.dim() > 1 else torch.zeros_like(p))
    return encoder


class _Wrapper:
    """Minimal stand-in for a fitted cebra.CEBRA around a bare encoder."""

    def __init__(self, encoder, architecture):
        self.model_ = encoder
        self.model_architecture = architecture
        self.output_dimension = encoder.num_output
        self.solver_name_ = "single-session"


@pytest.mark.parametrize("architecture", ["offset10-model-mse", "offset5-model", "offset36-model"])
def test_impulse_response_is_centred_on_the_impulse(architecture):
    """A single impulse at t0: every layer responds on a window that contains t0 and is
    centred on t0 within half a sample, i.e. row t is the response centred on input time t."""
    if architecture not in __import__("cebra").models.get_options():
        pytest.skip(f"{architecture} not registered")
    encoder = _impulse_model(architecture)
    T, t0 = 200, 100
    X = np.zeros((T, 1), np.float32)
    X[t0] = 1.0
    ds = extract_activations(_Wrapper(encoder, architecture), X)
    left, right = encoder.get_offset().left, encoder.get_offset().right
    for v in ds.data_vars:
        if ds[v].attrs["kind"] == "norm":  # 0/0 away from the impulse
            continue
        response = np.abs(ds[v].values).sum(axis=1)
        support = np.flatnonzero(response > 0)
        assert support.size > 0, v
        assert support[0] <= t0 <= support[-1], v
        assert abs((support[0] + support[-1]) / 2 - t0) <= 0.5 + 1e-9, (v, support)
        # the embedding sees exactly the receptive field [t - left, t + right - 1]
    emb = np.abs(ds[[v for v in layer_names(ds) if ds[v].attrs["kind"] != "norm"][-1]].values).sum(
        axis=1
    )
    np.testing.assert_array_equal(np.flatnonzero(emb > 0), np.arange(t0 - right + 1, t0 + left + 1))


def test_multi_session(multi_model, multi_dataset):
    for k, session in enumerate(multi_dataset.sessions):
        ds = extract_activations(multi_model, session.neural, session_id=k)
        np.testing.assert_allclose(
            _last(ds), multi_model.transform(session.neural, session_id=k), atol=1e-5
        )
        assert ds.attrs["session_id"] == k
    with pytest.raises(ValueError, match="multi-session model with 2 sessions"):
        extract_activations(multi_model, multi_dataset.sessions[0].neural)
    with pytest.raises(ValueError, match="out of range"):
        extract_activations(multi_model, multi_dataset.sessions[0].neural, session_id=5)


def test_labels_split_and_attrs(conv_model, toy):
    s = toy.sessions[0]
    ds = extract_activations(
        conv_model,
        s.neural,
        labels=s.labels,
        label_info=toy.label_info,
        train=s.train,
        attrs={"model": "m", "dataset_name": "toy"},
    )
    np.testing.assert_array_equal(ds["label_position"].values, s.labels["position"])
    assert ds["label_side"].dtype == np.int64
    assert ds["label_side"].attrs["categories"] == ["low", "high"]
    np.testing.assert_array_equal(ds["train"].values, s.train)
    np.testing.assert_array_equal(ds["time"].values, np.arange(len(s.neural)))
    assert ds.attrs["architecture"] == "offset10-model" and ds.attrs["model"] == "m"
    assert ds.attrs["layer_module_paths"] == ["net.0", "net.2", "net.3", "net.4", "net.5", "net.6"]
    assert ds["layer_00"].dims == ("time", "layer_00_unit")
    assert ds["layer_05"].attrs["kind"] == "norm"


def test_bad_inputs(conv_model, toy):
    X = toy.sessions[0].neural
    with pytest.raises(DataError, match="trained on 12 neurons"):
        extract_activations(conv_model, X[:, :5])
    with pytest.raises(DataError, match="2-D"):
        extract_activations(conv_model, X[:, 0])
    bad = X.copy()
    bad[3, 2] = np.nan
    with pytest.raises(DataError, match="NaN/inf.*time 3, neuron 2"):
        extract_activations(conv_model, bad)
    with pytest.raises(DataError, match="label 'position' has 10 values"):
        extract_activations(conv_model, X, labels={"position": np.zeros(10)})


def test_subsample_architecture_refused():
    encoder = build_encoder("offset40-model-4x-subsample", num_neurons=5, num_units=8, num_output=3)
    with pytest.raises(ArchitectureError, match="downsamples time"):
        list_layers(encoder)


def test_shared_module_architecture_captures_each_call():
    import cebra

    name = "offset1-model-mse-v2-2layers"
    assert name in cebra.models.get_options()
    encoder = build_encoder(name, num_neurons=5, num_units=8, num_output=3)
    layers = list_layers(encoder)
    X = np.random.default_rng(0).normal(size=(50, 5)).astype(np.float32)
    ds = extract_activations(_Wrapper(encoder, name), X)
    assert layer_names(ds) == [layer_variable(i) for i in range(len(layers))]
    with torch.no_grad():
        expected = encoder(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(_last(ds), expected, atol=1e-6)
    # the repeated Linear is called twice with different inputs: two distinct layers
    assert not np.allclose(ds["layer_01"].values, ds["layer_02"].values)


def test_every_registered_offset_architecture_extracts():
    """All non-parametrised conv and MLP architectures either extract correctly or are refused clearly."""
    import cebra

    X = np.random.default_rng(1).normal(size=(120, 6)).astype(np.float32)
    names = [n for n in cebra.models.get_options() if "-clip-" not in n and "layers" not in n]
    names += ["offset1-model-mse-clip-5-5", "offset1-model-mse-resnet-2layers-tanh"]
    checked = 0
    for name in names:
        try:
            encoder = build_encoder(name, num_neurons=6, num_units=8, num_output=3)
            list_layers(encoder)
        except ArchitectureError:
            continue
        except (TypeError, ValueError, RuntimeError):
            continue  # needs extra constructor arguments (supervised*)
        ds = extract_activations(_Wrapper(encoder, name), X, chunk_size=50)
        np.testing.assert_allclose(_last(ds), _cebra_transform(encoder, X), atol=1e-5, err_msg=name)
        checked += 1
    assert checked >= 15


def _cebra_transform(encoder, X):
    """CEBRA's own (unbatched) transform path for a bare encoder."""
    from cebra.solver.base import _not_batched_transform

    offset = encoder.get_offset()
    encoder.eval()
    with torch.no_grad():
        out = _not_batched_transform(encoder, torch.from_numpy(X), len(offset) >= 2, offset)
    return out.numpy()


# --------------------------------------------------------------------------- input references


def _replicate_padded_window_mean(neural: np.ndarray, left: int, right: int) -> np.ndarray:
    """Brute force: pad by repeating edge rows, average rows [t - left, t + right)."""
    padded = np.concatenate(
        [np.repeat(neural[:1], left, 0), neural, np.repeat(neural[-1:], right, 0)]
    )
    return np.stack([padded[t : t + left + right].mean(axis=0) for t in range(len(neural))])


def test_stores_carry_the_input_and_its_receptive_field_mean(conv_model, toy, tmp_path):
    X = toy.sessions[0].neural
    ds = extract_activations(conv_model, X)
    assert reference_names(ds) == ["input", "input_rf_mean"]
    np.testing.assert_array_equal(ds["input"].values, X)
    left, right = conv_model.model_.get_offset().left, conv_model.model_.get_offset().right
    assert left + right == 10  # offset10-model: receptive field of 10 samples
    np.testing.assert_allclose(
        ds["input_rf_mean"].values, _replicate_padded_window_mean(X, left, right), atol=1e-5
    )
    assert ds["input_rf_mean"].attrs["layer_name"] == "input_rf_mean"
    # streamed in chunks, the references equal the single pass
    write_activation_store(tmp_path / "s.zarr", conv_model, X, chunk_size=1)
    streamed = open_activation_store(tmp_path / "s.zarr")
    for name in ("input", "input_rf_mean"):
        np.testing.assert_array_equal(streamed[name].values, ds[name].values)
    assert streamed.attrs["reference_layers"] == ["input", "input_rf_mean"]
    assert extract_activations(conv_model, X, references=()).attrs["reference_layers"] == []


def test_mlp_store_has_only_the_input_reference(mlp_model, toy):
    """An MLP sees one time bin: its receptive-field mean would equal the input."""
    ds = extract_activations(mlp_model, toy.sessions[0].neural)
    assert ds.attrs["reference_layers"] == ["input"]
    with pytest.raises(ValueError, match="unknown reference layers"):
        extract_activations(mlp_model, toy.sessions[0].neural, references=("raw",))


def test_cebra_lens_capture_takes_the_convolution_inside_each_block(conv_model, toy):
    """capture='cebra_lens': the Conv1d inside each residual block (before GELU and the skip
    addition), aligned like the block; other layers unchanged."""
    X = toy.sessions[0].neural
    blocks = extract_activations(conv_model, X)
    inner = extract_activations(conv_model, X, capture="cebra_lens")
    names_blocks = [blocks[v].attrs["layer_name"] for v in layer_names(blocks)]
    names_inner = [inner[v].attrs["layer_name"] for v in layer_names(inner)]
    assert names_inner == [n + "_conv" if n.startswith("block_") else n for n in names_blocks]
    assert inner.attrs["capture"] == "cebra_lens"
    # brute force for block 1: run net up to the block on the padded input, apply its conv
    encoder = conv_model.model_
    left, right = encoder.get_offset().left, encoder.get_offset().right
    padded = np.concatenate([np.repeat(X[:1], left, 0), X, np.repeat(X[-1:], right - 1, 0)])
    k = names_blocks.index("block_1")
    position = int(inner[layer_names(inner)[k]].attrs["module_path"].split(".")[1])
    with torch.no_grad():
        h = torch.from_numpy(padded.T.copy()).unsqueeze(0)
        for module in encoder.net[:position]:
            h = module(h)
        conv = encoder.net[position].module[0](h).squeeze(0).T.numpy()
    excess = len(conv) - len(X)
    expected = conv[excess // 2 : excess // 2 + len(X)]
    np.testing.assert_allclose(inner[layer_names(inner)[k]].values, expected, atol=1e-5)
    for v in (layer_names(inner)[0], layer_names(inner)[-1]):  # conv_in and the embedding
        np.testing.assert_array_equal(inner[v].values, blocks[v].values)
    with pytest.raises(ArchitectureError, match="capture must be one of"):
        extract_activations(conv_model, X, capture="inner")
