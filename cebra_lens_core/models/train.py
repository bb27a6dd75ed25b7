"""Train CEBRA models from a config entry, deterministically.

CEBRA 0.6.1 seeds each sampling distribution from ``torch.Generator().seed()``,
i.e. from OS entropy, so two fits with the same ``torch.manual_seed`` differ.
:func:`seeded_cebra` makes training reproducible by giving every distribution a
seed derived from the config seed (``SeedSequence([seed, k])`` for the k-th
distribution created) and seeding torch and numpy.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from cebra_lens_core.atomic import atomic_path
from cebra_lens_core.data.types import Dataset
from cebra_lens_core.models.errors import TrainingError
from cebra_lens_core.models.layers import check_architecture_name
from cebra_lens_core.naming import XCEBRA_TRAINING_KEYS
from cebra_lens_core.provenance import write_sidecar

CONDITIONALS = ("time", "behavior", "hybrid", "xcebra")
CONTROLS = ("none", "shuffled_labels", "shuffled_time")


@dataclass
class TrainingSpec:
    """What to train (one config model entry after defaults are filled in).

    Attributes:
        architecture: a ``cebra.models.get_options()`` name.
        output_dimension: embedding dimension (>= 1).
        conditional: ``time`` (CEBRA-Time), ``behavior`` (CEBRA-Behavior on
            ``labels``), ``hybrid`` (both) or ``xcebra`` (a behaviour part on ``labels`` and
            a time part, :mod:`cebra_lens_core.models.xcebra`).
        labels: label names used by ``behavior`` / ``hybrid``.
        control: ``none``, or a control model: ``shuffled_labels`` (the training labels are
            permuted in time, so any structure CEBRA-Behavior finds is not the labels'),
            ``shuffled_time`` (the training time points of the neural data are permuted,
            destroying temporal structure while keeping each sample's label). Only training
            is shuffled; the control is then analysed on the real recording.
        seed: seeds torch, numpy and CEBRA's samplers (and the control's permutation).
        behavior_dimensions: xCEBRA only: embedding dimensions ``[0, k)`` form the behaviour
            part, the rest the time part (``None``: half of ``output_dimension``).
        regularizer_weight, regularizer_start_weight, regularizer_warmup_start,
        regularizer_warmup_end, regularizer_projections: xCEBRA only: the Jacobian
            regulariser's weight schedule
            (:class:`cebra_lens_core.models.xcebra.RegularizerSchedule`); weight 0 = none.
    """

    architecture: str = "offset10-model"
    output_dimension: int = 8
    num_hidden_units: int = 32
    conditional: str = "time"
    labels: Sequence[str] = field(default_factory=list)
    temperature: float = 1.0
    temperature_mode: str = "constant"
    min_temperature: float = 0.1
    time_offsets: int = 10
    distance: str = "cosine"
    max_iterations: int = 500
    batch_size: int = 512
    learning_rate: float = 3e-4
    control: str = "none"
    seed: int = 0
    behavior_dimensions: int | None = None
    regularizer_weight: float = 0.0
    regularizer_start_weight: float = 0.0
    regularizer_warmup_start: int = 0
    regularizer_warmup_end: int = 0
    regularizer_projections: int = 1

    def __post_init__(self) -> None:
        self.validate()  # a bad value stops here, not after minutes of training

    def validate(self, dataset: Dataset | None = None) -> TrainingSpec:
        """Check values (and label names against ``dataset``); raise ``ValueError`` naming the field."""
        check_architecture_name(self.architecture)
        if int(self.output_dimension) < 1:
            raise ValueError(f"output_dimension must be >= 1, got {self.output_dimension}")
        if int(self.num_hidden_units) < 1:
            raise ValueError(f"num_hidden_units must be >= 1, got {self.num_hidden_units}")
        if self.conditional not in CONDITIONALS:
            raise ValueError(f"conditional must be one of {CONDITIONALS}, got {self.conditional!r}")
        if self.conditional != "time" and not self.labels:
            raise ValueError(
                f"conditional {self.conditional!r} needs at least one label in `labels`"
            )
        if self.conditional == "time" and self.labels:
            raise ValueError("conditional 'time' uses no labels; remove `labels` or use 'behavior'")
        if int(self.max_iterations) < 0:
            raise ValueError(f"max_iterations must be >= 0, got {self.max_iterations}")
        if int(self.batch_size) < 2:
            raise ValueError(f"batch_size must be >= 2, got {self.batch_size}")
        if self.temperature_mode not in ("constant", "auto"):
            raise ValueError(
                f"temperature_mode must be 'constant' or 'auto', got {self.temperature_mode!r}"
            )
        if not float(self.temperature) > 0:
            raise ValueError(f"temperature must be > 0, got {self.temperature}")
        if self.control not in CONTROLS:
            raise ValueError(f"control must be one of {CONTROLS}, got {self.control!r}")
        if self.control == "shuffled_labels" and not self.labels:
            raise ValueError(
                "control 'shuffled_labels' needs a model with labels (behavior/hybrid)"
            )
        if self.distance not in ("cosine", "euclidean"):
            raise ValueError(f"distance must be 'cosine' or 'euclidean', got {self.distance!r}")
        self._validate_xcebra()
        if dataset is not None:
            unknown = [lab for lab in self.labels if lab not in dataset.label_info]
            if unknown:
                raise ValueError(
                    f"labels {unknown} are not in dataset {dataset.name!r} "
                    f"(available: {dataset.label_names})"
                )
            discrete = [lab for lab in self.labels if dataset.label_info[lab].kind == "discrete"]
            if len(discrete) > 1:
                raise ValueError(f"CEBRA accepts at most one discrete label, got {discrete}")
        return self

    def _validate_xcebra(self) -> None:
        if self.conditional != "xcebra":
            used = [k for k, v in XCEBRA_TRAINING_KEYS.items() if getattr(self, k) != v]
            if used:
                raise ValueError(
                    f"{used} apply only to xCEBRA models (conditional: xcebra), "
                    f"not to conditional {self.conditional!r}"
                )
            return
        # deferred: torch-free check of the split, but the module imports torch
        from cebra_lens_core.models.xcebra import part_bounds

        part_bounds(self.output_dimension, self.behavior_part_dimensions)
        self.regularizer_schedule()
        if self.temperature_mode != "constant":
            raise ValueError(
                "xCEBRA trains with a fixed temperature; use temperature_mode: constant"
            )

    @property
    def behavior_part_dimensions(self) -> int:
        """``behavior_dimensions``, or half of ``output_dimension`` when it is not set."""
        if self.behavior_dimensions is None:
            return max(1, int(self.output_dimension) // 2)
        return int(self.behavior_dimensions)

    def regularizer_schedule(self):
        """The :class:`~cebra_lens_core.models.xcebra.RegularizerSchedule` of this spec."""
        # deferred: imports torch
        from cebra_lens_core.models.xcebra import RegularizerSchedule

        return RegularizerSchedule(
            weight=float(self.regularizer_weight),
            start_weight=float(self.regularizer_start_weight),
            warmup_start=int(self.regularizer_warmup_start),
            warmup_end=int(self.regularizer_warmup_end),
            projections=int(self.regularizer_projections),
        )

    def as_dict(self) -> dict:
        """The settings as plain values (what an xCEBRA file records)."""
        out = dataclasses.asdict(self)
        out["labels"] = list(self.labels)
        return out


@contextlib.contextmanager
def seeded_cebra(seed: int) -> Iterator[None]:
    """Seed torch, numpy and every CEBRA sampling distribution created inside the block."""
    # deferred: cebra (imports torch), loaded only on this path
    import cebra.distributions.base as dist_base

    original_init = dist_base.HasGenerator.__init__
    counter = itertools.count()

    def seeded_init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        derived = int(np.random.SeedSequence([int(seed), next(counter)]).generate_state(1)[0])
        self._seed = derived
        self._generator = torch.Generator(device=self.device)
        self._generator.manual_seed(derived)

    dist_base.HasGenerator.__init__ = seeded_init
    torch_state = torch.random.get_rng_state()
    np_state = np.random.get_state()
    torch.manual_seed(int(seed))
    np.random.seed(int(seed) % 2**32)
    try:
        yield
    finally:
        dist_base.HasGenerator.__init__ = original_init
        torch.random.set_rng_state(torch_state)
        np.random.set_state(np_state)


def label_arrays(dataset: Dataset, labels: Sequence[str], session: int, train: np.ndarray) -> list:
    """Split the requested labels into CEBRA's (continuous (T, k) float, discrete (T,) int) inputs."""
    s = dataset.sessions[session]
    continuous = [
        s.labels[lab][train] for lab in labels if dataset.label_info[lab].kind == "continuous"
    ]
    discrete = [
        s.labels[lab][train] for lab in labels if dataset.label_info[lab].kind == "discrete"
    ]
    out = []
    if continuous:
        out.append(np.stack(continuous, axis=1).astype(np.float32))
    if discrete:
        out.append(discrete[0].astype(np.int64))
    return out


def make_estimator(spec: TrainingSpec, device: str = "cpu"):
    """The unfitted ``cebra.CEBRA`` for ``spec``.

    ``max_iterations: 0`` (an untrained control) is run as one step with learning
    rate 0: CEBRA refuses zero steps, and Adam with ``lr = 0`` leaves the seeded
    random initialisation unchanged.
    """
    # deferred: cebra (imports torch), loaded only on this path
    import cebra

    untrained = int(spec.max_iterations) == 0

    return cebra.CEBRA(
        model_architecture=spec.architecture,
        output_dimension=int(spec.output_dimension),
        num_hidden_units=int(spec.num_hidden_units),
        conditional="time" if spec.conditional == "time" else "time_delta",
        hybrid=spec.conditional == "hybrid",
        temperature=float(spec.temperature),
        temperature_mode=spec.temperature_mode,
        min_temperature=float(spec.min_temperature),
        time_offsets=int(spec.time_offsets),
        distance=spec.distance,
        max_iterations=1 if untrained else int(spec.max_iterations),
        batch_size=int(spec.batch_size),
        learning_rate=0.0 if untrained else float(spec.learning_rate),
        device=device,
        verbose=False,
    )


def train_model(
    dataset: Dataset,
    spec: TrainingSpec,
    device: str = "cpu",
    progress: Callable[[int, int, str], None] | None = None,
):
    """Fit a CEBRA model on the training split of every session of ``dataset``.

    A dataset with several sessions gives a multi-session model (one encoder per
    session in ``model.model_``). Training is deterministic for a given seed.
    ``progress(done, total, note)`` is called every 1 % of the iterations and at
    the end, with the current loss in ``note`` (e.g. a
    :class:`cebra_lens_core.progress.ProgressLog`); it does not change the result.

    Returns:
        the fitted ``cebra.CEBRA``.

    Raises:
        ValueError: invalid spec or labels; TrainingError: non-finite loss (diverged).
    """
    spec.validate(dataset)
    dataset.validate()
    if spec.conditional == "xcebra":
        # deferred: the xCEBRA trainer (cebra's multi-objective solver)
        from cebra_lens_core.models.xcebra import check_xcebra_data, train_xcebra

        check_xcebra_data(dataset, spec)
        session = dataset.sessions[0]
        neural = session.neural[session.train].astype(np.float32)
        labels = label_arrays(dataset, spec.labels, 0, session.train)
        neural, labels = apply_control(spec.control, neural, labels, spec.seed, 0)
        with seeded_cebra(spec.seed):
            return train_xcebra(neural, labels[0], spec, device=device, progress=progress)
    model = make_estimator(spec, device=device)
    neural, labels = [], []
    for k, session in enumerate(dataset.sessions):
        neural.append(session.neural[session.train].astype(np.float32))
        labels.append(label_arrays(dataset, spec.labels, k, session.train))
        if spec.control != "none":
            neural[-1], labels[-1] = apply_control(
                spec.control, neural[-1], labels[-1], spec.seed, k
            )
    hook = {} if progress is None else _progress_hook(progress, int(model.max_iterations))
    with seeded_cebra(spec.seed):
        if len(neural) == 1:
            model.fit(neural[0], *labels[0], **hook)
        else:
            per_label = [list(x) for x in zip(*labels, strict=True)] if labels[0] else []
            model.fit(neural, *per_label, **hook)
    if progress is not None:
        progress(int(model.max_iterations), int(model.max_iterations), _loss_note(model.solver_))
    check_converged(model)
    model.model_.eval()
    return model


def _loss_note(solver) -> str:
    loss = solver.log.get("total", [])
    return f"loss {float(loss[-1]):.4f}" if len(loss) else ""


def _progress_hook(progress: Callable[[int, int, str], None], total: int) -> dict:
    """``fit`` keyword arguments calling ``progress`` every 1 % of ``total`` iterations.

    CEBRA calls ``callback(step, solver)`` every ``callback_frequency`` steps, the first at
    step 0; the hook only reads the solver's loss log, so training is unchanged.
    """

    def callback(step: int, solver) -> None:
        if 0 < step < total:
            progress(step, total, _loss_note(solver))

    return {"callback": callback, "callback_frequency": max(1, total // 100)}


def apply_control(
    control: str, neural: np.ndarray, labels: list[np.ndarray], seed: int, session: int = 0
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Shuffle the training data of a control model (seeded by ``seed`` and ``session``).

    ``shuffled_labels``: every label array is permuted by one random permutation π of the
    training rows (labels keep their joint distribution, lose their relation to the data);
    ``shuffled_time``: the neural rows are permuted by π (each sample keeps its labels, the
    temporal order is destroyed). ``none`` returns the inputs unchanged.
    """
    if control == "none":
        return neural, labels
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 7919, int(session)]))
    perm = rng.permutation(len(neural))
    if control == "shuffled_labels":
        return neural, [lab[perm] for lab in labels]
    if control == "shuffled_time":
        return neural[perm], labels
    raise ValueError(f"control must be one of {CONTROLS}, got {control!r}")


def check_converged(model) -> None:
    """Raise :class:`TrainingError` if the training loss became non-finite or exploded.

    Unnormalised (``-mse``) models under Euclidean InfoNCE can diverge (loss to
    -1e8); their embeddings are meaningless, so stop here rather than analyse them.
    """
    loss = np.asarray(model.solver_.log.get("total", []), dtype=float)
    if loss.size and (not np.isfinite(loss).all() or abs(loss[-1]) > 1e6):
        raise TrainingError(
            f"training of {model.model_architecture} diverged (final loss {loss[-1]:.3g}); "
            "use a normalised architecture or a -tanh/-clip variant, or lower the learning rate"
        )


def training_history(model) -> pd.DataFrame:
    """The training curve: one row per iteration with ``loss`` and ``temperature`` (xCEBRA:
    also the loss of each part and the regulariser, see ``XCebraModel.history``)."""
    if hasattr(model, "history") and hasattr(model, "parts_"):
        return model.history()
    log = model.solver_.log
    loss = np.asarray(log.get("total", []), dtype=float)
    temperature = np.asarray(log.get("temperature", []), dtype=float)
    if temperature.size != loss.size:
        temperature = np.full(loss.shape, float(model.temperature))
    return pd.DataFrame(
        {"iteration": np.arange(1, loss.size + 1), "loss": loss, "temperature": temperature}
    )


def save_model(model, path: str | os.PathLike) -> None:
    """Save with ``CEBRA.save`` atomically (temporary sibling, then rename)."""
    write_sidecar(path)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            model.save(fh)
