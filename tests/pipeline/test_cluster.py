"""The SLURM preflight: a status command that cannot answer stops the run with the fix."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cebra_lens_core.pipeline.cluster import (
    STATUS_PROBES,
    min_job_age_problem,
    status_command_problem,
)


def _stub(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)


@pytest.fixture
def bin_dir(tmp_path, monkeypatch):
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    return folder


def test_sacct_without_accounting_names_the_squeue_option(bin_dir):
    # what sacct prints on a cluster without slurmdbd (SLURM 22.05), exit code 1
    _stub(bin_dir, "sacct", 'echo "Slurm accounting storage is disabled" >&2; exit 1')
    problem = status_command_problem("sacct")
    assert "Slurm accounting storage is disabled" in problem
    assert "--slurm-status-command squeue" in problem


def test_working_commands_pass_and_get_the_probe_arguments(bin_dir, tmp_path):
    seen = tmp_path / "argv"
    _stub(bin_dir, "scontrol", 'echo "MinJobAge = 300 sec"')
    for name in STATUS_PROBES:
        _stub(bin_dir, name, f'echo "$@" > {seen}; exit 0')
        assert status_command_problem(name) is None
        assert seen.read_text().split() == list(STATUS_PROBES[name][1:])


def test_unreachable_controller_missing_command_and_timeout(bin_dir, monkeypatch):
    _stub(
        bin_dir,
        "squeue",
        'echo "slurm_load_jobs error: Unable to contact slurm controller" >&2; exit 1',
    )
    assert "Unable to contact slurm controller" in status_command_problem("squeue")
    _stub(bin_dir, "sacct", "sleep 5")
    assert "did not answer within 0.5 s" in status_command_problem("sacct", timeout_s=0.5)
    monkeypatch.setenv("PATH", str(bin_dir / "empty"))
    assert "not on PATH" in status_command_problem("squeue")
    assert "unknown SLURM status command" in status_command_problem("scontrol")


def test_squeue_needs_finished_jobs_listed_until_the_next_poll(bin_dir):
    _stub(bin_dir, "squeue", "exit 0")
    _stub(
        bin_dir, "scontrol", 'echo "MinJobAge               = 60 sec"; echo "MaxJobCount = 10000"'
    )
    problem = status_command_problem("squeue")
    assert "MinJobAge is 60 s" in problem and "--slurm-status-command sacct" in problem
    _stub(bin_dir, "scontrol", 'echo "MinJobAge               = 300 sec"')
    assert status_command_problem("squeue") is None
    assert min_job_age_problem("no such line") is None
