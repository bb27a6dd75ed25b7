"""Tests for cebra_lens_core.metrics.attribution: closed forms, CEBRA cross-checks, scores."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
from torch import nn

from cebra_lens_core.data.synthetic import ATTRIBUTION_LATENTS, attribution
from cebra_lens_core.metrics.attribution import (
    DEFAULT_METHODS,
    METHODS,
    block_readout,
    compute_attribution,
    gap_metrics,
    latent_readout,
    moore_penrose_conditions,
    neuron_ground_truth,
    neuron_scores,
    pseudo_inverse,
    roc_auc,
    score_attribution,
    score_map,
)
from cebra_lens_core.models import TrainingSpec, get_encoder, train_model

cebra = pytest.importorskip("cebra")


class Recording(nn.Module):
    """Wraps a module and records the largest batch it is called with."""

    def __init__(self, inner: nn.Module):
        super().__init__()
        self.inner = inner
        self.max_batch = 0

    def forward(self, x):
        self.max_batch = max(self.max_batch, int(x.shape[0]))
        return self.inner(x)


class LinearConv(nn.Module, cebra.models.ConvolutionalModelMixin):
    """A linear 'conv model': one Conv1d whose kernel spans the whole window."""

    def __init__(self, n_neurons: int, n_out: int, left: int, right: int):
        super().__init__()
        self.conv = nn.Conv1d(n_neurons, n_out, left + right)
        self.left, self.right, self.num_input = left, right, n_neurons
        self.max_batch = 0

    def get_offset(self):
        return cebra.data.Offset(self.left, self.right)

    def forward(self, x):
        self.max_batch = max(self.max_batch, int(x.shape[0]))
        return self.conv(x).squeeze(-1)


def _linear(n_neurons: int = 7, n_out: int = 3, seed: int = 0) -> nn.Linear:
    torch.manual_seed(seed)
    return nn.Linear(n_neurons, n_out)


def _data(t: int = 120, n: int = 7, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(1.0, 1.0, size=(t, n)).astype(np.float32)


# --------------------------------------------------------------------------- closed forms


def test_linear_encoder_jacobian_is_its_weight_and_inverse_its_pinv():
    model, x = _linear(), _data()
    W = model.weight.detach().double().numpy()
    result = compute_attribution(model, x, methods=METHODS, max_samples=None, batch_size=32)
    np.testing.assert_allclose(result.maps["jacobian_signed"], W, atol=1e-12)
    np.testing.assert_allclose(result.maps["jacobian"], np.abs(W), atol=1e-12)
    np.testing.assert_allclose(result.maps["neuron_gradient_signed"], W, atol=1e-6)
    pinv = np.linalg.pinv(W).T
    for method in ("jacobian_inv_lsq", "jacobian_inv_svd"):
        np.testing.assert_allclose(result.maps[f"{method}_signed"], pinv, atol=1e-10)
        np.testing.assert_allclose(result.maps[method], np.abs(pinv), atol=1e-10)
        assert result.moore_penrose[method]["fraction"] == 1.0
    np.testing.assert_allclose(result.neuron_norms["jacobian"], np.linalg.norm(W, axis=0))
    # ablation, integrated gradients and gradient SHAP (zero baseline) of a linear map: W ⊙ x
    rows = result.sample_indices
    expected_signed = W * x[rows].mean(axis=0)[None, :]
    expected_abs = np.abs(W) * np.abs(x[rows]).mean(axis=0)[None, :]
    for method in ("feature_ablation", "integrated_gradients", "gradient_shap"):
        np.testing.assert_allclose(result.maps[f"{method}_signed"], expected_signed, atol=1e-5)
        np.testing.assert_allclose(result.maps[method], expected_abs, atol=1e-5)
    assert result.info["output"] == "embedding" and result.info["window"] == 1
    assert set(result.methods) == set(METHODS)


def test_mean_baseline_integrated_gradients_is_weight_times_centred_input():
    model, x = _linear(), _data()
    W = model.weight.detach().double().numpy()
    result = compute_attribution(
        model,
        x,
        methods=["integrated_gradients", "feature_ablation"],
        baseline="mean",
        max_samples=None,
    )
    centred = x - x.mean(axis=0)
    for method in ("integrated_gradients", "feature_ablation"):
        np.testing.assert_allclose(
            result.maps[f"{method}_signed"], W * centred.mean(axis=0), atol=1e-5
        )
        np.testing.assert_allclose(
            result.maps[method], np.abs(W) * np.abs(centred).mean(axis=0), atol=1e-5
        )


def test_conv_model_sums_over_the_window_and_matches_cebra_up_to_its_window_mean():
    torch.manual_seed(1)
    n, d, left, right = 6, 3, 2, 3
    model = LinearConv(n, d, left, right)
    x = _data(t=80, n=n)
    result = compute_attribution(
        model, x, methods=["jacobian", "integrated_gradients", "feature_ablation"], max_samples=None
    )
    kernel = model.conv.weight.detach().double().numpy()  # (d, n, W)
    np.testing.assert_allclose(result.maps["jacobian_signed"], kernel.sum(-1), atol=1e-12)
    # rows whose window lies inside the recording: t in [left, T - right]
    np.testing.assert_array_equal(result.sample_indices, np.arange(left, 80 - right + 1))
    # IG of a linear model = Σ_τ K[d, n, τ] x[t - left + τ, n]; whole-window ablation is the same
    windows = np.stack([x[t - left : t + right].T for t in result.sample_indices])  # (s, n, W)
    per_sample = np.einsum("dnw,snw->sdn", kernel, windows)
    for method in ("integrated_gradients", "feature_ablation"):
        np.testing.assert_allclose(
            result.maps[f"{method}_signed"], per_sample.mean(0), rtol=1e-4, atol=1e-5
        )
        np.testing.assert_allclose(
            result.maps[method], np.abs(per_sample).mean(0), rtol=1e-4, atol=1e-5
        )
    # with the per-neuron mean as baseline the windows are centred first
    centred = compute_attribution(
        model,
        x,
        methods=["integrated_gradients", "feature_ablation"],
        max_samples=None,
        baseline="mean",
    )
    per_sample = np.einsum("dnw,snw->sdn", kernel, windows - x.mean(axis=0)[None, :, None])
    for method in ("integrated_gradients", "feature_ablation"):
        np.testing.assert_allclose(
            centred.maps[f"{method}_signed"], per_sample.mean(0), rtol=1e-4, atol=1e-5
        )
    # CEBRA's jacobian-based map (same windows) is the window *mean*: ours / W
    import cebra.attribution as ca

    data = torch.from_numpy(x).requires_grad_(True)
    reference = ca.init("jacobian-based", model=model, input_data=data, output_dimension=d)
    jf = reference.compute_attribution_map()["jf"]
    assert jf.shape == (80 - left - right + 1, d, n)
    np.testing.assert_allclose(jf.mean(0) * (left + right), kernel.sum(-1), rtol=1e-5)


def test_windows_of_a_cebra_conv_model_reproduce_transform(conv_model, toy):
    from cebra_lens_core.metrics.attribution.methods import _windows

    neural = toy.sessions[0].neural
    encoder = conv_model.model_
    offset = encoder.get_offset()
    rows = np.array([offset.left, 100, len(neural) - offset.right])
    x = _windows(torch.from_numpy(neural), rows, offset.left, offset.right, True)
    with torch.no_grad():
        ours = encoder(x).numpy()
    np.testing.assert_allclose(ours, conv_model.transform(neural)[rows], atol=1e-5)
    result = compute_attribution(encoder, neural, methods=["jacobian"], max_samples=50)
    assert result.maps["jacobian"].shape == (3, neural.shape[1])
    assert result.info["window"] == len(offset) and result.info["offset_left"] == offset.left
    assert result.sample_indices.min() >= offset.left
    assert result.sample_indices.max() <= len(neural) - offset.right


def test_readout_maps_are_readout_transposed_times_jacobian():
    model, x = _linear(n_out=4), _data()
    readout = np.random.default_rng(3).normal(size=(4, 2))
    result = compute_attribution(
        model, x, methods=["jacobian", "integrated_gradients"], readout=readout, max_samples=None
    )
    W = model.weight.detach().double().numpy()
    np.testing.assert_allclose(result.maps["jacobian_signed"], readout.T @ W, atol=1e-10)
    rows = result.sample_indices
    np.testing.assert_allclose(
        result.maps["integrated_gradients_signed"],
        (readout.T @ W) * x[rows].mean(axis=0),
        atol=1e-5,
    )
    assert result.info["output"] == "readout" and result.info["n_outputs"] == 2


def test_latent_readout_recovers_an_exact_linear_map():
    rng = np.random.default_rng(0)
    embedding = rng.normal(size=(300, 5))
    B = rng.normal(size=(5, 2))
    latents = embedding @ B + np.array([3.0, -1.0])
    np.testing.assert_allclose(latent_readout(embedding, latents), B, atol=1e-10)
    assert latent_readout(embedding, latents[:, 0]).shape == (5, 1)
    with pytest.raises(ValueError, match="same T"):
        latent_readout(embedding, latents[:10])


# --------------------------------------------------------------------------- pseudo-inverse


@pytest.mark.parametrize("method", ["lsq", "svd"])
def test_pseudo_inverse_satisfies_moore_penrose(method):
    rng = np.random.default_rng(0)
    full = rng.normal(size=(20, 4, 9))
    deficient = rng.normal(size=(20, 4, 2)) @ rng.normal(size=(20, 2, 9))  # rank 2
    for J in (full, deficient, 1e-6 * full, 1e6 * full):
        G = pseudo_inverse(J, method)
        assert G.shape == (20, 9, 4)
        assert moore_penrose_conditions(J, G).all()
        np.testing.assert_allclose(G, np.linalg.pinv(J), rtol=1e-6, atol=1e-9 * np.abs(G).max())
    # a wrong inverse fails the conditions
    G = pseudo_inverse(full, method)
    assert not moore_penrose_conditions(full, 1.1 * G)[:, 0].any()
    assert not moore_penrose_conditions(full, G + 0.01 * rng.normal(size=G.shape)).all(axis=1).any()


def test_normalised_encoder_rank_deficiency_is_cut_off_unlike_cebra_lsq():
    """A cosine encoder's Jacobian has rank D − 1; CEBRA's float32 lsq inverts the zero."""
    import cebra.attribution as ca

    torch.manual_seed(0)
    encoder = cebra.models.init("offset1-model", num_neurons=12, num_units=16, num_output=4).eval()
    x = _data(t=60, n=12)
    result = compute_attribution(
        encoder, x, methods=["jacobian", "jacobian_inv_lsq", "jacobian_inv_svd"], max_samples=None
    )
    for method in ("jacobian_inv_lsq", "jacobian_inv_svd"):
        assert result.moore_penrose[method]["fraction"] == 1.0
    np.testing.assert_allclose(
        result.maps["jacobian_inv_lsq"], result.maps["jacobian_inv_svd"], rtol=1e-6
    )
    # rank D - 1
    inputs = torch.from_numpy(x[:5]).double().requires_grad_(True)
    J = torch.autograd.functional.jacobian(lambda v: encoder.double()(v).sum(0), inputs)
    J = J.permute(1, 0, 2).numpy()  # (samples, D, N)
    s = np.linalg.svd(J, compute_uv=False)
    assert (s[:, -1] / s[:, 0] < 1e-12).all() and (s[:, -2] / s[:, 0] > 1e-6).all()
    encoder.float()
    # CEBRA's inverse of its float32 Jacobian has entries orders of magnitude larger
    reference = ca.init("jacobian-based", model=encoder, input_data=torch.from_numpy(x))
    jf = ca._jacobian.compute_jacobian(
        encoder, [torch.from_numpy(x).requires_grad_(True)], cuda_device="cpu"
    )
    cebra_inv, _ = reference._inverse(jf, method="lsq")
    assert np.abs(cebra_inv).max() > 1e3 * np.abs(result.maps["jacobian_inv_lsq"]).max()


# --------------------------------------------------------------------------- sampling, batching


def test_sample_cap_is_seeded_and_batches_are_bounded():
    model, x = Recording(_linear()), _data(t=300)
    result = compute_attribution(
        model, x, methods=DEFAULT_METHODS, max_samples=37, batch_size=10, seed=4, shap_samples=3
    )
    assert result.n_samples == 37 and result.sample_indices.size == 37
    assert np.all(np.diff(result.sample_indices) > 0)
    assert result.batch_sizes == [10, 10, 10, 7] and result.info["n_batches"] == 4
    assert model.max_batch <= 10 * 3  # gradient SHAP: batch_size × shap_samples
    again = compute_attribution(
        model, x, methods=DEFAULT_METHODS, max_samples=37, batch_size=10, seed=4, shap_samples=3
    )
    np.testing.assert_array_equal(again.sample_indices, result.sample_indices)
    for key, value in result.maps.items():
        np.testing.assert_array_equal(again.maps[key], value)
    other = compute_attribution(model, x, methods=["jacobian"], max_samples=37, seed=5)
    assert not np.array_equal(other.sample_indices, result.sample_indices)
    everything = compute_attribution(model, x, methods=["jacobian"], max_samples=None)
    np.testing.assert_array_equal(everything.sample_indices, np.arange(300))
    assert set(result.timings) == set(DEFAULT_METHODS)
    assert all(t >= 0 for t in result.timings.values())


def test_mini_batches_do_not_change_the_maps():
    torch.manual_seed(2)
    model = LinearConv(5, 3, 3, 2)
    x = _data(t=90, n=5)
    methods = ["jacobian", "jacobian_inv_svd", "integrated_gradients", "feature_ablation"]
    small = compute_attribution(model, x, methods=methods, max_samples=40, batch_size=7)
    assert model.max_batch <= 7
    large = compute_attribution(model, x, methods=methods, max_samples=40, batch_size=1000)
    for key in small.maps:
        np.testing.assert_allclose(small.maps[key], large.maps[key], rtol=1e-5, atol=1e-7)


def test_invalid_inputs_are_named():
    model, x = _linear(), _data()
    with pytest.raises(ValueError, match="unknown attribution methods"):
        compute_attribution(model, x, methods=["saliency"])
    with pytest.raises(ValueError, match="batch_size"):
        compute_attribution(model, x, methods=["jacobian"], batch_size=0)
    with pytest.raises(ValueError, match="max_samples"):
        compute_attribution(model, x, methods=["jacobian"], max_samples=0)
    with pytest.raises(ValueError, match="NaN"):
        compute_attribution(model, np.full((10, 7), np.nan), methods=["jacobian"])
    conv = LinearConv(7, 2, 5, 5)
    with pytest.raises(ValueError, match="window"):
        compute_attribution(conv, x[:8], methods=["jacobian"])
    cebra_model = cebra.models.init("offset1-model", num_neurons=7, num_units=4, num_output=2)
    with pytest.raises(ValueError, match="7 neurons"):
        compute_attribution(cebra_model, _data(n=5), methods=["jacobian"])
    resample = cebra.models.init(
        "offset4-model-2x-subsample", num_neurons=7, num_units=4, num_output=2
    )
    with pytest.raises(ValueError, match="downsamples"):
        compute_attribution(resample, x, methods=["jacobian"])
    with pytest.raises(TypeError, match="get_encoder"):
        compute_attribution(object(), x, methods=["jacobian"])  # type: ignore[arg-type]


def test_missing_cvxpy_gives_an_install_hint(monkeypatch):
    """`import cebra.attribution` needs cvxpy; without it the error names the extra."""
    monkeypatch.setitem(sys.modules, "cebra.attribution", None)
    with pytest.raises(ImportError, match=r"cebra_lens_core\[attribution\]"):
        compute_attribution(_linear(), _data(), methods=["jacobian"])


# --------------------------------------------------------------------------- scores


def test_auc_is_one_for_the_ground_truth_and_chance_for_random_maps():
    rng = np.random.default_rng(0)
    truth = rng.random((3, 40)) < 0.3
    assert roc_auc(truth.astype(float), truth) == 1.0
    assert roc_auc(-5.0 * truth, truth) == 1.0  # |·|: large negative values count as connected
    assert roc_auc(~truth * 1.0, truth) == 0.0
    aucs = [roc_auc(rng.random(truth.shape), truth) for _ in range(300)]
    assert abs(np.mean(aucs) - 0.5) < 0.02
    assert np.isnan(roc_auc(rng.random((2, 3)), np.ones((2, 3), bool)))
    with pytest.raises(ValueError, match="does not match"):
        roc_auc(rng.random((3, 4)), truth)


def test_gap_metrics_by_hand():
    amap = np.array([[0.9, -0.1, 0.4], [0.2, 0.7, -0.3]])
    truth = np.array([[True, False, True], [False, True, False]])
    # connected |values| 0.9, 0.4, 0.7; non-connected 0.1, 0.2, 0.3
    gaps = gap_metrics(amap, truth)
    expected = {
        "max_connected": 0.9,
        "mean_connected": 2.0 / 3.0,
        "min_connected": 0.4,
        "max_nonconnected": 0.3,
        "mean_nonconnected": 0.2,
        "min_nonconnected": 0.1,
        "gap_max": 0.6,
        "gap_mean": 2.0 / 3.0 - 0.2,
        "gap_min": 0.3,
        "gap_minmax": 0.1,
    }
    assert gaps == pytest.approx(expected)
    assert score_map(amap, truth)["auc"] == 1.0
    # agrees with CEBRA's compute_metrics on the |·| map
    import cebra.attribution as ca

    theirs = ca.AttributionMap.compute_metrics(None, np.abs(amap), truth)
    for key, value in expected.items():
        assert theirs[key] == pytest.approx(value)
    assert ca.AttributionMap.compute_attribution_score(None, np.abs(amap), truth) == 1.0


def test_neuron_level_scores():
    amap = np.array([[0.1, -0.9, 0.0], [0.5, 0.2, 0.05]])
    np.testing.assert_allclose(neuron_scores(amap), [0.5, 0.9, 0.05])
    truth = np.array([[False, True, False], [True, False, False]])
    np.testing.assert_array_equal(neuron_ground_truth(truth), [True, True, False])


def test_score_attribution_levels():
    model, x = _linear(n_out=3), _data()
    truth = np.zeros((3, 7), bool)
    truth[:, :3] = True
    plain = compute_attribution(model, x, methods=["jacobian"], max_samples=20)
    assert {r["level"] for r in score_attribution(plain, truth)} == {"neuron_max", "neuron_norm"}
    aligned = compute_attribution(model, x, methods=["jacobian"], max_samples=20, readout=np.eye(3))
    rows = score_attribution(aligned, truth)
    assert {r["level"] for r in rows} == {"neuron_max", "neuron_norm", "entries"}
    assert all({"method", "auc", "gap_minmax"} <= set(r) for r in rows)


# --------------------------------------------------------------------------- trained model


@pytest.fixture(scope="session")
def trained_attribution():
    """offset10-model on the attribution benchmark, 300 iterations (≈ 10 s on one core)."""
    dataset = attribution(n_timepoints=2000, n_neurons=40, seed=0)
    spec = TrainingSpec(
        architecture="offset10-model",
        output_dimension=4,
        num_hidden_units=16,
        conditional="behavior",
        labels=list(ATTRIBUTION_LATENTS),
        time_offsets=10,
        max_iterations=300,
        batch_size=256,
        learning_rate=3e-3,
        seed=0,
    )
    return dataset, train_model(dataset, spec)


def test_trained_model_attribution_is_well_above_chance(trained_attribution):
    dataset, model = trained_attribution
    session = dataset.sessions[0]
    truth = np.array(dataset.metadata["sessions"][0]["connectivity"])
    methods = ["jacobian", "jacobian_inv_lsq", "jacobian_inv_svd"]
    result = compute_attribution(
        get_encoder(model), session.neural, methods=methods, max_samples=500
    )
    scores = {(r["method"], r["level"]): r["auc"] for r in score_attribution(result, truth)}
    # measured: jacobian 1.0 / 1.0, pseudo-inverse 0.95 / 0.96 (neuron_max / neuron_norm)
    assert scores["jacobian", "neuron_max"] > 0.85
    assert scores["jacobian_inv_svd", "neuron_max"] > 0.8
    assert scores["jacobian_inv_lsq", "neuron_norm"] > 0.8
    assert result.moore_penrose["jacobian_inv_svd"]["fraction"] == 1.0
    # aligned to the true latents: every latent × neuron entry (measured 0.96 / 0.90)
    train = session.train
    latents = np.stack([session.labels[name][train] for name in ATTRIBUTION_LATENTS], axis=1)
    readout = latent_readout(model.transform(session.neural[train]), latents)
    aligned = compute_attribution(
        get_encoder(model), session.neural, methods=methods, max_samples=500, readout=readout
    )
    scores = {(r["method"], r["level"]): r["auc"] for r in score_attribution(aligned, truth)}
    assert scores["jacobian", "entries"] > 0.8
    assert scores["jacobian_inv_svd", "entries"] > 0.75


def test_every_method_runs_on_a_trained_model(trained_attribution):
    dataset, model = trained_attribution
    neural = dataset.sessions[0].neural
    result = compute_attribution(
        get_encoder(model), neural, methods=METHODS, max_samples=48, batch_size=16
    )
    for method in METHODS:
        for key in (method, f"{method}_signed"):
            assert result.maps[key].shape == (4, neural.shape[1])
            assert np.isfinite(result.maps[key]).all()
        assert (result.maps[method] >= np.abs(result.maps[f"{method}_signed"]) - 1e-12).all()
        assert result.timings[method] >= 0
    # the captum gradient equals the float64 autograd Jacobian (float32 rounding)
    np.testing.assert_allclose(
        result.maps["neuron_gradient_signed"], result.maps["jacobian_signed"], rtol=1e-3, atol=1e-5
    )
    # gradient SHAP with zero baselines is a Monte-Carlo integrated gradients
    truth = np.array(dataset.metadata["sessions"][0]["connectivity"])
    assert roc_auc(neuron_scores(result.maps["gradient_shap"]), truth.any(0)) > 0.75


def test_gradient_shap_is_reproducible_whatever_the_global_random_state(trained_attribution):
    """captum draws from numpy's and torch's global generators: both are seeded per batch."""
    ds, model = trained_attribution
    neural = ds.sessions[0].neural
    kwargs = dict(methods=["gradient_shap"], max_samples=40, batch_size=16, seed=3)
    np.random.seed(1)
    torch.manual_seed(1)
    first = compute_attribution(get_encoder(model), neural, **kwargs).maps["gradient_shap"]
    np.random.seed(2)
    torch.manual_seed(2)
    second = compute_attribution(get_encoder(model), neural, **kwargs).maps["gradient_shap"]
    np.testing.assert_array_equal(first, second)


def test_block_readout_reads_each_group_from_its_part_only():
    rng = np.random.default_rng(0)
    E = rng.standard_normal((300, 5))
    A, C = rng.standard_normal((3, 2)), rng.standard_normal((2, 1))
    latents = np.hstack([E[:, :3] @ A, E[:, 3:] @ C])  # group 1 from dims 0..2, group 2 from 3..4
    B = block_readout(E, latents, [((0, 3), [0, 1]), ((3, 5), [2])])
    np.testing.assert_allclose(B[:3, :2], A, atol=1e-10)
    np.testing.assert_allclose(B[3:, 2:], C, atol=1e-10)
    assert not B[3:, :2].any() and not B[:3, 2:].any()
    # columns in no block are read from the whole embedding
    np.testing.assert_allclose(block_readout(E, latents, []), latent_readout(E, latents))
    with pytest.raises(ValueError, match="outside"):
        block_readout(E, latents, [((3, 9), [0])])


def test_scoring_a_group_of_rows_equals_scoring_its_sub_map():
    model, x = _linear(n_out=3), _data()
    truth = np.zeros((3, 7), bool)
    truth[0, :2] = truth[1, 2:4] = truth[2, 5] = True
    result = compute_attribution(model, x, methods=["jacobian"], max_samples=20, readout=np.eye(3))
    rows = score_attribution(result, truth, rows=[1, 2])
    assert {r["level"] for r in rows} == {"neuron_max", "entries"}  # no norm over all rows
    entries = next(r for r in rows if r["level"] == "entries")
    assert entries["auc"] == score_map(result.maps["jacobian"][[1, 2]], truth[[1, 2]])["auc"]
    neuron = next(r for r in rows if r["level"] == "neuron_max")
    expected = score_map(neuron_scores(result.maps["jacobian"][[1, 2]]), truth[[1, 2]].any(0))
    assert neuron["auc"] == expected["auc"]
    plain = compute_attribution(model, x, methods=["jacobian"], max_samples=20)
    with pytest.raises(ValueError, match="aligned"):
        score_attribution(plain, truth, rows=[0])
