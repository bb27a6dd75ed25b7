"""Similarity measures beyond CKA between store pairs, as results rows: every value against the
registry's brute ``compute`` on the same arrays, symmetry, within-model diagonals, chunking,
determinism, validation before heavy work and the table columns."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from cebra_lens_core.activations.store import open_activation_store
from cebra_lens_core.analyses import similarity as sim
from cebra_lens_core.analyses.similarity import DEFAULT_MEASURES, similarity_rows_for_pairs
from cebra_lens_core.metrics import shape
from cebra_lens_core.metrics.cca import svcca
from cebra_lens_core.metrics.conditions import make_conditions
from cebra_lens_core.metrics.similarity import MEASURES, compute
from cebra_lens_core.results import COLUMNS
from cebra_lens_core.stats.options import BootstrapOptions
from cebra_lens_core.stats.resampling import block_draws, block_rows, percentile_interval
from tests.analyses.stores import make_store

T = 300
N_TRAIN = 180  # test split: the last 120 rows, 5 contiguous folds of 24 rows
PERIOD = 20  # the position sweeps its whole range every 20 rows: every bin in every fold
WIDTHS = {"A": (5, 3), "B": (4, 6), "C": (3, 2)}
OPTIONS = {"k": 5, "max_samples": 80, "seed": 3, "n_bins": 10, "n_folds": 5}
#: (alpha, form) of the shape measures, written out independently of the module
SHAPE = {
    "procrustes_angular": (1.0, "angular"),
    "procrustes_euclidean": (1.0, "euclidean"),
    "cca_angular": (0.0, "angular"),
}


def _position() -> np.ndarray:
    return (np.arange(T) % PERIOD) / (PERIOD - 1)


def _stores(labels: bool = True, seed: int = 0) -> dict:
    """Three stores of two layers each, driven by one latent of the position plus noise."""
    rng = np.random.default_rng(seed)
    pos = _position()
    latent = np.stack([np.sin(2 * np.pi * pos), np.cos(2 * np.pi * pos), pos], axis=1)
    train = np.arange(T) < N_TRAIN
    direction = np.arange(T) // 7 % 3  # a discrete label, sorted before "position"
    out = {}
    for name, widths in WIDTHS.items():
        layers = [latent @ rng.normal(size=(3, d)) + 0.5 * rng.normal(size=(T, d)) for d in widths]
        label_set = {"position": (pos, "continuous"), "direction": (direction, "discrete")}
        out[name] = make_store(layers, train, label_set if labels else {})
    return out


def _rows_of(stores: dict, split: str) -> slice:
    return {"train": slice(0, N_TRAIN), "test": slice(N_TRAIN, T), "all": slice(0, T)}[split]


def _brute(stores: dict, row: pd.Series, split: str, options: dict) -> float:
    """The registry's value on the very arrays of the row's layers."""
    a, b = row["model"], row["other_model"]
    X_all = stores[a][f"layer_{int(row['layer']):02d}"].values
    Y_all = stores[b][f"layer_{int(row['other_layer']):02d}"].values
    rows = _rows_of(stores, split)
    X, Y = X_all[rows], Y_all[rows]
    name = row["variant"]
    family = MEASURES[name].family
    if family == "shape":
        alpha, form = SHAPE[name]
        if split == "test":
            fit = _rows_of(stores, "train")
            return shape.shape_distance(X_all[fit], Y_all[fit], X, Y, alpha=alpha, form=form)
        return compute(name, X, Y)
    if family == "cca":
        opts = {"variance_fraction": 0.99} if name == "svcca" else {}
        return compute(name, X, Y, options=opts)
    if family == "neighbourhood":
        keys = ("k", "max_samples", "seed")
        return compute(name, X, Y, options={key: options[key] for key in keys})
    pos = _position()
    cond = make_conditions(
        pos[rows], "continuous", n_bins=options["n_bins"], value_range=(pos.min(), pos.max())
    )
    return compute(name, X, Y, cond.codes, options={"n_folds": options["n_folds"]})


def _matrix(rows: pd.DataFrame, a: str, b: str, variant: str) -> np.ndarray:
    sel = rows[(rows["model"] == a) & (rows["other_model"] == b) & (rows["variant"] == variant)]
    out = np.full((int(sel["layer"].max()) + 1, int(sel["other_layer"].max()) + 1), np.nan)
    out[sel["layer"].astype(int), sel["other_layer"].astype(int)] = sel["value"]
    return out


PAIRS = [("A", "B"), ("B", "A"), ("A", "A"), ("B", "C")]


@pytest.fixture(scope="module")
def stores() -> dict:
    return _stores()


@pytest.fixture(scope="module")
def test_rows(stores) -> pd.DataFrame:
    return similarity_rows_for_pairs(stores, PAIRS, label="position", **OPTIONS)


def test_every_value_equals_the_registry(stores, test_rows):
    n_values = sum(len(WIDTHS[a]) * len(WIDTHS[b]) for a, b in PAIRS)
    assert len(test_rows) == n_values * len(DEFAULT_MEASURES)
    assert set(test_rows["variant"]) == set(DEFAULT_MEASURES)
    for _, row in test_rows.iterrows():
        expected = _brute(stores, row, "test", OPTIONS)
        assert np.isfinite(row["value"]), row.to_dict()
        # a layer against itself: the analysis gives shape distance 0 exactly (same stacked
        # block); the brute two-layer SVD resolves 0 only to ~sqrt(eps) (metrics/shape.py)
        same = row["model"] == row["other_model"] and row["layer"] == row["other_layer"]
        tol = 1e-7 if same and row["analysis"] == "shape" else 1e-10
        assert row["value"] == pytest.approx(expected, abs=tol), row.to_dict()


@pytest.mark.parametrize("split", ["all", "train"])
def test_fitted_and_scored_on_the_same_rows(stores, split):
    measures = ["procrustes_angular", "procrustes_euclidean", "cca_angular", "svcca", "pwcca"]
    rows = similarity_rows_for_pairs(
        stores, [("A", "B"), ("C", "A")], measures=measures, split=split
    )
    assert set(rows["n"]) == {T if split == "all" else N_TRAIN}
    for _, row in rows.iterrows():
        assert row["value"] == pytest.approx(_brute(stores, row, split, {}), abs=1e-10)


def test_rows_follow_the_table(test_rows):
    assert list(test_rows.columns) == list(COLUMNS)
    for name in DEFAULT_MEASURES:
        sel = test_rows[test_rows["variant"] == name]
        measure = MEASURES[name]
        assert set(sel["analysis"]) == {measure.family}
        assert set(sel["metric"]) == {measure.kind}
        assert set(sel["label"]) == ({"position"} if measure.family == "crossnobis" else {""})
        n = {"neighbourhood": OPTIONS["max_samples"]}.get(measure.family, T - N_TRAIN)
        assert set(sel["n"]) == {n}
    assert set(test_rows["dataset"]) == {"toy"}
    assert set(test_rows["unit"]) == {""}
    assert set(test_rows["layer_name"]) == {"l0", "l1"}
    assert (test_rows["layer_name"] == "l" + test_rows["layer"].astype(str)).all()
    assert list(dict.fromkeys(zip(test_rows["model"], test_rows["other_model"], strict=True))) == [
        tuple(p) for p in PAIRS
    ]
    assert not {"ci_low", "ci_high"} - set(test_rows.columns)
    assert test_rows[["ci_low", "ci_high"]].isna().all().all()


def test_pair_order_follows_the_symmetry_flag(test_rows):
    for name in DEFAULT_MEASURES:
        ab = _matrix(test_rows, "A", "B", name)
        ba = _matrix(test_rows, "B", "A", name)
        if MEASURES[name].symmetric:
            np.testing.assert_allclose(ab, ba.T, rtol=0, atol=1e-10, err_msg=name)
        else:  # the asymmetric ones really are computed in the pair's direction
            assert np.abs(ab - ba.T).max() > 1e-6, name


def test_within_model_diagonal_is_the_best_value(test_rows):
    for name in DEFAULT_MEASURES:
        measure = MEASURES[name]
        best = measure.value_range[1] if measure.larger_is_closer else 0.0
        aa = _matrix(test_rows, "A", "A", name)
        np.testing.assert_allclose(np.diag(aa), best, rtol=0, atol=1e-10, err_msg=name)
        if measure.symmetric:
            np.testing.assert_allclose(aa, aa.T, rtol=0, atol=1e-10, err_msg=name)


def test_chunk_size_and_reruns_do_not_change_values(stores, test_rows):
    small = similarity_rows_for_pairs(stores, PAIRS, label="position", chunk_size=7, **OPTIONS)
    np.testing.assert_allclose(small["value"], test_rows["value"], rtol=0, atol=1e-10)
    again = similarity_rows_for_pairs(stores, PAIRS, label="position", **OPTIONS)
    pd.testing.assert_frame_equal(again, test_rows)


def test_zarr_backed_stores_give_the_in_memory_values(stores, test_rows, tmp_path):
    """Lazy layers read from zarr in storage chunks (the workflow's case)."""
    on_disk = {}
    for name, store in stores.items():
        path = tmp_path / f"{name}.zarr"
        encoding = {v: {"chunks": (32, store[v].shape[1])} for v in store.data_vars}
        store.to_zarr(path, zarr_format=3, consolidated=False, encoding=encoding)
        on_disk[name] = open_activation_store(path)
    rows = similarity_rows_for_pairs(on_disk, PAIRS, label="position", chunk_size=50, **OPTIONS)
    keys = [c for c in COLUMNS if c != "value"]
    pd.testing.assert_frame_equal(rows[keys], test_rows[keys])
    np.testing.assert_allclose(rows["value"], test_rows["value"], rtol=0, atol=1e-10)


def test_first_label_by_default_and_stores_without_labels_skip_crossnobis(stores, caplog):
    measures = ["crossnobis_cosine_cov", "mutual_knn"]
    default = similarity_rows_for_pairs(stores, [("A", "B")], measures=measures, n_folds=2)
    assert set(default.loc[default["variant"] == "crossnobis_cosine_cov", "label"]) == {"direction"}
    bare = _stores(labels=False)
    with caplog.at_level(logging.WARNING, logger=sim.__name__):
        rows = similarity_rows_for_pairs(bare, [("A", "B")], measures=measures, k=5)
    assert set(rows["variant"]) == {"mutual_knn"}
    assert "has no labels" in caplog.text and "crossnobis" in caplog.text


def test_default_label_skips_labels_with_fewer_than_3_conditions(caplog):
    """A two-valued label sorted first (``direction``, left/right runs) is passed over for the
    first label with 3+ conditions; with none such, crossnobis is skipped with a warning."""
    rng = np.random.default_rng(1)
    pos, train = _position(), np.arange(T) < N_TRAIN
    side = np.arange(T) // 10 % 2
    layers = [pos[:, None] * rng.normal(size=3) + 0.3 * rng.normal(size=(T, 3))]
    both = {"direction": (side, "discrete"), "position": (pos, "continuous")}
    stores = {n: make_store(layers, train, both) for n in "AB"}
    rows = similarity_rows_for_pairs(stores, [("A", "B")], measures=["crossnobis_corr_cov"])
    assert set(rows["label"]) == {"position"} and len(rows) == 1
    only_two = {n: make_store(layers, train, {"direction": (side, "discrete")}) for n in "AB"}
    with caplog.at_level(logging.WARNING, logger=sim.__name__):
        rows = similarity_rows_for_pairs(
            only_two, [("A", "B")], measures=["crossnobis_corr_cov", "svcca"]
        )
    assert set(rows["variant"]) == {"svcca"}
    assert "no label with at least 3 conditions" in caplog.text


def test_fewer_folds_when_conditions_cannot_be_cross_validated(stores, caplog):
    """Three conditions in runs of 20 rows, twice over 120 test rows: with 5, 4 or 3 contiguous
    folds conditions 0 and 2 share fewer than 2 folds, with 2 folds (the two cycles) every pair
    is cross-validated. The largest such fold count is used (with a warning) and gives what
    the metric gives with it; a label no fold count rescues is an error when named."""
    cycles = np.tile(np.repeat([0, 1, 2], 20), 2)
    assert sim.usable_folds(cycles, 5) == 2
    assert sim.usable_folds(np.tile(np.arange(4), 30), 5) == 5
    assert sim.usable_folds(np.repeat(np.arange(6), 20), 5) is None
    with pytest.raises(ValueError, match="n_folds=500 exceeds"):
        sim.usable_folds(cycles, 500)
    slow = (np.arange(T) // 40) / ((T - 1) // 40)  # 8 steps: each bin in one block of rows
    given = {n: s.assign_coords(label_position=("time", slow)) for n, s in stores.items()}
    with pytest.raises(ValueError, match="even with 2 contiguous folds"):
        similarity_rows_for_pairs(
            given, [("A", "B")], measures=["crossnobis_cosine_cov"], label="position"
        )
    position = np.concatenate([np.zeros(N_TRAIN), cycles / 2.0])
    runs = {n: s.assign_coords(label_position=("time", position)) for n, s in stores.items()}
    with caplog.at_level(logging.WARNING, logger=sim.__name__):
        rows = similarity_rows_for_pairs(
            runs, [("A", "B")], measures=["crossnobis_cosine_cov"], label="position", n_bins=3
        )
    assert "using 2 folds" in caplog.text
    x = runs["A"]["layer_00"].values[N_TRAIN:]
    y = runs["B"]["layer_01"].values[N_TRAIN:]
    expected = compute("crossnobis_cosine_cov", x, y, cycles, options={"n_folds": 2})
    got = rows[(rows["layer"] == 0) & (rows["other_layer"] == 1)]["value"].item()
    assert got == pytest.approx(expected, abs=1e-12)


@pytest.fixture
def no_heavy_work(monkeypatch):
    """Any read of the layers by a metric fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("heavy work started before validation finished")

    for name in ("stacked_covariance", "neighbourhood_similarity_matrix", "crossnobis_rdm"):
        monkeypatch.setattr(sim, name, refuse)


def _shifted(stores: dict) -> dict:
    other = dict(stores)
    other["C"] = stores["C"].assign_coords(time=stores["C"]["time"] + 1)
    return other


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"measures": ["procrustes"]}, r"unknown similarity measure 'procrustes'; valid: \["),
        ({"measures": ["svcca", "cka_linear"]}, r"cka_linear is a CKA measure: use the cka"),
        ({"measures": []}, "measures is empty"),
        ({"pairs": [("A", "Z")]}, r"pairs name stores \['Z'\] that were not given"),
        ({"pairs": []}, "pairs is empty"),
        ({"stores": "shifted"}, "do not cover the same time points"),
        ({"label": "speed"}, r"label 'speed' is not in activation store A .*'direction', 'pos"),
        ({"split": "valid"}, r"split must be one of \['train', 'test', 'all'\], got 'valid'"),
        ({"k": 80}, "k=80 must be smaller than the number of rows"),
        ({"k": 1}, "k must be an integer >= 2"),
        ({"variance_fraction": 1.5}, r"variance_fraction must be a number in \(0, 1\]"),
        ({"n_folds": 200}, "n_folds=200 exceeds the number of time points"),
        ({"label": "position", "n_bins": 1}, "n_bins must be an integer >= 2"),
        (
            {"label": "position", "stores": "ramp"},
            r"conditions of label .position. in activation store A .*fewer than 2",
        ),
        ({"label": "direction", "n_bins": 2, "stores": "two_directions"}, "at least 3"),
        ({"shrinkage": "oas"}, "shrinkage must be one of"),
        ({"chunk_size": 0}, "chunk_size must be an integer >= 1"),
    ],
)
def test_bad_input_is_refused_before_heavy_work(stores, no_heavy_work, kwargs, match):
    kwargs = dict(kwargs)
    pairs = kwargs.pop("pairs", [("A", "B"), ("A", "C")])
    chosen = kwargs.pop("stores", None)
    given = stores
    if chosen == "shifted":
        given = _shifted(stores)
    elif chosen == "ramp":  # the position crosses each bin once: one fold per condition
        ramp = np.linspace(0.0, 1.0, T)
        given = {n: s.assign_coords(label_position=("time", ramp)) for n, s in stores.items()}
    elif chosen == "two_directions":
        given = {
            n: s.assign_coords(
                label_direction=s["label_direction"].where(s["label_direction"] < 2, 0)
            )
            for n, s in stores.items()
        }
    options = {"max_samples": 80, **kwargs}
    with pytest.raises(ValueError, match=match):
        similarity_rows_for_pairs(given, pairs, **options)


def test_different_conditions_in_a_pair_are_refused(stores, no_heavy_work):
    other = dict(stores)
    flipped = 1.0 - stores["B"]["label_position"]
    other["B"] = stores["B"].assign_coords(label_position=flipped)
    with pytest.raises(ValueError, match="different crossnobis conditions"):
        similarity_rows_for_pairs(
            other, [("A", "B")], measures=["crossnobis_corr_cov"], label="position"
        )


def test_bootstrap_intervals_equal_percentiles_of_the_measure_on_the_drawn_rows(stores):
    """Shape (fitted on the training rows, the drawn test rows scored) and SVCCA on the drawn
    test rows, replicate by replicate: the row's interval is their percentile interval."""
    boot = {"n_resamples": 15, "block_length": 12, "seed": 2, "confidence": 0.8}
    rows = similarity_rows_for_pairs(
        stores,
        [("A", "B"), ("A", "A")],
        measures=["procrustes_angular", "svcca", "mutual_knn"],
        bootstrap=boot,
        max_samples=80,
        k=5,
    )
    edges, draws, _ = block_draws(T - N_TRAIN, BootstrapOptions(**boot))
    x_all = stores["A"]["layer_01"].values
    y_all = stores["B"]["layer_00"].values
    x_tr, y_tr, x_te, y_te = x_all[:N_TRAIN], y_all[:N_TRAIN], x_all[N_TRAIN:], y_all[N_TRAIN:]
    replicate_rows = [block_rows(edges, ids) for ids in draws]
    brute = {
        "procrustes_angular": [
            shape.shape_distance(x_tr, y_tr, x_te[r], y_te[r], alpha=1.0) for r in replicate_rows
        ],
        "svcca": [svcca(x_te[r], y_te[r]) for r in replicate_rows],
    }
    pick = (rows["model"] == "A") & (rows["other_model"] == "B")
    pick &= (rows["layer"] == 1) & (rows["other_layer"] == 0)
    for name, values in brute.items():
        row = rows[pick & (rows["variant"] == name)].iloc[0]
        low, high = percentile_interval(np.array(values), 0.8)
        assert float(row["ci_low"]) == pytest.approx(low, abs=1e-8)
        assert float(row["ci_high"]) == pytest.approx(high, abs=1e-8)
    shape_and_cca = rows[rows["variant"].isin(["procrustes_angular", "svcca"])]
    assert shape_and_cca[["ci_low", "ci_high"]].notna().all().all()
    # neighbourhood rows carry no interval; the point estimates do not change with it
    assert rows.loc[rows["variant"] == "mutual_knn", ["ci_low", "ci_high"]].isna().all().all()
    plain = similarity_rows_for_pairs(
        stores,
        [("A", "B"), ("A", "A")],
        measures=["procrustes_angular", "svcca", "mutual_knn"],
        max_samples=80,
        k=5,
    )
    np.testing.assert_array_equal(plain["value"], rows["value"])
