"""The results of a conformance run as data: one `PropertyResult` per property, the `RunReport`
that holds them with the run's context (its JSON form is report.json), and how results group: by
clause area (the summary) and by clause (one cell per clause of SPEC.md).

Outcomes of a property: `passed`; `failed` (a spec violation, any other exception, or an error in
setup or teardown); `expected` (a known departure listed in the expected-failures file failed, as
it should); `unexpected-pass` (a listed departure passed: the list is strict); `skipped`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from conformance import spec

OUTCOMES = ("passed", "failed", "expected", "unexpected-pass", "skipped")
UNEXPECTED = ("failed", "unexpected-pass")
# Columns of the per-area summaries; an unexpected pass counts as failed there.
SUMMARY_COLUMNS = ("passed", "failed", "expected", "skipped")
# Cells of the per-clause tables (report.md, `compare`).
CELLS = ("FAIL", "XPASS", "expected", "pass", "skip", "—")


@dataclass
class PropertyResult:
    id: str  # test_file.py::test_name[params], relative to conformance/properties/
    nodeid: str
    clauses: list[str]
    areas: list[str]
    outcome: str = "passed"
    duration: float = 0.0
    clause: str | None = None  # the clause a failure or a known departure names
    phase: str = "call"  # where a failure happened: setup, call or teardown
    reason: str = ""  # why it was skipped, or the expected-failure entry's reason
    message: str = ""
    example: str = ""  # Hypothesis' failing (shrunk) example
    reproduce_failure: str = ""  # Hypothesis' @reproduce_failure(...) decorator
    where: str = ""  # for an exception that is not a spec violation: where it was raised
    property_repro: str = ""  # a reproduction the property attached (report_details)
    standalone: str = ""  # the snippet with torch and the implementation alone (conformance.repro)
    repro: str = ""  # the runnable Python snippet of a failure
    command: str = ""  # the shell command that replays this property
    shrunk: bool = True  # False: a failure's example is the first found (shrink budget spent)

    @property
    def unexpected(self) -> bool:
        return self.outcome in UNEXPECTED


def areas_of(clauses: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(c.rpartition("-")[0] for c in clauses))


@dataclass
class RunReport:
    """Everything report.json holds: the run's context and one entry per property."""

    implementation: dict[str, str]  # spec, name, version, file
    torch: str
    device: str
    profile: str
    seed: int | str  # the --hypothesis-seed, or "derandomized"
    expected_failures: str | None
    command: str  # the prune-conformance command line of the run
    device_problem: str | None = None
    kit_version: str = ""
    duration: float = 0.0
    exit_code: int = 0
    collect_errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # e.g. expected failures matching nothing
    properties: list[PropertyResult] = field(default_factory=list)

    def counts(self, results: Iterable[PropertyResult] | None = None) -> dict[str, int]:
        counted = Counter(r.outcome for r in (self.properties if results is None else results))
        return {outcome: counted.get(outcome, 0) for outcome in OUTCOMES}

    def by_area(self) -> dict[str, dict[str, int]]:
        """Area -> summary counts; a property that cites clauses of several areas counts in each."""
        table: dict[str, dict[str, int]] = {}
        for area in [*spec.areas(), *(a for r in self.properties for a in r.areas)]:
            members = [r for r in self.properties if area in r.areas]
            if members and area not in table:
                table[area] = summary_row(self.counts(members))
        return table

    @property
    def unexpected(self) -> list[PropertyResult]:
        return [r for r in self.properties if r.unexpected]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["summary"] = self.counts()
        data["areas"] = self.by_area()
        data["clauses"] = clause_cells(self.properties)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunReport:
        own = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        own["properties"] = [PropertyResult(**p) for p in data.get("properties", ())]
        return cls(**own)


def summary_row(counts: dict[str, int]) -> dict[str, int]:
    """The four summary columns; an unexpected pass is a failure of the run."""
    row = {column: counts.get(column, 0) for column in SUMMARY_COLUMNS}
    row["failed"] += counts.get("unexpected-pass", 0)
    return row


def clause_cells(results: Iterable[PropertyResult]) -> dict[str, str]:
    """Clause id -> one cell of CELLS, for every clause of SPEC.md.

    A property is evidence for each clause it cites. One that failed (or was expected to fail)
    naming a clause is evidence about that clause only: it stopped there, so its other clauses were
    not checked to the end. The worst evidence wins, in the order of CELLS; `—` means that no
    property of the run cites the clause.
    """
    evidence: dict[str, set[str]] = {clause: set() for clause in spec.clauses()}
    for result in results:
        blamed = result.clause
        for clause in dict.fromkeys([*result.clauses, *([blamed] if blamed else [])]):
            cell = _cell(result, clause)
            evidence.setdefault(clause, set()).add(cell)
    return {clause: next((c for c in CELLS if c in seen), "—") for clause, seen in evidence.items()}


def _cell(result: PropertyResult, clause: str) -> str:
    blamed = result.clause
    if result.outcome == "passed":
        return "pass"
    if result.outcome == "skipped":
        return "skip"
    if result.outcome == "unexpected-pass":
        return "XPASS" if blamed in (None, clause) else "pass"
    if blamed not in (None, clause):
        return "skip"  # not checked to the end: the property stopped at another clause
    return "FAIL" if result.outcome == "failed" else "expected"


def blamed_clauses(result: PropertyResult) -> str:
    """The clause a failure names, else the clauses its property cites: an exception that is not
    a spec violation (a kernel a release lacks, an AttributeError) is still reported under them."""
    if result.clause:
        return result.clause
    return f"cites {', '.join(result.clauses)}" if result.clauses else ""

