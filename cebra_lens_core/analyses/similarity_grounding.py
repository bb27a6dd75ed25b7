r"""Which similarity measure to trust on these models: grounding tests and the model space.

Reads results rows (no stores, no files) of the layer-comparison families: CKA (analysis
``cka``, metric ``cka``, variant ``linear``/``debiased`` → measures ``cka_linear``,
``cka_debiased``; other CKA metrics such as ``p_value`` are ignored) and the similarity families
(analysis ``shape``/``cca``/``neighbourhood``/``crossnobis``, metric ``similarity`` or
``distance``, variant = measure name of :data:`cebra_lens_core.metrics.similarity.MEASURES`),
and the model sheet (``results/models.tsv``, :mod:`cebra_lens_core.results.models`).

Two tests from the ReSi benchmark (Klabunde et al. 2024), adapted to seeds of CEBRA models:

* **Layer identification** (:func:`layer_identification_rows`): seeds of one configuration
  learn the same computation, so layer *i* of one seed should be closest to layer *i* of
  another seed among *all* its layers. Accuracy = fraction of (pair, direction, layer) tests
  where it is; chance = 1 / number of layers.
* **Label randomisation** (:func:`label_randomisation_rows`): a model trained on shuffled labels
  (a ``control`` store) should be farther from a trained seed than another trained seed is.

:func:`model_space` places every store per layer by one distance (MDS and average-linkage
clustering). :func:`grounding_rows` gives the rows of both tests.

Grounding rows (``analysis == "similarity_grounding"``, ``variant`` = measure, ``label`` = the
measure's family, ``unit`` empty, ``layer``/``layer_name``/``other_layer`` empty):

========================================  ==============  ============  =====================
metric                                    model           other_model   value, n, ci
========================================  ==============  ============  =====================
``layer_identification_accuracy``         "" (pooled) or  ""            fraction correct,
                                          a seed group                  n = tests, Wilson 95 %
``layer_identification_chance``           as above        ""            mean of 1 / L_b over
                                                                        the tests, n = tests
``label_randomisation_pass``              a control or    reference or  fraction passed,
                                          "" (pooled)     ""            n = tests, Wilson 95 %
``label_randomisation_margin``            as above        as above      mean margin, n = finite
                                                                        margins, no interval
========================================  ==============  ============  =====================
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import linkage
from scipy.spatial.distance import squareform

from cebra_lens_core.metrics.similarity import FAMILIES, MEASURES
from cebra_lens_core.naming import corresponding_layers
from cebra_lens_core.results import make_rows

log = logging.getLogger(__name__)

#: ``analysis`` value of the grounding rows
ANALYSIS = "similarity_grounding"
#: two-sided 95 % standard-normal quantile, Φ⁻¹(0.975)
Z95 = 1.959963984540054
#: families other than CKA: their rows carry metric ``similarity`` or ``distance``
SIMILARITY_FAMILIES: tuple[str, ...] = tuple(f for f in FAMILIES if f != "cka")
#: sheet settings a control must share with its trained counterpart
COUNTERPART_KEYS: tuple[str, ...] = ("dataset", "session", "architecture", "conditional", "labels")
#: further sheet settings that break a tie between several counterpart groups
TIE_BREAK_KEYS: tuple[str, ...] = (
    "output_dimension",
    "num_hidden_units",
    "temperature",
    "temperature_mode",
    "max_iterations",
)

MatrixKey = tuple[str, str, str]


@dataclass(frozen=True)
class MeasureInfo:
    """What the grounding needs to know about one measure.

    Attributes:
        name: measure name (registry key; ``cka_<variant>`` for CKA rows).
        family: its family (``label`` of the grounding rows).
        larger_is_closer: True for similarities, False for distances.
        symmetric: ``m(X, Y) == m(Y, X)``.
    """

    name: str
    family: str
    larger_is_closer: bool
    symmetric: bool


# --------------------------------------------------------------------------- small helpers


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    r"""Wilson score interval of a binomial fraction ``p̂ = successes / n``:

    .. math::

        \frac{p̂ + z^2/(2n)}{1 + z^2/n} \pm \frac{z}{1 + z^2/n}
        \sqrt{\frac{p̂(1-p̂)}{n} + \frac{z^2}{4n^2}}

    ``(nan, nan)`` for ``n == 0``.
    """
    if n <= 0:
        return (math.nan, math.nan)
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (max(0.0, centre - half), min(1.0, centre + half))


def measure_name(analysis: str, variant: str) -> str:
    """Measure of a row: ``cka_<variant>`` for CKA rows, else the ``variant``."""
    return f"cka_{variant}" if analysis == "cka" else str(variant)


def measure_info(name: str, family: str, metric: str) -> MeasureInfo:
    """Registry entry of ``name`` (:data:`~cebra_lens_core.metrics.similarity.MEASURES`); a
    measure not in the registry: a CKA kind (e.g. ``cka_rbf``) is a symmetric similarity,
    anything else takes its orientation from the row's ``metric`` and counts as asymmetric."""
    if name in MEASURES:
        m = MEASURES[name]
        return MeasureInfo(name, m.family, m.larger_is_closer, m.symmetric)
    if family == "cka":
        return MeasureInfo(name, "cka", True, True)
    return MeasureInfo(name, family, metric != "distance", False)


def measure_order(names: Iterable[str]) -> list[str]:
    """Measures in registry order, unknown ones after it in alphabetical order."""
    names = set(names)
    known = [n for n in MEASURES if n in names]
    return known + sorted(names - set(known))


def comparison_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows that hold a layer × layer comparison: CKA values (analysis ``cka``, metric
    ``cka``) and similarity-family values (metric ``similarity``/``distance``), between two
    named stores at two layer positions; with a column ``measure``."""
    is_cka = (rows["analysis"] == "cka") & (rows["metric"] == "cka")
    is_family = rows["analysis"].isin(SIMILARITY_FAMILIES) & rows["metric"].isin(
        ("similarity", "distance")
    )
    out = rows[is_cka | is_family]
    out = out[out["layer"].notna() & out["other_layer"].notna()]
    out = out[(out["model"].astype(str) != "") & (out["other_model"].astype(str) != "")]
    out = out.copy()
    variant = out["variant"].astype(str)
    out["measure"] = variant.where(out["analysis"] != "cka", "cka_" + variant)
    return out.reset_index(drop=True)


def measure_infos(rows: pd.DataFrame) -> dict[str, MeasureInfo]:
    """:class:`MeasureInfo` of every measure among the comparison rows (registry order)."""
    comp = comparison_rows(rows)
    first = comp.drop_duplicates("measure").set_index("measure")
    return {
        name: measure_info(name, str(first.at[name, "analysis"]), str(first.at[name, "metric"]))
        for name in measure_order(first.index)
    }


def store_layers(rows: pd.DataFrame) -> dict[str, list[str]]:
    """Layer names of every store of the comparison rows, by position (``""`` where the rows
    name none): layer count = 1 + the largest position seen as ``layer`` or ``other_layer``,
    names from the ``layer_name`` of the rows where the store is ``model``."""
    comp = comparison_rows(rows)
    count: dict[str, int] = {}
    for store_col, layer_col in (("model", "layer"), ("other_model", "other_layer")):
        top = comp.groupby(store_col)[layer_col].max()
        for store, value in top.items():
            count[str(store)] = max(count.get(str(store), 0), int(value) + 1)
    names = {s: [""] * n for s, n in count.items()}
    named = comp[comp["layer_name"].astype(str) != ""].drop_duplicates(["model", "layer"])
    for store, layer, name in zip(named["model"], named["layer"], named["layer_name"], strict=True):
        names[str(store)][int(layer)] = str(name)
    return dict(sorted(names.items()))


def store_datasets(rows: pd.DataFrame) -> dict[str, str]:
    """``store -> dataset`` from the comparison rows where it is ``model``."""
    comp = comparison_rows(rows)
    return {str(m): str(d) for m, d in zip(comp["model"], comp["dataset"], strict=True)}


def check_sheet(stores: Iterable[str], sheet: pd.DataFrame) -> pd.DataFrame:
    """``sheet`` indexed by store, after checking every store of the rows is in it.

    Raises:
        ValueError: naming the stores the model sheet lacks.
    """
    missing = sorted(set(stores) - set(sheet["store"].astype(str)))
    if missing:
        raise ValueError(
            f"the model sheet has no row for the stores {missing} of the results rows; "
            "rerun the planning step (results/models.tsv) for this config"
        )
    return sheet.assign(store=sheet["store"].astype(str)).set_index("store", drop=False)


# --------------------------------------------------------------------------- matrices


def measure_matrices(rows: pd.DataFrame) -> dict[MatrixKey, np.ndarray]:
    r"""Layer × layer matrix of every (measure, store a, store b) in the rows.

    ``M[(measure, a, b)][i, j]`` = the measure between layer ``i`` of ``a`` (``model``,
    ``layer``) and layer ``j`` of ``b`` (``other_model``, ``other_layer``), shape
    ``L_a × L_b`` (:func:`store_layers`), NaN where the rows have no value. For a symmetric
    measure the transpose is added as ``(measure, b, a)`` unless rows of that order exist
    (``M_{ba} = M_{ab}^\top``); an asymmetric measure (``pwcca``, ``cknna``) has only the
    orders the rows give.

    Raises:
        ValueError: two rows for the same (measure, a, b, i, j).
    """
    comp = comparison_rows(rows)
    dup = comp.duplicated(["measure", "model", "other_model", "layer", "other_layer"])
    if dup.any():
        r = comp[dup].iloc[0]
        raise ValueError(
            f"several rows for measure {r['measure']} between {r['model']} layer {r['layer']} "
            f"and {r['other_model']} layer {r['other_layer']}; one value per layer pair expected"
        )
    sizes = {s: len(n) for s, n in store_layers(rows).items()}
    infos = measure_infos(rows)
    out: dict[MatrixKey, np.ndarray] = {}
    for (measure, a, b), part in comp.groupby(["measure", "model", "other_model"], sort=True):
        matrix = np.full((sizes[str(a)], sizes[str(b)]), np.nan)
        i = part["layer"].to_numpy(dtype=int)
        j = part["other_layer"].to_numpy(dtype=int)
        matrix[i, j] = part["value"].to_numpy(dtype=float)
        out[(str(measure), str(a), str(b))] = matrix
    for (measure, a, b), matrix in list(out.items()):
        if infos[measure].symmetric and (measure, b, a) not in out:
            out[(measure, b, a)] = matrix.T.copy()
    return dict(sorted(out.items()))


def best_match(values: np.ndarray, larger_is_closer: bool) -> int | None:
    """Index of the single best value (largest for a similarity, smallest for a distance);
    NaN never wins; ``None`` when no value is finite or the best is tied."""
    values = np.asarray(values, dtype=float)
    finite = np.isfinite(values)
    if not finite.any():
        return None
    best = np.max(values[finite]) if larger_is_closer else np.min(values[finite])
    winners = np.flatnonzero(finite & (values == best))
    return int(winners[0]) if len(winners) == 1 else None


def closer(value: float, than: float, larger_is_closer: bool) -> bool:
    """``value`` is strictly closer than ``than`` (``>`` for similarities, ``<`` for
    distances); False when either is NaN."""
    if not (np.isfinite(value) and np.isfinite(than)):
        return False
    return value > than if larger_is_closer else value < than


# --------------------------------------------------------------------------- layer identification


def seed_groups(sheet: pd.DataFrame, stores: Iterable[str]) -> dict[str, list[str]]:
    """Trained stores among ``stores`` by ``seed_group`` (groups of >= 2), sorted."""
    present = set(stores)
    trained = sheet[(sheet["kind"] == "trained") & sheet["store"].astype(str).isin(present)]
    groups: dict[str, list[str]] = {}
    for store, group in zip(trained["store"], trained["seed_group"], strict=True):
        groups.setdefault(str(group), []).append(str(store))
    return {g: sorted(s) for g, s in sorted(groups.items()) if len(s) >= 2}


def identification_tests(
    matrices: Mapping[MatrixKey, np.ndarray], measure: str, stores: Sequence[str], larger: bool
) -> tuple[int, int, float]:
    """``(correct, tests, sum of 1/L_b)`` of layer identification among ``stores`` (one seed
    group) for ``measure``: every ordered pair ``(a, b)``, ``a != b``, with a matrix and equal
    layer counts; every layer ``i`` of ``a``: correct iff :func:`best_match` of row ``i`` of
    ``M[(measure, a, b)]`` is ``i``."""
    correct = tests = 0
    chance = 0.0
    for a in stores:
        for b in stores:
            matrix = matrices.get((measure, a, b))
            if a == b or matrix is None:
                continue
            if matrix.shape[0] != matrix.shape[1]:
                log.warning(
                    "layer identification, %s: %s and %s have %d and %d layers; pair skipped",
                    measure,
                    a,
                    b,
                    *matrix.shape,
                )
                continue
            for i in range(matrix.shape[0]):
                correct += best_match(matrix[i], larger) == i
                tests += 1
                chance += 1.0 / matrix.shape[1]
    return correct, tests, chance


def identification_dicts(
    matrices: Mapping[MatrixKey, np.ndarray],
    infos: Mapping[str, MeasureInfo],
    groups: Mapping[str, Sequence[str]],
    datasets: Mapping[str, str],
) -> list[dict]:
    """Row dicts of the layer-identification test (module docstring for the format)."""
    out = []
    for measure, info in infos.items():
        per_group = {
            g: identification_tests(matrices, measure, stores, info.larger_is_closer)
            for g, stores in groups.items()
        }
        per_group = {g: t for g, t in per_group.items() if t[1] > 0}
        if not per_group:
            continue
        pooled = tuple(sum(t[k] for t in per_group.values()) for k in range(3))
        entries = [("", pooled, [s for g in per_group for s in groups[g]])]
        entries += [(g, t, groups[g]) for g, t in per_group.items()]
        for model, (correct, tests, chance), stores in entries:
            low, high = wilson_interval(int(correct), int(tests))
            base = {
                "analysis": ANALYSIS,
                "dataset": common_dataset(stores, datasets),
                "model": model,
                "label": info.family,
                "variant": measure,
                "n": int(tests),
            }
            out.append(
                {
                    **base,
                    "metric": "layer_identification_accuracy",
                    "value": correct / tests,
                    "ci_low": low,
                    "ci_high": high,
                }
            )
            out.append({**base, "metric": "layer_identification_chance", "value": chance / tests})
    return out


def common_dataset(stores: Iterable[str], datasets: Mapping[str, str]) -> str:
    """The one dataset of ``stores``, or ``""`` when they span several (or none is known)."""
    found = {datasets.get(s, "") for s in stores}
    return found.pop() if len(found) == 1 else ""


def layer_identification_rows(rows: pd.DataFrame, sheet: pd.DataFrame) -> pd.DataFrame:
    """The ReSi layer-identification test of every measure in ``rows``.

    For every seed group of the model sheet (stores of kind ``trained`` sharing a
    ``seed_group``, >= 2 of them in the rows), every ordered pair ``(a, b)`` of different
    stores with a matrix ``M = M[(measure, a, b)]`` (:func:`measure_matrices`: both orders for
    symmetric measures, the order of the rows for asymmetric ones), and every layer ``i`` of
    ``a``: the test is correct iff ``argmax_j M[i, j]`` (``argmin`` for a distance) over *all*
    layers ``j`` of ``b`` is ``i``; NaN never wins and a tie for the best value is a failure.

    ``accuracy = correct / tests``, with the Wilson 95 % interval (:func:`wilson_interval`);
    ``chance = mean over tests of 1 / L_b``. Rows (metrics ``layer_identification_accuracy``
    and ``layer_identification_chance``, ``variant`` = measure, ``label`` = family): ``model``
    = ``""`` for all seed groups pooled, then one per seed group (``model`` = its key).
    Measures without any pair are skipped.

    Raises:
        ValueError: a store of the rows is not in the model sheet.
    """
    return make_rows(_identification(rows, sheet, measure_matrices(rows)))


def _identification(
    rows: pd.DataFrame, sheet: pd.DataFrame, matrices: Mapping[MatrixKey, np.ndarray]
) -> list[dict]:
    stores = list(store_layers(rows))
    indexed = check_sheet(stores, sheet)
    return identification_dicts(
        matrices, measure_infos(rows), seed_groups(indexed, stores), store_datasets(rows)
    )


# --------------------------------------------------------------------------- label randomisation


def setting_value(value: object) -> str:
    """A sheet setting as comparable text (lists joined, missing values ``""``)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def counterpart_groups(
    control: str, sheet: pd.DataFrame, groups: Mapping[str, Sequence[str]]
) -> list[str]:
    """Seed groups (keys of ``groups``) whose stores share the control's
    :data:`COUNTERPART_KEYS` (those the sheet has); among several, those sharing the most
    :data:`TIE_BREAK_KEYS`."""
    row = sheet.loc[control]
    required = [k for k in COUNTERPART_KEYS if k in sheet.columns]
    extra = [k for k in TIE_BREAK_KEYS if k in sheet.columns]
    scored = []
    for group, stores in groups.items():
        first = sheet.loc[stores[0]]
        if all(setting_value(first[k]) == setting_value(row[k]) for k in required):
            score = sum(setting_value(first[k]) == setting_value(row[k]) for k in extra)
            scored.append((score, group))
    if not scored:
        return []
    top = max(score for score, _ in scored)
    return [group for score, group in scored if score == top]


def reference_store(stores: Sequence[str], sheet: pd.DataFrame) -> str:
    """The store of lowest ``seed`` (missing seeds last; ties by name)."""

    def key(store: str) -> tuple[float, str]:
        seed = sheet.loc[store, "seed"] if "seed" in sheet.columns else None
        missing = seed is None or pd.isna(seed)
        return (math.inf if missing else float(seed), store)

    return min(stores, key=key)


def oriented_value(
    matrices: Mapping[MatrixKey, np.ndarray],
    measure: str,
    reference: str,
    other: str,
    i: int,
    j: int,
) -> float:
    """The measure between layer ``i`` of ``other`` and layer ``j`` of ``reference``: from
    ``M[(measure, reference, other)][j, i]`` (reference first) when present, else from
    ``M[(measure, other, reference)][i, j]``; NaN when neither exists."""
    matrix = matrices.get((measure, reference, other))
    if matrix is not None:
        return float(matrix[j, i])
    matrix = matrices.get((measure, other, reference))
    return math.nan if matrix is None else float(matrix[i, j])


def has_pair(matrices: Mapping[MatrixKey, np.ndarray], measure: str, a: str, b: str) -> bool:
    """The rows hold ``measure`` between ``a`` and ``b`` in either order."""
    return (measure, a, b) in matrices or (measure, b, a) in matrices


def randomisation_tests(
    matrices: Mapping[MatrixKey, np.ndarray],
    info: MeasureInfo,
    control: str,
    reference: str,
    seeds: Sequence[str],
    layers: Mapping[str, Sequence[str]],
) -> tuple[int, int, list[float]]:
    """``(passed, tests, margins)`` of one control against one reference store.

    Pairs without any rows of the measure (the control's or a seed's with the reference, in
    either order) are skipped. For each other trained seed ``s`` and each ``(i, j)`` in both
    ``corresponding_layers(names_s, names_ref)`` and ``corresponding_layers(names_control,
    names_ref)`` (layer ``i`` of the seed and of the control, which share the architecture,
    against layer ``j`` of the reference): passed iff ``m(s, ref)`` is strictly closer than
    ``m(control, ref)`` (:func:`closer`); margin = ``m(s, ref) − m(control, ref)`` for a
    similarity, ``m(control, ref) − m(s, ref)`` for a distance (closer is positive), NaN when
    either value is.
    """
    passed = tests = 0
    margins: list[float] = []
    if not has_pair(matrices, info.name, reference, control):
        return passed, tests, margins
    names_ref, names_c = layers[reference], layers[control]
    control_pairs = set(corresponding_layers(names_c, names_ref))
    for seed in seeds:
        if not has_pair(matrices, info.name, reference, seed):
            continue
        for i, j in corresponding_layers(layers[seed], names_ref):
            if (i, j) not in control_pairs:
                continue
            trained = oriented_value(matrices, info.name, reference, seed, i, j)
            shuffled = oriented_value(matrices, info.name, reference, control, i, j)
            passed += closer(trained, shuffled, info.larger_is_closer)
            tests += 1
            sign = 1.0 if info.larger_is_closer else -1.0
            margins.append(sign * (trained - shuffled))
    return passed, tests, margins


def randomisation_dicts(
    matrices: Mapping[MatrixKey, np.ndarray],
    infos: Mapping[str, MeasureInfo],
    controls: Mapping[str, list[tuple[str, list[str]]]],
    layers: Mapping[str, Sequence[str]],
    datasets: Mapping[str, str],
) -> list[dict]:
    """Row dicts of the label-randomisation test (module docstring for the format).

    ``controls``: ``control -> [(reference, other seeds), ...]``, one entry per counterpart.
    """
    out = []
    for measure, info in infos.items():
        # (control, reference, passed, tests, margins, stores involved)
        results = []
        for control, counterparts in controls.items():
            for reference, seeds in counterparts:
                passed, tests, margins = randomisation_tests(
                    matrices, info, control, reference, seeds, layers
                )
                if tests:
                    stores = [control, reference, *seeds]
                    results.append((control, reference, passed, tests, margins, stores))
        if not results:
            continue
        pooled = (
            "",
            "",
            sum(r[2] for r in results),
            sum(r[3] for r in results),
            [m for r in results for m in r[4]],
            [s for r in results for s in r[5]],
        )
        for control, reference, passed, tests, margins, stores in [pooled, *results]:
            low, high = wilson_interval(int(passed), int(tests))
            finite = np.asarray(margins, dtype=float)
            finite = finite[np.isfinite(finite)]
            base = {
                "analysis": ANALYSIS,
                "dataset": common_dataset(stores, datasets),
                "model": control,
                "other_model": reference,
                "label": info.family,
                "variant": measure,
            }
            out.append(
                {
                    **base,
                    "metric": "label_randomisation_pass",
                    "value": passed / tests,
                    "ci_low": low,
                    "ci_high": high,
                    "n": int(tests),
                }
            )
            out.append(
                {
                    **base,
                    "metric": "label_randomisation_margin",
                    "value": float(finite.mean()),
                    "n": int(finite.size),
                }
            )
    return out


def label_randomisation_rows(rows: pd.DataFrame, sheet: pd.DataFrame) -> pd.DataFrame:
    """The label-randomisation test of every measure: is a control (sheet ``kind`` =
    ``control``, e.g. trained on shuffled labels) farther from a trained seed than the other
    trained seeds are?

    Counterpart of a control: the seed groups (>= 2 trained stores in the rows) with the same
    ``dataset``, ``session``, ``architecture``, ``conditional`` and ``labels`` (those columns
    the sheet has; among several, those also sharing most of :data:`TIE_BREAK_KEYS`). Reference
    = the counterpart's store of lowest seed. For every other seed ``s`` and corresponding layer
    pair ``(i, j)`` (:func:`randomisation_tests`) the test passes iff ``m(s, ref)`` is strictly
    closer than ``m(control, ref)`` (NaN fails). Values are read with the reference as the
    first store when those rows exist, else in the other order (:func:`oriented_value`; this
    matters for asymmetric measures only).

    Rows per measure (``variant``; ``label`` = family): metric ``label_randomisation_pass``
    (fraction passed, ``n`` = tests, Wilson 95 % interval) and ``label_randomisation_margin``
    (mean margin, closer is positive, ``n`` = finite margins), first pooled over every control
    (``model`` = ``other_model`` = ``""``), then per control (``model`` = control store,
    ``other_model`` = reference store). No rows without a control or counterpart.

    Raises:
        ValueError: a store of the rows is not in the model sheet.
    """
    return make_rows(_randomisation(rows, sheet, measure_matrices(rows)))


def _randomisation(
    rows: pd.DataFrame, sheet: pd.DataFrame, matrices: Mapping[MatrixKey, np.ndarray]
) -> list[dict]:
    layers = store_layers(rows)
    indexed = check_sheet(layers, sheet)
    groups = seed_groups(indexed, layers)
    controls: dict[str, list[tuple[str, list[str]]]] = {}
    for control in sorted(s for s in layers if indexed.at[s, "kind"] == "control"):
        found = counterpart_groups(control, indexed, groups)
        if not found:
            log.warning("label randomisation: no trained seed group matches control %s", control)
        for group in found:
            reference = reference_store(groups[group], indexed)
            seeds = [s for s in groups[group] if s != reference]
            controls.setdefault(control, []).append((reference, seeds))
    return randomisation_dicts(
        matrices, measure_infos(rows), controls, layers, store_datasets(rows)
    )


def grounding_rows(rows: pd.DataFrame, sheet: pd.DataFrame) -> pd.DataFrame:
    """Layer identification (:func:`layer_identification_rows`) then label randomisation
    (:func:`label_randomisation_rows`) as one results frame."""
    matrices = measure_matrices(rows)
    return make_rows(_identification(rows, sheet, matrices) + _randomisation(rows, sheet, matrices))


# --------------------------------------------------------------------------- model space


def classical_mds(distances: np.ndarray, dimensions: int = 2) -> tuple[np.ndarray, float]:
    r"""Classical (Torgerson) MDS of a symmetric distance matrix ``D`` (``K × K``).

    ``B = -½ J D^{∘2} J`` with ``J = I − 11ᵀ/K``; coordinates = the eigenvectors of the
    ``dimensions`` largest eigenvalues ``λ_k`` scaled by ``sqrt(max(λ_k, 0))``, each
    eigenvector's sign fixed so that its largest-|value| entry is positive. Returns
    ``(K × dimensions coordinates, explained)`` with ``explained = Σ_{k ≤ dims} max(λ_k, 0) /
    Σ_k max(λ_k, 0)`` (NaN when all distances are 0). Exact for Euclidean distances of
    points in ``dimensions`` dimensions (explained = 1).
    """
    d = np.asarray(distances, dtype=float)
    k = d.shape[0]
    centring = np.eye(k) - np.full((k, k), 1.0 / k)
    b = -0.5 * centring @ (d * d) @ centring
    values, vectors = np.linalg.eigh((b + b.T) / 2)
    order = np.argsort(values)[::-1]
    values, vectors = values[order], vectors[:, order]
    coords = np.zeros((k, dimensions))
    for c in range(min(dimensions, k)):
        v = vectors[:, c]
        if v[np.argmax(np.abs(v))] < 0:
            v = -v
        coords[:, c] = v * math.sqrt(max(values[c], 0.0))
    positive = np.clip(values, 0.0, None)
    total = float(positive.sum())
    explained = float(positive[:dimensions].sum() / total) if total > 0 else math.nan
    return coords, explained


def average_linkage(distances: np.ndarray) -> np.ndarray:
    """Average-linkage (UPGMA) hierarchical clustering of a symmetric, zero-diagonal distance
    matrix: ``scipy.cluster.hierarchy.linkage(squareform(D), method="average")``, shape
    ``(K − 1) × 4``."""
    d = np.asarray(distances, dtype=float)
    if d.shape[0] < 2:
        return np.zeros((0, 4))
    return linkage(squareform(d, checks=False), method="average")


def layer_keys(layers: Mapping[str, Sequence[str]], stores: Sequence[str]) -> list[str]:
    """Layer names (non-empty) that occur exactly once in every store of ``stores``, in the
    layer order of the first, then ``"embedding"`` (each store's last layer)."""
    if not stores:
        return []
    shared = [
        n
        for n in layers[stores[0]]
        if n and n != "embedding" and all(list(layers[s]).count(n) == 1 for s in stores)
    ]
    return [*dict.fromkeys(shared), "embedding"]


def distance_matrix(
    matrices: Mapping[MatrixKey, np.ndarray],
    measure: str,
    stores: Sequence[str],
    layers: Mapping[str, Sequence[str]],
    key: str,
) -> np.ndarray:
    """``K × K`` matrix of ``measure`` between the layer ``key`` of every two stores
    (``"embedding"``: the last layers): ``D_pq = (M_pq + M_qp) / 2`` over the orders present
    (one order if only one is), zero diagonal, NaN where neither order exists."""
    k = len(stores)
    out = np.zeros((k, k))
    where = {
        s: len(layers[s]) - 1 if key == "embedding" else list(layers[s]).index(key) for s in stores
    }
    for p, a in enumerate(stores):
        for q, b in enumerate(stores):
            if p >= q:
                continue
            values = []
            if (measure, a, b) in matrices:
                values.append(matrices[(measure, a, b)][where[a], where[b]])
            if (measure, b, a) in matrices:
                values.append(matrices[(measure, b, a)][where[b], where[a]])
            finite = [v for v in values if np.isfinite(v)]
            out[p, q] = out[q, p] = float(np.mean(finite)) if finite else math.nan
    return out


def complete_stores(distances: np.ndarray, stores: Sequence[str]) -> list[int]:
    """Indices of the stores kept so that no distance is NaN: repeatedly drop the store with
    the most missing distances (ties: the later one in ``stores``)."""
    keep = list(range(len(stores)))
    while keep:
        sub = np.isnan(distances[np.ix_(keep, keep)]).sum(axis=1)
        if not sub.any():
            break
        worst = max(range(len(keep)), key=lambda k: (sub[k], k))
        keep.pop(worst)
    return keep


def text_array(values: Iterable[object]) -> np.ndarray:
    """Strings as a numpy unicode array (``np.savez`` without pickling)."""
    return np.asarray([str(v) for v in values], dtype=str)


def model_space(
    rows: pd.DataFrame, sheet: pd.DataFrame, measure: str = "procrustes_angular"
) -> dict[str, np.ndarray]:
    """Every store placed by one distance ``measure``, per layer: MDS map and clustering.

    Stores: every store in the rows of ``measure``. Layer keys (:func:`layer_keys`): each
    layer name present once in every store, then ``"embedding"`` (every store's last layer).
    Per key, the ``K × K`` distances (:func:`distance_matrix`); stores with missing pairs are
    dropped (logged, :func:`complete_stores`); keys with fewer than 2 stores left are skipped;
    negative distances (a distance is >= 0: rounding) are set to 0 (logged).

    Returns a flat mapping for ``np.savez`` (strings as unicode arrays):
    ``measure`` (0-d), ``layers`` (keys kept), ``stores``, ``groups``, ``kinds`` (all stores,
    from the sheet), and per key ``<key>__stores`` (the stores kept), ``<key>__distances``
    (``K × K``), ``<key>__mds`` (``K × 2``, :func:`classical_mds`), ``<key>__mds_explained``
    (0-d) and ``<key>__linkage`` (``(K − 1) × 4``, :func:`average_linkage`).

    Raises:
        ValueError: ``measure`` is a similarity, or has no rows (names those present), or a
            store is not in the model sheet.
    """
    if measure in MEASURES and MEASURES[measure].kind != "distance":
        raise ValueError(
            f"model space needs a distance measure; {measure!r} is a {MEASURES[measure].kind}"
        )
    matrices = measure_matrices(rows)
    present = sorted({key[0] for key in matrices})
    stores = sorted({s for m, a, b in matrices if m == measure for s in (a, b)})
    if not stores:
        raise ValueError(
            f"model space: the results rows hold no values of measure {measure!r} "
            f"(measures present: {present})"
        )
    indexed = check_sheet(stores, sheet)
    layers = store_layers(rows)
    out: dict[str, np.ndarray] = {
        "measure": np.asarray(measure, dtype=str),
        "stores": text_array(stores),
        "groups": text_array(setting_value(indexed.at[s, "group"]) for s in stores),
        "kinds": text_array(setting_value(indexed.at[s, "kind"]) for s in stores),
    }
    kept_keys = []
    for key in layer_keys(layers, stores):
        full = distance_matrix(matrices, measure, stores, layers, key)
        keep = complete_stores(full, stores)
        dropped = [s for k, s in enumerate(stores) if k not in keep]
        if dropped:
            log.warning(
                "model space, layer %s: dropped %s (missing %s pairs)", key, dropped, measure
            )
        if len(keep) < 2:
            log.warning("model space, layer %s: fewer than 2 stores; skipped", key)
            continue
        d = full[np.ix_(keep, keep)]
        if (d < 0).any():  # a distance is >= 0; rounding may leave tiny negatives
            log.warning("model space, layer %s: %d negative distances set to 0", key, (d < 0).sum())
            d = np.clip(d, 0.0, None)
        coords, explained = classical_mds(d)
        kept_keys.append(key)
        out[f"{key}__stores"] = text_array(stores[k] for k in keep)
        out[f"{key}__distances"] = d
        out[f"{key}__mds"] = coords
        out[f"{key}__mds_explained"] = np.asarray(explained)
        out[f"{key}__linkage"] = average_linkage(d)
    out["layers"] = text_array(kept_keys)
    return out
