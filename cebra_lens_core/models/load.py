"""Robust loading of saved CEBRA models.

``cebra.CEBRA.load`` unpickles with ``weights_only=False`` (arbitrary code can
run), rebuilds the model on the device it was saved on (a GPU checkpoint fails
on a CPU-only machine), and trips over files written by older CEBRA releases
that miss solver attributes. :func:`load_model` instead

1. reads the checkpoint dict itself with ``torch.load(map_location="cpu",
   weights_only=True)`` and CEBRA's allowlist of safe globals;
2. refuses anything that needs full unpickling unless ``trust=True``;
3. forces the device, fills attributes missing from old files, drops
   constructor arguments the installed CEBRA no longer knows;
4. only then rebuilds the estimator.
"""

from __future__ import annotations

import inspect
import os
import pickle
import warnings
from pathlib import Path
from typing import Any

import torch

from cebra_lens_core.models.errors import ModelFileError
from cebra_lens_core.models.xcebra import from_checkpoint as xcebra_from_checkpoint
from cebra_lens_core.models.xcebra import is_xcebra_checkpoint

#: solver state entries that old checkpoints may lack, with neutral defaults
_SOLVER_DEFAULTS: dict[str, Any] = {
    "loss": lambda: torch.tensor([]),
    "decode": lambda: [],
    "log": lambda: {},
    "criterion": lambda: {},
}


def _safe_globals() -> list:
    # deferred: cebra (imports torch), loaded only on this path
    from cebra.integrations.sklearn.cebra import CEBRA_LOAD_SAFE_GLOBALS

    return list(CEBRA_LOAD_SAFE_GLOBALS)


def read_checkpoint(path: str | os.PathLike, *, trust: bool = False) -> dict:
    """Read a CEBRA checkpoint file into its dict (``args``, ``state``, ``state_dict``).

    Args:
        path: a file written by ``cebra.CEBRA.save``.
        trust: allow full unpickling (arbitrary code execution) when the restricted
            ``weights_only`` loader refuses the file. Only for files you trust.

    Raises:
        FileNotFoundError: the file does not exist.
        ModelFileError: the file is truncated, not a torch file, not a CEBRA
            checkpoint, or needs full unpickling while ``trust`` is False.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file {path} does not exist")
    try:
        with torch.serialization.safe_globals(_safe_globals()):
            checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        if not trust:
            raise ModelFileError(
                f"refused to load {path}: it contains Python objects outside CEBRA's allowlist "
                "of safe types (e.g. a whole cebra.CEBRA object pickled with torch.save(model)), "
                "and unpickling them could execute arbitrary code. If you trust this file, set "
                "`trust_model_files: true` in the config (or pass trust=True). "
                f"{_RESAVE_HINT}. A checkpoint of CEBRA's PyTorch API (solver.state_dict(), e.g. "
                "a unified-session or multi-objective solver) lands here too; with trust=True it "
                f"is identified and refused with the reason. Detail: {str(err).splitlines()[0]}"
            ) from None
        checkpoint = _load_trusted(path)
    except Exception as err:  # noqa: BLE001 - torch raises many types for non-checkpoint bytes
        raise ModelFileError(
            f"could not read model file {path}: it is truncated, corrupt or not a PyTorch "
            f"checkpoint ({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''})"
        ) from None
    return _as_checkpoint_dict(checkpoint, path)


def _load_trusted(path: Path) -> Any:
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:  # noqa: BLE001 - any unpickling failure is a bad file here
        raise ModelFileError(f"could not unpickle model file {path}: {err}") from None


#: how to re-save a model so that the safe loader reads it
_RESAVE_HINT = (
    "Save models with `model.save(path)` (cebra.CEBRA.save, the default 'sklearn' backend), "
    "e.g. `cebra_lens_core.models.load_model(old, trust=True).save(new)` once, on a machine "
    "where you trust the file"
)


def _as_checkpoint_dict(checkpoint: Any, path: Path) -> dict:
    # deferred: cebra (imports torch), loaded only on this path
    import cebra

    if isinstance(checkpoint, cebra.CEBRA):  # `torch.save(model)` or CEBRA's "torch" backend
        checkpoint = _estimator_checkpoint(checkpoint, path)
    if is_xcebra_checkpoint(checkpoint):
        return checkpoint
    if isinstance(checkpoint, dict) and "model" in checkpoint and "n_features" in checkpoint:
        raise ModelFileError(solver_checkpoint_message(checkpoint, path))
    if not isinstance(checkpoint, dict):
        raise ModelFileError(
            f"{path} is not a CEBRA checkpoint: expected the dict written by CEBRA.save, "
            f"got {type(checkpoint).__name__}"
        )
    missing = [k for k in ("args", "state", "state_dict") if k not in checkpoint]
    if missing:
        raise ModelFileError(
            f"{path} is not a CEBRA checkpoint: keys {missing} are missing "
            f"(found {sorted(map(str, checkpoint))}); save models with cebra.CEBRA.save()"
        )
    return checkpoint


def solver_checkpoint_message(checkpoint: dict, path: str | os.PathLike) -> str:
    """Why a CEBRA PyTorch-API solver checkpoint (``solver.state_dict()`` / ``solver.save``)
    cannot be analysed, and what to do instead."""
    model_keys = [str(k) for k in checkpoint.get("model", {})]
    n_features = checkpoint.get("n_features")
    if "num_sessions" in checkpoint and not any(k.split(".")[0].isdigit() for k in model_keys):
        return (
            f"{path} is a CEBRA unified-session solver checkpoint (cebra.solver.UnifiedSolver: "
            f"one encoder over the {n_features} neurons of {checkpoint.get('num_sessions')} "
            "sessions side by side). It cannot be analysed here: the file does not record the "
            "architecture name and hidden units needed to rebuild the encoder, and the "
            "encoder's input for one session is assembled from every session's recording "
            "matched on labels (UnifiedSolver.transform), while extraction and attribution "
            "run one session's recording through its own encoder. Analyse a multi-session "
            "model instead (cebra.CEBRA fitted on a list of sessions: one encoder per session)"
        )
    if any(k.startswith("module.") for k in model_keys):
        return (
            f"{path} is a CEBRA multi-objective (xCEBRA) solver checkpoint "
            "(solver.state_dict()); it does not record the architecture name, hidden units or "
            "embedding parts needed to rebuild the encoder. Train xCEBRA with this workflow "
            "(`conditional: xcebra`), or convert the fitted solver once in Python: "
            "cebra_lens_core.models.xcebra.from_solver(solver, architecture=..., "
            "num_hidden_units=..., parts={'behavior': (0, k), 'time': (k, D)}).save(path)"
        )
    return (
        f"{path} is a CEBRA PyTorch-API solver checkpoint (solver.state_dict()), not a "
        f"cebra.CEBRA file; it does not record the architecture needed to rebuild the "
        f"encoder. {_RESAVE_HINT}"
    )


def _estimator_checkpoint(model: Any, path: Path) -> dict:
    """The ``CEBRA.save`` dict of a pickled ``cebra.CEBRA`` object, from whatever attributes the
    (possibly older) pickled object has; missing ones are filled by :func:`repair_checkpoint`."""
    state_keys = ("label_types_", "device_", "n_features_", "n_features_in_", "num_sessions_")
    state_keys += ("offset_", "solver_name_")
    solver = getattr(model, "solver_", None)
    if solver is None or not hasattr(solver, "model"):
        raise ModelFileError(
            f"{path} holds a pickled cebra.CEBRA object that was never fitted (no solver_); "
            f"nothing to analyse. {_RESAVE_HINT}"
        )
    try:
        args = model.get_params()
        solver_state = {"model": solver.model.state_dict()}
        for key in ("optimizer", "criterion"):
            part = getattr(solver, key, None)
            if part is not None:
                solver_state[key] = part.state_dict()
    except Exception as err:  # noqa: BLE001 - an object pickled by another CEBRA version
        raise ModelFileError(
            f"could not read the pickled cebra.CEBRA object in {path} "
            f"({type(err).__name__}: {err}). {_RESAVE_HINT}"
        ) from None
    for key in ("n_features", "num_sessions"):
        if hasattr(solver, key):
            solver_state[key] = getattr(solver, key)
    state = {key: model.__dict__[key] for key in state_keys if key in model.__dict__}
    return {"args": args, "state": state, "state_dict": solver_state}


def repair_checkpoint(checkpoint: dict, device: str = "cpu") -> dict:
    """Return a copy of ``checkpoint`` that the installed CEBRA can rebuild on ``device``.

    - sets ``args["device"]`` and ``state["device_"]`` to ``device``;
    - drops constructor arguments unknown to the installed ``cebra.CEBRA``;
    - fills ``n_features_in_`` / ``num_sessions_`` / solver ``n_features`` and
      history entries that files from older CEBRA releases lack.
    """
    # deferred: cebra (imports torch), loaded only on this path
    import cebra

    args = dict(checkpoint["args"])
    state = dict(checkpoint["state"])
    solver_state = dict(checkpoint["state_dict"])

    known = set(inspect.signature(cebra.CEBRA.__init__).parameters) - {"self"}
    unknown = sorted(set(args) - known)
    if unknown:
        warnings.warn(
            f"ignoring constructor arguments unknown to cebra {cebra.__version__}: {unknown}",
            stacklevel=3,
        )
        for k in unknown:
            args.pop(k)
    args["device"] = device
    state["device_"] = device

    if "n_features_" not in state:
        raise ModelFileError(
            "checkpoint state has no 'n_features_' (number of input neurons); cannot rebuild"
        )
    state.setdefault("n_features_in_", state["n_features_"])
    if "num_sessions_" not in state:
        state["num_sessions_"] = (
            len(state["n_features_"]) if isinstance(state["n_features_"], list) else None
        )
    state.setdefault("label_types_", None)
    solver_state.setdefault("n_features", state["n_features_"])
    if state["num_sessions_"] is not None:  # multi-session solvers check session ids with it
        solver_state.setdefault("num_sessions", state["num_sessions_"])
    for key, default in _SOLVER_DEFAULTS.items():
        solver_state.setdefault(key, default())
    return {**checkpoint, "args": args, "state": state, "state_dict": solver_state}


def load_model(path: str | os.PathLike, device: str = "cpu", *, trust: bool = False):
    """Load a fitted ``cebra.CEBRA`` model from ``path`` onto ``device``.

    Works for files saved on a GPU machine (tensors are mapped to ``device``), for
    files written by older CEBRA releases, and for multi-session models (each
    session's encoder is ``model.model_[session_id]``). xCEBRA files
    (:meth:`cebra_lens_core.models.xcebra.XCebraModel.save`) load as an
    :class:`~cebra_lens_core.models.xcebra.XCebraModel`; CEBRA PyTorch-API solver
    checkpoints (unified-session, multi-objective) are refused with a message saying why.

    Args:
        path: checkpoint written by ``cebra.CEBRA.save``.
        device: torch device to rebuild on (default ``"cpu"``).
        trust: permit full unpickling for files the restricted loader refuses.

    Raises:
        FileNotFoundError, ModelFileError: see :func:`read_checkpoint`.
    """
    # deferred: cebra (imports torch), loaded only on this path
    from cebra.integrations.sklearn.cebra import _load_cebra_with_sklearn_backend

    checkpoint = read_checkpoint(path, trust=trust)
    if is_xcebra_checkpoint(checkpoint):
        return xcebra_from_checkpoint(checkpoint, device=device, path=str(path))
    checkpoint = repair_checkpoint(checkpoint, device=device)
    try:
        model = _load_cebra_with_sklearn_backend(checkpoint)
    except (KeyError, RuntimeError, ValueError, TypeError) as err:
        raise ModelFileError(
            f"could not rebuild the CEBRA model stored in {path}: {type(err).__name__}: {err}"
        ) from None
    n_features = model.n_features_
    model.solver_.n_features = list(n_features) if isinstance(n_features, list) else n_features
    if model.num_sessions_ is not None:
        model.solver_.num_sessions = int(model.num_sessions_)
    model.model_.eval()
    return model


def checkpoint_input_widths(path: str | os.PathLike, *, trust: bool = False) -> list[int]:
    """Input neurons of each session's encoder, read from the checkpoint without rebuilding
    the model (cheap: used to check a config before any job runs).

    Returns ``[n]`` for a single-session model, ``[n_0, n_1, ...]`` for a multi-session one.

    Raises:
        FileNotFoundError, ModelFileError: see :func:`read_checkpoint`.
    """
    checkpoint = read_checkpoint(path, trust=trust)
    if is_xcebra_checkpoint(checkpoint):
        return [int(checkpoint["num_neurons"])]
    n_features = checkpoint["state"].get("n_features_")
    if n_features is None:
        raise ModelFileError(f"{path}: the checkpoint does not say how many neurons it takes")
    if isinstance(n_features, (list, tuple)):
        return [int(n) for n in n_features]
    return [int(n_features)]
