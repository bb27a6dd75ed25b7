"""The results-table contract: columns, dtypes, empty strings, round trip, stable order."""

from __future__ import annotations

import pandas as pd
import pytest

from cebra_lens_core.results import COLUMNS, combine, load_summary, make_rows, write_rows


def test_columns_contract():
    assert COLUMNS == (
        "analysis",
        "dataset",
        "model",
        "layer",
        "layer_name",
        "other_model",
        "other_layer",
        "metric",
        "label",
        "variant",
        "value",
        "ci_low",
        "ci_high",
        "n",
        "unit",  # added at the end (issue 14): nothing before it moves
    )


def test_round_trip_with_empty_fields(tmp_path):
    rows = make_rows(
        [
            {
                "analysis": "cka",
                "model": "a",
                "layer": 0,
                "other_model": "b",
                "other_layer": 2,
                "metric": "cka",
                "variant": "linear",
                "value": 0.5,
                "n": 10,
            },
            {
                "analysis": "decoding",
                "model": "a",
                "layer": 1,
                "metric": "r2",
                "label": "position",
                "value": -0.25,
            },
            {
                "analysis": "decoding",
                "model": "a",
                "layer": 1,
                "metric": "median_abs_error",
                "label": "position",
                "value": 0.125,
                "unit": "m",
            },
        ]
    )
    write_rows(rows, tmp_path / "r.csv")
    text = (tmp_path / "r.csv").read_text().splitlines()
    assert text[0] == ",".join(COLUMNS)
    assert text[2] == "decoding,,a,1,,,,r2,position,,-0.25,,,,"
    assert text[3] == "decoding,,a,1,,,,median_abs_error,position,,0.125,,,,m"
    back = load_summary(tmp_path / "r.csv")
    assert back["layer"].tolist() == [0, 1, 1] and pd.isna(back["other_layer"].iloc[1])
    assert back["label"].tolist() == ["", "position", "position"]
    assert back["unit"].tolist() == ["", "", "m"]
    pd.testing.assert_frame_equal(back, rows)


def test_unknown_column_rejected():
    with pytest.raises(ValueError, match="unknown results columns"):
        make_rows([{"analysis": "cka", "score": 1}])


def test_combine_sorted(tmp_path):
    write_rows(
        make_rows([{"analysis": "cka", "model": "b", "layer": 1, "value": 1}]), tmp_path / "1.csv"
    )
    write_rows(
        make_rows([{"analysis": "cka", "model": "a", "layer": 0, "value": 2}]), tmp_path / "2.csv"
    )
    assert combine([tmp_path / "1.csv", tmp_path / "2.csv"])["model"].tolist() == ["a", "b"]


def test_missing_file():
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        load_summary("nope.csv")


def _sheet_rows():
    return [
        {
            "store": "beh_seed0",
            "model": "beh_seed0",
            "group": "beh",
            "seed_group": "beh",
            "seed": 0,
            "kind": "trained",
            "method": "cebra",
            "dataset": "hippo",
            "labels": ["position", "direction"],
            "varied": {"output_dimension": 3},
            "temperature": 1.0,
        },
        {
            "store": "within_a",  # a name that looks like a seed of `within`: never parsed
            "model": "within_a",
            "group": "within_a",
            "seed_group": "within_a",
            "seed": -1,
            "kind": "loaded",
            "method": "cebra",
            "dataset": "hippo",
            "source_file": "models/within_a.pt",
            "session": 1,
            "model_session": 0,
        },
    ]


def test_model_sheet_round_trip(tmp_path):
    from cebra_lens_core.results import (
        MODEL_SHEET_COLUMNS,
        read_model_sheet,
        write_model_sheet,
    )

    path = write_model_sheet(_sheet_rows(), tmp_path / "models.tsv")
    header = path.read_text().splitlines()[0].split("\t")
    assert tuple(header) == MODEL_SHEET_COLUMNS
    sheet = read_model_sheet(path)
    assert sheet["store"].tolist() == ["beh_seed0", "within_a"]
    assert sheet["seed"].tolist() == [0, -1]
    assert sheet["labels"].tolist() == [["position", "direction"], None]
    assert sheet["varied"].tolist()[0] == {"output_dimension": 3}
    assert pd.isna(sheet["session"][0]) and sheet["session"][1] == 1
    assert sheet["source_file"].tolist() == ["", "models/within_a.pt"]
    with pytest.raises(ValueError, match="unknown model sheet columns"):
        write_model_sheet([{"store": "x", "colour": "red"}], tmp_path / "bad.tsv")


def test_join_model_sheet_adds_group_seed_and_kind(tmp_path):
    from cebra_lens_core.results import join_model_sheet, read_model_sheet, write_model_sheet

    sheet = read_model_sheet(write_model_sheet(_sheet_rows(), tmp_path / "models.tsv"))
    summary = make_rows(
        [
            {"analysis": "rdm", "model": "beh_seed0", "metric": "oracle_similarity"},
            {"analysis": "rdm", "model": "beh", "metric": "noise_ceiling_low"},  # a seed group
            {"analysis": "rdm", "model": "within_a", "metric": "oracle_similarity"},
            {"analysis": "rdm", "model": "elsewhere", "metric": "oracle_similarity"},
        ]
    )
    joined = join_model_sheet(summary, sheet)
    assert joined["group"].tolist() == ["beh", "beh", "within_a", "elsewhere"]
    assert joined["seed"].tolist()[0] == 0 and joined["seed"].tolist()[2] == -1
    assert pd.isna(joined["seed"][1]) and pd.isna(joined["seed"][3])
    assert joined["kind"].tolist() == ["trained", "", "loaded", ""]
    assert join_model_sheet(summary, None)["group"].tolist() == summary["model"].tolist()


def test_a_results_file_cut_short_is_detected(tmp_path):
    from cebra_lens_core.results import read_rows, write_rows

    path = tmp_path / "rows.csv"
    rows = make_rows(
        [
            {"analysis": "cka", "dataset": "d", "model": "m", "metric": "cka", "value": 0.123456}
            for _ in range(50)
        ]
    )
    write_rows(rows, path)
    assert read_rows(path)["value"].tolist() == [0.123456] * 50
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 7])  # a copy cut short: pandas would read 0.12 silently
    with pytest.raises(ValueError, match=r"rows.csv is damaged.*Delete it and rerun"):
        read_rows(path)
