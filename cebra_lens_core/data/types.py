"""Container types shared by every dataset source.

A :class:`Dataset` holds one or more recording *sessions*. Each session is a
``time × neurons`` float32 array with one value per time point for every named
label, and a boolean ``train`` mask (the time-blocked train/test split).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

LabelKind = Literal["continuous", "discrete"]


class DataError(ValueError):
    """Raised when neural data or labels are malformed (shape, NaN, wrong length, ...)."""


@dataclass(frozen=True)
class LabelInfo:
    """Description of one behavioural / stimulus label.

    Attributes:
        kind: ``"continuous"`` (float values, e.g. position in m) or ``"discrete"``
            (integer codes, e.g. running direction).
        unit: physical unit of a continuous label (``"m"``, ``"rad"``, ``""``).
        categories: for a discrete label, the name of each integer code
            (``categories[code]``); empty when the codes are their own names.
    """

    kind: LabelKind
    unit: str = ""
    categories: tuple[str, ...] = ()


@dataclass
class Session:
    """One recording session.

    Attributes:
        neural: ``(T, N)`` float32 array, rows are time bins, columns neurons.
        labels: label name -> ``(T,)`` array (float64 for continuous, int64 for discrete).
        train: ``(T,)`` boolean mask, True for time points in the training split.
    """

    neural: np.ndarray
    labels: dict[str, np.ndarray]
    train: np.ndarray

    @property
    def n_timepoints(self) -> int:
        return int(self.neural.shape[0])

    @property
    def n_neurons(self) -> int:
        return int(self.neural.shape[1])


@dataclass
class Dataset:
    """A named collection of sessions sharing the same label names.

    Attributes:
        name: dataset identifier used in file names and the results table.
        sessions: one :class:`Session` per recording session.
        label_info: label name -> :class:`LabelInfo`.
        bin_width_s: duration of one time bin in seconds (``nan`` if unknown).
        metadata: free-form provenance (generator parameters, source file, ...).
    """

    name: str
    sessions: list[Session]
    label_info: dict[str, LabelInfo]
    bin_width_s: float = float("nan")
    metadata: dict = field(default_factory=dict)

    @property
    def label_names(self) -> list[str]:
        return list(self.label_info)

    @property
    def n_sessions(self) -> int:
        return len(self.sessions)

    def validate(self) -> Dataset:
        """Check shapes, dtypes and finiteness of every session; return ``self``.

        Raises:
            DataError: naming the session, array and what was expected.
        """
        if not self.sessions:
            raise DataError(f"dataset {self.name!r} has no sessions")
        for k, s in enumerate(self.sessions):
            where = f"dataset {self.name!r}, session {k}"
            validate_neural(s.neural, where=where)
            t = s.neural.shape[0]
            missing = set(self.label_info) - set(s.labels)
            if missing:
                raise DataError(f"{where}: labels {sorted(missing)} are missing")
            for name, values in s.labels.items():
                if name not in self.label_info:
                    raise DataError(f"{where}: label {name!r} has no LabelInfo")
                validate_label(values, name, t, self.label_info[name].kind, where=where)
            train = np.asarray(s.train)
            if train.dtype != bool or train.shape != (t,):
                raise DataError(
                    f"{where}: train mask must be a boolean array of shape ({t},), "
                    f"got dtype {train.dtype} and shape {train.shape}"
                )
            if train.all() or not train.any():
                raise DataError(
                    f"{where}: the train/test split leaves an empty "
                    f"{'test' if train.all() else 'training'} set"
                )
        return self


def validate_neural(neural: np.ndarray, *, where: str = "neural data") -> np.ndarray:
    """Check that ``neural`` is a finite 2-D ``(time, neurons)`` array.

    Raises:
        DataError: if it is not 2-D, is empty, or holds NaN/inf.
    """
    arr = np.asarray(neural)
    if arr.ndim != 2:
        raise DataError(f"{where}: neural data must be 2-D (time × neurons), got shape {arr.shape}")
    if arr.shape[0] < 2 or arr.shape[1] < 1:
        raise DataError(
            f"{where}: neural data needs at least 2 time points and 1 neuron, got shape {arr.shape}"
        )
    if not np.issubdtype(arr.dtype, np.number):
        raise DataError(f"{where}: neural data must be numeric, got dtype {arr.dtype}")
    if not np.issubdtype(arr.dtype, np.inexact):
        return arr  # integer counts are finite
    # min/max propagate NaN and reach ±inf: two passes without a T × N temporary
    if np.isfinite(arr.min()) and np.isfinite(arr.max()):
        return arr
    bad = ~np.isfinite(arr)
    if bad.any():
        t, n = np.argwhere(bad)[0]
        raise DataError(
            f"{where}: neural data holds {int(bad.sum())} NaN/inf values "
            f"(first at time {t}, neuron {n}); clean or impute them first"
        )
    return arr


def validate_label(
    values: np.ndarray, name: str, n_timepoints: int, kind: LabelKind, *, where: str = ""
) -> np.ndarray:
    """Check one label: 1-D, one value per time point, finite, integer codes if discrete.

    Raises:
        DataError: naming the label, the expected length and the problem.
    """
    prefix = f"{where}: label {name!r}" if where else f"label {name!r}"
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise DataError(
            f"{prefix} must be 1-D with one value per time point, got shape {arr.shape}"
        )
    if arr.shape[0] != n_timepoints:
        raise DataError(
            f"{prefix} has {arr.shape[0]} values but the neural data has {n_timepoints} time points"
        )
    if not np.issubdtype(arr.dtype, np.number) and arr.dtype != bool:
        raise DataError(f"{prefix} must be numeric, got dtype {arr.dtype}")
    if not np.isfinite(arr.astype(float)).all():
        raise DataError(f"{prefix} holds NaN/inf values")
    if kind == "discrete" and not np.issubdtype(arr.dtype, np.integer) and arr.dtype != bool:
        if not np.all(np.equal(np.mod(arr, 1), 0)):
            raise DataError(
                f"{prefix} is declared discrete but holds non-integer values "
                f"(e.g. {arr[np.mod(arr, 1) != 0][0]!r}); declare it continuous or give integer codes"
            )
    if kind not in ("continuous", "discrete"):
        raise DataError(f"{prefix}: kind must be 'continuous' or 'discrete', got {kind!r}")
    return arr


def blocked_split(n_timepoints: int, test_fraction: float) -> np.ndarray:
    """Time-blocked split: the last ``round(test_fraction * T)`` time points are the test set.

    Neighbouring time bins are strongly correlated, so random shuffling would leak
    the test set into training; a contiguous held-out block does not.

    Returns:
        ``(T,)`` boolean mask, True for training time points.

    Raises:
        DataError: if the fraction is outside (0, 1) or leaves an empty split.
    """
    if not 0.0 < float(test_fraction) < 1.0:
        raise DataError(f"test_fraction must be strictly between 0 and 1, got {test_fraction!r}")
    n_test = int(round(test_fraction * n_timepoints))
    if n_test < 1 or n_test >= n_timepoints:
        raise DataError(
            f"test_fraction={test_fraction} of {n_timepoints} time points gives "
            f"{n_test} test points; need at least 1 and fewer than {n_timepoints}"
        )
    train = np.ones(n_timepoints, dtype=bool)
    train[n_timepoints - n_test :] = False
    return train
