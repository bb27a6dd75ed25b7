"""RSA across the models and seeds of one recording (analyses.rsa): permutation-null rows and
noise-ceiling rows."""

from __future__ import annotations

import numpy as np
import pytest

from cebra_lens_core.analyses.rsa import rdm_noise_ceiling_rows, rsa_null_rows
from cebra_lens_core.metrics.rdm import oracle_rdm, rdm_from_means
from cebra_lens_core.stats.options import NullOptions


def _rdm_arrays(rdms, label="pos", ids=None):
    ids = np.arange(rdms[0].shape[0]) if ids is None else ids
    out = {f"{label}/ids": ids, f"{label}/oracle": oracle_rdm(ids, kind="ordinal")}
    out.update({f"{label}/layer_{i:02d}": d for i, d in enumerate(rdms)})
    return out


def test_noise_ceiling_one_for_identical_seeds_and_lower_for_noisy_ones():
    rng = np.random.default_rng(5)
    means = rng.normal(size=(8, 10))
    d = rdm_from_means(means, "euclidean")
    same = {"g_seed0": _rdm_arrays([d, d]), "g_seed1": _rdm_arrays([d, d])}
    rows = rdm_noise_ceiling_rows(
        same, {"g": ["g_seed0", "g_seed1"]}, comparator="spearman", metric_name="euclidean"
    )
    assert set(rows["metric"]) == {"noise_ceiling_low", "noise_ceiling_high"}
    assert np.allclose(rows["value"], 1.0) and set(rows["n"]) == {2}
    assert set(rows["variant"]) == {"euclidean/spearman"} and set(rows["model"]) == {"g"}
    noisy = {
        f"g_seed{s}": _rdm_arrays(
            [rdm_from_means(means + rng.normal(size=means.shape), "euclidean")]
        )
        for s in range(3)
    }
    rows = rdm_noise_ceiling_rows(
        noisy, {"g": list(noisy)}, comparator="spearman", metric_name="euclidean"
    ).set_index("metric")["value"]
    assert rows["noise_ceiling_low"] < rows["noise_ceiling_high"] < 1.0


def test_rsa_permutation_null_rows():
    rng = np.random.default_rng(6)
    d = rdm_from_means(rng.normal(size=(9, 12)), "euclidean")
    other = rdm_from_means(rng.normal(size=(9, 12)), "euclidean")
    rdms = {"A": _rdm_arrays([d]), "B": _rdm_arrays([d + 0.01]), "C": _rdm_arrays([other])}
    rows = rsa_null_rows(rdms, label="pos", comparator="spearman", null=NullOptions(49))
    p = rows[rows["metric"] == "p_value"].set_index(["model", "other_model"])["value"]
    assert p[("A", "B")] == pytest.approx(1 / 50)
    assert p[("A", "C")] > 0.05
    assert set(rows["variant"]) == {"spearman"} and set(rows["n"]) == {49}
