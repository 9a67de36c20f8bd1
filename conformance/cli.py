"""`prune-conformance`: run the conformance suite, compare implementations, read the spec.

    prune-conformance run IMPL [--device DEV] [-n N] [--profile NAME] [--seed N]
                           [--expected-failures FILE|none] [--junitxml PATH] [--report DIR]
                           [--quiet] [-k EXPR] [--slow] [--max-numel N]
    prune-conformance compare IMPL_A IMPL_B [...] [--device DEV] [-n N] [--profile NAME] [-k EXPR]
                           [--report DIR]
    prune-conformance spec [AREA|ID ...]
    prune-conformance method module:Class [--kwargs JSON] [--impl IMPL] [--device DEV]

`run` is `pytest --pyargs conformance --impl IMPL` in this process, plus a summary per clause area
and optional reports (conformance/report.py). IMPL is `torch`, `reference`, a dotted module path or
a .py file; it may be omitted when $PRUNE_IMPL is set.

Exit status: 0 no unexpected result; 1 the implementation departs from SPEC.md (a failure, an error,
or a known departure that passed); 2 usage error (unknown implementation, a module that fails to
import, a bad expected-failures file, profile or device string, nothing selected); 3 the kit itself
failed (the suite could not be collected, pytest's internal error); 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from conformance.impl import Implementation
    from conformance.report import PropertyResult, RunReport
    from conformance.spec import Clause

PROG = "prune-conformance"
EXIT_OK, EXIT_DEPARTS, EXIT_USAGE, EXIT_KIT, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class UsageError(Exception):
    """A mistake in the command line: reported in one line, exit 2."""


class KitError(Exception):
    """The kit itself cannot do its job: reported in one line, exit 3."""


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


# --- validation before pytest starts --------------------------------------------------------

@dataclass
class Target:
    """An implementation checked to load, with the run's device, profile and known departures."""

    spec: str
    implementation: Implementation | None
    device: str
    device_problem: str | None
    profile: str
    expected_option: str | None
    expected_file: str | None


def resolve_impl(given: str | None) -> str:
    from conformance import impl

    chosen = given or os.environ.get(impl.ENV_VAR)
    if not chosen:
        raise UsageError(f"no implementation: give IMPL (torch, reference, a dotted module or a "
                         f".py file) or set ${impl.ENV_VAR}")
    return chosen


def prepare(impl_spec: str, device: str = "cpu", profile: str = "default",
            expected_option: str | None = None) -> Target:
    """Check everything the user named, so that a mistake is one line and no pytest run."""
    from conformance import expected, impl, plugin

    if profile not in plugin.PROFILES:
        raise UsageError(f"unknown profile {profile!r} (profiles: {', '.join(plugin.PROFILES)})")
    try:
        implementation = impl.load(impl_spec)
    except impl.ImplementationError as exc:
        raise UsageError(str(exc)) from None
    import torch

    try:
        torch_device = torch.device(device)
    except RuntimeError as exc:
        raise UsageError(f"bad --device {device!r}: {exc}") from None
    try:
        expected_files, entries = expected.load(expected_option, impl_spec)
        expected.in_force(entries, torch_device.type, torch.__version__)
    except expected.ExpectedFailuresError as exc:
        raise UsageError(str(exc)) from None
    return Target(impl_spec, implementation, str(torch_device),
                  plugin.device_problem(torch_device), profile, expected_option,
                  expected.describe(expected_files))


def choose_seed(profile: str, given: int | None) -> int | str:
    """The seed every run has, so that its report can replay it: the given one, "derandomized"
    for a derandomized profile, else a fresh random one."""
    from conformance.plugin import fresh_seed

    seed = fresh_seed(profile)
    if seed is None:
        return "derandomized"
    return given if given is not None else seed


# --- run ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RunOptions:
    """What a run selects and how it reports, shared by run and compare and forwarded by
    gpu-check and release-check: one place that knows each option's words."""

    workers: str | None = None
    keyword: str | None = None
    slow: bool = False
    max_numel: int | None = None
    shrink_budget: float | None = None  # seconds of shrinking per worker; None: the profile's
    maxfail: int | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> RunOptions:
        return cls(**{name: getattr(args, name) for name in cls.__dataclass_fields__
                      if hasattr(args, name)})

    def words(self) -> list[str]:
        """As `prune-conformance` words, for a command line that repeats or forwards a run."""
        words = ["-n", self.workers] if self.workers is not None else []
        words += ["-k", self.keyword] if self.keyword else []
        words += ["--slow"] if self.slow else []
        words += ["--max-numel", str(self.max_numel)] if self.max_numel is not None else []
        words += ["--shrink-budget", f"{self.shrink_budget:g}"] if (
            self.shrink_budget is not None) else []
        return words + (["--maxfail", str(self.maxfail)] if self.maxfail is not None else [])

    def pytest_words(self) -> list[str]:
        words = ["-n", self.workers] if self.workers is not None else []
        words += ["-k", self.keyword] if self.keyword else []
        # the plugin deselects `slow` properties unless -m selects by marker
        words += ["-m", "slow or not slow"] if self.slow else []
        words += [f"--max-numel={self.max_numel}"] if self.max_numel is not None else []
        words += [f"--shrink-budget={self.shrink_budget:g}"] if (
            self.shrink_budget is not None) else []
        return words + ([f"--maxfail={self.maxfail}"] if self.maxfail is not None else [])


def pytest_args(target: Target, seed: int | str, options: RunOptions, *,
                junitxml: str | None, quiet: bool, colour: bool) -> list[str]:
    args = ["--pyargs", "conformance", "--impl", target.spec, "--device", target.device,
            "--hypothesis-profile", target.profile,
            # The worker half of the report machinery: xdist workers load it from this line.
            "-p", "conformance.report", "-p", "no:cacheprovider",
            # This process imported the kit and Hypothesis before pytest could rewrite them.
            "-W", "ignore::pytest.PytestAssertRewriteWarning"]
    if isinstance(seed, int):
        args.append(f"--hypothesis-seed={seed}")
    if target.expected_option is not None:
        args += ["--expected-failures", target.expected_option]
    args += options.pytest_words()
    if junitxml:
        args.append(f"--junitxml={junitxml}")
    if quiet:
        args += ["-q", "--tb=short"]
    if not colour:
        args.append("--color=no")
    return args


def run_command_line(target: Target, seed: int | str, options: RunOptions) -> str:
    """The `prune-conformance run` line that repeats this run (with its seed made explicit)."""
    words = [PROG, "run", target.spec, "--device", target.device, "--profile", target.profile]
    if isinstance(seed, int):
        words += ["--seed", str(seed)]
    if target.expected_option is not None:
        words += ["--expected-failures", target.expected_option]
    return shlex.join(words + options.words())


def execute(target: Target, seed: int | str, options: RunOptions, *,
            junitxml: str | None = None, quiet: bool = False,
            colour: bool = False) -> tuple[int, RunReport]:
    """Run the suite in this process; (pytest's exit code, report.RunReport)."""
    import pytest
    import torch

    import conformance
    from conformance import report

    collector = report.Collector()
    # SIGTERM (a CI job's timeout) ends the run as Ctrl-C does, and the report of what finished
    # is still written.
    signal.signal(signal.SIGTERM, collector.terminate)
    started = time.monotonic()
    args = pytest_args(target, seed, options, junitxml=junitxml, quiet=quiet, colour=colour)
    code = int(pytest.main(args, plugins=[collector]))
    sys.stdout.flush()
    implementation = target.implementation
    run = report.RunReport(
        implementation={"spec": target.spec, "name": implementation.name,
                        "version": implementation.version, "file": implementation.file},
        torch=torch.__version__, device=target.device, profile=target.profile, seed=seed,
        expected_failures=target.expected_file,
        command=run_command_line(target, seed, options),
        device_problem=target.device_problem, kit_version=conformance.__version__,
        duration=round(time.monotonic() - started, 3), collect_errors=collector.collect_errors,
        warnings=collector.warnings,
        properties=list(collector.results.values()))
    report.finish(run)
    return code, run


def exit_code(pytest_code: int, run: RunReport, keyword: str | None) -> int:
    """Our exit status from pytest's and the results (see the module docstring)."""
    import pytest

    if pytest_code == pytest.ExitCode.NO_TESTS_COLLECTED:
        raise UsageError("no property selected" + (f" by -k {keyword!r}" if keyword else ""))
    if run.collect_errors or pytest_code == pytest.ExitCode.INTERNAL_ERROR:
        raise KitError("the suite itself failed to run (see pytest's output above)")
    if pytest_code == pytest.ExitCode.INTERRUPTED:
        return EXIT_INTERRUPTED
    if run.unexpected or pytest_code == pytest.ExitCode.TESTS_FAILED:
        return EXIT_DEPARTS
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    import pytest

    from conformance import report

    target = prepare(resolve_impl(args.impl), args.device, args.profile, args.expected_failures)
    seed = choose_seed(args.profile, args.seed)
    colour = colour_enabled(sys.stdout) and not args.quiet  # quiet output is plain text
    out_dir = Path(args.report) if args.report else None
    junitxml = args.junitxml or (str(out_dir / "junit.xml") if out_dir else None)
    if out_dir:
        out_dir.mkdir(parents=True, exist_ok=True)
    code, run = execute(target, seed, RunOptions.from_args(args), junitxml=junitxml,
                        quiet=args.quiet, colour=colour)
    if code == pytest.ExitCode.USAGE_ERROR:  # pytest said why on stderr (e.g. a bad -k)
        return EXIT_USAGE
    run.exit_code = exit_code(code, run, args.keyword)
    written: list[Path] = []
    if out_dir:
        written = list(report.write(run, out_dir))
        copy = out_dir / "junit.xml"
        if args.junitxml and Path(args.junitxml).is_file() and not (
                copy.exists() and copy.samefile(args.junitxml)):
            shutil.copyfile(args.junitxml, copy)
        written.append(out_dir / "junit.xml")
    print_summary(run, Style(colour), sys.stdout)
    for path in written:
        print(f"report: {path}")
    return run.exit_code


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
        label = Path(spec).stem if spec.endswith(".py") or "/" in spec or os.sep in spec else spec
        base, n = label, 2
        while label in labels:
            label, n = f"{base}-{n}", n + 1
        labels.append(label)
    return labels


def cmd_compare(args: argparse.Namespace) -> int:
    targets = [prepare(s, args.device, args.profile) for s in args.impls]
    # One seed for all: every implementation sees the same cases.
    seed = choose_seed(args.profile, args.seed)
    labels = labels_for(args.impls)
    style = Style(colour_enabled(sys.stdout) and not args.quiet)
    with tempfile.TemporaryDirectory(prefix="prune-compare-") as scratch:
        base = Path(args.report) if args.report else Path(scratch)
        runs = []
        for label, target in zip(labels, targets, strict=True):
            print(style(f"==== {label} ====", "bold"), flush=True)
            runs.append(_run_child(target, seed, base / label, args))
    table = compare_table(labels, runs, style, only_differing=not args.all)
    print(file=sys.stdout)
    print(table)
    if args.report:
        plain = compare_table(labels, runs, Style(False))
        (Path(args.report) / "compare.md").write_text(
            f"# prune-conformance compare\n\n```text\n{plain}\n```\n", encoding="utf-8")
        print(f"report: {Path(args.report) / 'compare.md'}")
    codes = [run.exit_code for run in runs]
    if EXIT_KIT in codes:
        return EXIT_KIT
    bad = [label for label, run in zip(labels, runs, strict=True) if run.unexpected]
    if bad:
        print(style(f"unexpected results: {', '.join(bad)}", "bold", "red"))
        return EXIT_DEPARTS
    print(style(f"no unexpected results in {', '.join(labels)}", "bold", "green"))
    return EXIT_OK


def _run_child(target: Target, seed: int | str, out_dir: Path,
               args: argparse.Namespace) -> RunReport:
    """`run` of one implementation in its own process (an implementation may patch others in its
    process), its output passed through; returns its RunReport."""
    from conformance import report

    command = [sys.executable, "-m", "conformance.cli", "run", target.spec, "--device",
               target.device, "--profile", target.profile, "--report", str(out_dir), "--quiet"]
    if isinstance(seed, int):
        command += ["--seed", str(seed)]
    command += RunOptions.from_args(args).words()
    env = {**os.environ}
    env.pop("PRUNE_IMPL", None)
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          env=env) as child:
        assert child.stdout is not None
        for line in child.stdout:
            # Without --report the child's reports live in a folder deleted on return: unnamed.
            if args.report or not line.startswith("report: "):
                sys.stdout.write(line)
        sys.stdout.flush()
    if child.returncode == EXIT_USAGE:
        raise UsageError(f"run of {target.spec} failed (see above)")
    report_json = out_dir / "report.json"
    if not report_json.is_file():
        raise KitError(f"run of {target.spec} exited {child.returncode} without a report")
    return report.RunReport.from_json(json.loads(report_json.read_text(encoding="utf-8")))


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

def select_clauses(selectors: Sequence[str]) -> list[Clause]:
    """Clauses named by ids or areas (case-insensitive), in SPEC.md order; all without any."""
    from conformance import spec

    clauses = spec.clauses()
    if not selectors:
        return list(clauses.values())
    chosen: dict[str, Clause] = {}
    for selector in selectors:
        key = selector.strip().upper()
        if key in clauses:
            chosen[key] = clauses[key]
        elif key in spec.areas():
            chosen.update({c.id: c for c in clauses.values() if c.area == key})
        else:
            raise UsageError(f"unknown clause or area {selector!r} "
                             f"(areas: {', '.join(spec.areas())}; ids like AMOUNT-2)")
    return [clause for clause in clauses.values() if clause.id in chosen]


def cmd_spec(args: argparse.Namespace) -> int:
    from conformance import inventory, spec

    clauses = select_clauses(args.selectors)
    try:
        # The suite is collected, not run; --impl torch keeps $PRUNE_IMPL out of the way.
        checked = inventory.by_clause(
            inventory.collect(("--impl", "torch", "--expected-failures", "none")))
    except RuntimeError as exc:
        raise KitError(str(exc).splitlines()[0]) from None
    style = Style(colour_enabled(sys.stdout))
    width = min(shutil.get_terminal_size((100, 20)).columns, 100)
    titles = spec.area_titles()
    area = None
    for clause in clauses:
        if clause.area != area:
            area = clause.area
            heading = f"{area}: {titles[area]}" if area in titles else area
            print(style(heading, "bold"))
            print()
        print(style(clause.id, "bold") + f"  [{clause.level}, {clause.word}]")
        wrap = textwrap.TextWrapper(width=width, initial_indent="    ", subsequent_indent="    ")
        print(wrap.fill(clause.text))
        if clause.torch_note:
            print(wrap.fill(f"torch 2.13: {clause.torch_note}"))
        properties = checked.get(clause.id, [])
        if properties:
            print(f"    checked by: {properties[0]}")
            for name in properties[1:]:
                print(f"                {name}")
        else:
            print(style("    checked by: — (no property)",
                        "yellow" if clause.must else "dim"))
        print()
    return EXIT_OK


# --- method ---------------------------------------------------------------------------------

def cmd_method(args: argparse.Namespace) -> int:
    from conformance import impl

    module, _, name = args.target.partition(":")
    if not module or not name:
        raise UsageError(f"expected module:Class, got {args.target!r}")
    try:
        kwargs = json.loads(args.kwargs)
    except json.JSONDecodeError as exc:
        raise UsageError(f"--kwargs is not JSON: {exc}") from None
    if not isinstance(kwargs, dict):
        raise UsageError(f"--kwargs must be a JSON object, got {args.kwargs!r}")
    impl_spec = impl.resolve(args.impl)
    try:
        impl.load(impl_spec)
    except impl.ImplementationError as exc:
        raise UsageError(str(exc)) from None
    try:
        from conformance.method_contract import run_method_check
    except ModuleNotFoundError as exc:
        if exc.name != "conformance.method_contract":
            raise
        raise KitError("this installation has no method contract check "
                       "(conformance.method_contract)") from None
    return int(run_method_check(args.target, kwargs, impl_spec, args.device))


# --- the command line -----------------------------------------------------------------------

def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return int(text)


def _shared(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="cpu", help="torch device string (default: cpu)")
    parser.add_argument("-n", dest="workers", metavar="N", default=None,
                        help="pytest-xdist workers (a number or auto; default: none)")
    parser.add_argument("--profile", default="default",
                        help="Hypothesis profile: default, ci (derandomized), thorough or unshrunk "
                             "(failures as first found)")
    parser.add_argument("--seed", type=int, default=None,
                        help="Hypothesis seed (default: a random one, printed and reported)")
    parser.add_argument("-k", dest="keyword", metavar="EXPR", default=None,
                        help="only properties matching the pytest -k expression")
    parser.add_argument("--slow", action="store_true",
                        help="also run the properties marked slow (tensors beyond 2**24 entries)")
    parser.add_argument("--max-numel", type=_positive_int, default=None, metavar="N",
                        help="largest tensor the properties draw (default: the plugin's, 240)")
    parser.add_argument("--shrink-budget", type=_seconds, default=None, metavar="SECONDS",
                        help="time each worker may spend shrinking failures; later failures are "
                             "reported as first found (default: 60, none under the thorough "
                             "profile; 'none' for no limit)")
    parser.add_argument("--maxfail", type=_positive_int, default=None, metavar="N",
                        help="stop after N unexpected results")


def _seconds(text: str) -> float:
    """--shrink-budget: seconds >= 0, or 'none' (no limit, written as -1)."""
    if text.lower() == "none":
        return -1.0
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds or 'none', got {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected seconds >= 0 or 'none', got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Check a torch.nn.utils.prune implementation against SPEC.md.",
        epilog="exit status: 0 conforms, 1 departs from the spec, 2 usage error, 3 kit failure")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run the suite against one implementation",
                         description="Run the conformance suite against IMPL (torch, reference, "
                                     "a dotted module path or a .py file).")
    run.add_argument("impl", nargs="?", metavar="IMPL",
                     help="implementation under test (default: $PRUNE_IMPL)")
    _shared(run)
    run.add_argument("--expected-failures", metavar="FILE|none", default=None,
                     help="known departures (default: the shipped file for torch, none otherwise)")
    run.add_argument("--junitxml", metavar="PATH", default=None, help="write JUnit XML here")
    run.add_argument("--report", metavar="DIR", default=None,
                     help="write report.json, report.md and junit.xml into DIR")
    run.add_argument("-q", "--quiet", action="store_true",
                     help="plain, compact output for CI logs")
    run.set_defaults(handler=cmd_run)

    compare = sub.add_parser("compare", help="run the suite against several implementations",
                             description="Run the suite against each implementation (each with "
                                         "its default expected failures) and print a table of "
                                         "clauses by implementation.")
    compare.add_argument("impls", nargs="+", metavar="IMPL")
    _shared(compare)
    compare.add_argument("--all", action="store_true",
                         help="list every clause, not only those where the implementations differ")
    compare.add_argument("-q", "--quiet", action="store_true",
                         help="plain output for CI logs (the runs are always compact)")
    compare.add_argument("--report", metavar="DIR", default=None,
                         help="write each implementation's reports into DIR/<name>/ and the "
                              "table into DIR/compare.md")
    compare.set_defaults(handler=cmd_compare)

    spec = sub.add_parser("spec", help="print clauses and the properties that check them")
    spec.add_argument("selectors", nargs="*", metavar="AREA|ID",
                      help="areas (AMOUNT) or clause ids (AMOUNT-2); default: all")
    spec.set_defaults(handler=cmd_spec)

    method = sub.add_parser("method", help="check a user-written BasePruningMethod subclass",
                            description="Check that a pruning method class keeps the contract "
                                        "of BasePruningMethod.")
    method.add_argument("target", metavar="module:Class")
    method.add_argument("--kwargs", default="{}", metavar="JSON",
                        help="constructor arguments as a JSON object (default: {})")
    method.add_argument("--impl", default=None,
                        help="implementation (default: $PRUNE_IMPL, else torch)")
    method.add_argument("--device", default="cpu", help="torch device string (default: cpu)")
    method.set_defaults(handler=cmd_method)
    # No abbreviations: `--profil ci` is an error, not a silent `--profile ci`.
    for each in (parser, *sub.choices.values()):
        each.allow_abbrev = False
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KitError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_KIT
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
