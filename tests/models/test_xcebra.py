"""xCEBRA: the regulariser schedule, per-part normalisation, training (deterministic, the
regulariser lowers the Jacobian norm against its unregularised twin), safe saving and
loading, extraction, and the refusal of CEBRA PyTorch-API solver checkpoints."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cebra_lens_core.activations import extract_activations
from cebra_lens_core.data.synthetic.attribution import attribution
from cebra_lens_core.models import (
    ModelFileError,
    TrainingSpec,
    load_model,
    save_model,
    train_model,
    training_history,
)
from cebra_lens_core.models.layers import list_layers
from cebra_lens_core.models.xcebra import (
    PartNorm,
    RegularizerSchedule,
    XCebraModel,
    from_solver,
    jacobian_norm,
    part_bounds,
)

LABELS = ["latent_0", "latent_1", "latent_2"]


def _spec(**kw) -> TrainingSpec:
    settings = dict(
        architecture="offset10-model-mse",
        output_dimension=6,
        behavior_dimensions=3,
        conditional="xcebra",
        labels=LABELS,
        max_iterations=60,
        batch_size=64,
        num_hidden_units=16,
        seed=3,
    )
    return TrainingSpec(**{**settings, **kw})


@pytest.fixture(scope="module")
def data():
    return attribution(
        n_neurons=12,
        n_timepoints=600,
        driven_fraction=0.3,
        n_time_latents=2,
        time_driven_fraction=0.3,
        nuisance_timescale=1.0,
    )


@pytest.fixture(scope="module")
def twins(data):
    """The same seed and data, with and without the Jacobian regulariser."""
    regularised = train_model(data, _spec(regularizer_weight=1.0, regularizer_warmup_end=10))
    plain = train_model(data, _spec())
    return regularised, plain


# --------------------------------------------------------------------------- schedule


def test_schedule_equals_cebras_linear_ramp_up():
    from cebra.solver.schedulers import LinearRampUp

    ours = RegularizerSchedule(weight=0.01, start_weight=0.002, warmup_start=5, warmup_end=15)
    theirs = LinearRampUp(
        n_splits=2,
        step_to_switch_on_reg=5,
        step_to_switch_off_reg=15,
        start_weight=0.002,
        end_weight=0.01,
    )
    for step in range(40):
        expected = theirs.get_weights(step=step)
        got = ours.weight_at(step)
        if expected is None:
            assert got is None, step
        else:
            assert got == pytest.approx(expected[0], abs=1e-15), step


def test_schedule_closed_form_and_switches():
    s = RegularizerSchedule(weight=1.0, start_weight=0.0, warmup_start=10, warmup_end=20)
    assert s.weight_at(9) is None
    assert s.weight_at(10) == 0.0
    assert s.weight_at(15) == pytest.approx(0.5)
    assert s.weight_at(10_000) == 1.0
    assert RegularizerSchedule(weight=0.3, warmup_start=4, warmup_end=4).weight_at(4) == 0.3
    assert RegularizerSchedule().weight_at(100) is None  # weight 0: unregularised
    assert not RegularizerSchedule().enabled


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"weight": -1.0}, "regularizer_weight"),
        ({"start_weight": float("nan")}, "regularizer_start_weight"),
        ({"warmup_start": 10, "warmup_end": 5}, "warmup_end"),
        ({"projections": 0}, "projections"),
    ],
)
def test_schedule_rejects_bad_values(kw, match):
    with pytest.raises(ValueError, match=match):
        RegularizerSchedule(**kw)


# --------------------------------------------------------------------------- parts


def test_part_norm_normalises_each_part_rows_and_time_series():
    norm = PartNorm([(0, 2), (2, 5)])
    x = torch.randn(7, 5)
    y = norm(x)
    assert torch.allclose(y[:, :2].norm(dim=1), torch.ones(7))
    assert torch.allclose(y[:, 2:].norm(dim=1), torch.ones(7))
    assert torch.allclose(y[:, :2], x[:, :2] / x[:, :2].norm(dim=1, keepdim=True))
    series = torch.randn(1, 5, 30)
    assert torch.allclose(norm(series)[:, 2:].norm(dim=1), torch.ones(1, 30))


def test_part_bounds():
    assert part_bounds(7, 4) == {"behavior": (0, 4), "time": (4, 7)}
    for k in (0, 7):
        with pytest.raises(ValueError, match="behavior_dimensions"):
            part_bounds(7, k)


def test_jacobian_norm_of_a_linear_map_is_its_frobenius_norm():
    layer = torch.nn.Linear(4, 3)
    norms = jacobian_norm(layer, torch.randn(5, 4))
    np.testing.assert_allclose(norms, torch.linalg.norm(layer.weight).item(), rtol=1e-6)
    assert layer.weight.dtype == torch.float32  # the caller's module is not changed


# --------------------------------------------------------------------------- spec checks


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"conditional": "behavior", "regularizer_weight": 0.1}, "only to xCEBRA"),
        ({"behavior_dimensions": 6}, "behavior_dimensions"),
        ({"regularizer_warmup_start": 5, "regularizer_warmup_end": 2}, "warmup_end"),
        ({"temperature_mode": "auto"}, "fixed temperature"),
        ({"labels": []}, "needs at least one label"),
    ],
)
def test_spec_rejects_bad_xcebra_settings(kw, match):
    with pytest.raises(ValueError, match=match):
        _spec(**kw)


def test_default_split_is_half_the_embedding():
    assert _spec(behavior_dimensions=None, output_dimension=7).behavior_part_dimensions == 3


def test_training_refuses_a_normalising_architecture_and_discrete_labels(data):
    with pytest.raises(ValueError, match="offset10-model-mse"):
        train_model(data, _spec(architecture="offset10-model", max_iterations=1))
    from tests.conftest import toy_dataset

    with pytest.raises(ValueError, match="discrete"):
        train_model(toy_dataset(T=300), _spec(labels=["side"], max_iterations=1))
    two = attribution(n_neurons=8, n_timepoints=200, n_sessions=2)
    with pytest.raises(ValueError, match="single-session"):
        train_model(two, _spec(max_iterations=1))


# --------------------------------------------------------------------------- training


def test_training_is_deterministic(data, twins):
    regularised, _ = twins
    again = train_model(data, _spec(regularizer_weight=1.0, regularizer_warmup_end=10))
    X = data.sessions[0].neural
    assert np.array_equal(again.transform(X), regularised.transform(X))
    assert again.log_ == regularised.log_ or all(
        np.array_equal(np.asarray(again.log_[k]), np.asarray(v), equal_nan=True)
        for k, v in regularised.log_.items()
    )


def test_each_part_is_on_its_unit_sphere(data, twins):
    E = twins[0].transform(data.sessions[0].neural)
    assert E.shape == (600, 6)
    np.testing.assert_allclose(np.linalg.norm(E[:, :3], axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(E[:, 3:], axis=1), 1.0, rtol=1e-5)


def test_loss_curves_per_part_and_regulariser(twins):
    regularised, plain = twins
    h = training_history(regularised)
    for column in ("loss", "loss_behavior", "loss_time", "regularizer_behavior"):
        assert column in h and len(h) == 60
    assert np.isfinite(h["regularizer_behavior"]).all()  # warm-up starts at step 0
    assert (h["regularizer_behavior"] > 0).all() and (h["regularizer_time"] > 0).all()
    assert h["regularizer_weight"].iloc[0] == 0.0 and h["regularizer_weight"].iloc[-1] == 1.0
    # the optimised total is the parts plus the weighted regulariser
    expected = (
        h["loss_behavior"]
        + h["loss_time"]
        + h["regularizer_weight"] * (h["regularizer_behavior"] + h["regularizer_time"])
    )
    np.testing.assert_allclose(h["loss"], expected, rtol=1e-5)
    twin = training_history(plain)
    assert twin["regularizer_behavior"].isna().all()  # no Jacobian computed at all
    np.testing.assert_allclose(twin["loss"], twin["loss_behavior"] + twin["loss_time"], rtol=1e-5)


def test_regulariser_lowers_the_jacobian_norm_against_its_twin(data, twins):
    regularised, plain = twins
    X = data.sessions[0].neural.astype(np.float32)
    windows = torch.from_numpy(np.stack([X[t - 5 : t + 5].T for t in range(5, 595, 7)]))
    reg = jacobian_norm(regularised.model_, windows).mean()
    unreg = jacobian_norm(plain.model_, windows).mean()
    # measured: 0.61 vs 1.41 (seed 3, 60 iterations, weight 1)
    assert reg < 0.75 * unreg, (reg, unreg)


# --------------------------------------------------------------------------- files


def test_save_load_with_the_safe_loader_and_extract(data, twins, tmp_path):
    regularised, _ = twins
    path = tmp_path / "xcebra.pt"
    save_model(regularised, path)
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)  # no pickled code
    assert checkpoint["parts"] == {"behavior": [0, 3], "time": [3, 6]}
    loaded = load_model(path)
    assert isinstance(loaded, XCebraModel)
    X = data.sessions[0].neural
    expected = regularised.transform(X)
    assert np.array_equal(loaded.transform(X), expected)
    assert loaded.log_.keys() == regularised.log_.keys()
    store = extract_activations(loaded, X)
    names = store.attrs["layer_names"]
    assert names[-1] == "part_norm" and names[-2] == "conv_out"
    layers = [f"layer_{i:02d}" for i in range(len(names))]
    assert all(store[v].shape[0] == len(X) for v in layers)
    assert np.array_equal(store[layers[-1]].values, expected)
    assert store.attrs["embedding_parts"] == {"behavior": [0, 3], "time": [3, 6]}
    assert store.attrs["solver"] == "multiobjective-solver"
    assert [layer.kind for layer in list_layers(loaded.model_)][-1] == "part_norm"


def test_a_damaged_xcebra_file_is_named(twins, tmp_path):
    checkpoint = twins[0].checkpoint()
    checkpoint["architecture"] = "offset5-model-mse"  # weights of another architecture
    path = tmp_path / "wrong.pt"
    torch.save(checkpoint, path)
    with pytest.raises(ModelFileError, match="could not rebuild the xCEBRA encoder"):
        load_model(path)
    del checkpoint["state_dict"]
    torch.save(checkpoint, path)
    with pytest.raises(ModelFileError, match="state_dict"):
        load_model(path)


def _cebra_solver(name: str, n_sessions: int = 1):
    """A tiny solver trained with CEBRA's own PyTorch API (what users bring)."""
    import cebra.data
    import cebra.models
    import cebra.solver

    torch.manual_seed(0)
    neural = [torch.randn(200, 8 + 2 * k) for k in range(n_sessions)]
    behavior = [torch.randn(200, 2) for _ in range(n_sessions)]
    if name == "unified-session":
        sessions = [
            cebra.data.TensorDataset(x, continuous=y) for x, y in zip(neural, behavior, strict=True)
        ]
        data = cebra.data.UnifiedDataset(*sessions)
        model = cebra.models.init(
            "offset10-model", num_neurons=int(data.input_dimension), num_units=8, num_output=3
        )
        data.configure_for(model)
        loader = cebra.data.UnifiedLoader(data, num_steps=2, batch_size=32, time_offset=10)
        criterion = cebra.models.criterions.LearnableCosineInfoNCE(temperature=1.0)
        solver = cebra.solver.init(
            "unified-session",
            model=model,
            criterion=criterion,
            optimizer=torch.optim.Adam(model.parameters(), lr=1e-3),
            tqdm_on=False,
        )
        solver.fit(loader)
        return solver, neural
    data = cebra.data.DatasetxCEBRA(neural[0], behavior=behavior[0])
    model = cebra.models.init("offset10-model-mse", num_neurons=8, num_units=8, num_output=4)
    data.configure_for(model)
    loader = cebra.data.ContrastiveMultiObjectiveLoader(dataset=data, num_steps=3, batch_size=32)
    config = cebra.solver.MultiObjectiveConfig(loader)
    config.set_slice(0, 2)
    config.set_loss("FixedCosineInfoNCE", temperature=1.0)
    config.set_distribution("time_delta", time_delta=1, label_name="behavior")
    config.push()
    config.set_slice(2, 4)
    config.set_loss("FixedCosineInfoNCE", temperature=1.0)
    config.set_distribution("time", time_offset=10)
    config.push()
    config.finalize()
    solver = cebra.solver.init(
        "multiobjective-solver",
        model=model,
        criterion=config.criterion,
        optimizer=torch.optim.Adam(model.parameters(), lr=1e-3),
        feature_ranges=config.feature_ranges,
        renormalize=True,
        regularizer=cebra.models.JacobianReg(),
        use_sam=False,
        tqdm_on=False,
    )
    solver.fit(loader)
    return solver, neural


def test_unified_session_checkpoint_is_refused_with_what_is_missing(tmp_path):
    solver, _ = _cebra_solver("unified-session", n_sessions=2)
    path = tmp_path / "unified.pt"
    torch.save(solver.state_dict(), path)
    with pytest.raises(ModelFileError, match="unified-session or multi-objective solver"):
        load_model(path)  # the safe loader refuses its pickled objects first
    with pytest.raises(ModelFileError, match="unified-session solver checkpoint") as err:
        load_model(path, trust=True)
    message = str(err.value)
    assert "architecture" in message and "matched on labels" in message
    assert "multi-session" in message  # what to use instead


def test_xcebra_solver_checkpoint_is_refused_and_from_solver_converts_it(tmp_path):
    solver, neural = _cebra_solver("multiobjective-solver")
    path = tmp_path / "solver.pt"
    torch.save(solver.state_dict(), path)
    with pytest.raises(ModelFileError, match="from_solver"):
        load_model(path, trust=True)
    model = from_solver(
        solver,
        "offset10-model-mse",
        num_hidden_units=8,
        parts={"behavior": (0, 2), "time": (2, 4)},
    )
    converted = tmp_path / "converted.pt"
    model.save(converted)
    solver.model.set_split_outputs(False)
    expected = solver.transform(neural[0]).numpy()
    np.testing.assert_allclose(
        load_model(converted).transform(neural[0].numpy()), expected, atol=1e-6
    )
    with pytest.raises(ModelFileError, match="could not rebuild"):
        from_solver(
            solver,
            "offset10-model-mse",
            num_hidden_units=16,
            parts={"behavior": (0, 2), "time": (2, 4)},
        )


def test_goodness_of_fit_reports_the_final_loss_of_each_part(data, twins):
    from cebra_lens_core.analyses.goodness_of_fit import goodness_of_fit_rows

    regularised, _ = twins
    rows = goodness_of_fit_rows(regularised, data, _spec(), name="x")
    assert set(rows["metric"]) == {"final_training_loss"}
    by_label = dict(zip(rows["label"], rows["value"], strict=True))
    assert set(by_label) == {"behavior", "time", "total"}
    assert by_label["behavior"] == regularised.log_["loss_behavior"][-1]
    assert by_label["total"] == regularised.log_["total"][-1]


def test_neutral_values_of_the_xcebra_keys_agree_with_spec_and_schema():
    from pathlib import Path

    import yaml

    from cebra_lens_core.naming import XCEBRA_TRAINING_KEYS

    fields = TrainingSpec.__dataclass_fields__
    schema = yaml.safe_load(
        (Path(__file__).parents[2] / "workflow" / "schemas" / "config.schema.yaml").read_text()
    )
    training = schema["definitions"]["training"]["properties"]
    for key, neutral in XCEBRA_TRAINING_KEYS.items():
        assert fields[key].default == neutral, key
        assert training[key]["default"] == neutral, key
