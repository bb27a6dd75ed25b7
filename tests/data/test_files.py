"""User files through cebra.load_data: round trips per format and every error case."""

from __future__ import annotations

import numpy as np
import pytest

from cebra_lens_core.data import load_dataset
from cebra_lens_core.data.files import load_files, read_array
from cebra_lens_core.data.types import DataError

T = 120


def _recording(seed: int, n_neurons: int, n_timepoints: int = T):
    rng = np.random.default_rng(seed)
    neural = rng.poisson(2.0, (n_timepoints, n_neurons)).astype(np.float64)
    position = rng.uniform(0, 1.6, n_timepoints)
    direction = rng.integers(0, 2, n_timepoints)
    return neural, position, direction


def _check(ds, recordings):
    assert ds.n_sessions == len(recordings)
    for session, (neural, position, direction) in zip(ds.sessions, recordings, strict=True):
        assert session.neural.dtype == np.float32
        np.testing.assert_array_equal(session.neural, neural.astype(np.float32))
        assert session.labels["position"].dtype == np.float64
        np.testing.assert_array_equal(session.labels["position"], position)
        assert session.labels["direction"].dtype == np.int64
        np.testing.assert_array_equal(session.labels["direction"], direction)
        assert session.train.sum() == round(0.8 * len(neural))
    assert ds.label_info["position"].kind == "continuous"
    assert ds.label_info["position"].unit == "m"
    assert ds.label_info["direction"].kind == "discrete"
    assert ds.label_info["direction"].categories == ("right", "left")


LABELS = {
    "position": {"key": "behavior", "columns": [0], "kind": "continuous", "unit": "m"},
    "direction": {
        "key": "behavior",
        "columns": [1],
        "kind": "discrete",
        "categories": ["right", "left"],
    },
}


# --------------------------------------------------------------------------- round trips


def test_npz_two_sessions_with_different_neuron_counts(tmp_path):
    recordings = [_recording(0, 10), _recording(1, 13, n_timepoints=90)]
    sessions = []
    for k, (neural, position, direction) in enumerate(recordings):
        path = tmp_path / f"rat{k}.npz"
        np.savez(path, neural=neural, behavior=np.stack([position, direction], axis=1))
        # labels without 'file' are read from the session's neural file
        sessions.append({"neural": {"file": str(path), "key": "neural"}, "labels": LABELS})
    ds = load_dataset("rats", {"source": "files", "sessions": sessions, "bin_width_s": 0.025})
    _check(ds, recordings)
    assert [s.n_neurons for s in ds.sessions] == [10, 13]
    assert ds.bin_width_s == 0.025
    assert ds.metadata["source"] == "files"


def test_h5_arrays(tmp_path):
    h5py = pytest.importorskip("h5py")
    recordings = [_recording(2, 8), _recording(3, 8)]
    sessions = []
    for k, (neural, position, direction) in enumerate(recordings):
        path = tmp_path / f"rec{k}.h5"
        with h5py.File(path, "w") as f:
            f["neural"] = neural
            f["behavior"] = np.stack([position, direction], axis=1)
        labels = {name: {"file": str(path), **spec} for name, spec in LABELS.items()}
        sessions.append({"neural": {"file": str(path), "key": "neural"}, "labels": labels})
    _check(load_dataset("h5", {"source": "files", "sessions": sessions}), recordings)


def test_h5_dataframe_columns_by_name_and_position(tmp_path):
    pytest.importorskip("tables")
    import pandas as pd

    neural, position, direction = _recording(4, 6)
    path = tmp_path / "table.h5"
    pd.DataFrame(neural, columns=[f"n{i}" for i in range(6)]).to_hdf(path, key="neural")
    pd.DataFrame({"pos": position, "dir": direction}).to_hdf(path, key="behavior")
    labels = {
        "position": {"key": "behavior", "columns": ["pos"], "unit": "m"},
        "direction": {
            "key": "behavior",
            "columns": [1],
            "kind": "discrete",
            "categories": ["right", "left"],
        },
    }
    session = {"neural": {"file": str(path), "key": "neural"}, "labels": labels}
    _check(load_files("df", [session]), [(neural, position, direction)])


def test_csv_with_and_without_header(tmp_path):
    neural, position, direction = _recording(5, 7)
    neural_path = tmp_path / "neural.csv"
    np.savetxt(neural_path, neural, delimiter=",", fmt="%d")
    behaviour = tmp_path / "behaviour.csv"
    with open(behaviour, "w") as f:
        f.write("position,direction\n")
        for p, d in zip(position, direction, strict=True):
            f.write(f"{float(p)!r},{d}\n")
    labels = {
        "position": {"file": str(behaviour), "columns": ["position"], "unit": "m"},
        "direction": {
            "file": str(behaviour),
            "columns": [1],
            "kind": "discrete",
            "categories": ["right", "left"],
        },
    }
    session = {"neural": {"file": str(neural_path)}, "labels": labels}
    _check(load_files("csv", [session]), [(neural, position, direction)])


def test_mat_v5(tmp_path):
    from scipy.io import savemat

    neural, position, direction = _recording(6, 9)
    path = tmp_path / "rec.mat"
    savemat(path, {"spikes": neural, "pos": position[:, None], "dir": direction[None, :]})
    labels = {
        "position": {"key": "pos", "unit": "m"},
        "direction": {"key": "dir", "kind": "discrete", "categories": ["right", "left"]},
    }
    # savemat stores 1-D arrays as row vectors: the (1, T) direction must be rejected clearly,
    # a column vector (T, 1) is accepted
    session = {"neural": {"file": str(path), "key": "spikes"}, "labels": labels}
    with pytest.raises(DataError, match=r"'direction'.*shape \(1, 120\)"):
        load_files("mat", [session])
    savemat(path, {"spikes": neural, "pos": position[:, None], "dir": direction[:, None]})
    _check(load_files("mat", [session]), [(neural, position, direction)])


def _write_mat_v73(path, arrays):
    """A MATLAB v7.3 file: HDF5 with a 512-byte MATLAB header, arrays stored transposed."""
    import h5py

    with h5py.File(path, "w", userblock_size=512) as f:
        for key, value in arrays.items():
            f[key] = np.asarray(value).T
    header = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 HDF5"
    header = header.ljust(116, b" ") + b"\x00" * 8 + b"\x00\x02" + b"IM"
    with open(path, "r+b") as f:
        f.write(header)


def test_mat_v73(tmp_path):
    neural, position, direction = _recording(7, 5)
    path = tmp_path / "rec73.mat"
    _write_mat_v73(path, {"spikes": neural, "behavior": np.stack([position, direction], 1)})
    session = {"neural": {"file": str(path), "key": "spikes"}, "labels": LABELS}
    _check(load_files("mat73", [session]), [(neural, position, direction)])


def test_npy_and_joblib(tmp_path):
    import joblib

    neural, position, direction = _recording(8, 4)
    np.save(tmp_path / "neural.npy", neural)
    joblib.dump({"position": position, "direction": direction}, tmp_path / "labels.jl")
    labels = {
        "position": {"file": "labels.jl", "key": "position", "unit": "m"},
        "direction": {
            "file": "labels.jl",
            "key": "direction",
            "kind": "discrete",
            "categories": ["right", "left"],
        },
    }
    session = {"neural": {"file": "neural.npy"}, "labels": labels}  # relative to base_dir
    ds = load_dataset("npy", {"source": "files", "sessions": [session]}, base_dir=tmp_path)
    _check(ds, [(neural, position, direction)])


def test_neural_columns_select_neurons_and_labels_are_optional(tmp_path):
    neural = np.arange(40.0).reshape(10, 4)
    np.save(tmp_path / "n.npy", neural)
    np.testing.assert_array_equal(read_array(tmp_path / "n.npy", columns=[0, 2]), neural[:, [0, 2]])
    ds = load_files("bare", [{"neural": {"file": str(tmp_path / "n.npy"), "columns": [1, 3]}}])
    np.testing.assert_array_equal(ds.sessions[0].neural, neural[:, [1, 3]])
    assert ds.label_info == {}


def test_discrete_label_given_as_integral_floats_is_accepted(tmp_path):
    neural, position, direction = _recording(9, 3)
    path = tmp_path / "r.npz"
    np.savez(path, neural=neural, direction=direction.astype(float))
    session = {
        "neural": {"file": str(path), "key": "neural"},
        "labels": {"direction": {"key": "direction", "kind": "discrete"}},
    }
    ds = load_files("f", [session])
    assert ds.sessions[0].labels["direction"].dtype == np.int64
    np.testing.assert_array_equal(ds.sessions[0].labels["direction"], direction)


# --------------------------------------------------------------------------- errors


@pytest.fixture
def npz(tmp_path):
    neural, position, direction = _recording(10, 6)
    path = tmp_path / "rec.npz"
    np.savez(
        path,
        neural=neural,
        position=position,
        direction=direction,
        halfpos=position[: T // 2],
        fractional=position * 3.3,
        neural_1d=neural[:, 0],
        neural_nan=np.where(np.arange(T)[:, None] == 7, np.nan, neural),
    )
    return path


def _session(path, neural_key="neural", **labels):
    return {"neural": {"file": str(path), "key": neural_key}, "labels": labels}


def _error(sessions) -> str:
    with pytest.raises(DataError) as info:
        load_files("ds", sessions)
    return str(info.value)


def test_missing_file_names_path_session_and_label(npz, tmp_path):
    text = _error([{"neural": {"file": str(tmp_path / "nope.npz"), "key": "neural"}}])
    assert "nope.npz" in text and "session 0" in text and "neural" in text
    missing_label = {"file": str(tmp_path / "gone.npy")}
    text = _error([_session(npz), _session(npz, position=missing_label)])
    assert "gone.npy" in text and "session 1" in text and "'position'" in text
    assert "does not exist" in text


def test_wrong_key_lists_keys_present(npz, tmp_path):
    text = _error([_session(npz, neural_key="spikes")])
    assert "'spikes'" in text and str(npz) in text
    assert "'neural'" in text and "'position'" in text  # keys present are listed

    import h5py

    h5 = tmp_path / "r.h5"
    with h5py.File(h5, "w") as f:
        f["neural"] = np.ones((T, 2))
        f["grp/pos"] = np.ones(T)
    text = _error([_session(h5, neural_key="spikes")])
    assert "'spikes'" in text and "'neural'" in text and "'grp/pos'" in text

    from scipy.io import savemat

    mat = tmp_path / "r.mat"
    savemat(mat, {"spikes": np.ones((T, 2))})
    text = _error([_session(mat, neural_key="neural")])
    assert "'neural'" in text and "'spikes'" in text


def test_several_arrays_without_key_and_key_on_single_array_file(npz, tmp_path):
    text = _error([{"neural": {"file": str(npz)}}])
    assert "several arrays" in text and "key" in text
    np.save(tmp_path / "x.npy", np.ones((T, 2)))
    text = _error([{"neural": {"file": str(tmp_path / "x.npy"), "key": "neural"}}])
    assert "single array" in text


def test_one_dimensional_and_nan_neural(npz):
    text = _error([_session(npz, neural_key="neural_1d")])
    assert "2-D" in text and "(120,)" in text and "neural_1d" in text
    text = _error([_session(npz, neural_key="neural_nan")])
    assert "NaN" in text and "time 7" in text and "neural_nan" in text


def test_label_of_wrong_length_names_label_file_and_both_lengths(npz):
    text = _error([_session(npz, position={"key": "halfpos"})])
    assert "'position'" in text and str(npz.name) in text and "halfpos" in text
    assert "60 values" in text and "120 time points" in text


def test_transposed_neural_gets_a_hint(tmp_path):
    path = tmp_path / "t.npz"
    np.savez(path, neural=np.ones((6, 50)), position=np.zeros(50))
    text = _error([_session(path, position={"key": "position"})])
    assert "neurons × time" in text


def test_discrete_label_with_fractional_values(npz):
    text = _error([_session(npz, position={"key": "fractional", "kind": "discrete"})])
    assert "'position'" in text and "discrete" in text and "non-integer" in text


def test_bad_label_specs(npz):
    assert "kind must be one of" in _error(
        [_session(npz, position={"key": "position", "kind": "x"})]
    )
    text = _error([_session(npz, position={"key": "position", "colums": [0]})])
    assert "did you mean 'columns'" in text
    text = _error([_session(npz, position={"key": "neural"})])
    assert "shape (120, 6)" in text and "columns" in text
    text = _error([_session(npz, position={"key": "neural", "columns": [9]})])
    assert "column 9 is out of range" in text
    text = _error(
        [_session(npz, direction={"key": "direction", "kind": "discrete", "categories": ["only"]})]
    )
    assert "categories" in text and "codes" in text


def test_sessions_must_share_label_names(npz):
    text = _error([_session(npz, position={"key": "position"}), _session(npz)])
    assert "session 1" in text and "same labels" in text


def test_bad_sessions_entry(npz):
    assert "non-empty list" in _error([])
    assert "non-empty list" in _error({"neural": {"file": str(npz)}})
    assert "missing 'neural'" in _error([{"labels": {}}])
    assert "did you mean 'labels'" in _error([{"neural": {"file": str(npz)}, "label": {}}])


def test_unknown_format_is_reported(tmp_path):
    path = tmp_path / "data.xyz"
    path.write_text("1,2\n")
    text = _error([{"neural": {"file": str(path)}}])
    assert "data.xyz" in text and "not supported" in text


# --------------------------------------------------------------------------- CEBRA's own files


def _rat_files(tmp_path, suffix: str):
    """A CEBRA rat-hippocampus recording (``spikes``, ``position`` = [pos, right, left]) in
    ``suffix`` format (``.jl`` as CEBRA publishes it: unaligned, written by an old joblib)."""
    import pickle

    from tests.forge import rat_recording, write_legacy_jl

    arrays = rat_recording(n_timepoints=300, n_neurons=12)
    path = tmp_path / f"achilles{suffix}"
    if suffix == ".jl":
        write_legacy_jl(path, arrays)
    elif suffix == ".pt":
        import torch

        torch.save({k: torch.from_numpy(v) for k, v in arrays.items()}, path)
    else:
        path.write_bytes(pickle.dumps(arrays))
    return path, arrays


RAT_LABELS = {
    "position": {"key": "position", "columns": [0], "unit": "m"},
    "direction": {"key": "position", "columns": [1], "kind": "discrete"},
}


@pytest.mark.parametrize("suffix", [".jl", ".pkl", ".pt"])
def test_cebra_container_files_round_trip(tmp_path, suffix):
    path, arrays = _rat_files(tmp_path, suffix)
    session = {"neural": {"file": str(path), "key": "spikes"}, "labels": RAT_LABELS}
    ds = load_files("rat", [session])
    np.testing.assert_array_equal(ds.sessions[0].neural, arrays["spikes"])
    np.testing.assert_array_equal(ds.sessions[0].labels["position"], arrays["position"][:, 0])
    np.testing.assert_array_equal(ds.sessions[0].labels["direction"], arrays["position"][:, 1])


@pytest.mark.parametrize("suffix", [".jl", ".pkl", ".pt"])
def test_label_without_key_in_a_multi_array_file_is_an_error(tmp_path, suffix):
    """Without `key` a label used to be read from the neural array (spike counts became
    'position in m'): every multi-array format now needs the key, and the error lists them."""
    path, _ = _rat_files(tmp_path, suffix)
    session = {
        "neural": {"file": str(path), "key": "spikes"},
        "labels": {"position": {"columns": [0], "unit": "m"}},
    }
    with pytest.raises(DataError, match=r"label 'position'.*holds several arrays.*'spikes'"):
        load_files("rat", [session])
    with pytest.raises(DataError, match=r"neural.*holds several arrays.*'position'"):
        load_files("rat", [{"neural": {"file": str(path)}}])
    with pytest.raises(DataError, match=r"key 'spike' not found.*'spikes', 'position'"):
        load_files("rat", [{"neural": {"file": str(path), "key": "spike"}}])


def test_label_identical_to_a_neural_column_is_an_error(tmp_path):
    neural, position, _ = _recording(4, 5)
    np.savez(tmp_path / "r.npz", neural=neural, position=position)
    session = {
        "neural": {"file": str(tmp_path / "r.npz"), "key": "neural"},
        "labels": {"position": {"key": "neural", "columns": [3], "unit": "m"}},
    }
    with pytest.raises(DataError, match=r"label 'position'.*identical to column 3 of the neural"):
        load_files("r", [session])


def test_cebra_jl_is_read_without_the_memory_map_warning(tmp_path):
    """CEBRA's `.jl` files make joblib warn 'not byte aligned ... segmentation faults' when
    memory-mapped (as cebra.load_data does); reading them must not alarm the user."""
    import warnings

    import joblib

    path, arrays = _rat_files(tmp_path, ".jl")
    with pytest.warns(UserWarning, match="not byte aligned"):  # the fixture is a faithful one
        joblib.load(path, mmap_mode="r")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        neural = read_array(path, "spikes")
    np.testing.assert_array_equal(neural, arrays["spikes"])
