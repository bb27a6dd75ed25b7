"""The ``device`` option of extraction, CKA and attribution (CPU path here; CUDA when present)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from cebra_lens_core.activations import extract_activations
from cebra_lens_core.devices import torch_device
from cebra_lens_core.metrics.cka import cka_matrix, stacked_covariance

CUDA = torch.cuda.is_available()
needs_cuda = pytest.mark.skipif(not CUDA, reason="no CUDA GPU")


def test_torch_device_resolution():
    assert torch_device(None) is None
    assert torch_device("cpu") == torch.device("cpu")
    assert torch_device("CPU") == torch.device("cpu")
    expected = torch.device("cuda" if CUDA else "cpu")
    assert torch_device("auto") == expected and torch_device("cuda_if_available") == expected
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        torch_device("tpu")
    if not CUDA:
        with pytest.raises(ValueError, match="no CUDA GPU is available.*device='auto'"):
            torch_device("cuda")


@pytest.fixture(scope="module")
def layers():
    rng = np.random.default_rng(0)
    T = 3000
    latent = rng.normal(size=(T, 4))
    make = lambda w: (latent @ rng.normal(size=(4, w)) + rng.normal(size=(T, w)) + 50).astype(  # noqa: E731
        np.float32
    )
    return [make(8), make(5), make(3)], [make(6), make(4)]


@pytest.mark.parametrize("kind", ["linear", "debiased"])
@pytest.mark.parametrize("cache", [None, 2**30])
def test_cka_torch_cpu_path_equals_numpy(layers, kind, cache):
    a, b = layers
    ref = cka_matrix(a, b, kind=kind)
    got = cka_matrix(a, b, kind=kind, device="cpu", device_cache_bytes=cache, chunk_size=700)
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-12)
    ref_cov = stacked_covariance(a + b, row_norms=True)
    cov = stacked_covariance(a + b, row_norms=True, device="cpu", chunk_size=512)
    np.testing.assert_allclose(cov.scatter, ref_cov.scatter, rtol=1e-10, atol=1e-8)
    np.testing.assert_allclose(cov.means, ref_cov.means, rtol=1e-12)
    np.testing.assert_allclose(cov.row_norm_products, ref_cov.row_norm_products, rtol=1e-10)
    # float32 products of the centred chunks, float64 accumulation
    f32 = cka_matrix(a, b, kind=kind, device="cpu", gemm_dtype="float32")
    np.testing.assert_allclose(f32, ref, atol=1e-5)


def test_cka_device_auto_and_errors(layers):
    a, b = layers
    np.testing.assert_allclose(cka_matrix(a, b, device="auto"), cka_matrix(a, b), atol=1e-12)
    bad = [x.copy() for x in a]
    bad[1][1234, 2] = np.nan
    with pytest.raises(ValueError, match=r"layers_a\[1\] contains NaN .* time index 1234"):
        cka_matrix(bad, b, device="cpu", chunk_size=1000)
    with pytest.raises(ValueError, match="unknown device"):
        cka_matrix(a, b, device="gpu0")


@needs_cuda
def test_cka_cuda_equals_numpy(layers):  # pragma: no cover - needs a GPU
    a, b = layers
    for kind in ("linear", "debiased"):
        got = cka_matrix(a, b, kind=kind, device="cuda", chunk_size=700)
        np.testing.assert_allclose(got, cka_matrix(a, b, kind=kind), rtol=1e-9, atol=1e-10)


def test_extraction_device_cpu_equals_default(conv_model, toy):
    neural = toy.sessions[0].neural
    ref = extract_activations(conv_model, neural, chunk_size=500)
    got = extract_activations(conv_model, neural, chunk_size=500, device="cpu")
    for var in ref.data_vars:
        np.testing.assert_array_equal(got[var].values, ref[var].values)
    auto = extract_activations(conv_model, neural[:300], device="auto")
    assert auto.sizes["time"] == 300


@needs_cuda
def test_extraction_cuda_matches_cpu(conv_model, toy):  # pragma: no cover - needs a GPU
    neural = toy.sessions[0].neural
    ref = extract_activations(conv_model, neural)
    got = extract_activations(conv_model, neural, device="cuda", chunk_size=400)
    for var in ref.data_vars:
        np.testing.assert_allclose(got[var].values, ref[var].values, atol=1e-4)
    assert next(conv_model.model_.parameters()).device.type == "cpu"  # model left in place


def test_attribution_device_cpu_equals_default(conv_model, toy):
    pytest.importorskip("captum")
    from cebra_lens_core.metrics.attribution import compute_attribution
    from cebra_lens_core.models import get_encoder

    neural = toy.sessions[0].neural
    encoder = get_encoder(conv_model)
    kwargs = dict(methods=("jacobian", "feature_ablation"), max_samples=20, batch_size=10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = compute_attribution(encoder, neural, **kwargs)
        got = compute_attribution(encoder, neural, device="cpu", **kwargs)
    for method in ref.maps:
        np.testing.assert_allclose(got.maps[method], ref.maps[method], rtol=1e-12, atol=1e-12)
