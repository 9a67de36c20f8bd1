"""`prune-conformance`: run the conformance suite, compare implementations, read the spec.

    prune-conformance run IMPL [--device DEV] [-n N] [--profile NAME] [--seed N]
                           [--expected-failures FILE|none] [--junitxml PATH] [--report DIR]
                           [--quiet] [-k EXPR] [--slow] [--max-numel N]
    prune-conformance compare IMPL_A IMPL_B [...] [--device DEV] [-n N] [--profile NAME] [-k EXPR]
                           [--report DIR]
    prune-conformance spec [AREA|ID ...]
    prune-conformance method module:Class [--kwargs JSON] [--impl IMPL] [--device DEV]

`run` is `pytest --pyargs conformance --impl IMPL` in this process, plus a summary per clause area
(conformance/terminal.py) and optional reports (conformance/report.py). IMPL is `torch`,
`reference`, a dotted module path or a .py file; without one, $PRUNE_IMPL, else torch, as for every
entry point (conformance/config.py, which also follows IMPL to the properties' `prune` fixture).

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
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from conformance import config, impl
from conformance.config import (
    EXIT_DEPARTS,
    EXIT_INTERRUPTED,
    EXIT_KIT,
    EXIT_OK,
    EXIT_USAGE,
    PROG,
    RunConfig,
    RunOptions,
    UsageError,
)
from conformance.terminal import (
    Style,
    colour_enabled,
    compare_table,
    labels_for,
    print_clauses,
    print_summary,
)

if TYPE_CHECKING:
    from conformance.report import RunReport
    from conformance.spec import Clause

class KitError(Exception):
    """The kit itself cannot do its job: reported in one line, exit 3."""


# --- run ------------------------------------------------------------------------------------

def pytest_args(run_config: RunConfig, options: RunOptions, *,
                junitxml: str | None, quiet: bool, colour: bool) -> list[str]:
    """pytest's words for the run, which xdist workers build their own RunConfig from."""
    args = ["--pyargs", "conformance", "--impl", run_config.spec,
            "--device", str(run_config.device), "--hypothesis-profile", run_config.profile,
            # The worker half of the report machinery: xdist workers load it from this line.
            "-p", "conformance.report", "-p", "no:cacheprovider",
            # This process imported the kit and Hypothesis before pytest could rewrite them.
            "-W", "ignore::pytest.PytestAssertRewriteWarning"]
    if isinstance(run_config.seed, int):
        args.append(f"--hypothesis-seed={run_config.seed}")
    if run_config.expected_option is not None:
        args += ["--expected-failures", run_config.expected_option]
    args += options.pytest_words()
    if junitxml:
        args.append(f"--junitxml={junitxml}")
    if quiet:
        args += ["-q", "--tb=short"]
    if not colour:
        args.append("--color=no")
    return args


def run_words(run_config: RunConfig, options: RunOptions) -> list[str]:
    """`prune-conformance run` and its words, the seed made explicit: the line that repeats the
    run, and the command compare starts for each implementation."""
    words = [PROG, "run", run_config.spec, "--device", str(run_config.device),
             "--profile", run_config.profile]
    if isinstance(run_config.seed, int):
        words += ["--seed", str(run_config.seed)]
    if run_config.expected_option is not None:
        words += ["--expected-failures", run_config.expected_option]
    return words + options.words()


def execute(run_config: RunConfig, options: RunOptions, *, junitxml: str | None = None,
            quiet: bool = False, colour: bool = False) -> tuple[int, RunReport]:
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
    args = pytest_args(run_config, options, junitxml=junitxml, quiet=quiet, colour=colour)
    code = int(pytest.main(args, plugins=[collector, config.Handed(run_config)]))
    sys.stdout.flush()
    implementation = run_config.implementation
    run = report.RunReport(
        implementation={"spec": run_config.spec, "name": implementation.name,
                        "version": implementation.version, "file": implementation.file},
        torch=torch.__version__, device=str(run_config.device), profile=run_config.profile,
        seed=run_config.seed, expected_failures=run_config.expected_sources,
        command=shlex.join(run_words(run_config, options)),
        device_problem=run_config.device_problem, kit_version=conformance.__version__,
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


def configure(args: argparse.Namespace, impl_spec: str | None, seed: int | str | None,
              expected_option: str | None = None) -> RunConfig:
    """The RunConfig of `run` or of one implementation of `compare`, from the command line."""
    return config.build(impl_spec, device=args.device, profile=args.profile, seed=seed,
                        max_numel=args.max_numel, shrink_budget=args.shrink_budget,
                        expected_option=expected_option)


def cmd_run(args: argparse.Namespace) -> int:
    import pytest

    from conformance import report

    run_config = configure(args, args.impl, args.seed, args.expected_failures)
    colour = colour_enabled(sys.stdout) and not args.quiet  # quiet output is plain text
    out_dir = Path(args.report) if args.report else None
    junitxml = args.junitxml or (str(out_dir / "junit.xml") if out_dir else None)
    if out_dir:
        out_dir.mkdir(parents=True, exist_ok=True)
    code, run = execute(run_config, RunOptions.from_args(args), junitxml=junitxml,
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


# --- compare --------------------------------------------------------------------------------

def cmd_compare(args: argparse.Namespace) -> int:
    # One seed for all: every implementation sees the same cases.
    seed = config.choose_seed(args.profile, args.seed)
    run_configs = [configure(args, spec, seed) for spec in args.impls]
    labels = labels_for(args.impls)
    style = Style(colour_enabled(sys.stdout) and not args.quiet)
    with tempfile.TemporaryDirectory(prefix="prune-compare-") as scratch:
        base = Path(args.report) if args.report else Path(scratch)
        runs = []
        for label, run_config in zip(labels, run_configs, strict=True):
            print(style(f"==== {label} ====", "bold"), flush=True)
            runs.append(_run_child(run_config, base / label, args))
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


def _run_child(run_config: RunConfig, out_dir: Path, args: argparse.Namespace) -> RunReport:
    """`run` of one implementation in its own process (an implementation may patch others in its
    process), its output passed through; returns its RunReport."""
    from conformance import report

    command = [sys.executable, "-m", "conformance.cli",
               *run_words(run_config, RunOptions.from_args(args))[1:],
               "--report", str(out_dir), "--quiet"]
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
        raise UsageError(f"run of {run_config.spec} failed (see above)")
    report_json = out_dir / "report.json"
    if not report_json.is_file():
        raise KitError(f"run of {run_config.spec} exited {child.returncode} without a report")
    return report.RunReport.from_json(json.loads(report_json.read_text(encoding="utf-8")))


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
    from conformance import inventory

    clauses = select_clauses(args.selectors)
    try:
        # The suite is collected, not run; --impl torch keeps $PRUNE_IMPL out of the way.
        checked = inventory.by_clause(
            inventory.collect(("--impl", "torch", "--expected-failures", "none")))
    except RuntimeError as exc:
        raise KitError(str(exc).splitlines()[0]) from None
    print_clauses(clauses, checked, Style(colour_enabled(sys.stdout)), sys.stdout)
    return EXIT_OK


# --- method ---------------------------------------------------------------------------------

def _json_object(text: str, option: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{option} is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise UsageError(f"{option} must be a JSON object, got {text!r}")
    return value


def cmd_method(args: argparse.Namespace) -> int:
    from conformance.method_contract import run_method_check

    kwargs = _json_object(args.kwargs, "--kwargs")
    listed = _json_object(args.expected_failures, "--expected-failures")
    return int(run_method_check(args.target, kwargs, args.impl, args.device,
                                expected_failures=listed))


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
                        help="Hypothesis profile: default, ci (derandomized), thorough, unshrunk "
                             "(failures as first found) or mutation (scripts/mutation's)")
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
                     help=f"implementation under test (default: ${impl.ENV_VAR}, else "
                          f"{config.DEFAULT_IMPL})")
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
                        help=f"implementation (default: ${impl.ENV_VAR}, else "
                             f"{config.DEFAULT_IMPL})")
    method.add_argument("--expected-failures", default="{}", metavar="JSON",
                        help='checks known to fail, as a JSON object {"check": "reason"} (the '
                             'check names are in the error an unknown one gets); a listed check '
                             'that passes fails the run (default: {})')
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
