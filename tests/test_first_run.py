"""A user's first run against their own implementation (tests/impls/torch_wrapper.py: torch with
one defect, L-inf channel norms without abs): inherited departures, triage, early signal, a
bounded shrink, --maxfail and a report written when the run is cut short."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from support import IMPLS, ROOT

WRAPPER = str(IMPLS / "torch_wrapper.py")
# The defect's property and some of torch's own STRUCT departures, which the wrapper keeps.
SUBSET = "test_infinite_orders or test_invalid_norm_order or test_amount.py and True"


def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PRUNE_IMPL", "NO_COLOR")}
    return subprocess.run([sys.executable, "-m", "conformance.cli", "run", WRAPPER, *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env)


def test_inheriting_torchs_departures_leaves_only_the_wrappers_own_defect(tmp_path):
    result = run("--expected-failures", "torch", "--profile", "ci", "-k", SUBSET,
                 "--report", str(tmp_path))
    assert result.returncode == 1, result.stdout
    report = json.loads((tmp_path / "report.json").read_text())
    unexpected = [p["id"] for p in report["properties"] if p["outcome"] == "failed"]
    assert unexpected == ["test_struct.py::test_infinite_orders_rank_channels_by_magnitude[inf]"]
    assert report["summary"]["expected"] > 0  # torch's departures, inherited
    assert "conformance/expected/torch.txt" in report["expected_failures"]


def test_without_departures_the_defect_heads_the_summary_and_shows_early(tmp_path):
    result = run("--profile", "ci", "-k", SUBSET, "--shrink-budget", "0", "--quiet",
                 "--report", str(tmp_path))
    assert result.returncode == 1
    out = result.stdout
    summary = out[out.index("unexpected results:"):]
    assert "1 not among torch's known departures" in summary
    first_group = summary.splitlines()[1]
    assert first_group.strip() == "STRUCT-2 (1)", summary
    assert "also torch's known departures (" in summary and "STRUCT-6" in summary
    # each failure was printed when it happened, before the summary
    assert out.index("FAILED test_struct.py::test_infinite_orders") < out.index(
        "unexpected results:")
    report = json.loads((tmp_path / "report.json").read_text())
    failed = [p for p in report["properties"] if p["outcome"] == "failed"]
    assert failed and not any(p["shrunk"] for p in failed)  # a budget of 0: none shrunk
    assert "failures are shown as first found, not shrunk" in summary
    assert "as first found, not shrunk" in (tmp_path / "report.md").read_text()


def test_maxfail_stops_early_and_still_writes_the_report(tmp_path):
    result = run("--profile", "ci", "-k", SUBSET, "--maxfail", "1", "--report", str(tmp_path))
    assert result.returncode == 1
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["summary"]["failed"] == 1
    assert "--maxfail 1" in report["command"]


@pytest.mark.parametrize("workers", ["0", "2"])
def test_a_terminated_run_writes_the_report_of_what_finished(tmp_path, workers):
    """SIGTERM, as a CI job's timeout sends it: in one process the run stops after the running
    property, under xdist at once; either way it exits 130 with the report of what finished."""
    env = {k: v for k, v in os.environ.items() if k not in ("PRUNE_IMPL", "NO_COLOR")}
    child = subprocess.Popen([sys.executable, "-m", "conformance.cli", "run", "reference",
                              "--profile", "ci", "-n", workers, "--report", str(tmp_path)],
                             cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True, env=env)
    assert child.stdout is not None
    started = time.monotonic()
    for line in child.stdout:  # wait until properties are running
        if "test_amount.py" in line or "%]" in line or time.monotonic() - started > 120:
            break
    time.sleep(2)
    child.send_signal(signal.SIGTERM)
    rest, _ = child.communicate(timeout=120)
    assert child.returncode == 130, rest
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["exit_code"] == 130 and report["properties"], "what finished is reported"
