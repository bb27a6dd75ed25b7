"""This workflow used as a Snakemake `module` by another workflow (the README's snippet)."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from tests.workflow.test_workflow import REPO, SNAKEMAKE, TINY

OUTER = """configfile: "config.yaml"


module cebra_lens:
    snakefile:
        "{snakefile}"
    config:
        config


use rule * from cebra_lens as cebra_lens_*


rule all:
    input:
        rules.cebra_lens_all.input,
    default_target: True
"""


@pytest.mark.workflow
def test_an_outer_workflow_plans_every_job_through_the_module(tmp_path):
    (tmp_path / "Snakefile").write_text(OUTER.format(snakefile=REPO / "workflow" / "Snakefile"))
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(TINY))
    done = subprocess.run(
        [*SNAKEMAKE, "--dry-run", "--cores", "1"], cwd=tmp_path, capture_output=True, text=True
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-3000:]
    # the tiny config: 2 + 1 models -> 3 trainings, 3 extractions, ... all prefixed
    for rule, count in (
        ("cebra_lens_train", 3),
        ("cebra_lens_extract", 3),
        ("cebra_lens_summary", 1),
    ):
        assert f"{rule}" in out and any(
            line.split() == [rule, str(count)] for line in out.splitlines()
        ), (rule, out[-3000:])
