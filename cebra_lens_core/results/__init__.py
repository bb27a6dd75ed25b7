"""What the pipeline writes: the results table ``summary.csv`` (:mod:`.table`, the
contract), the model sheet ``models.tsv`` (:mod:`.models`) and the analyses' arrays
(:mod:`.arrays`)."""

from cebra_lens_core.results.arrays import load_arrays, save_arrays
from cebra_lens_core.results.models import (
    MODEL_SHEET_COLUMNS,
    SWEEP_SETTINGS,
    join_model_sheet,
    read_model_sheet,
    write_model_sheet,
)
from cebra_lens_core.results.table import (
    COLUMNS,
    FLOAT_COLUMNS,
    INTEGER_COLUMNS,
    TEXT_COLUMNS,
    combine,
    load_summary,
    make_rows,
    normalize,
    read_rows,
    write_rows,
)

__all__ = [
    "COLUMNS",
    "FLOAT_COLUMNS",
    "INTEGER_COLUMNS",
    "MODEL_SHEET_COLUMNS",
    "SWEEP_SETTINGS",
    "TEXT_COLUMNS",
    "combine",
    "join_model_sheet",
    "load_arrays",
    "load_summary",
    "make_rows",
    "normalize",
    "read_model_sheet",
    "read_rows",
    "save_arrays",
    "write_model_sheet",
    "write_rows",
]
