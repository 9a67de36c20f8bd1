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
