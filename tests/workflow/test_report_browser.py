"""The HTML report as a person reads it: opened in headless Chromium (Debian's `chromium`).

Skipped where Chromium is not installed (``apt-get install chromium``; it is not on PyPI);
``make test-browser`` runs these tests alone.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from tests.workflow.test_workflow import run_snakemake

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.workflow,
    pytest.mark.browser,
    pytest.mark.skipif(
        CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)"
    ),
]


def _chromium(*args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",  # root in a container
            "--disable-gpu",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=15000",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _console_errors(stderr: str) -> list[str]:
    return [
        line
        for line in stderr.splitlines()
        if "CONSOLE" in line and ("Uncaught" in line or ":ERROR:" in line.split("CONSOLE")[0])
    ]


def _png_size(path: Path) -> tuple[int, int]:
    with open(path, "rb") as f:
        header = f.read(24)
    assert header[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", header[16:24])


@pytest.fixture(scope="module")
def report(tiny_run) -> Path:
    done = run_snakemake(
        tiny_run,
        "--cores",
        "1",
        "--configfile",
        str(tiny_run / "config.yaml"),
        "--report",
        "report.html",
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    return tiny_run / "report.html"


def test_the_report_loads_without_console_errors_and_shows_figures_and_captions(report, tmp_path):
    done = _chromium("--dump-dom", report.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    assert not _console_errors(done.stderr), _console_errors(done.stderr)
    # the categories of the default figures and the results table are in the rendered page
    for text in ("CKA", "Results table", "Training"):
        assert text in dom, text
    shot = tmp_path / "report.png"
    done = _chromium("--window-size=1400,1800", f"--screenshot={shot}", report.as_uri())
    assert shot.exists(), done.stderr[-2000:]
    assert _png_size(shot) == (1400, 1800)
    assert shot.stat().st_size > 20_000  # a rendered page, not a blank one


def test_the_results_table_page_filters_in_the_browser(tiny_run):
    page = tiny_run / "results" / "summary.html"
    done = _chromium("--dump-dom", page.as_uri())
    assert done.returncode == 0 and not _console_errors(done.stderr), done.stderr[-2000:]
    dom = done.stdout
    assert " rows" in dom and "<td>cka</td>" in dom and 'id="facet-analysis"' in dom
