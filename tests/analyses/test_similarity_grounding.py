"""Grounding of the similarity measures on rows with a known answer: layer identification,
label randomisation, the Wilson interval, MDS and clustering of the model space."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.cluster.hierarchy import linkage
from scipy.spatial.distance import pdist, squareform

from cebra_lens_core.analyses.similarity_grounding import (
    best_match,
    classical_mds,
    grounding_rows,
    label_randomisation_rows,
    layer_identification_rows,
    measure_matrices,
    model_space,
    wilson_interval,
)
from cebra_lens_core.results import COLUMNS, make_rows

NAMES = ("conv_in", "block_1", "conv_out", "norm")
FAMILY = {"procrustes_angular": "shape", "svcca": "cca", "pwcca": "cca", "cknna": "neighbourhood"}


def sheet(extra: list[dict] | None = None) -> pd.DataFrame:
    """Two trained seed groups (g: seeds 0, 1, 2; h: seeds 0, 1) and a control of g."""
    base = dict(dataset="d", session="", architecture="arch", conditional="behavior")
    rows = [
        dict(store="g0", group="g", seed_group="g", seed=0, kind="trained", labels=["x"]),
        dict(store="g1", group="g", seed_group="g", seed=1, kind="trained", labels=["x"]),
        dict(store="g2", group="g", seed_group="g", seed=2, kind="trained", labels=["x"]),
        dict(store="h0", group="h", seed_group="h", seed=0, kind="trained", labels=None),
        dict(store="h1", group="h", seed_group="h", seed=1, kind="trained", labels=None),
        dict(store="c", group="c", seed_group="c", seed=0, kind="control", labels=["x"]),
    ]
    rows[3]["conditional"] = rows[4]["conditional"] = "time"
    return pd.DataFrame([{**base, **r} for r in rows + (extra or [])])


def matrix_rows(measure: str, a: str, b: str, values: np.ndarray) -> list[dict]:
    """Rows of one layer × layer matrix as the similarity (or CKA) analysis writes them."""
    if measure.startswith("cka_"):
        analysis, metric, variant = "cka", "cka", measure[4:]
    else:
        analysis = FAMILY[measure]
        metric = "distance" if measure == "procrustes_angular" else "similarity"
        variant = measure
    return [
        {
            "analysis": analysis,
            "dataset": "d",
            "model": a,
            "layer": i,
            "layer_name": NAMES[i] if len(values) == len(NAMES) else f"l{i}",
            "other_model": b,
            "other_layer": j,
            "metric": metric,
            "variant": variant,
            "value": float(values[i, j]),
        }
        for i in range(values.shape[0])
        for j in range(values.shape[1])
    ]


def frame(*parts: list[dict]) -> pd.DataFrame:
    return make_rows([r for part in parts for r in part])


DIAGONAL = np.eye(4) * 0.5 + 0.4  # similarity: the same layer is best (0.9 vs 0.4)
REVERSED = np.fliplr(DIAGONAL)  # layer i best matches layer 3 - i, never i for L = 4


# --------------------------------------------------------------------------- Wilson


def test_wilson_interval_matches_the_formula_at_8_of_10():
    z = 1.959963984540054
    p, n = 0.8, 10
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    low, high = wilson_interval(8, 10)
    assert (low, high) == pytest.approx((centre - half, centre + half), abs=1e-15)
    assert (low, high) == pytest.approx((0.4902, 0.9433), abs=1e-4)  # published value


def test_wilson_interval_edges():
    assert all(math.isnan(v) for v in wilson_interval(0, 0))
    low, high = wilson_interval(10, 10)
    assert high == pytest.approx(1.0) and 0.69 < low < 0.73
    assert wilson_interval(0, 10)[0] == pytest.approx(0.0)


# --------------------------------------------------------------------------- matrices


def test_matrices_add_the_transpose_of_symmetric_measures_only():
    rng = np.random.default_rng(0)
    sym, asym = rng.random((4, 4)), rng.random((4, 4))
    rows = frame(matrix_rows("svcca", "g0", "g1", sym), matrix_rows("pwcca", "g0", "g1", asym))
    m = measure_matrices(rows)
    np.testing.assert_array_equal(m[("svcca", "g0", "g1")], sym)
    np.testing.assert_array_equal(m[("svcca", "g1", "g0")], sym.T)
    np.testing.assert_array_equal(m[("pwcca", "g0", "g1")], asym)
    assert ("pwcca", "g1", "g0") not in m


def test_matrices_read_cka_values_and_ignore_its_other_metrics():
    rows = matrix_rows("cka_linear", "g0", "g1", DIAGONAL)
    noise = [{**r, "metric": "p_value", "value": 0.5} for r in rows]
    m = measure_matrices(frame(rows, noise))
    assert set(m) == {("cka_linear", "g0", "g1"), ("cka_linear", "g1", "g0")}
    np.testing.assert_array_equal(m[("cka_linear", "g0", "g1")], DIAGONAL)


def test_matrices_reject_duplicate_values():
    rows = matrix_rows("svcca", "g0", "g1", DIAGONAL)
    with pytest.raises(ValueError, match="several rows for measure svcca"):
        measure_matrices(frame(rows, rows[:1]))


def test_best_match_nan_never_wins_and_ties_fail():
    assert best_match(np.array([0.1, np.nan, 0.3]), True) == 2
    assert best_match(np.array([0.1, np.nan, 0.3]), False) == 0
    assert best_match(np.array([0.3, 0.1, 0.3]), True) is None
    assert best_match(np.array([np.nan, np.nan]), True) is None


# --------------------------------------------------------------------------- layer identification


def accuracy(table: pd.DataFrame, measure: str, model: str = "") -> pd.Series:
    sel = table[
        (table["metric"] == "layer_identification_accuracy")
        & (table["variant"] == measure)
        & (table["model"] == model)
    ]
    assert len(sel) == 1
    return sel.iloc[0]


def test_diagonal_best_gives_accuracy_one_and_reversed_zero():
    rows = frame(
        matrix_rows("svcca", "g0", "g1", DIAGONAL),
        matrix_rows("cka_linear", "g0", "g1", REVERSED),
    )
    table = layer_identification_rows(rows, sheet())
    best = accuracy(table, "svcca")
    assert best["value"] == 1.0 and best["n"] == 8  # 2 directions × 4 layers
    assert (best["ci_low"], best["ci_high"]) == pytest.approx(wilson_interval(8, 8))
    assert best["label"] == "cca" and best["analysis"] == "similarity_grounding"
    assert accuracy(table, "cka_linear")["value"] == 0.0
    assert accuracy(table, "cka_linear")["label"] == "cka"
    assert accuracy(table, "svcca", "g")["value"] == 1.0  # the one seed group
    chance = table[table["metric"] == "layer_identification_chance"]
    assert set(chance["value"]) == {0.25}


def test_distances_are_identified_by_their_minimum():
    distances = 1.0 - DIAGONAL  # the same layer is closest
    table = layer_identification_rows(
        frame(matrix_rows("procrustes_angular", "g0", "g1", distances)), sheet()
    )
    assert accuracy(table, "procrustes_angular")["value"] == 1.0
    # the same numbers read as a similarity pick the farthest layer: never right
    as_similarity = frame(matrix_rows("svcca", "g0", "g1", distances))
    assert accuracy(layer_identification_rows(as_similarity, sheet()), "svcca")["value"] == 0.0


def test_nan_and_ties_count_as_failures():
    values = DIAGONAL.copy()
    values[0, 0] = np.nan  # layer 0 cannot be identified (and NaN never wins)
    values[1, 2] = values[1, 1]  # layer 1 ties
    table = layer_identification_rows(frame(matrix_rows("svcca", "g0", "g1", values)), sheet())
    row = accuracy(table, "svcca")
    # g0 -> g1 (rows): layer 0 ties among the 0.4s (NaN never wins), layer 1 ties, 2 and 3
    # correct; g1 -> g0 (columns): layer 0 ties, layer 2 ties (0.9 at rows 1 and 2), 1 and 3
    # correct
    assert row["n"] == 8 and row["value"] == pytest.approx(4 / 8)


def test_asymmetric_measures_use_the_rows_order_only():
    table = layer_identification_rows(frame(matrix_rows("pwcca", "g0", "g1", DIAGONAL)), sheet())
    assert accuracy(table, "pwcca")["n"] == 4


def test_groups_are_pooled_and_reported_apart():
    rows = frame(
        matrix_rows("svcca", "g0", "g1", DIAGONAL),
        matrix_rows("svcca", "h0", "h1", REVERSED),
        matrix_rows("svcca", "g0", "h0", DIAGONAL),  # across groups: not a test
        matrix_rows("svcca", "g0", "g0", DIAGONAL),  # within a model: not a test
    )
    table = layer_identification_rows(rows, sheet())
    assert accuracy(table, "svcca")["value"] == 0.5 and accuracy(table, "svcca")["n"] == 16
    assert accuracy(table, "svcca", "g")["value"] == 1.0
    assert accuracy(table, "svcca", "h")["value"] == 0.0


def test_a_store_missing_from_the_sheet_is_named():
    rows = frame(matrix_rows("svcca", "g0", "stranger", DIAGONAL))
    with pytest.raises(ValueError, match="stranger"):
        layer_identification_rows(rows, sheet())
    with pytest.raises(ValueError, match="stranger"):
        label_randomisation_rows(rows, sheet())


def test_no_pairs_no_rows():
    table = layer_identification_rows(frame(matrix_rows("svcca", "g0", "h0", DIAGONAL)), sheet())
    assert table.empty and list(table.columns) == list(COLUMNS)


# --------------------------------------------------------------------------- label randomisation


def randomisation_rows(measure: str, trained: float, control: float) -> pd.DataFrame:
    """Reference g0; seeds g1, g2 at ``trained`` and the control at ``control`` on the
    corresponding (same-name) layers; layer 3 of g2 is worse than the control."""
    t = np.full((4, 4), np.nan)
    np.fill_diagonal(t, trained)
    t2 = t.copy()
    t2[3, 3] = control - (trained - control)  # the wrong side of the control
    c = np.full((4, 4), np.nan)
    np.fill_diagonal(c, control)
    return frame(
        matrix_rows(measure, "g0", "g1", t),
        matrix_rows(measure, "g2", "g0", t2.T),  # the other order: read as reference first
        matrix_rows(measure, "c", "g0", c),
    )


def pick(table: pd.DataFrame, metric: str, model: str) -> pd.Series:
    sel = table[(table["metric"] == metric) & (table["model"] == model)]
    assert len(sel) == 1
    return sel.iloc[0]


@pytest.mark.parametrize(
    ("measure", "trained", "control"), [("svcca", 0.9, 0.5), ("procrustes_angular", 0.2, 0.6)]
)
def test_label_randomisation_pass_fraction_and_margin(measure, trained, control):
    table = label_randomisation_rows(randomisation_rows(measure, trained, control), sheet())
    row = pick(table, "label_randomisation_pass", "c")
    assert row["other_model"] == "g0" and row["variant"] == measure
    assert row["n"] == 8 and row["value"] == pytest.approx(7 / 8)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(wilson_interval(7, 8))
    margin = pick(table, "label_randomisation_margin", "c")
    gap = abs(trained - control)
    assert margin["value"] == pytest.approx((7 * gap - gap) / 8) and margin["n"] == 8
    pooled = pick(table, "label_randomisation_pass", "")
    assert pooled["value"] == row["value"] and pooled["other_model"] == ""
    assert set(table["label"]) == {FAMILY[measure]}


def test_asymmetric_values_are_read_with_the_reference_first():
    forward = np.full((4, 4), 0.1)  # g1 as first store: worse than the control
    backward = np.full((4, 4), 0.9)  # reference g0 as first store: better
    c = np.full((4, 4), 0.5)
    rows = frame(
        matrix_rows("pwcca", "g1", "g0", forward),
        matrix_rows("pwcca", "g0", "g1", backward),
        matrix_rows("pwcca", "g0", "c", c),
    )
    table = label_randomisation_rows(rows, sheet())
    row = pick(table, "label_randomisation_pass", "c")
    assert row["value"] == 1.0 and row["n"] == 4  # g1 only: g2 has no pwcca rows, skipped


def test_control_without_counterpart_gives_no_rows():
    other = sheet()
    other.loc[other["store"] == "c", "architecture"] = "other-arch"
    table = label_randomisation_rows(randomisation_rows("svcca", 0.9, 0.5), other)
    assert table.empty


def test_grounding_rows_concatenate_both_tests():
    rows = pd.concat(
        [
            randomisation_rows("svcca", 0.9, 0.5),
            frame(matrix_rows("cka_linear", "g0", "g1", DIAGONAL)),
        ]
    )
    table = grounding_rows(rows, sheet())
    assert list(table.columns) == list(COLUMNS)
    assert set(table["metric"]) == {
        "layer_identification_accuracy",
        "layer_identification_chance",
        "label_randomisation_pass",
        "label_randomisation_margin",
    }
    assert set(table["analysis"]) == {"similarity_grounding"}
    pd.testing.assert_frame_equal(
        table,
        pd.concat(
            [layer_identification_rows(rows, sheet()), label_randomisation_rows(rows, sheet())],
            ignore_index=True,
        ),
    )


# --------------------------------------------------------------------------- model space


POINTS = np.array([[0.0, 0.0], [1.0, 0.2], [0.3, 1.5], [2.0, 1.0], [-1.0, 0.5]])
STORES = ("g0", "g1", "g2", "h0", "h1")


def space_rows(points: np.ndarray = POINTS, skip: tuple[str, str] | None = None) -> pd.DataFrame:
    """procrustes_angular between the embeddings (last of 4 layers) = Euclidean distances of
    ``points``; layer ``block_1`` at twice those; one order per pair, as the workflow."""
    d = squareform(pdist(points))
    parts = []
    for p, a in enumerate(STORES):
        for q, b in enumerate(STORES):
            if q < p or (a, b) == skip:
                continue
            m = np.full((4, 4), 9.0)
            m[3, 3] = d[p, q]
            m[1, 1] = 2 * d[p, q]
            parts.append(matrix_rows("procrustes_angular", a, b, m))
    return frame(*parts)


def test_mds_recovers_a_planar_point_cloud():
    coords, explained = classical_mds(squareform(pdist(POINTS)))
    np.testing.assert_allclose(pdist(coords), pdist(POINTS), atol=1e-10)
    assert explained == pytest.approx(1.0, abs=1e-12)
    top = np.argmax(np.abs(coords), axis=0)
    assert (coords[top, [0, 1]] > 0).all()  # sign convention


def test_model_space_arrays():
    arrays = model_space(space_rows(), sheet())
    assert list(arrays["layers"]) == ["conv_in", "block_1", "conv_out", "norm", "embedding"]
    assert list(arrays["stores"]) == sorted(STORES)
    assert list(arrays["groups"]) == ["g", "g", "g", "h", "h"]
    assert (
        list(arrays["kinds"]) == ["trained"] * 5 and str(arrays["measure"]) == "procrustes_angular"
    )
    d = squareform(pdist(POINTS))
    np.testing.assert_allclose(arrays["embedding__distances"], d, atol=1e-12)
    np.testing.assert_allclose(arrays["block_1__distances"], 2 * d, atol=1e-12)
    np.testing.assert_allclose(pdist(arrays["embedding__mds"]), pdist(POINTS), atol=1e-10)
    assert float(arrays["embedding__mds_explained"]) == pytest.approx(1.0)
    np.testing.assert_array_equal(
        arrays["embedding__linkage"], linkage(squareform(d, checks=False), method="average")
    )
    assert arrays["stores"].dtype.kind == "U" and arrays["layers"].dtype.kind == "U"
    again = model_space(space_rows(), sheet())
    assert all(np.array_equal(arrays[k], again[k]) for k in arrays)


def test_model_space_drops_stores_with_missing_pairs(caplog):
    arrays = model_space(space_rows(skip=("g1", "h0")), sheet())
    kept = list(arrays["embedding__stores"])
    assert len(kept) == 4 and ("g1" in kept) != ("h0" in kept)
    assert not np.isnan(arrays["embedding__distances"]).any()
    assert "dropped" in caplog.text


def test_model_space_rejects_similarities_and_absent_measures():
    with pytest.raises(ValueError, match="distance measure"):
        model_space(space_rows(), sheet(), measure="svcca")
    with pytest.raises(ValueError, match="cca_angular.*procrustes_angular"):
        model_space(space_rows(), sheet(), measure="cca_angular")
    with pytest.raises(ValueError, match="h1"):
        model_space(space_rows(), sheet()[lambda s: s["store"] != "h1"])


def test_model_space_sets_rounding_negatives_to_zero(caplog):
    rows = space_rows()
    tiny = (rows["model"] == "g0") & (rows["other_model"] == "g1") & (rows["layer"] == 3)
    rows.loc[tiny & (rows["other_layer"] == 3), "value"] = -1e-15
    arrays = model_space(rows, sheet())
    assert arrays["embedding__distances"].min() == 0.0
    assert "negative distances" in caplog.text
