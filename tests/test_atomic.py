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


def test_a_disk_that_fills_during_a_write_leaves_nothing_that_looks_finished(tmp_path):
    """The file size limit of the process (RLIMIT_FSIZE) stands in for a full disk: the
    writes fail with EFBIG part-way, and neither the table nor the store appears."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(
        f"""
        import resource, signal
        import numpy as np
        import xarray as xr
        from cebra_lens_core.activations.store import save_activations
        from cebra_lens_core.results import make_rows, write_rows

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a full disk raises, it does not kill
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))
        rows = make_rows([dict(analysis="a", dataset="d", model="m", metric="x", value=i)
                          for i in range(5000)])
        for write in (
            lambda: write_rows(rows, {str(tmp_path)!r} + "/rows.csv"),
            lambda: save_activations(
                xr.Dataset(
                    {{"layer_00": (("time", "layer_00_unit"),
                                   np.random.default_rng(0).normal(size=(20000, 8)))}},
                    coords={{"time": np.arange(20000)}},
                ),
                {str(tmp_path)!r} + "/m.zarr",
            ),
        ):
            try:
                write()
            except OSError as error:
                print("failed:", error.errno)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("failed: 27") == 2, done.stdout + done.stderr  # EFBIG, both
    left = sorted(p.name for p in tmp_path.iterdir())
    assert "rows.csv" not in left and "m.zarr" not in left, left
    assert not [name for name in left if ".tmp-" in name], left  # temporaries removed too
