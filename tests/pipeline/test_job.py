"""The device a GPU-marked job runs on: named in its log and in the provenance of its outputs."""

from __future__ import annotations

import logging

import pytest
import torch

from cebra_lens_core.pipeline.job import resolve_device
from cebra_lens_core.provenance import current_record, set_job_record


@pytest.fixture(autouse=True)
def fresh_record():
    set_job_record({"rule": "train"})
    yield
    set_job_record(None)


def test_fallback_to_the_cpu_is_logged_and_recorded(monkeypatch, caplog):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    with caplog.at_level(logging.INFO, logger="cebra_lens_core"):
        assert resolve_device("cuda_if_available") == "cpu"
    assert "no GPU is visible to this job (CUDA_VISIBLE_DEVICES=0" in caplog.text
    assert "device: cpu (cpu; requested cuda_if_available)" in caplog.text
    record = current_record()
    assert record["rule"] == "train"  # the job's record is extended, not replaced
    assert record["device"] == "cpu" and record["device_requested"] == "cuda_if_available"
    assert record["device_fallback"] == "no GPU visible (CUDA_VISIBLE_DEVICES=0)"


def test_cpu_on_request_is_no_fallback(caplog):
    with caplog.at_level(logging.INFO, logger="cebra_lens_core"):
        assert resolve_device("cpu") == "cpu"
    assert "WARNING" not in caplog.text and "device: cpu" in caplog.text
    assert "device_fallback" not in current_record()


def test_a_visible_gpu_is_named(monkeypatch, caplog):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "NVIDIA H200")
    with caplog.at_level(logging.INFO, logger="cebra_lens_core"):
        assert resolve_device("cuda_if_available") == "cuda"
    assert "device: cuda (NVIDIA H200; requested cuda_if_available)" in caplog.text
    assert current_record()["device_name"] == "NVIDIA H200"
