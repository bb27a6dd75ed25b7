"""save_dataset / read_dataset: exact round trip, atomic write, clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cebra_lens_core.data import read_dataset, save_dataset
from cebra_lens_core.data.synthetic import GENERATORS
from cebra_lens_core.data.types import DataError, Dataset, LabelInfo, Session, blocked_split


def _assert_same(a: Dataset, b: Dataset) -> None:
    assert a.name == b.name
    assert a.label_info == b.label_info
    assert list(a.label_info) == list(b.label_info)  # label order kept
    assert a.n_sessions == b.n_sessions
    assert a.bin_width_s == b.bin_width_s or (np.isnan(a.bin_width_s) and np.isnan(b.bin_width_s))
    assert json.dumps(a.metadata, sort_keys=True) == json.dumps(b.metadata, sort_keys=True)
    for sa, sb in zip(a.sessions, b.sessions, strict=True):
        for x, y in [(sa.neural, sb.neural), (sa.train, sb.train)]:
            assert x.dtype == y.dtype
            np.testing.assert_array_equal(x, y)
        assert list(sa.labels) == list(sb.labels)
        for label in sa.labels:
            assert sa.labels[label].dtype == sb.labels[label].dtype
            np.testing.assert_array_equal(sa.labels[label], sb.labels[label])


@pytest.mark.parametrize("source", sorted(GENERATORS))
def test_round_trip_of_every_generator(tmp_path, source):
    ds = GENERATORS[source](n_neurons=9, n_sessions=2, seed=5)
    path = save_dataset(ds, tmp_path / f"{source}.npz")
    assert path == tmp_path / f"{source}.npz"
    back = read_dataset(path)
    _assert_same(ds, back)
    assert back.metadata == ds.metadata  # generator metadata is plain JSON data


def test_round_trip_of_a_hand_made_dataset(tmp_path):
    t = 50
    ds = Dataset(
        name="hand made",
        sessions=[
            Session(
                neural=np.arange(t * 3, dtype=np.float32).reshape(t, 3),
                labels={"stim": np.arange(t) % 4, "speed": np.linspace(0, 1, t)},
                train=blocked_split(t, 0.3),
            )
        ],
        label_info={
            "stim": LabelInfo("discrete", categories=("a", "b", "c", "d")),
            "speed": LabelInfo("continuous", unit="m/s"),
        },
        metadata={"note": "ünïcode", "array": np.arange(3), "nested": {"x": np.float32(1.5)}},
    )
    path = save_dataset(ds, tmp_path / "sub" / "dataset")  # no suffix, missing folder
    assert path.is_file() and path.name == "dataset"
    back = read_dataset(path)
    assert np.isnan(back.bin_width_s)
    assert back.metadata == {"note": "ünïcode", "array": [0, 1, 2], "nested": {"x": 1.5}}
    assert back.label_info == ds.label_info
    for label in ("stim", "speed"):
        np.testing.assert_array_equal(back.sessions[0].labels[label], ds.sessions[0].labels[label])


def test_file_layout(tmp_path):
    ds = GENERATORS["hippocampus"](n_neurons=4, duration_s=10.0)
    path = save_dataset(ds, tmp_path / "rat.npz")
    with np.load(path, allow_pickle=False) as archive:
        assert set(archive.files) == {
            "header",
            "provenance",
            "s0/neural",
            "s0/train",
            "s0/label/position",
            "s0/label/direction",
        }
        header = json.loads(str(archive["header"]))
    assert header["name"] == "hippocampus" and header["labels"] == ["position", "direction"]
    assert header["label_info"]["direction"]["categories"] == ["right", "left"]
    assert header["bin_width_s"] == 0.025


def test_write_is_atomic(tmp_path, monkeypatch):
    ds = GENERATORS["circle"](n_neurons=3, n_timepoints=100)
    target = tmp_path / "circle.npz"
    save_dataset(ds, target)
    before = target.read_bytes()

    def broken_savez(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(RuntimeError, match="disk full"):
        save_dataset(GENERATORS["circle"](n_neurons=3, n_timepoints=100, seed=1), target)
    assert target.read_bytes() == before  # the old file is untouched
    assert [p.name for p in tmp_path.iterdir()] == ["circle.npz"]  # no temporary left


def test_saving_an_invalid_dataset_fails_before_writing(tmp_path):
    ds = GENERATORS["circle"](n_neurons=3, n_timepoints=100)
    ds.sessions[0].neural[5, 1] = np.nan
    with pytest.raises(DataError, match="NaN"):
        save_dataset(ds, tmp_path / "bad.npz")
    assert not (tmp_path / "bad.npz").exists()


def test_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing_here.npz"):
        read_dataset(tmp_path / "nothing_here.npz")


def test_foreign_file_is_rejected(tmp_path):
    other = tmp_path / "other.npz"
    np.savez(other, neural=np.ones((3, 2)))
    with pytest.raises(DataError, match="other.npz"):
        read_dataset(other)
    text = tmp_path / "text.npz"
    text.write_text("not a zip")
    with pytest.raises(DataError, match="text.npz"):
        read_dataset(text)
