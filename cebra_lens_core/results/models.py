"""The model sheet ``results/models.tsv``: one row per activation store (what it is, its
group, seed, kind, dataset, session, source file and sweep settings), written at planning
time; figures and the report join it to ``summary.csv`` (:func:`join_model_sheet`) instead
of parsing names."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from cebra_lens_core.atomic import atomic_path
from cebra_lens_core.provenance import write_sidecar

#: model settings the sheet carries (what comparison figures sweep over)
SWEEP_SETTINGS: tuple[str, ...] = (
    "architecture",
    "output_dimension",
    "temperature",
    "temperature_mode",
    "conditional",
    "labels",
    "control",
    "max_iterations",
    "num_hidden_units",
    "regularizer_weight",
)
#: columns of ``results/models.tsv`` (one row per activation store), in this order
MODEL_SHEET_COLUMNS: tuple[str, ...] = (
    "store",
    "model",
    "group",
    "seed_group",
    "seed",
    "kind",
    "method",
    "dataset",
    "session",
    "model_session",
    "source_file",
    "sweep_base",
    "varied",
    *SWEEP_SETTINGS,
)
#: sheet columns holding JSON (a mapping or a list)
_JSON_COLUMNS = ("varied", "labels")
_SHEET_INTEGERS = (
    "seed",
    "session",
    "model_session",
    "output_dimension",
    "max_iterations",
    "num_hidden_units",
)


def write_model_sheet(rows: Sequence[Mapping], path: str | os.PathLike) -> Path:
    """Write the model sheet (tab-separated, atomically; empty cell = not applicable).

    ``rows``: one mapping per store with keys from :data:`MODEL_SHEET_COLUMNS`; ``varied``
    and ``labels`` are written as JSON.
    """
    extra = sorted({k for r in rows for k in r} - set(MODEL_SHEET_COLUMNS))
    if extra:
        raise ValueError(f"unknown model sheet columns {extra}; valid: {list(MODEL_SHEET_COLUMNS)}")
    records = []
    for r in rows:
        record = {}
        for c in MODEL_SHEET_COLUMNS:
            value = r.get(c)
            if c in _JSON_COLUMNS and value is not None:
                value = json.dumps(value, sort_keys=True)
            record[c] = "" if value is None else str(value)
            if any(ch in record[c] for ch in "\t\n\r"):
                raise ValueError(f"model sheet: {c} of {r.get('store')!r} holds a tab or newline")
        records.append(record)
    frame = pd.DataFrame(records, columns=list(MODEL_SHEET_COLUMNS))
    write_sidecar(path)
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, sep="\t", index=False, quoting=csv.QUOTE_NONE)
    return Path(path)


def read_model_sheet(path: str | os.PathLike = "results/models.tsv") -> pd.DataFrame:
    """The model sheet as written by :func:`write_model_sheet`: text columns as strings,
    ``seed``/``session``/... as nullable integers, ``varied``/``labels`` decoded from JSON.

    Raises:
        FileNotFoundError: no sheet at ``path``.
        ValueError: its columns differ from :data:`MODEL_SHEET_COLUMNS`.
    """
    frame = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, quoting=csv.QUOTE_NONE)
    if tuple(frame.columns) != MODEL_SHEET_COLUMNS:
        raise ValueError(
            f"{path}: columns {list(frame.columns)} differ from the model sheet "
            f"{list(MODEL_SHEET_COLUMNS)}"
        )
    for c in _SHEET_INTEGERS:
        frame[c] = pd.to_numeric(frame[c].replace("", None)).astype("Int64")
    for c in ("temperature", "regularizer_weight"):
        frame[c] = pd.to_numeric(frame[c].replace("", None))
    for c in _JSON_COLUMNS:
        frame[c] = frame[c].map(lambda v: json.loads(v) if v else None)
    return frame


def join_model_sheet(summary: pd.DataFrame, sheet: pd.DataFrame | None) -> pd.DataFrame:
    """``summary`` with the columns ``group``, ``seed`` and ``kind`` of each row's ``model``
    from the model sheet (matched on ``store``; a noise-ceiling row, whose ``model`` is a seed
    group, gets that group's ``group``). Rows of models not in the sheet get ``group`` =
    their model, no seed and an empty kind; ``sheet=None`` gives every row that."""
    if sheet is None:
        sheet = pd.DataFrame(columns=list(MODEL_SHEET_COLUMNS))
    # a store's own group wins over a seed-group key of the same name
    group = {
        **dict(zip(sheet["seed_group"], sheet["group"], strict=True)),
        **dict(zip(sheet["store"], sheet["group"], strict=True)),
    }
    seed = dict(zip(sheet["store"], sheet["seed"], strict=True))
    kind = dict(zip(sheet["store"], sheet["kind"], strict=True))
    out = summary.copy()
    models = out["model"].astype(str)
    out["group"] = [group.get(m, m) for m in models]
    out["seed"] = pd.array([seed.get(m) for m in models], dtype="Int64")
    out["kind"] = [kind.get(m, "") for m in models]
    return out
