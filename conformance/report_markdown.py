"""report.md: the run's context and verdict, the summary by clause area, the cells by clause,
then each unexpected result with its message, example, repro snippet and replay command."""

from __future__ import annotations

from collections import Counter

from conformance import spec
from conformance.report_results import (
    SUMMARY_COLUMNS,
    PropertyResult,
    RunReport,
    blamed_clauses,
    clause_cells,
    summary_row,
)


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

