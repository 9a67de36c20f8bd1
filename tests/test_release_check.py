"""scripts/release-check: the report of one torch release, on a few properties of this venv's torch
(the venv-making shell part is exercised by running it for each release in docs/releases/)."""

from __future__ import annotations

import json
import subprocess

import torch
from support import ROOT, run_kit

from conformance import expected, release_check

THIS = expected.release(torch.__version__).public
SMALL = "test_amount and int_amount or test_struct and test_channel_norm_is_the_vector_norm"


def test_a_release_check_writes_totals_unexpected_results_and_departures_in_force(tmp_path):
    result = run_kit("-m", "conformance.release_check", THIS, "--out", str(tmp_path),
                     "-k", SMALL, "-n", "0")
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads((tmp_path / f"{THIS}.json").read_text())
    assert summary["release"] == THIS and set(summary["runs"]) == {"torch", "reference"}
    for run in summary["runs"].values():
        assert run["exit_code"] == 0 and run["unexpected"] == []
        assert "--profile unshrunk" in run["command"]  # failures unshrunk by default
    assert summary["departures_by_area"] == {"STRUCT": 1}  # 'fro' over 3+ dims on 2.13
    assert any(d["id"].endswith("[fro-4-5d]") and d["scope"] == "torch<2.14"
               for d in summary["in_force"])
    text = (tmp_path / f"{THIS}.md").read_text()
    assert f"# torch {THIS} against SPEC.md" in text and "**no unexpected results**" in text
    assert "Known departures that failed as listed, per SPEC area: STRUCT 1." in text
    table = release_check.table(tmp_path)
    assert f"| [{THIS}](docs/releases/{THIS}.md) | clean | clean | 1 |" in table


def _run(exit_code: int, properties: list[dict]) -> dict:
    counts = {"passed": 1, "failed": len(properties), "expected": 0, "unexpected-pass": 0,
              "skipped": 0}
    return {"exit_code": exit_code, "summary": counts, "duration": 1.0, "command": "c",
            "areas": {}, "properties": [{"id": "test_a.py::test_ok", "outcome": "passed"},
                                        *properties]}


def test_unexpected_results_make_the_release_check_fail():
    failure = {"id": "test_a.py::test_b", "outcome": "failed", "clause": None,
               "message": "IndexError: boom"}
    summary = release_check.summarize("2.5.1", {"torch": _run(1, [failure]),
                                                "reference": _run(0, [])})
    assert not release_check.clean(summary)
    assert summary["runs"]["torch"]["unexpected"] == [
        {"id": "test_a.py::test_b", "outcome": "failed", "clause": None,
         "message": ["IndexError: boom"]}]
    text = release_check.markdown(summary)
    assert "**unexpected results**" in text and "- `test_a.py::test_b` (failed): IndexError" in text
    assert "## Unexpected results: reference\n\nNone." in text


def test_a_version_other_than_this_venvs_torch_is_refused():
    result = run_kit("-m", "conformance.release_check", "1.0.0", "--out", "/nonexistent")
    assert result.returncode == 2 and "not 1.0.0" in result.stderr


def test_the_script_refuses_a_bad_version_before_installing_anything():
    result = subprocess.run(["bash", str(ROOT / "scripts" / "release-check"), "latest"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "give a torch release such as 2.5.1, not 'latest'" in result.stderr
