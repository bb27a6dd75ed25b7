"""Workflow configuration: schema validation with defaults, clear errors, model expansion.

:func:`prepare_config` validates a config dict against the JSON schema
(``workflow/schemas/config.schema.yaml``), fills in defaults, reports unknown
keys with the closest valid key, checks cross references (datasets named by
models, model pairs, duplicate names) and expands every model entry with
``seeds: [...]`` into one model per seed (``<name>_seed<k>``, group ``<name>``).
"""

from __future__ import annotations

import copy
import glob
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cebra_lens_core.activations.baselines import check_method
from cebra_lens_core.data.sources import (
    available_labels,
    check_dataset_spec,
    dataset_input_widths,
    known_kinds,
    n_sessions,
)
from cebra_lens_core.data.types import DataError
from cebra_lens_core.models.errors import ModelFileError
from cebra_lens_core.naming import XCEBRA_TRAINING_KEYS, did_you_mean
from cebra_lens_core.pipeline.architectures import unknown_architecture_message

TRAINING_KEYS = (
    "architecture",
    "output_dimension",
    "num_hidden_units",
    "conditional",
    "labels",
    "temperature",
    "temperature_mode",
    "min_temperature",
    "time_offsets",
    "distance",
    "max_iterations",
    "batch_size",
    "learning_rate",
    "control",
    *XCEBRA_TRAINING_KEYS,
)


class ConfigError(ValueError):
    """The configuration is invalid; the message names the key and what was expected."""


@dataclass(frozen=True)
class ModelEntry:
    """One concrete model of the run (after seed expansion).

    Attributes:
        name: unique model name (file names, results table).
        group: config entry it came from (models differing only by seed share it).
        dataset: dataset name.
        seed: training seed (``-1`` for models loaded from a file).
        file: path of a user model file, or ``None`` if trained by the workflow.
        training: training parameters (empty for loaded models; ``output_dimension``
            only for baselines).
        kind: ``cebra``, or a baseline embedding (``pca``, ``tsne``, ``umap``).
        varied: for models from a ``sweep``, the swept setting and its value
            (``{"output_dimension": 3}``); empty for the sweep's base model and other models.
        sweep_base: name of the config entry a sweep model came from ("" without sweep).
        sessions: loaded models with ``session``: model session -> dataset session (only
            these sessions are analysed); ``None``: session ``k`` of the model is session
            ``k`` of the dataset.
    """

    name: str
    group: str
    dataset: str
    seed: int
    file: str | None
    training: dict = field(default_factory=dict)
    kind: str = "cebra"
    varied: dict = field(default_factory=dict)
    sweep_base: str = ""
    sessions: dict | None = None

    @property
    def trained(self) -> bool:
        """Whether the workflow trains this model (CEBRA, not loaded from a file)."""
        return self.file is None and self.kind == "cebra"

    @property
    def baseline(self) -> bool:
        return self.kind != "cebra"


def read_yaml(path: str | os.PathLike) -> dict:
    """Read a YAML file into a dict (empty file -> ``{}``)."""
    with open(path) as fh:
        return yaml.safe_load(fh) or {}


def _default_filling_validator(schema: dict):
    """A draft-7 validator that also writes ``default`` values into the instance."""
    # deferred: jsonschema, only when a config is validated
    import jsonschema

    base = jsonschema.Draft7Validator
    validate_properties = base.VALIDATORS["properties"]

    def properties_with_defaults(validator, properties, instance, schema_):
        if isinstance(instance, dict):
            for name, sub in properties.items():
                sub = _resolve(validator, sub)
                if "default" in sub and name not in instance:
                    instance[name] = copy.deepcopy(sub["default"])
        yield from validate_properties(validator, properties, instance, schema_)

    def _resolve(validator, sub):
        if isinstance(sub, dict) and "$ref" in sub and "default" not in sub:
            return _lookup_ref(schema, sub["$ref"])  # local refs only (#/definitions/...)
        return sub

    extended = jsonschema.validators.extend(base, {"properties": properties_with_defaults})
    return extended(schema)


def _lookup_ref(schema: dict, ref: str) -> dict:
    node: Any = schema
    for part in ref.lstrip("#/").split("/"):
        node = node[part]
    return node


def _describe_error(error, schema: dict) -> str:
    """A readable message for one jsonschema error, with the closest valid key for typos."""
    path = "/".join(str(p) for p in error.absolute_path) or "(top level)"
    if error.validator == "additionalProperties":
        allowed = list(error.schema.get("properties", {}))
        extras = (
            [k for k in error.instance if k not in allowed]
            if isinstance(error.instance, dict)
            else []
        )
        parts = []
        for key in extras:
            hint = did_you_mean(key, allowed, cutoff=0.5)
            parts.append(f"unknown key {key!r} in {path}{hint} (valid keys: {', '.join(allowed)})")
        if parts:
            return "; ".join(parts)
    if error.validator == "enum":
        hint = did_you_mean(error.instance, error.validator_value)
        return f"{path}: {error.instance!r} is not one of {error.validator_value}{hint}"
    return f"{path}: {error.message}"


def _non_finite_numbers(node: Any, path: str = ""):
    """``(key path, value)`` of every NaN or infinity in a config (JSON schema's ``minimum``
    and ``maximum`` let NaN through: every comparison with it is false)."""
    items = (
        node.items()
        if isinstance(node, Mapping)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, value in items:
        where = f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}" if path else str(key)
        if isinstance(value, float) and not math.isfinite(value):
            yield where, value
        elif isinstance(value, Mapping | list):
            yield from _non_finite_numbers(value, where)


def validate_against_schema(config: Mapping, schema: dict) -> dict:
    """Validate ``config`` and return a deep copy with defaults filled in.

    Raises:
        ConfigError: listing every problem (key path, value, expectation).
    """
    instance = copy.deepcopy(dict(config))
    not_finite = list(_non_finite_numbers(instance))
    if not_finite:
        raise ConfigError(
            "invalid configuration:\n  - "
            + "\n  - ".join(
                f"{path}: {value!r} is not a finite number" for path, value in not_finite
            )
        )
    validator = _default_filling_validator(schema)
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        messages = sorted({_describe_error(e, schema) for e in errors})
        raise ConfigError("invalid configuration:\n  - " + "\n  - ".join(messages))
    return instance


#: name tags of swept settings: ``<entry name>_<tag><value>`` (architecture: the name itself)
SWEEP_TAGS = {
    "architecture": "",
    "output_dimension": "d",
    "num_hidden_units": "h",
    "temperature": "t",
    "temperature_mode": "t",
    "time_offsets": "off",
    "max_iterations": "it",
    "learning_rate": "lr",
    "regularizer_weight": "jr",
}


def sweep_variants(item: Mapping, defaults: Mapping) -> list[tuple[dict, dict]]:
    """One-factor-at-a-time variants of a model entry with ``sweep``.

    Returns ``[(entry, varied)]``: the base entry (``sweep`` removed, ``varied`` ``{"": None}``),
    then for every swept setting and every listed value that differs from the base, a copy
    with that one value changed and ``_<tag><value>`` appended to its name (tags in
    :data:`SWEEP_TAGS`). A sweep over three settings with 8, 4 and 2 values gives at most
    1 + 7 + 3 + 1 models, not the 64 of a full grid.
    """
    base = {k: v for k, v in item.items() if k != "sweep"}
    variants = [(base, {"": None})]
    for setting, values in (item.get("sweep") or {}).items():
        current = base.get(setting, defaults.get(setting))
        for value in values:
            if value == current:
                continue
            text = f"{value:g}" if isinstance(value, float) else str(value)
            name = f"{base['name']}_{SWEEP_TAGS[setting]}{text}"
            variants.append(({**base, "name": name, setting: value}, {setting: value}))
    return variants


def apply_quick(config: Mapping) -> dict:
    """The config to run: with ``quick: true``, ``quick_overrides`` merged over it (mappings
    merge, anything else replaces) and each model entry's ``quick`` keys replacing the entry's;
    ``results_dir`` gets ``_quick`` appended unless the overrides set it. An entry with
    ``quick: {skip: true}`` is left out of quick runs. Entry ``quick`` keys are removed either
    way.
    """
    config = copy.deepcopy(dict(config))
    quick = config.get("quick", False)
    if isinstance(quick, str):  # `--config quick=true` arrives as a string
        words = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
        if quick.lower() not in words:
            raise ConfigError(f"quick must be true or false, got {quick!r}")
        quick = config["quick"] = words[quick.lower()]
    if quick:
        overrides = config.get("quick_overrides") or {}
        if not isinstance(overrides, Mapping):
            raise ConfigError(f"quick_overrides must be a mapping, got {overrides!r}")
        results_dir = str(config.get("results_dir", "results")).rstrip("/")
        config = _deep_merge(config, overrides)
        if "results_dir" not in overrides:
            config["results_dir"] = f"{results_dir}_quick"
    models = config.get("models")
    if isinstance(models, list):
        merged = []
        for item in models:
            if isinstance(item, Mapping) and "quick" in item:
                item = dict(item)
                entry_quick = item.pop("quick")
                if not isinstance(entry_quick, Mapping):
                    raise ConfigError(
                        f"model {item.get('name')!r}: `quick` must be a mapping, got {entry_quick!r}"
                    )
                if quick and entry_quick.get("skip") is True:
                    continue  # `quick: {skip: true}`: the entry is left out of quick runs
                if quick:
                    # entry values replace whole keys (a quick `sweep` replaces the sweep)
                    item.update({k: v for k, v in entry_quick.items() if k != "skip"})
            merged.append(item)
        config["models"] = merged
    return config


def _deep_merge(base: Mapping, update: Mapping) -> dict:
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def expand_models(config: Mapping) -> list[ModelEntry]:
    """Expand config model entries into concrete :class:`ModelEntry` objects.

    One per seed (``<name>_seed<k>``) and, for entries with ``sweep``, one per swept value
    (see :func:`sweep_variants`). Baselines (``kind: pca`` ...) keep only ``output_dimension``.
    """
    defaults = dict(config.get("model_defaults", {}))
    items = []
    for item in config["models"]:
        variants = sweep_variants(item, defaults) if "sweep" in item else [(item, {})]
        items += [(entry, varied, item["name"] if varied else "") for entry, varied in variants]
    entries: list[ModelEntry] = []
    for item, varied, sweep_base in items:
        varied = {k: v for k, v in varied.items() if k}
        name = item["name"]
        kind = item.get("kind", "cebra")
        if kind != "cebra":
            extra = sorted(set(item) & (set(TRAINING_KEYS) - {"output_dimension"} | {"file"}))
            if extra:
                raise ConfigError(
                    f"model {name!r} is a {kind} baseline; keys {extra} do not apply "
                    "(a baseline takes dataset, output_dimension and seed/seeds)"
                )
            training = {
                "output_dimension": item.get("output_dimension", defaults.get("output_dimension"))
            }
            seeds = item.get("seeds") or [item.get("seed", 0)]
            for seed in seeds:
                suffix = f"_seed{seed}" if "seeds" in item else ""
                entries.append(
                    ModelEntry(
                        name + suffix,
                        name,
                        item["dataset"],
                        int(seed),
                        None,
                        training,
                        kind,
                        varied,
                        sweep_base,
                    )
                )
            continue
        if "file" in item or "files" in item:
            entries += _loaded_models(item)
            continue
        if "seeds" in item and "seed" in item:
            raise ConfigError(f"model {name!r}: give either `seed` or `seeds`, not both")
        training = {k: item.get(k, defaults.get(k)) for k in TRAINING_KEYS}
        if "seeds" in item:
            for seed in item["seeds"]:
                entries.append(
                    ModelEntry(
                        f"{name}_seed{seed}",
                        name,
                        item["dataset"],
                        int(seed),
                        None,
                        training,
                        varied=varied,
                        sweep_base=sweep_base,
                    )
                )
        else:
            entries.append(
                ModelEntry(
                    name,
                    name,
                    item["dataset"],
                    int(item.get("seed", 0)),
                    None,
                    training,
                    varied=varied,
                    sweep_base=sweep_base,
                )
            )
    return entries


def _loaded_models(item: Mapping) -> list[ModelEntry]:
    """Models of a ``file`` entry (one model) or a ``files`` entry (one model per checkpoint,
    ``<name>_seed<k>`` in group ``<name>``; ``k`` from ``seeds`` or 0, 1, ... in file order)."""
    name = item["name"]
    if "file" in item and "files" in item:
        raise ConfigError(f"model {name!r}: give either `file` or `files`, not both")
    allowed_seeds = ("seeds",) if "files" in item else ()
    training_keys = sorted(
        set(item) & (set(TRAINING_KEYS) | {"seeds", "seed"}) - set(allowed_seeds)
    )
    if training_keys:
        key = "file" if "file" in item else "files"
        raise ConfigError(
            f"model {name!r} is loaded from {key} {item[key]!r}; training keys "
            f"{training_keys} do not apply (remove them, or remove `file`/`files` to train)"
        )
    sessions = _session_mapping(name, item.get("session"))
    if "file" in item:
        return [ModelEntry(name, name, item["dataset"], -1, str(item["file"]), sessions=sessions)]
    files = expand_model_files(name, item["files"])
    seeds = item.get("seeds", list(range(len(files))))
    if len(seeds) != len(files) or len(set(seeds)) != len(seeds):
        raise ConfigError(
            f"model {name!r}: `seeds` {list(seeds)} must give one distinct seed per file "
            f"({len(files)} files: {files})"
        )
    return [
        ModelEntry(f"{name}_seed{seed}", name, item["dataset"], int(seed), path, sessions=sessions)
        for seed, path in zip(seeds, files, strict=True)
    ]


def expand_model_files(name: str, files: str | list, base: str | os.PathLike = ".") -> list[str]:
    """The checkpoint paths of a ``files`` entry: a list as given, or one glob pattern expanded
    (sorted, relative to ``base``, the working directory). A pattern matching nothing is an error."""
    if not isinstance(files, str):
        return [str(f) for f in files]
    if not glob.has_magic(files):
        return [files]
    matches = sorted(glob.glob(files, root_dir=base))
    if not matches:
        raise ConfigError(
            f"model {name!r}: `files: {files}` matches no file (relative to "
            f"{Path(base).resolve()}); give a list of paths or a pattern like models/rat_*.pt"
        )
    return matches


def _session_mapping(name: str, session: Any) -> dict[int, int] | None:
    """``session: k`` -> ``{k: 0}``; a mapping -> ``{model session: dataset session}``."""
    if session is None:
        return None
    if isinstance(session, int):
        return {int(session): 0}
    mapping = {}
    for key, value in session.items():
        try:
            mapping[int(key)] = int(value)
        except (TypeError, ValueError):
            raise ConfigError(
                f"model {name!r}: `session` keys are model session numbers, got {key!r}"
            ) from None
    if len(set(mapping.values())) != len(mapping):
        raise ConfigError(
            f"model {name!r}: `session` {session} maps two model sessions to one dataset "
            "session; each dataset session can be analysed with one encoder only"
        )
    return mapping


def check_references(config: Mapping, models: list[ModelEntry]) -> None:
    """Cross-reference checks the schema cannot express.

    Raises:
        ConfigError: duplicate model names, a model naming an unknown dataset, a
            behaviour model without labels or with labels the dataset lacks, a
            model pair naming an unknown model or models on different datasets.
    """
    names = [m.name for m in models]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(
            f"duplicate model names {duplicates}: every model (after seed expansion) needs a unique name"
        )
    datasets = config["datasets"]
    for m in models:
        if m.dataset not in datasets:
            hint = did_you_mean(m.dataset, list(datasets))
            raise ConfigError(
                f"model {m.name!r} uses unknown dataset {m.dataset!r}{hint} (defined: {list(datasets)})"
            )
        if m.baseline:
            try:
                check_method(m.kind)
            except ValueError as err:
                raise ConfigError(f"model {m.name!r}: {err}") from None
        if not m.trained:
            continue
        cond, labels = m.training["conditional"], list(m.training["labels"] or [])
        _check_architecture(m.name, m.training["architecture"])
        if cond == "time" and n_sessions(datasets[m.dataset]) > 1:
            raise ConfigError(
                f"model {m.name!r}: CEBRA 0.6.1 trains multi-session models only with labels; "
                f"dataset {m.dataset!r} has several sessions, so use conditional 'behavior'"
            )
        if cond != "time" and not labels:
            raise ConfigError(
                f"model {m.name!r}: conditional {cond!r} needs `labels` (e.g. [position])"
            )
        if cond == "time" and labels:
            raise ConfigError(
                f"model {m.name!r}: conditional 'time' uses no labels; remove `labels` {labels}"
            )
        if n_sessions(datasets[m.dataset]) > 1 and known_kinds(datasets[m.dataset], labels):
            raise ConfigError(
                f"model {m.name!r}: CEBRA 0.6.1 trains multi-session models on continuous labels "
                f"only or on one discrete label only; {labels} mixes both "
                f"({known_kinds(datasets[m.dataset], labels)}); use e.g. labels: [position]"
            )
        _check_xcebra(m, n_sessions(datasets[m.dataset]))
        known = available_labels(datasets[m.dataset])
        unknown = [lab for lab in labels if known is not None and lab not in known]
        if unknown:
            raise ConfigError(
                f"model {m.name!r}: labels {unknown} are not in dataset {m.dataset!r} (available: {list(known)})"
            )
    _check_analysis_labels(config, models)
    _check_similarity(config.get("analyses", {}).get("similarity", {}))
    pairs = config.get("cka", {}).get("pairs", "all")
    if pairs != "all":
        by_name = {m.name: m for m in models}
        for a, b in pairs:
            for x in (a, b):
                if x not in by_name:
                    hint = did_you_mean(x, list(by_name))
                    raise ConfigError(f"cka.pairs names unknown model {x!r}{hint}")
            if by_name[a].dataset != by_name[b].dataset:
                raise ConfigError(
                    f"cka.pairs [{a}, {b}]: the models are on different datasets "
                    f"({by_name[a].dataset} vs {by_name[b].dataset}); CKA needs the same time points"
                )


def _check_xcebra(model: ModelEntry, sessions: int) -> None:
    """Torch-free checks of an xCEBRA entry (and that no other model sets xCEBRA keys)."""
    t = model.training
    if t["conditional"] != "xcebra":
        used = [k for k, v in XCEBRA_TRAINING_KEYS.items() if t.get(k, v) != v]
        if used:
            raise ConfigError(
                f"model {model.name!r}: {used} apply only to xCEBRA models "
                f"(conditional: xcebra), not to conditional {t['conditional']!r}"
            )
        return
    if sessions > 1:
        raise ConfigError(
            f"model {model.name!r}: xCEBRA trains single-session models; dataset "
            f"{model.dataset!r} has {sessions} sessions"
        )
    D = int(t["output_dimension"])
    k = t.get("behavior_dimensions")
    if k is not None and not 1 <= int(k) < D:
        raise ConfigError(
            f"model {model.name!r}: behavior_dimensions must be between 1 and "
            f"output_dimension - 1 = {D - 1} (the rest is the time part), got {k}"
        )
    if D < 2:
        raise ConfigError(f"model {model.name!r}: xCEBRA needs output_dimension >= 2, got {D}")
    if int(t.get("regularizer_warmup_end", 0)) < int(t.get("regularizer_warmup_start", 0)):
        raise ConfigError(
            f"model {model.name!r}: regularizer_warmup_end must be >= regularizer_warmup_start"
        )
    if t.get("temperature_mode", "constant") != "constant":
        raise ConfigError(
            f"model {model.name!r}: xCEBRA trains with a fixed temperature; "
            "use temperature_mode: constant"
        )
    if t.get("distance", "cosine") == "cosine" and "-mse" not in t["architecture"]:
        raise ConfigError(
            f"model {model.name!r}: xCEBRA normalises each embedding part itself, so the "
            f"architecture must not normalise the whole embedding: use an unnormalised "
            f"'-mse' architecture (e.g. offset10-model-mse), not {t['architecture']!r}"
        )


def _check_similarity(options: Mapping) -> None:
    """``analyses.similarity.model_space_measure`` must be one of the measures it computes."""
    if not options.get("enabled", False):
        return
    chosen, measures = options.get("model_space_measure"), options.get("measures", [])
    if chosen is not None and chosen not in measures:
        raise ConfigError(
            f"analyses.similarity.model_space_measure {chosen!r} is not in "
            f"analyses.similarity.measures {list(measures)}; add it or choose one of them"
        )


def _check_analysis_labels(config: Mapping, models: list[ModelEntry]) -> None:
    """Labels named in ``analyses`` must exist in every dataset the models use (when known)."""
    analyses = config.get("analyses", {})
    named: list[tuple[str, str]] = []
    for analysis in ("rdm", "distance", "decoding", "single_unit"):
        named += [
            (f"analyses.{analysis}.labels", lab)
            for lab in analyses.get(analysis, {}).get("labels", [])
        ]
    for key, analysis in (
        ("repeat_label", "distance"),
        ("color_label", "embedding"),
        ("label", "alignment"),
        ("label", "similarity"),
    ):
        value = analyses.get(analysis, {}).get(key)
        if value:
            named.append((f"analyses.{analysis}.{key}", value))
    for dataset in sorted({m.dataset for m in models}):
        known = available_labels(config["datasets"][dataset])
        for where, label in named:
            if known is not None and label not in known:
                hint = did_you_mean(label, list(known))
                raise ConfigError(
                    f"{where}: label {label!r} is not in dataset {dataset!r}{hint} (available: {list(known)})"
                )


def _check_architecture(model: str, architecture: str) -> None:
    """A registered CEBRA architecture (checked without importing torch or cebra)."""
    message = unknown_architecture_message(architecture)
    if message is not None:
        raise ConfigError(f"model {model!r}: {message}")


def prepare_config(config: Mapping, schema_path: str | os.PathLike) -> dict:
    """Validate, fill defaults, check references; return the effective config.

    The result holds the validated config plus ``_models``: the list of expanded
    :class:`ModelEntry` objects.
    """
    schema = read_yaml(schema_path)
    effective = validate_against_schema(apply_quick(config), schema)
    for name, spec in effective["datasets"].items():
        if spec["source"] == "files" and not spec.get("sessions"):
            raise ConfigError(
                f"dataset {name!r}: source 'files' needs `sessions` (neural file, key, labels)"
            )
        if spec["source"] == "registry" and not spec.get("name"):
            raise ConfigError(
                f"dataset {name!r}: source 'registry' needs `name` (e.g. rat-hippocampus-single-achilles)"
            )
        try:
            check_dataset_spec(name, spec)
        except DataError as error:
            raise ConfigError(str(error)) from None
    models = expand_models(effective)
    check_references(effective, models)
    check_loaded_models(effective, models)
    effective["_models"] = models
    return effective


def check_loaded_models(config: Mapping, models: list[ModelEntry], base: str = ".") -> None:
    """Start-up checks of models loaded from files, against their dataset.

    Reads each checkpoint's session count and input widths (without rebuilding the model) and
    checks: the file exists; a model with a different number of sessions than its dataset
    names the sessions to analyse (``session``); the mapped sessions exist on both sides; each
    analysed encoder takes as many neurons as its dataset session has (where the dataset's
    width is known before loading it).

    Raises:
        ConfigError: naming the model, its file, and how to write ``session``.
    """
    for m in models:
        if m.file is None:
            continue
        path = resolve_path(m.file, base)
        where = f"model {m.name!r} (file {m.file})"
        if not Path(path).is_file():
            raise ConfigError(f"{where}: the model file does not exist (looked for {path})")
        # deferred: reading a checkpoint needs torch; runs without `file:` models never pay it
        from cebra_lens_core.models.load import checkpoint_input_widths

        try:
            model_widths = checkpoint_input_widths(path, trust=config["trust_model_files"])
        except ModelFileError as err:
            raise ConfigError(f"{where}: {err}") from None
        spec = config["datasets"][m.dataset]
        data_widths = dataset_input_widths(spec, base)
        n_model, n_data = len(model_widths), len(data_widths)
        example = (
            "session: <model session>"
            if n_data == 1
            else "session: {<model session>: <dataset session>, ...}"
        )
        if m.sessions is None:
            if n_model != n_data:
                raise ConfigError(
                    f"{where} has {n_model} session(s) but dataset {m.dataset!r} has {n_data}; "
                    f"say which session(s) of the model to analyse with `{example}` "
                    f"(e.g. `session: {n_model - 1}`"
                    + (")" if n_data == 1 else " for one, or a mapping)")
                )
            pairs = {k: k for k in range(n_model)}
        else:
            pairs = m.sessions
        for model_session, data_session in sorted(pairs.items()):
            if not 0 <= model_session < n_model:
                raise ConfigError(
                    f"{where}: `session` names model session {model_session}, but the model "
                    f"has {n_model} session(s) (0 … {n_model - 1})"
                )
            if not 0 <= data_session < n_data:
                raise ConfigError(
                    f"{where}: `session` maps to dataset session {data_session}, but dataset "
                    f"{m.dataset!r} has {n_data} session(s) (0 … {n_data - 1})"
                )
            known = data_widths[data_session]
            if known is not None and known != model_widths[model_session]:
                raise ConfigError(
                    f"{where}: model session {model_session} takes {model_widths[model_session]} "
                    f"neurons, but session {data_session} of dataset {m.dataset!r} has {known}; "
                    f"pick the matching session with `{example}`"
                )


def resolve_path(path: str, base: str | os.PathLike) -> str:
    """``path`` if absolute, otherwise relative to ``base`` (the working directory of the run)."""
    p = Path(path).expanduser()
    return str(p if p.is_absolute() else Path(base) / p)
