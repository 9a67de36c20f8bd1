"""Results of a conformance run as data, and the reports written from them.

`prune-conformance run` loads this module into pytest twice over: as a plugin module (`-p
conformance.report`, so that xdist workers load it too), whose `pytest_runtest_makereport` wrapper
attaches to each property's report what only the process that ran it knows (the clauses it cites,
the exception's message, Hypothesis' failing example); and as a `Collector` object in the process
that started pytest, which turns the reports into one `PropertyResult` per property. `write()` then
renders report.json and report.md.

Outcomes of a property: `passed`; `failed` (a spec violation, any other exception, or an error in
setup or teardown); `expected` (a known departure listed in the expected-failures file failed, as
it should); `unexpected-pass` (a listed departure passed: the list is strict); `skipped`.

Repro snippets
--------------
Every failure gets one snippet (`repro`) that a user runs with nothing but torch and their
implementation: `conformance.repro` records the property's calls and renders the failing example
as literals, the calls and the clause's assertion, checked to pass on the reference and to fail on
the implementation (a stateful session's failure brings its own, `conformance.stateful`). Where no
such snippet reproduces a failure, the snippet replays the kit's property instead
(`pytest.main([...])` with the run's seed and profile, every path absolute); a standalone snippet
names that replay as a comment, and `command` holds it as a shell line. Only the first failure of
an exception group (Hypothesis reports distinct bugs together) gives the snippet, the message and
the clause, so that the three describe the same failure.

A property may still attach a direct reproduction of its own, written against `torch`, `nn` and
`prune`: a Hypothesis note whose first line starts with `# repro`, or a `repro` attribute (str)
on the exception it raises; it is used where no standalone snippet was made.
"""

from __future__ import annotations

import json
import re
import shlex
from collections import Counter
from collections.abc import Generator, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pytest

from conformance import repro, spec
from conformance.source import import_line, is_file_spec

try:
    from builtins import BaseExceptionGroup  # Python 3.11+
except ImportError:  # Python 3.10: Hypothesis depends on the backport
    from exceptiongroup import BaseExceptionGroup

OUTCOMES = ("passed", "failed", "expected", "unexpected-pass", "skipped")
UNEXPECTED = ("failed", "unexpected-pass")
# Columns of the per-area summaries; an unexpected pass counts as failed there.
SUMMARY_COLUMNS = ("passed", "failed", "expected", "skipped")
# Cells of the per-clause tables (report.md, `compare`).
CELLS = ("FAIL", "XPASS", "expected", "pass", "skip", "—")

REPRO_NOTE = "# repro"
REPRO_ATTRIBUTE = "repro"
# The attribute of a pytest TestReport that carries the details; xdist serializes extra attributes
# of a report that are plain data, so it reaches the controller.
DETAILS = "prune_conformance"

_CLAUSE_PREFIX = re.compile(r"^\s*(?:\[XPASS\(strict\)\]\s*)?(?P<clause>[A-Z]+-\d+):")
_BLOB = re.compile(r"@reproduce_failure\((?P<args>'[^']*', b'[^']*')\)")
_EXAMPLE_HEADS = ("Falsifying example", "Failing test case", "Falsifying explicit example",
                  "Draw ", "Explanation:", "Trying example")


# --- worker side: what the process that ran the property knows --------------------------------

@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None],
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Attach the property id, its clauses and its failure's details to each of its reports.

    tryfirst makes this wrapper the outermost, so it sees the report as the xfail machinery left it.
    """
    report = yield
    from conformance.plugin import departure_of, is_property, property_id, ran_unshrunk

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


def failure_details(exc: BaseException) -> dict[str, str]:
    """The message, violated clause, Hypothesis example and repro of a failure: of its first
    failure where Hypothesis reports several (see the module docstring)."""
    first = next(leaves(exc), exc)
    examples, repros, blob, standalone = [], [], "", ""
    for note in getattr(first, "__notes__", ()):
        text = str(note).strip("\n")
        found = _BLOB.search(text)
        if found:
            blob = f"@reproduce_failure({found['args']})"
        elif text.startswith(repro.STANDALONE):
            standalone = text.strip() + "\n"
        elif text.lstrip().startswith(REPRO_NOTE):
            repros.append(text.strip())
        else:
            examples.append(text)
    attached = getattr(first, REPRO_ATTRIBUTE, None)
    if isinstance(attached, str) and attached.strip():
        repros.append(attached.strip())
    message = _message(first)
    others = sum(1 for _ in leaves(exc)) - 1
    if others:
        message += (f"\n\n(and {others} other distinct failure{'s' * (others > 1)} of this "
                    "property, not shown: fix this one and run again)")
    clause = getattr(first, "clause", None) or clause_of(message)
    where = "" if _speaks_the_spec(first) else _origin(first)
    details = {"message": message, "example": "\n".join(examples).strip(),
               "reproduce_failure": blob, "repro": "\n\n".join(repros),
               "standalone": standalone}
    if clause:
        details["clause"] = clause
    if where:
        details["where"] = where
    return details


def leaves(exc: BaseException) -> Iterator[BaseException]:
    """The exceptions of an exception group (Hypothesis reports distinct bugs as one), else exc."""
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            yield from leaves(inner)
    else:
        yield exc


def _speaks_the_spec(exc: BaseException) -> bool:
    return clause_of(str(exc)) is not None


def _message(exc: BaseException) -> str:
    text = str(exc)
    # A check's message already starts with its clause; anything else is named by its type.
    return text if _speaks_the_spec(exc) else f"{type(exc).__name__}: {text}".rstrip(": ")


def _origin(exc: BaseException) -> str:
    """Where an exception that is not a spec violation was raised: `file:line in function`."""
    tb = exc.__traceback__
    if tb is None:
        return ""
    while tb.tb_next is not None:
        tb = tb.tb_next
    code = tb.tb_frame.f_code
    return f"{code.co_filename}:{tb.tb_lineno} in {code.co_name}"


def clause_of(text: str) -> str | None:
    """The clause a message or xfail reason starts with (`AMOUNT-2: ...`), if SPEC.md has it."""
    found = _CLAUSE_PREFIX.match(text or "")
    if found and found["clause"] in spec.clauses():
        return found["clause"]
    return None


# --- controller side: one result per property ---------------------------------------------------

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
    property_repro: str = ""  # a reproduction the property attached (module docstring)
    standalone: str = ""  # the snippet with torch and the implementation alone (conformance.repro)
    repro: str = ""  # the runnable Python snippet of a failure
    command: str = ""  # the shell command that replays this property
    shrunk: bool = True  # False: a failure's example is the first found (shrink budget spent)

    @property
    def unexpected(self) -> bool:
        return self.outcome in UNEXPECTED


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


def areas_of(clauses: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(c.rpartition("-")[0] for c in clauses))


# --- a finished run ---------------------------------------------------------------------------

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


# --- repro snippets ---------------------------------------------------------------------------

def replay_args(result: PropertyResult, run: RunReport) -> list[str]:
    """pytest arguments that run exactly this property again, with the run's seed and profile."""
    module, _, name = result.id.partition("::")
    dotted = "conformance.properties." + module.removesuffix(".py").replace("/", ".")
    impl_spec = run.implementation["spec"]
    if is_file_spec(impl_spec):
        impl_spec = str(Path(impl_spec).resolve())
    args = ["--pyargs", f"{dotted}::{name}", "--impl", impl_spec,
            "--hypothesis-profile", run.profile]
    if isinstance(run.seed, int):
        args.append(f"--hypothesis-seed={run.seed}")
    if run.device != "cpu":
        args += ["--device", run.device]
    args += ["--expected-failures", _absolute_sources(run.expected_failures),
             "-p", "no:cacheprovider"]
    return args


def _absolute_sources(option: str | None) -> str:
    """--expected-failures with every file as an absolute path (the replay may run anywhere);
    names of shipped lists stay names."""
    words = [w.strip() for w in (option or "none").split(",") if w.strip()]
    return ",".join(str(Path(w).resolve()) if Path(w).is_file() else w for w in words)


def replay_command(result: PropertyResult, run: RunReport) -> str:
    return shlex.join(["pytest", *replay_args(result, run)])


def repro_snippet(result: PropertyResult, run: RunReport) -> str:
    """The runnable Python snippet of a failure (see the module docstring)."""
    replay = f"pytest.main({replay_args(result, run)!r})"
    if result.standalone:
        return (result.standalone.rstrip("\n") + "\n\n# The same example through the kit's "
                f"property (needs the kit installed):\n#   import pytest; {replay}\n")
    lines = [f"# Repro of {result.id}" + (f" ({result.clause})" if result.clause else "")
             + f" against {run.implementation['spec']}",
             "import torch",
             "from torch import nn",
             import_line(run.implementation["spec"])]
    if run.device != "cpu":
        lines.append(f"device = torch.device({run.device!r})")
    if result.property_repro:
        lines += ["", result.property_repro]
    lines += ["", "# Replay exactly this example (same seed and profile: same shrunk case):"]
    if result.property_repro:
        lines.append(f"#   import pytest; {replay}")
    else:
        lines += ["import pytest", "", f"raise SystemExit({replay})"]
    if result.reproduce_failure:
        lines.append(f"# or decorate the property with {result.reproduce_failure}")
    return "\n".join(lines) + "\n"


def finish(run: RunReport) -> None:
    """Fill each unexpected result's replay command and snippet."""
    for result in run.properties:
        if result.unexpected:
            result.command = replay_command(result, run)
            if result.outcome == "failed":
                result.repro = repro_snippet(result, run)


# --- report.json and report.md ----------------------------------------------------------------

def write(run: RunReport, directory: Path) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    json_path, md_path = directory / "report.json", directory / "report.md"
    json_path.write_text(json.dumps(run.to_json(), indent=2, ensure_ascii=False) + "\n",
                         encoding="utf-8")
    md_path.write_text(markdown(run), encoding="utf-8")
    return json_path, md_path


def verdict(run: RunReport) -> str:
    counts = run.counts()
    total = len(run.properties)
    if run.collect_errors:
        return "the suite could not be collected"
    if not total:
        return "no property ran"
    if run.unexpected:
        parts = [f"{counts['failed']} failed" if counts["failed"] else "",
                 f"{counts['unexpected-pass']} known departures passed"
                 if counts["unexpected-pass"] else ""]
        return "departs from SPEC.md: " + ", ".join(p for p in parts if p) + f" of {total}"
    if total and counts["skipped"] == total:
        return f"nothing checked: all {total} properties skipped"
    if run.device_problem:
        # Exit 0 as documented, but not a green run: the device was never exercised.
        return (f"not checked on {run.device}: {run.device_problem}; {counts['skipped']} "
                f"properties that need it were skipped, {counts['passed']} passed without it")
    tally = f"{counts['passed']} passed, {counts['skipped']} skipped of {total}"
    if counts["expected"]:
        return f"no unexpected results, {counts['expected']} known departures; {tally}"
    return f"conforms: {tally}"


def markdown(run: RunReport) -> str:
    impl = run.implementation
    titles = spec.area_titles()
    out = [f"# prune-conformance report: {impl['spec']}", "",
           "| | |", "|---|---|",
           f"| implementation | {impl['spec']} ({impl['version']}), `{impl['file']}` |",
           f"| torch | {run.torch} |",
           f"| device | {run.device}"
           + (f" (skipped: {run.device_problem})" if run.device_problem else "") + " |",
           f"| Hypothesis profile | {run.profile} |",
           f"| seed | {run.seed} |",
           "| expected failures | "
           + (_code(run.expected_failures) if run.expected_failures else "none") + " |",
           f"| command | {_code(run.command)} |",
           f"| duration | {run.duration:.1f} s |",
           f"| **result** | **{verdict(run)}** |", ""]
    out += ["## Summary by clause area", "",
            "| area | " + " | ".join(SUMMARY_COLUMNS) + " |",
            "|---|" + "---:|" * len(SUMMARY_COLUMNS)]
    for area, row in run.by_area().items():
        title = f"{area}: {titles[area]}" if area in titles else area
        out.append(f"| {title} | " + " | ".join(str(row[c]) for c in SUMMARY_COLUMNS) + " |")
    total = summary_row(run.counts())
    out += ["| **total** | " + " | ".join(f"**{total[c]}**" for c in SUMMARY_COLUMNS) + " |", ""]
    if run.collect_errors:
        out += ["## Collection errors", ""]
        out += [f"```text\n{error}\n```\n" for error in run.collect_errors]
    if run.warnings:
        out += ["## Warnings", "", *[f"- {warning}" for warning in run.warnings], ""]
    out += _markdown_clauses(run)
    unexpected = run.unexpected
    if unexpected:
        out += ["## Unexpected results", ""]
        for result in unexpected:
            out += _markdown_failure(result)
    expected = [r for r in run.properties if r.outcome == "expected"]
    if expected:
        out += ["## Known departures (expected failures)", ""]
        out += [f"- `{r.id}`: {r.reason}" for r in expected]
        out.append("")
    skipped = Counter(r.reason for r in run.properties if r.outcome == "skipped")
    if skipped:
        out += ["## Skipped", ""]
        out += [f"- {count} properties: {reason}" for reason, count in skipped.most_common()]
        out.append("")
    return "\n".join(out)


def _markdown_clauses(run: RunReport) -> list[str]:
    cells = clause_cells(run.properties)
    clauses = spec.clauses()
    cited: dict[str, list[PropertyResult]] = {}
    for result in run.properties:
        for clause in dict.fromkeys([*result.clauses, *([result.clause] if result.clause else [])]):
            cited.setdefault(clause, []).append(result)
    out = ["## By clause", ""]
    for area in run.by_area():
        out += [f"### {area}", "", "| clause | level | result | properties |", "|---|---|---|---|"]
        for clause in (c for c in clauses.values() if c.area == area):
            functions = {r.id.partition("[")[0] for r in cited.get(clause.id, ())}
            out.append(f"| {clause.id} | {clause.level}, {clause.word} | {cells[clause.id]} "
                       f"| {len(functions)} |")
        out.append("")
    return out


def blamed_clauses(result: PropertyResult) -> str:
    """The clause a failure names, else the clauses its property cites: an exception that is not
    a spec violation (a kernel a release lacks, an AttributeError) is still reported under them."""
    if result.clause:
        return result.clause
    return f"cites {', '.join(result.clauses)}" if result.clauses else ""


def _markdown_failure(result: PropertyResult) -> list[str]:
    blamed = blamed_clauses(result)
    title = f"### `{result.id}`" + (f" ({blamed})" if blamed else "")
    out = [title, "", f"Outcome: **{result.outcome}**"
           + (f" (in {result.phase})" if result.phase != "call" else "")
           + (f"; clauses cited: {', '.join(result.clauses)}" if result.clauses else ""), ""]
    if result.outcome == "unexpected-pass":
        out += [f"Listed as a known departure ({result.reason}) but passed: remove the entry "
                "from the expected-failures file.", ""]
    if result.message:
        # Masks are drawn as character grids inside messages: a code block keeps them aligned.
        out += ["```text", result.message, "```", ""]
    if result.where:
        out += [f"Raised at `{result.where}`.", ""]
    if result.example:
        out += ["Hypothesis' failing example" + ("" if result.shrunk else
                " (as first found, not shrunk: the run's shrink budget was spent)") + ":", "",
                "```text", result.example, "```", ""]
    if result.repro:
        out += ["Repro:", "", "```python", result.repro.rstrip("\n"), "```", ""]
    if result.command:
        out += ["Replay:", "", "```sh", result.command, "```", ""]
    return out


def _code(text: str) -> str:
    return f"`{text}`" if "`" not in text else f"`` {text} ``"
