"""Atomic writes: nothing that looks finished after a failure; directories replaced whole."""

from __future__ import annotations

import pytest

from cebra_lens_core.atomic import atomic_path


def test_failure_leaves_nothing(tmp_path):
    target = tmp_path / "out.csv"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_directory_replaced(tmp_path):
    target = tmp_path / "store.zarr"
    for content in ("old", "new"):
        with atomic_path(target) as tmp:
            tmp.mkdir()
            (tmp / "x").write_text(content)
    assert (target / "x").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store.zarr"]


def test_stale_temporary_of_a_killed_writer_is_removed(tmp_path):
    stale = tmp_path / ".out.csv.tmp-deadbeef"
    stale.write_text("half written by a killed job")
    with atomic_path(tmp_path / "out.csv") as tmp:
        tmp.write_text("done")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_no_output_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="produced no output"):
        with atomic_path(tmp_path / "x"):
            pass
