"""RSA across the models and seeds of one recording, as results rows: the condition-permutation
null of the RSA between every pair of stores (:func:`rsa_null_rows`) and the noise ceiling of
the RDM-vs-oracle scores across the seeds of each seed group (:func:`rdm_noise_ceiling_rows`).

- **RSA null** (:func:`rsa_null_rows`): :func:`~cebra_lens_core.stats.rdm.rdm_permutation_null`
  of the layer RDMs of two stores, for corresponding layer pairs
  (:func:`~cebra_lens_core.naming.corresponding_layers`) or all of them.
- **Noise ceiling** (:func:`rdm_noise_ceiling_rows`): across the seeds of a seed group,
  :func:`~cebra_lens_core.stats.rdm.noise_ceiling` of the layer RDMs against the oracle.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from cebra_lens_core.naming import corresponding_layers
from cebra_lens_core.results import make_rows
from cebra_lens_core.stats.options import NullOptions
from cebra_lens_core.stats.rdm import noise_ceiling, rdm_permutation_null

log = logging.getLogger(__name__)

__all__ = ["rsa_null_rows", "rdm_noise_ceiling_rows"]


def _layer_keys(arrays: Mapping[str, np.ndarray], label: str) -> list[str]:
    prefix = f"{label}/layer_"
    return sorted(k for k in arrays if k.startswith(prefix) and k[len(prefix) :].isdigit())


def rsa_null_rows(
    rdms: Mapping[str, Mapping[str, np.ndarray]],
    *,
    label: str,
    comparator: str,
    null: NullOptions,
    dataset: str = "",
    layer_names: Mapping[str, Sequence[str]] | None = None,
) -> pd.DataFrame:
    """Condition-label permutation null of the RSA between every pair of distinct stores.

    Rows (analysis ``rdm``, label, variant = comparator, ``n`` = permutations): metric
    ``p_value`` (``(1 + #{null ≥ observed}) / (1 + n)``) and ``null_95th`` for the layer
    pairs of ``null.layers`` (corresponding layers:
    :func:`~cebra_lens_core.naming.corresponding_layers` on ``layer_names``, by index
    without names). The keys match the ``rsa`` rows of
    :func:`~cebra_lens_core.analyses.rdm.rsa_between`.
    """
    names = [n for n in rdms if f"{label}/ids" in rdms[n]]
    layer_names = layer_names or {}
    rows = []
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            ids = rdms[a][f"{label}/ids"]
            if len(ids) < 3 or not np.array_equal(ids, rdms[b][f"{label}/ids"]):
                continue
            ka, kb = _layer_keys(rdms[a], label), _layer_keys(rdms[b], label)
            if null.layers == "all":
                pairs = [(x, y) for x in range(len(ka)) for y in range(len(kb))]
            else:
                na = list(layer_names.get(a, [""] * len(ka)))
                nb = list(layer_names.get(b, [""] * len(kb)))
                if len(na) != len(ka) or len(nb) != len(kb):
                    na, nb = [""] * len(ka), [""] * len(kb)
                pairs = corresponding_layers(na, nb)
            for x, y in pairs:
                da, db = rdms[a][ka[x]], rdms[b][kb[y]]
                if not (np.isfinite(da).all() and np.isfinite(db).all()):
                    continue
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    res = rdm_permutation_null(
                        da, db, null.n_permutations, null.seed, comparator, quantile=null.quantile
                    )
                base = {
                    "analysis": "rdm",
                    "dataset": dataset,
                    "model": a,
                    "layer": x,
                    "other_model": b,
                    "other_layer": y,
                    "label": label,
                    "variant": comparator,
                    "n": null.n_permutations,
                }
                rows.append({**base, "metric": "p_value", "value": float(res.p_value)})
                rows.append({**base, "metric": "null_95th", "value": float(res.null_quantile)})
    return make_rows(rows)


def rdm_noise_ceiling_rows(
    rdms: Mapping[str, Mapping[str, np.ndarray]],
    groups: Mapping[str, Sequence[str]],
    *,
    comparator: str,
    metric_name: str,
    dataset: str = "",
    layer_names: Mapping[str, Sequence[str]] | None = None,
) -> pd.DataFrame:
    """Noise ceiling of the RDM-vs-oracle score of every layer across the seeds of a group.

    For each seed group (stores differing only by seed), label with an oracle
    (``<label>/oracle`` in the arrays) and layer,
    :func:`~cebra_lens_core.stats.rdm.noise_ceiling` of the seeds' RDMs: ``lower`` = mean over
    seeds of the similarity to the mean RDM of the *other* seeds, ``upper`` = to the mean of
    all seeds (Nili et al. 2014). Rows analysis ``rdm``, model = group, metric
    ``noise_ceiling_low`` / ``noise_ceiling_high``, variant ``<metric>/<comparator>`` (as the
    ``oracle_similarity`` rows), ``n`` = seeds.
    """
    layer_names = layer_names or {}
    rows = []
    for group, stores in groups.items():
        stores = [s for s in stores if s in rdms]
        if len(stores) < 2:
            continue
        labels = sorted({k[: -len("/oracle")] for k in rdms[stores[0]] if k.endswith("/oracle")})
        for label in labels:
            ids = rdms[stores[0]][f"{label}/ids"]
            if any(
                f"{label}/oracle" not in rdms[s] or not np.array_equal(rdms[s][f"{label}/ids"], ids)
                for s in stores
            ):
                log.info("noise ceiling of %s, %s: seeds have different conditions", group, label)
                continue
            keys = [_layer_keys(rdms[s], label) for s in stores]
            if len({len(k) for k in keys}) != 1:
                continue
            names = list(layer_names.get(stores[0], []))
            for index in range(len(keys[0])):
                mats = [rdms[s][k[index]] for s, k in zip(stores, keys, strict=True)]
                if not all(np.isfinite(m).all() for m in mats):
                    continue
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    nc = noise_ceiling(mats, comparator)
                base = {
                    "analysis": "rdm",
                    "dataset": dataset,
                    "model": group,
                    "layer": index,
                    "layer_name": names[index] if index < len(names) else "",
                    "label": label,
                    "variant": f"{metric_name}/{comparator}",
                    "n": len(stores),
                }
                rows.append({**base, "metric": "noise_ceiling_low", "value": nc.lower})
                rows.append({**base, "metric": "noise_ceiling_high", "value": nc.upper})
    return make_rows(rows)
