"""The tidy results table (``results/summary.csv``).

One row per measured value. Columns (contract, in this order)::

    analysis, dataset, model, layer, layer_name, other_model, other_layer,
    metric, label, variant, value, ci_low, ci_high, n, unit

``layer`` is the integer position of the captured layer (0 = first, last =
embedding). ``unit`` is the unit of ``value`` where it has one (a decoding error in the
label's unit, e.g. ``m``); ``""`` for unitless values (R², CKA, accuracy ...). Columns that do not apply hold the empty string in the CSV (and
``NaN``/``""`` in pandas after :func:`load_summary`).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from cebra_lens_core.atomic import atomic_path
from cebra_lens_core.provenance import current_record, sidecar_path, write_sidecar

COLUMNS: tuple[str, ...] = (
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
    "unit",
)
TEXT_COLUMNS = (
    "analysis",
    "dataset",
    "model",
    "layer_name",
    "other_model",
    "metric",
    "label",
    "variant",
    "unit",
)
INTEGER_COLUMNS = ("layer", "other_layer", "n")
FLOAT_COLUMNS = ("value", "ci_low", "ci_high")


def make_rows(rows: Iterable[Mapping]) -> pd.DataFrame:
    """Build a results frame from row dicts, filling absent columns with empty values.

    Raises:
        ValueError: if a row has a key that is not a results column.
    """
    rows = list(rows)
    for r in rows:
        extra = set(r) - set(COLUMNS)
        if extra:
            raise ValueError(f"unknown results columns {sorted(extra)}; valid: {list(COLUMNS)}")
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    return normalize(frame)


def normalize(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with contract columns in order and consistent dtypes.

    Text columns are strings ("" where empty), integer columns nullable ``Int64``,
    value columns float64.
    """
    missing = [c for c in COLUMNS if c not in frame.columns]
    extra = [c for c in frame.columns if c not in COLUMNS]
    if extra:
        raise ValueError(f"unknown results columns {extra}; valid: {list(COLUMNS)}")
    frame = frame.copy()
    for c in missing:
        frame[c] = np.nan
    for c in TEXT_COLUMNS:
        frame[c] = frame[c].astype(object).where(frame[c].notna(), "").astype(str)
    for c in INTEGER_COLUMNS:
        frame[c] = pd.to_numeric(frame[c].replace("", np.nan), errors="raise").astype("Int64")
    for c in FLOAT_COLUMNS:
        frame[c] = pd.to_numeric(frame[c].replace("", np.nan), errors="raise").astype("float64")
    return frame[list(COLUMNS)].reset_index(drop=True)


def write_rows(frame: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write a results frame as CSV atomically (empty string for missing values).

    The provenance record (versions, config hash) goes to ``<path>.provenance.json``, with
    the CSV's row count and SHA-256, so that :func:`read_rows` detects a file damaged after
    it was written (cut short, edited, a broken copy).
    """
    frame = normalize(frame)
    data = frame.to_csv(index=False, na_rep="", float_format="%.10g").encode()
    write_sidecar(path, {**current_record(), "rows": str(len(frame)), "sha256": sha256(data)})
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(data)
    return Path(path)


def sha256(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def check_intact(path: Path) -> None:
    """Raise if ``path`` differs from what :func:`write_rows` wrote (its sidecar's SHA-256);
    files without a recorded checksum (older runs, hand-made tables) are not checked."""
    side = sidecar_path(path)
    if not side.exists():
        return
    expected = json.loads(side.read_text()).get("sha256")
    if expected is None:
        return
    actual = sha256(path.read_bytes())
    if actual != expected:
        raise ValueError(
            f"results file {path} is damaged: its content differs from what was written "
            f"(SHA-256 {actual[:12]}… instead of {expected[:12]}…, recorded in {side.name}). "
            "Delete it and rerun: Snakemake rebuilds it."
        )


def read_rows(path: str | os.PathLike) -> pd.DataFrame:
    """Read one results CSV written by :func:`write_rows`."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"results file {path} does not exist")
    check_intact(path)
    frame = pd.read_csv(
        path,
        dtype={c: str for c in TEXT_COLUMNS},
        keep_default_na=False,
        na_values={c: [""] for c in INTEGER_COLUMNS + FLOAT_COLUMNS},
    )
    if tuple(frame.columns) != COLUMNS:
        raise ValueError(
            f"{path}: columns {list(frame.columns)} differ from the contract {list(COLUMNS)}"
        )
    return normalize(frame)


def combine(paths: Sequence[str | os.PathLike]) -> pd.DataFrame:
    """Concatenate several results CSVs, sorted for a stable, reproducible order."""
    frames = [read_rows(p) for p in paths]
    if not frames:
        return make_rows([])
    frame = pd.concat(frames, ignore_index=True)
    order = [
        "analysis",
        "dataset",
        "model",
        "other_model",
        "metric",
        "label",
        "variant",
        "layer",
        "other_layer",
    ]
    return frame.sort_values(order, kind="mergesort", na_position="first").reset_index(drop=True)


def load_summary(path: str | os.PathLike = "results/summary.csv") -> pd.DataFrame:
    """Load the tidy results table produced by the workflow (``results/summary.csv``)."""
    return read_rows(path)


# --------------------------------------------------------------------------- model sheet
