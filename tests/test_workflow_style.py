"""The workflow follows the field's conventions: snakefmt-formatted and `snakemake --lint` clean."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    path = BIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed (pip install -e '.[test]')")
    return found


def test_snakefmt_check_is_clean():
    done = subprocess.run(
        [_tool("snakefmt"), "--check", "workflow/"], cwd=REPO, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_snakemake_lint_is_clean():
    done = subprocess.run(
        [_tool("snakemake"), "--lint"], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0 and "Congratulations" in out, out[-3000:]
