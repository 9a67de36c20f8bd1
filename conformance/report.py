"""A conformance run's reports: the pytest plugin that gathers each property's result, and the
files written from them.

`prune-conformance run` loads this module into pytest twice over: as a plugin module (`-p
conformance.report`, so that xdist workers load it too), whose `pytest_runtest_makereport` wrapper
attaches to each property's report what only the process that ran it knows (the clauses it cites,
the failure's details: `conformance.report_details`); and as a `Collector` object in the process
that started pytest, which turns the reports into one `PropertyResult` per property
(`conformance.report_results`). `write()` then renders report.json and report.md
(`conformance.report_markdown`), after `finish()` gave each unexpected result its repro snippet and
replay command (`conformance.report_replay`).

Repro snippets
--------------
Every failure gets one snippet (`repro`) that a user runs with nothing but torch and their
implementation: `conformance.repro` records the property's calls and renders the failing example
as literals, the calls and the clause's assertion, checked to pass on the reference and to fail on
the implementation (a stateful session's failure brings its own, `conformance.stateful`). Where no
such snippet reproduces a failure, the snippet replays the kit's property instead. Only the first
failure of an exception group (Hypothesis reports distinct bugs together) gives the snippet, the
message and the clause, so that the three describe the same failure.

The names of those modules that the CLI and the tests use are importable from here as well.
"""

from __future__ import annotations

import json
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from conformance.report_details import clause_of, failure_details, leaves
from conformance.report_markdown import markdown, verdict
from conformance.report_replay import finish, replay_args, replay_command, repro_snippet
from conformance.report_results import (
    CELLS,
    OUTCOMES,
    SUMMARY_COLUMNS,
    UNEXPECTED,
    PropertyResult,
    RunReport,
    areas_of,
    blamed_clauses,
    clause_cells,
    summary_row,
)

__all__ = ["CELLS", "DETAILS", "OUTCOMES", "SUMMARY_COLUMNS", "UNEXPECTED", "Collector",
           "PropertyResult", "RunReport", "areas_of", "blamed_clauses", "clause_cells",
           "clause_of", "failure_details", "finish", "leaves", "markdown", "replay_args",
           "replay_command", "repro_snippet", "summary_row", "verdict", "write"]

# The attribute of a pytest TestReport that carries the details; xdist serializes extra attributes
# of a report that are plain data, so it reaches the controller.
DETAILS = "prune_conformance"


# --- worker side: what the process that ran the property knows --------------------------------

@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None],
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Attach the property id, its clauses and its failure's details to each of its reports.

    tryfirst makes this wrapper the outermost, so it sees the report as the xfail machinery left it.
    """
    report = yield
    from conformance.inventory import is_property, property_id
    from conformance.plugin import departure_of, ran_unshrunk

    if not is_property(item):
        return report
    details: dict[str, Any] = {
        "id": property_id(item),
        "clauses": list(dict.fromkeys(c for m in item.iter_markers("clause") for c in m.args)),
    }
    departure = departure_of(item)
    if departure is not None and departure.sometimes:
        details["sometimes"] = True
    excinfo = call.excinfo
    if excinfo is not None and not isinstance(excinfo.value, pytest.skip.Exception):
        details.update(failure_details(excinfo.value))
        details["shrunk"] = not ran_unshrunk(item)
    setattr(report, DETAILS, details)
    return report


# --- controller side: one result per property ---------------------------------------------------

class Collector:
    """A pytest plugin object (pytest.main(plugins=[...])) that collects the run's results."""

    def __init__(self, early: bool = True) -> None:
        self.results: dict[str, PropertyResult] = {}
        self.collect_errors: list[str] = []
        self.warnings: list[str] = []
        self.early = early  # print each unexpected result when it happens
        self._config: pytest.Config | None = None

    def pytest_configure(self, config: pytest.Config) -> None:
        self._config = config

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self._session = session

    def terminate(self, signum: int, frame: object) -> None:
        """A signal handler. Running the properties in this process, the first signal stops the
        session after the property that is running (an interrupt raised inside Hypothesis' own
        code could be taken for that property's failure); a second one interrupts at once. As
        xdist's controller, which runs no property, it interrupts at once: xdist stops its
        workers and the run ends as interrupted."""
        session = getattr(self, "_session", None)
        distributed = session is not None and session.config.pluginmanager.has_plugin("dsession")
        if session is None or session.shouldstop or distributed:
            raise KeyboardInterrupt
        session.shouldstop = f"stopped by signal {signum}"

    def _say_now(self, result: PropertyResult) -> None:
        """One line per unexpected result as it happens: a long run gives its signal early."""
        terminal = (self._config.pluginmanager.get_plugin("terminalreporter")
                    if self.early and self._config is not None else None)
        if terminal is None:
            return
        text = result.message or result.reason
        first = text.splitlines()[0][:160] if text else ""
        label = "FAILED" if result.outcome == "failed" else "XPASS"
        terminal.write_line(f"{label} {result.id}: {first}", red=True)
        self.exitstatus: int | None = None

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collect_errors.append(f"{report.nodeid}: {report.longreprtext.strip()}")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        details = getattr(report, DETAILS, None) or {}
        result = self.results.get(report.nodeid)
        if result is None:
            clauses = list(details.get("clauses", ()))
            result = self.results[report.nodeid] = PropertyResult(
                id=details.get("id") or _id_from_nodeid(report.nodeid), nodeid=report.nodeid,
                clauses=clauses, areas=areas_of(clauses))
        result.duration += report.duration
        wasxfail = getattr(report, "wasxfail", None)
        was_unexpected = result.unexpected
        if report.when == "setup" and report.skipped:
            result.outcome, result.reason = "skipped", _skip_reason(report)
        elif report.failed and str(report.longrepr).startswith("[XPASS(strict)]"):
            reason = str(report.longrepr).removeprefix("[XPASS(strict)]").strip()
            result.outcome, result.reason, result.clause = "unexpected-pass", reason, clause_of(
                reason)
        elif report.failed and not result.unexpected:
            result.outcome, result.phase = "failed", report.when
            self._take_failure(result, report, details)
        elif report.when == "call" and wasxfail is not None and report.passed and details.get(
                "sometimes"):
            result.outcome = "passed"  # its examples missed a departure that shows only in some
        elif report.when == "call" and wasxfail is not None:
            result.outcome = "expected" if report.skipped else "unexpected-pass"
            result.reason = wasxfail
            result.clause = clause_of(wasxfail)
            result.message = details.get("message", "")
        elif report.when == "call" and report.skipped:
            result.outcome, result.reason = "skipped", _skip_reason(report)
        if result.clause and result.clause not in result.clauses:
            result.areas = areas_of([*result.clauses, result.clause])
        if result.unexpected and not was_unexpected:
            self._say_now(result)

    @staticmethod
    def _take_failure(result: PropertyResult, report: pytest.TestReport,
                      details: dict[str, Any]) -> None:
        if "message" in details:
            for name in ("message", "example", "reproduce_failure", "where"):
                setattr(result, name, details.get(name, ""))
            result.shrunk = details.get("shrunk", True)
            result.property_repro = details.get("repro", "")
            result.standalone = details.get("standalone", "")
            result.clause = details.get("clause")
        else:  # a report from elsewhere (no worker hook): the crash line is all there is
            crash = getattr(report.longrepr, "reprcrash", None)
            result.message = crash.message if crash is not None else str(report.longrepr)
            result.clause = clause_of(result.message.partition(": ")[2]) or clause_of(
                result.message)
        if report.when != "call":
            result.message = f"error in {report.when}: {result.message}"

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        from conformance.plugin import unmatched_entries

        self.exitstatus = int(exitstatus)
        self.warnings = [f"expected failure {line}" for line in unmatched_entries(session.config)]


def _id_from_nodeid(nodeid: str) -> str:
    return nodeid.split("properties/", 1)[-1]


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    text = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return text.removeprefix("Skipped: ")


# --- report.json and report.md ----------------------------------------------------------------

def write(run: RunReport, directory: Path) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    json_path, md_path = directory / "report.json", directory / "report.md"
    json_path.write_text(json.dumps(run.to_json(), indent=2, ensure_ascii=False) + "\n",
                         encoding="utf-8")
    md_path.write_text(markdown(run), encoding="utf-8")
    return json_path, md_path

