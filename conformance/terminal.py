"""What the command line prints on a terminal: colours, a run's summary by clause area, the
compare table and the clauses of `spec`. The Markdown and JSON reports are conformance/report.py's.
"""

from __future__ import annotations

import os
import shutil
import textwrap
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, ClassVar

from conformance import impl
from conformance.config import PROG

if TYPE_CHECKING:
    from conformance.report import PropertyResult, RunReport
    from conformance.spec import Clause


# --- colours ------------------------------------------------------------------------------------

def colour_enabled(stream: IO[str]) -> bool:
    """Colours only on a terminal, and never when $NO_COLOR is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


class Style:
    CODES: ClassVar[dict[str, str]] = {
        "red": "31", "green": "32", "yellow": "33", "bold": "1", "dim": "2"}

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, *styles: str) -> str:
        if not self.enabled or not styles:
            return text
        codes = ";".join(self.CODES[s] for s in styles if s)
        if not codes:
            return text
        return f"\033[{codes}m{text}\033[0m"

    def cell(self, text: str, width: int) -> str:
        """A table cell padded to `width`, coloured by what it says."""
        colour = {"FAIL": "red", "XPASS": "red", "expected": "yellow", "pass": "green"}.get(text)
        padded = f"{text:<{width}}"
        return self(padded, colour) if colour else padded



# --- a run's summary ---------------------------------------------------------------------------

def print_summary(run: RunReport, style: Style, out: IO[str]) -> None:
    """The per-area table, the unexpected results with their replay lines, skips, the verdict."""
    from conformance import report

    impl = run.implementation
    print(file=out)
    print(style(f"{PROG}: {impl['spec']} ({impl['version']}, {impl['file']})", "bold"), file=out)
    print(f"  torch {run.torch}, device {run.device}, profile {run.profile}, seed {run.seed}, "
          f"expected failures {run.expected_failures or 'none'}", file=out)
    areas = run.by_area()
    if areas:
        width = max(len("total"), *(len(a) for a in areas))
        header = f"{'area':<{width}}" + "".join(f"{c:>10}" for c in report.SUMMARY_COLUMNS)
        print(style(header, "bold"), file=out)
        rows = [*areas.items(), ("total", report.summary_row(run.counts()))]
        for name, row in rows:
            cells = "".join(_count(row[c], c, style) for c in report.SUMMARY_COLUMNS)
            print(f"{name:<{width}}{cells}", file=out)
    unexpected = run.unexpected
    if unexpected:
        _print_unexpected(run, style, out)
    skipped = Counter(r.reason for r in run.properties if r.outcome == "skipped")
    if run.device_problem and run.device_problem in skipped:
        print(style(f"{run.device_problem}: {skipped.pop(run.device_problem)} properties that "
                    f"need the device were skipped", "yellow"), file=out)
    for reason, count in skipped.most_common(5):
        print(f"skipped {count}: {reason}", file=out)
    for warning in run.warnings:
        print(style(f"warning: {warning}", "yellow"), file=out)
    verdict = report.verdict(run)
    colour = "red" if run.exit_code else "green" if verdict.startswith("conforms") else "yellow"
    print(style(f"result: {verdict}", "bold", colour), file=out)
    out.flush()


def _by_clause(results: Sequence[PropertyResult]) -> list[tuple[str, list[PropertyResult]]]:
    """Results grouped by the clause they break, the rarest first: one new defect among many
    known departures stands at the top."""
    from conformance import report

    groups: dict[str, list[PropertyResult]] = {}
    for result in results:
        groups.setdefault(report.blamed_clauses(result) or "no clause", []).append(result)
    return sorted(groups.items(), key=lambda item: (len(item[1]), item[0]))


def torch_explains(run: RunReport) -> set[str]:
    """Ids of the run's unexpected results that torch's shipped list explains (in force for the
    run's device and torch), for an implementation that is not torch: a wrapper or fork of torch
    sees its own defects apart from the departures it inherits."""
    import torch

    from conformance import expected

    if run.implementation["spec"] == "torch" or run.expected_failures:
        return set()
    _, entries = expected.load(None, "torch")
    listed = expected.in_force(entries, torch.device(run.device).type, run.torch)
    return {r.id for r in run.unexpected if r.outcome == "failed"
            and expected.lookup(listed, r.id) is not None}


def _print_unexpected(run: RunReport, style: Style, out: IO[str], details: int = 20) -> None:
    explained = torch_explains(run)
    own = [r for r in run.unexpected if r.id not in explained]
    inherited = [r for r in run.unexpected if r.id in explained]
    print(style(f"unexpected results: {len(run.unexpected)}, by clause, the rarest first"
                + (f"; {len(own)} not among torch's known departures" if inherited else ""),
                "bold", "red"), file=out)
    shown = 0
    for clause, results in _by_clause(own):
        print(style(f"  {clause} ({len(results)})", "bold"), file=out)
        for result in results:
            if shown == details:
                break
            shown += 1
            label = "FAILED" if result.outcome == "failed" else "XPASS "
            text = result.message or result.reason
            first = text.splitlines()[0] if text else ""
            print(f"    {style(label, 'red')} {result.id}", file=out)
            if first:
                print(f"           {first[:200]}", file=out)
            print(style(f"           replay: {result.command}", "dim"), file=out)
    if len(own) > shown:
        print(f"  ... {len(own) - shown} more in the report", file=out)
    if inherited:
        tally = ", ".join(f"{clause} {len(rs)}" for clause, rs in _by_clause(inherited))
        print(style(f"  also torch's known departures ({len(inherited)}; "
                    f"--expected-failures torch inherits them): {tally}", "yellow"), file=out)
    unshrunk = sum(1 for r in run.unexpected if r.outcome == "failed" and not r.shrunk)
    if unshrunk:
        print(f"  {unshrunk} failures are shown as first found, not shrunk: the run's shrink "
              "budget was spent (--shrink-budget)", file=out)


def _count(value: int, column: str, style: Style) -> str:
    text = f"{value:>10}"
    if not value:
        return text
    return style(text, {"failed": "red", "expected": "yellow", "passed": "green",
                        "skipped": "yellow"}[column])



# --- compare --------------------------------------------------------------------------------

def labels_for(specs: Sequence[str]) -> list[str]:
    """Short unique column names: aliases and modules as given, files by their stem."""
    labels: list[str] = []
    for spec in specs:
        label = Path(spec).stem if impl.is_file_spec(spec) else spec
        base, n = label, 2
        while label in labels:
            label, n = f"{base}-{n}", n + 1
        labels.append(label)
    return labels



def compare_table(labels: Sequence[str], runs: Sequence[RunReport], style: Style,
                  only_differing: bool = False) -> str:
    """Rows: clauses (id, level); columns: implementations; then the totals per implementation.
    With `only_differing`, the clauses where the implementations differ, and a count of the rest."""
    from conformance import report, spec

    cells = [report.clause_cells(run.properties) for run in runs]
    clauses = spec.clauses()
    alike = [c for c in clauses if len({column[c] for column in cells}) == 1]
    if only_differing:
        clauses = {k: v for k, v in clauses.items() if k not in alike}
    # Widths from every clause, so that the table keeps its shape whichever rows it shows.
    id_width = max(len("clause"), *(len(c) for c in spec.clauses()))
    level_width = max(len(f"{c.level}, {c.word}") for c in spec.clauses().values())
    widths = [max(len(label), len("expected"), 8) for label in labels]
    lines = [style(f"{'clause':<{id_width}}  {'level':<{level_width}}  "
                   + "  ".join(f"{label:<{w}}" for label, w in zip(labels, widths, strict=True)),
                   "bold")]
    for clause in clauses.values():
        row = "  ".join(style.cell(column[clause.id], w)
                        for column, w in zip(cells, widths, strict=True))
        lines.append(f"{clause.id:<{id_width}}  {clause.level + ', ' + clause.word:<{level_width}}"
                     f"  {row}".rstrip())
    if only_differing:
        lines.append(f"{len(alike)} clauses alike in every column are not shown "
                     "(the report's compare.md lists them all)")
    lines.append("(— : no property of this run cites the clause)")
    lines.append("")
    for column in report.SUMMARY_COLUMNS:
        counts = [report.summary_row(run.counts())[column] for run in runs]
        lines.append(f"{column:<{id_width + level_width + 2}}  "
                     + "  ".join(f"{n:<{w}}" for n, w in zip(counts, widths, strict=True)))
    verdicts = ["DEPARTS" if run.unexpected else "ok" for run in runs]
    lines.append(f"{'result':<{id_width + level_width + 2}}  " + "  ".join(
        style(f"{v:<{w}}", "red" if v == "DEPARTS" else "green")
        for v, w in zip(verdicts, widths, strict=True)))
    return "\n".join(line.rstrip() for line in lines)



# --- spec -----------------------------------------------------------------------------------

def print_clauses(clauses: Sequence[Clause], checked: Mapping[str, Sequence[str]],
                  style: Style, out: IO[str]) -> None:
    """Each clause under its area's heading, wrapped, with the properties that check it."""
    from conformance import spec

    width = min(shutil.get_terminal_size((100, 20)).columns, 100)
    titles = spec.area_titles()
    area = None
    for clause in clauses:
        if clause.area != area:
            area = clause.area
            heading = f"{area}: {titles[area]}" if area in titles else area
            print(style(heading, "bold"), file=out)
            print(file=out)
        print(style(clause.id, "bold") + f"  [{clause.level}, {clause.word}]", file=out)
        wrap = textwrap.TextWrapper(width=width, initial_indent="    ", subsequent_indent="    ")
        print(wrap.fill(clause.text), file=out)
        if clause.torch_note:
            print(wrap.fill(f"torch 2.13: {clause.torch_note}"), file=out)
        properties = checked.get(clause.id, [])
        if properties:
            print(f"    checked by: {properties[0]}", file=out)
            for name in properties[1:]:
                print(f"                {name}", file=out)
        else:
            print(style("    checked by: — (no property)",
                        "yellow" if clause.must else "dim"), file=out)
        print(file=out)
