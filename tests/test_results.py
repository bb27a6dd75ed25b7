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
