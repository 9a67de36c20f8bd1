"""The GitHub workflow is valid YAML with the CPU, torch-matrix and GPU jobs."""

from __future__ import annotations

import re
import shlex

import yaml
from support import ROOT

from conformance import cli, expected


def load() -> dict:
    return yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())


def test_cpu_job_runs_the_readme_test_command_on_three_pythons():
    job = load()["jobs"]["tests"]
    assert job["strategy"]["matrix"]["python"] == ["3.10", "3.11", "3.12"]
    assert any(step.get("run") == "bash scripts/test" for step in job["steps"])


def test_conformance_job_runs_release_check_over_exactly_the_supported_releases():
    job = load()["jobs"]["conformance"]
    releases = job["strategy"]["matrix"]["torch"]
    reported = sorted((p.stem for p in (ROOT / "docs" / "releases").glob("*.md")),
                      key=expected.release)
    assert releases == reported, "every release in the matrix has a report, and no other"
    assert "2.13.0" in releases
    runs = [step.get("run", "") for step in job["steps"]]
    assert any("scripts/release-check ${{ matrix.torch }}" in run for run in runs)
    floor = re.search(r'"torch>=([\d.]+),', (ROOT / "pyproject.toml").read_text())
    assert floor and expected.release(floor[1]).release[:2] == (
        expected.release(releases[0]).release[:2]), "pyproject.toml's floor is the oldest checked"


def test_gpu_job_runs_on_a_self_hosted_gpu_runner_and_uploads_its_report():
    job = load()["jobs"]["gpu"]
    assert job["runs-on"] == ["self-hosted", "gpu"]
    assert any("scripts/gpu-check" in step.get("run", "") for step in job["steps"])
    assert any(step.get("uses", "").startswith("actions/upload-artifact") for step in job["steps"])


def test_ci_run_calls_the_readme_commands_with_arguments_they_accept():
    calls = [shlex.split(line) for line in (ROOT / ".ci" / "run").read_text().splitlines()
             if line.startswith("bash scripts/")]
    assert [call[1] for call in calls] == ["scripts/test", "scripts/conformance"]
    quick_start = (ROOT / "README.md").read_text().split("## Quick start")[1].split("\n## ")[0]
    assert "scripts/conformance" in quick_start and "scripts/test" in quick_start
    # scripts/conformance ends in `exec prune-conformance ARGS "$@"`: the CLI must accept ARGS
    # followed by what .ci/run adds (a typo there fails only at the end of a CI run otherwise).
    exec_line = next(line for line in (ROOT / "scripts" / "conformance").read_text().splitlines()
                     if line.startswith("exec prune-conformance "))
    fixed = [word.replace("${PRUNE_WORKERS:-2}", "2") for word in shlex.split(exec_line)[2:]]
    assert fixed[-1] == "$@"
    args = cli.build_parser().parse_args(fixed[:-1] + calls[1][2:])
    assert args.command == "compare" and args.impls == ["torch", "reference"]


def test_readme_quick_start_counts_are_the_suites():
    """The totals the README shows for the main job add up to the properties a run collects
    (slow ones left out, as the main job does)."""
    from support import run_suite

    collected = run_suite("reference", "--collect-only", "-q")
    count = sum(1 for line in collected.stdout.splitlines()
                if line.startswith("conformance/properties/"))
    quick_start = (ROOT / "README.md").read_text().split("## Quick start")[1].split("\n## ")[0]
    totals = {}
    for row in ("passed", "failed", "expected", "skipped"):
        cells = re.search(rf"^{row} +(\d+) +(\d+)$", quick_start, re.MULTILINE)
        assert cells, f"the quick start's sample has no {row} row"
        totals[row] = (int(cells[1]), int(cells[2]))
    for column in (0, 1):
        assert sum(t[column] for t in totals.values()) == count, (totals, count)


def test_no_source_points_to_files_outside_the_repository():
    """The kit's modules, scripts and tests name no path of the workplace around the repository
    (the tutorial's docstring once named a seed file that is not shipped)."""
    marker = "shared" + "/"  # spelled apart so that this test does not find itself
    sources = [p for folder in ("conformance", "reference", "scripts", "tests")
               for p in (ROOT / folder).rglob("*") if p.is_file() and p.suffix in ("", ".py", ".sh")
               and "__pycache__" not in p.parts]
    offenders = [str(p.relative_to(ROOT)) for p in sources
                 if marker in p.read_text(encoding="utf-8", errors="replace")]
    assert not offenders, offenders
