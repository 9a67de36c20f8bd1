"""scripts/gpu-check: the whole flow on the CPU (so that it cannot rot where no GPU runs), and a
clear refusal when its device is absent."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
import torch
from support import ROOT

from conformance import device_check

SMALL = "test_amount and int_amount"  # a few properties: the flow is under test, not torch


def gpu_check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(ROOT / "scripts" / "gpu-check"), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "NO_COLOR": "1"})


def test_cpu_run_writes_markdown_and_junit_for_torch_and_the_reference(tmp_path):
    result = gpu_check("--device", "cpu", "--out", str(tmp_path), "-k", SMALL, "-n", "0")
    assert result.returncode == 0, result.stdout + result.stderr
    summary = (tmp_path / "device-check.md").read_text()
    assert "| float32 | yes |" in summary and "**no unexpected results**" in summary
    for impl in ("torch", "reference"):
        run = json.loads((tmp_path / impl / "report.json").read_text())
        assert run["device"] == "cpu" and "--slow" in run["command"]
        assert run["summary"]["passed"] > 0
        assert f"| {impl} on cpu | conforms | {run['summary']['passed']} | 0 |" in summary
        assert (tmp_path / impl / "junit.xml").read_text().startswith("<?xml")
    assert "AMOUNT-1" in summary  # the clause table
    baseline = json.loads((tmp_path / "torch-cpu" / "report.json").read_text())
    assert baseline["implementation"]["spec"] == "torch" and baseline["device"] == "cpu"
    assert "| torch on cpu (baseline) | conforms |" in summary
    assert run["profile"] == "unshrunk"  # gpu-check's own profile: failures unshrunk
    assert "None: every result on the device is the spec's" in summary


def test_unexpected_results_are_told_apart_as_device_or_release():
    def run(**outcomes):
        return {"properties": [{"id": pid, "outcome": o} for pid, o in outcomes.items()]}
    on_device = run(a="failed", b="failed", c="unexpected-pass", d="passed", e="failed")
    on_cpu = run(a="passed", b="failed", c="expected", d="passed")
    assert device_check.verdicts(on_device, on_cpu) == [
        ("a", "failed", "device: passed on the CPU"),
        ("b", "failed", "release: failed on the CPU too"),
        ("c", "unexpected-pass", "device: expected on the CPU"),
        ("e", "failed", "unknown (not in the CPU baseline)"),
    ]
    assert device_check.verdicts(on_device, None)[0][2].startswith("unknown")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_absent_device_is_refused_with_one_line_and_exit_2(tmp_path):
    result = gpu_check("--device", "cuda", "--out", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith(
        "gpu-check: device 'cuda' is not available")
    assert "Not run: device 'cuda' is not available" in (tmp_path / "device-check.md").read_text()


def test_bad_device_string_is_a_usage_error(tmp_path):
    result = gpu_check("--device", "gpu0", "--out", str(tmp_path))
    assert result.returncode == 2
    assert "bad --device 'gpu0'" in result.stderr
