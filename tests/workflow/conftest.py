"""The tiny end-to-end run shared by the workflow tests (one real Snakemake run per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.workflow.test_workflow import TINY, run_snakemake, write_config


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """One real run of the tiny config (shared by the tests that inspect or extend it)."""
    workdir = tmp_path_factory.mktemp("tiny")
    cfg = write_config(workdir, TINY)
    result = run_snakemake(workdir, "--cores", "2", "--configfile", str(cfg))
    assert result.returncode == 0, result.stderr[-4000:]
    return workdir
