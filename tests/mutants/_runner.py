"""Running the conformance suite, or some SPEC areas of it, against a mutant.

`run` starts `prune-conformance run IMPL --report DIR` in a process of its own, so that a mutant
goes through the kit's own CLI and reports. The module is also the pytest plugin that narrows
such a run, loaded with `-p _runner` (tests/mutants on PYTHONPATH) through PYTEST_ADDOPTS:

    --area AMOUNT[,SELECT...]  keep the properties that cite a clause of these areas
    --first-clause AMOUNT-2    run the properties citing this clause first, so that with -x a
                               run stops at the failure of the clause the mutant targets
    --no-shrink                report a failing example as found, without shrinking it: a kill
                               needs the verdict only, and shrinking took up to two minutes a
                               mutant (the kit runs its known departures the same way)
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings

from conformance.plugin import without_shrinking

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


@dataclass(frozen=True)
class Run:
    """A finished run: the CLI's exit code, its output and report.json's properties."""

    returncode: int
    output: str
    properties: list[dict]

    def failed(self) -> list[dict]:
        return [p for p in self.properties if p["outcome"] == "failed"]


def run(impl: str, report_dir: Path, *, areas: Sequence[str] = (), first_clause: str | None = None,
        stop_first: bool = False, no_shrink: bool = False, workers: str | None = None,
        timeout: float = 1800) -> Run:
    """`prune-conformance run IMPL --profile ci --report DIR`, narrowed to `areas` (all if empty).

    stop_first and no_shrink make a kill check cheap: the first failure ends the run, unshrunk.
    """
    options = ["-p", "_runner"]
    if areas:
        options += ["--area", ",".join(areas)]
    if first_clause:
        options += ["--first-clause", first_clause]
    if stop_first:
        options.append("-x")
    if no_shrink:
        options.append("--no-shrink")
    env = {k: v for k, v in os.environ.items() if k not in ("PRUNE_IMPL", "PYTEST_ADDOPTS")}
    env.update(NO_COLOR="1", PYTEST_ADDOPTS=shlex.join(options),
               PYTHONPATH=os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")])))
    command = [sys.executable, "-m", "conformance.cli", "run", impl, "--profile", "ci", "--quiet",
               "--report", str(report_dir)]
    if workers:
        command += ["-n", workers]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)
    report = report_dir / "report.json"
    properties = json.loads(report.read_text())["properties"] if report.is_file() else []
    return Run(done.returncode, done.stdout + done.stderr, properties)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("prune-conformance mutants")
    group.addoption("--area", default=None, help="comma-separated SPEC areas to keep")
    group.addoption("--first-clause", default=None, help="run properties citing it first")
    group.addoption("--no-shrink", action="store_true", help="do not shrink failing examples")


def cited(item: pytest.Item) -> list[str]:
    """The clauses a property cites (its `clause` markers)."""
    return [c for mark in item.iter_markers("clause") for c in mark.args]


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    option = config.getoption("area")
    if not option:
        return
    areas = {a.strip().upper() for a in option.split(",") if a.strip()}
    keep = [i for i in items if any(c.rpartition("-")[0] in areas for c in cited(i))]
    first = config.getoption("first_clause")
    if first:
        keep.sort(key=lambda item: first not in cited(item))  # stable: otherwise in suite order
    chosen = {id(i) for i in keep}
    dropped = [i for i in items if id(i) not in chosen]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = keep


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Under --no-shrink, run a Hypothesis property without its shrink phase."""
    if not item.config.getoption("no_shrink"):
        yield
        return
    with without_shrinking(item):
        yield
