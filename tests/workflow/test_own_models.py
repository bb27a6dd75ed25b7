"""The study our users run: their own multi-session checkpoints (saved by an older CEBRA on a
GPU) as seeds of one model, on one animal's recording in CEBRA's `.jl` format, beside an
untrained control — end to end through Snakemake."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cebra_lens_core.activations.store import open_activation_store
from cebra_lens_core.data.types import Dataset, LabelInfo, Session, blocked_split
from cebra_lens_core.models import train_model
from cebra_lens_core.results import load_summary
from tests.conftest import quick_spec
from tests.forge import rat_recording, write_legacy_checkpoint, write_legacy_jl
from tests.workflow.test_workflow import run_snakemake, write_config

N_NEURONS = (20, 16)  # two rats; the study analyses the second one


def own_models_config(files: str, jl: str) -> dict:
    """The README's "Analyse models you trained" config, on the forged files."""
    return {
        "results_dir": "results",
        "datasets": {
            "buddy": {
                "source": "files",
                "bin_width_s": 0.025,
                "sessions": [
                    {
                        "neural": {"file": jl, "key": "spikes"},
                        "labels": {
                            "position": {"key": "position", "columns": [0], "unit": "m"},
                            "direction": {
                                "key": "position",
                                "columns": [1],
                                "kind": "discrete",
                                "categories": ["left", "right"],
                            },
                        },
                    }
                ],
            }
        },
        "models": [
            {"name": "rats", "dataset": "buddy", "files": files, "session": 1},
            {
                "name": "untrained",
                "dataset": "buddy",
                "architecture": "offset10-model",
                "output_dimension": 3,
                "num_hidden_units": 8,
                "max_iterations": 0,
            },
        ],
        "cka": {"kinds": ["linear"]},
        "statistics": {"bootstrap": {"n_resamples": 10}, "nulls": {"n_permutations": 9}},
        "analyses": {
            "embedding": {"max_samples": 60},
            "single_unit": {"enabled": False},
            "goodness_of_fit": {"enabled": False},
            "attribution": {"enabled": False},
        },
    }


def forge_study(workdir: Path) -> dict:
    """Three 2-session checkpoints (legacy GPU format) and the second rat's `.jl` recording."""
    recordings = [rat_recording(600, n, seed=k) for k, n in enumerate(N_NEURONS)]
    sessions = [
        Session(r["spikes"], {"position": r["position"][:, 0]}, blocked_split(600, 0.2))
        for r in recordings
    ]
    data = Dataset("rats", sessions, {"position": LabelInfo("continuous", "m")}).validate()
    (workdir / "models").mkdir()
    for seed in range(3):
        spec = quick_spec("offset10-model", num_hidden_units=8, seed=seed)
        write_legacy_checkpoint(train_model(data, spec), workdir / "models" / f"rat_{seed}.pt")
    write_legacy_jl(workdir / "buddy.jl", recordings[1])
    return own_models_config("models/rat_*.pt", "buddy.jl")


@pytest.mark.workflow
def test_own_checkpoints_on_a_jl_recording(tmp_path):
    cfg = write_config(tmp_path, forge_study(tmp_path))
    result = run_snakemake(tmp_path, "--cores", "2", "--configfile", str(cfg))
    assert result.returncode == 0, result.stderr[-4000:]
    assert "not byte aligned" not in result.stderr
    results = tmp_path / "results"
    stores = sorted(p.name for p in (results / "activations").iterdir())
    assert stores == ["rats_seed0.zarr", "rats_seed1.zarr", "rats_seed2.zarr", "untrained.zarr"]
    summary = pd.read_csv(results / "summary.csv", keep_default_na=False)
    assert set(summary["model"]) - {"rats"} == {
        "rats_seed0",
        "rats_seed1",
        "rats_seed2",
        "untrained",
    }
    consistency = summary[summary["analysis"] == "consistency"]
    assert set(consistency["model"]) == {"rats_seed0", "rats_seed1", "rats_seed2"}
    ceiling = summary[summary["metric"].str.startswith("noise_ceiling")]
    assert set(ceiling["model"]) == {"rats"} and set(ceiling["n"].astype(int)) == {3}
    # the recording itself as the reference layer, in every per-layer analysis
    summary = load_summary(results / "summary.csv")
    refs = summary[summary["layer"].isna() & summary["layer_name"].isin(["input", "input_rf_mean"])]
    for analysis in ("rdm", "distance", "decoding", "dimensionality", "cka"):
        found = refs[(refs["analysis"] == analysis) & (refs["model"] == "rats_seed0")]
        assert set(found["layer_name"]) == {"input", "input_rf_mean"}, analysis
    decoding_input = refs[(refs["analysis"] == "decoding") & (refs["metric"] == "median_abs_error")]
    assert len(decoding_input) and set(decoding_input["unit"]) == {"m"}
    store = open_activation_store(results / "activations" / "rats_seed1.zarr")
    assert store.attrs["session_id"] == 1 and store.attrs["n_neurons"] == N_NEURONS[1]
    assert np.isfinite(store["layer_00"].values).all()
