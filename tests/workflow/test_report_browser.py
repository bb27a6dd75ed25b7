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
REPORT_DIR = Path(__file__).resolve().parents[2] / "workflow" / "report"
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
        "--report-stylesheet",
        str(Path(__file__).resolve().parents[2] / "workflow/report/stylesheet.css"),
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert "align-items: flex-start" in (tiny_run / "report.html").read_text()  # our stylesheet
    return tiny_run / "report.html"


def test_the_report_loads_without_console_errors_and_shows_figures_and_captions(report, tmp_path):
    done = _chromium("--dump-dom", report.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    assert not _console_errors(done.stderr), _console_errors(done.stderr)
    # the categories of the default figures and the results table are in the rendered page
    for text in ("CKA", "Results table", "Training"):
        assert text in dom, text
    # every figure and caption of the run is in the page (the viewer draws them from there)
    figures = sorted((report.parent / "results" / "figures").rglob("*.png"))
    assert len(figures) >= 10
    for figure in figures:
        assert figure.name in dom, figure.name
    for caption in ("training_loss", "cka_heatmap", "summary_table", "decoding", "rdm_layers"):
        words = (REPORT_DIR / f"{caption}.rst").read_text().split()
        plain = []  # the caption's opening words, up to the first reST markup
        for word in words[:8]:
            if any(c in word for c in "`*_:()[]"):
                break
            plain.append(word)
        assert len(plain) >= 2 and " ".join(plain) in " ".join(dom.split()), (caption, plain)
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


# the report viewer's container of an image (snakemake/report/html_reporter/template/
# components/content.js) with the Tailwind rules of its classes
_VIEWER = """<!DOCTYPE html><html><head><style>
body {{ margin: 0; }} .flex {{ display: flex; }} .grow {{ flex-grow: 1; }}
.items-center {{ align-items: center; }} .justify-center {{ justify-content: center; }}
.h-screen {{ height: 100vh; }} .overflow-auto {{ overflow: auto; }}
</style>{extra}</head><body>
<div class="grow flex items-center justify-center h-screen overflow-auto"><div class="p-3">
<div style="width: 400px; height: 3000px; border-top: 200px solid rgb(255, 0, 0);"></div>
</div></div></body></html>"""


def test_tall_figures_are_not_clipped_with_the_report_stylesheet(tmp_path):
    """A figure taller than the window: centred by the report's flex container its top is
    cut off (unreachable by scrolling); with workflow/report/stylesheet.css it starts at the
    top. The red band is the figure's top edge."""
    from matplotlib.image import imread

    css = (Path(__file__).resolve().parents[2] / "workflow/report/stylesheet.css").read_text()
    tops = {}
    for name, extra in (("plain", ""), ("styled", f"<style>{css}</style>")):
        page = tmp_path / f"{name}.html"
        page.write_text(_VIEWER.format(extra=extra))
        shot = tmp_path / f"{name}.png"
        _chromium("--window-size=800,600", f"--screenshot={shot}", page.as_uri())
        pixels = imread(shot)
        red = (pixels[..., 0] > 0.9) & (pixels[..., 1] < 0.1) & (pixels[..., 2] < 0.1)
        tops[name] = bool(red[:150].any())
    assert tops == {"plain": False, "styled": True}, tops
