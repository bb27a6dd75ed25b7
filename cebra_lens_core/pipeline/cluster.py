"""Checks before a cluster run: can the SLURM executor learn when its jobs finish?

Snakemake's SLURM executor plugin polls the job states with ``sacct`` (its default whenever
the command exists) or ``squeue``. On a cluster without accounting (no ``slurmdbd``)
``sacct`` fails on every call, and the plugin keeps polling without a message: the run
waits forever after its first jobs have finished. :func:`status_command_problem` runs the
status command once, before any job is submitted, so such a run stops at once with what to
do instead.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence

__all__ = ["MIN_JOB_AGE_S", "STATUS_PROBES", "min_job_age_problem", "status_command_problem"]

#: the plugin polls at most every 180 s; squeue must still list a job that finished just after
#: a poll at the next one, so SLURM's ``MinJobAge`` must be at least this long
MIN_JOB_AGE_S = 180

#: the probe run for each status command: cheap, touches no job, fails like the real query
STATUS_PROBES: dict[str, tuple[str, ...]] = {
    "sacct": ("sacct", "--noheader", "--allocations", "--starttime", "now", "--format", "JobID"),
    "squeue": ("squeue", "--noheader", "--format", "%i", "--me"),
}


def status_command_problem(command: str, timeout_s: float = 30.0) -> str | None:
    """``None`` if ``command`` (``"sacct"`` or ``"squeue"``) answers, else what is wrong and
    how to fix it (the text names the command, its error and the option to use)."""
    if command not in STATUS_PROBES:
        return f"unknown SLURM status command {command!r}; use one of {sorted(STATUS_PROBES)}"
    probe: Sequence[str] = STATUS_PROBES[command]
    if shutil.which(probe[0]) is None:
        return (
            f"the SLURM status command {command!r} is not on PATH of the machine running snakemake"
        )
    try:
        done = subprocess.run(list(probe), capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return f"the SLURM status command {command!r} did not answer within {timeout_s:g} s"
    if done.returncode == 0:
        if command == "squeue" and shutil.which("scontrol"):
            config = subprocess.run(
                ["scontrol", "show", "config"], capture_output=True, text=True, timeout=timeout_s
            )
            if config.returncode == 0:
                return min_job_age_problem(config.stdout)
        return None
    error = (done.stderr or done.stdout).strip().splitlines()
    detail = error[-1] if error else f"exit code {done.returncode}"
    fix = (
        "This cluster has no job accounting (slurmdbd): run with --slurm-status-command squeue"
        if command == "sacct"
        else "Check that slurmctld is reachable (sinfo) from this machine"
    )
    return (
        f"SLURM job status cannot be queried with {command!r} ({detail}); the run would wait "
        f"forever for its jobs. {fix} (README, 'Run on a SLURM cluster')"
    )


def min_job_age_problem(scontrol_config: str) -> str | None:
    """``None`` if ``MinJobAge`` in ``scontrol show config`` output keeps finished jobs in
    ``squeue`` long enough for the plugin's polls (:data:`MIN_JOB_AGE_S`), else the fix."""
    for line in scontrol_config.splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "MinJobAge":
            seconds = int(value.split()[0])
            if seconds >= MIN_JOB_AGE_S:
                return None
            return (
                f"this cluster's MinJobAge is {seconds} s: a finished job leaves squeue before "
                f"the executor's next status poll (up to {MIN_JOB_AGE_S} s), so its end could be "
                "missed; run with --slurm-status-command sacct (needs job accounting) or ask "
                f"the administrators for MinJobAge >= {MIN_JOB_AGE_S}"
            )
    return None
