"""--device cuda on a machine without CUDA: the device properties skip with one clear reason and
the run passes (exit 0), so a CPU-only CI can run the GPU job's command line."""

from __future__ import annotations

import pytest
import torch
from support import run_suite


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available on this machine")
def test_absent_device_skips_device_properties_with_one_reason():
    result = run_suite("reference", "--device", "cuda", "-q", "-rs", "-k", "device",
                       "-p", "no:xdist")
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert " passed" not in out and " failed" not in out, out
    reasons = {line.split(": ", 1)[-1] for line in out.splitlines() if line.startswith("SKIPPED")}
    assert len(reasons) == 1, reasons
    assert reasons.pop().startswith("device 'cuda' is not available on this machine")


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available on this machine")
def test_absent_device_run_exits_0_but_does_not_say_conforms(tmp_path):
    from support import run_kit

    result = run_kit("-m", "conformance.cli", "run", "reference", "--device", "cuda",
                     "--profile", "ci", "-k",
                     "test_amount.py and int_amount or test_api.py and signature",
                     "--report", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    verdict = next(line for line in result.stdout.splitlines() if line.startswith("result:"))
    assert "conforms" not in verdict
    assert verdict.startswith("result: not checked on cuda: device 'cuda' is not available")
    assert "properties that need it were skipped" in verdict
