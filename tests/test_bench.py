"""scripts/bench: a --quick smoke run (report structure, masks agree) and the case definitions.

Timings are never asserted: they are information (GUIDE.md), and this machine's load is not ours.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest
import torch
from support import ROOT

sys.path.insert(0, str(ROOT / "scripts"))

from benchlib import measure
from benchlib.cases import CASES, distinct_values, resnet50_shapes

IMPLS = ("torch", "reference")


def bench(*args: str) -> subprocess.CompletedProcess[str]:
    """`python -m benchlib ARGS` (what scripts/bench runs) in its own process."""
    path = os.pathsep.join([str(ROOT / "scripts"), str(ROOT)])
    return subprocess.run([sys.executable, "-m", "benchlib", *args], cwd=ROOT, text=True,
                          capture_output=True, timeout=600, env={**os.environ, "PYTHONPATH": path})


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    result = bench("--quick", "--repeats", "2", "--json", str(out / "b.json"),
                   "--markdown", str(out / "b.md"))
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads((out / "b.json").read_text()), (out / "b.md").read_text(), result.stdout


def test_quick_run_covers_every_case_and_the_masks_agree(quick_report):
    report, _, stdout = quick_report
    assert [case["name"] for case in report["cases"]] == [case.name for case in CASES]
    for case in report["cases"]:
        assert case["masks_agree"] is True, case["name"]
        assert case["repeats"] == 2
        for impl in IMPLS:
            assert len(case["times_s"][impl]) == 2
            assert case["time_s"][impl] >= 0
            assert isinstance(case["peak_bytes"][impl], int) and case["peak_bytes"][impl] >= 0
        assert case["time_ratio"] is None or case["time_ratio"] >= 0
        assert case["memory_ratio"] is None or case["memory_ratio"] >= 0
        assert case["name"] in stdout


def test_report_records_the_machine_and_settings(quick_report):
    report, markdown, _ = quick_report
    machine = report["machine"]
    assert machine["nproc"] >= 1 and machine["ram_gib"] > 0 and machine["cpu"]
    assert machine["torch"] == torch.__version__ and machine["device"] == "cpu"
    assert report["settings"] == {"quick": True, "repeats": 2, "device": "cpu"}
    assert "| case |" in markdown
    assert all(f"| {case.name} |" in markdown for case in CASES)


def test_unknown_case_is_a_usage_error():
    result = bench("--cases", "l1_16M,nope")
    assert result.returncode == 2 and "nope" in result.stderr


def test_resnet50_shapes_are_the_real_ones():
    shapes = resnet50_shapes()
    assert len(shapes) == 54  # 53 convolutions and the classifier
    assert sum(math.prod(shape) for shape in shapes) == 25_502_912
    assert shapes[0] == (64, 3, 7, 7) and shapes[-1] == (1000, 2048)


def test_values_are_tie_free():
    values = distinct_values(100_000, seed=0)
    assert values.dtype == torch.float32 and torch.isfinite(values).all()
    assert values.abs().unique().numel() == values.numel()
    assert (values < 0).any() and (values > 0).any()


def test_suite_timings_reports_both_runs_and_the_largest_shares(tmp_path):
    table = tmp_path / "timings.md"
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "suite-timings"), "reference", "-k",
         "test_amount and int_amount", "--seed", "7", "--top", "3", "--markdown", str(table)],
        cwd=ROOT, text=True, capture_output=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    text = table.read_text()
    assert "Profile `default`, seed 7" in text
    row = next(line for line in text.splitlines() if line.startswith("| reference |"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[1] == "4"  # the four properties -k selects
    assert cells[2].endswith(" s") and cells[3].endswith(" s") and cells[4].endswith("x")
    listed = [line for line in text.splitlines() if line.startswith("| `test_amount.py::")]
    assert len(listed) == 3


def test_cuda_peak_is_the_growth_over_the_allocated_bytes_after_a_reset(monkeypatch):
    """The in-process GPU measurement, with torch.cuda's counters played by a fake allocator
    (there is no GPU here): the peak counter is reset before the call, and the call's peak is
    read against what was allocated when it started."""
    calls = []
    allocator = {"allocated": 300, "peak": 900}  # 900: a peak left by an earlier case

    def allocate(size):
        allocator["allocated"] += size
        allocator["peak"] = max(allocator["peak"], allocator["allocated"])

    def run():
        calls.append("run")
        allocate(500)
        allocate(-450)

    fake = {
        "synchronize": lambda device=None: calls.append("sync"),
        "reset_peak_memory_stats": lambda device=None: allocator.update(
            peak=allocator["allocated"]),
        "memory_allocated": lambda device=None: allocator["allocated"],
        "max_memory_allocated": lambda device=None: allocator["peak"],
    }
    for name, function in fake.items():
        monkeypatch.setattr(torch.cuda, name, function)
    assert measure.cuda_peak_growth(run, "cuda") == 500
    assert calls == ["sync", "run", "sync"]
