"""`prune-conformance`: exit codes, summaries, reports, compare, spec, method, colours.

The runs use small -k selections and the derandomized `ci` profile; each test starts at most one
command, so that xdist never runs the same command twice.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import types
from pathlib import Path

import pytest
from support import IMPLS, ROOT

from conformance import cli, config, expected, impl, terminal

BROKEN = str(IMPLS / "broken_amount.py")
ANSI = "\x1b["


def cli_process(*args: str, env: dict[str, str] | None = None,
                ) -> subprocess.CompletedProcess[str]:
    """`prune-conformance ARGS` in its own process, its output a pipe (not a terminal)."""
    environment = {k: v for k, v in os.environ.items() if k not in ("PRUNE_IMPL", "NO_COLOR")}
    environment.update(env or {})
    return subprocess.run([sys.executable, "-m", "conformance.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, env=environment)


def summary_rows(stdout: str) -> dict[str, list[str]]:
    """The per-area table printed at the end of a run: area -> its four counts."""
    rows = {}
    for line in stdout.splitlines():
        cells = line.split()
        if len(cells) == 5 and all(c.isdigit() for c in cells[1:]):
            rows[cells[0]] = cells[1:]
    return rows


# --- run ------------------------------------------------------------------------------------

def test_run_of_a_conforming_implementation_exits_0_and_summarises_by_area():
    # IMPL omitted: $PRUNE_IMPL names it.
    result = cli_process("run", "-k", "test_amount.py and l1_unstructured and int_amount",
                         "--profile", "ci", env={"PRUNE_IMPL": "reference"})
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "prune-conformance: implementation reference" in out  # pytest's header
    assert re.search(r"^area +passed +failed +expected +skipped$", out, re.MULTILINE)
    assert summary_rows(out)["AMOUNT"] == ["1", "0", "0", "0"]
    assert summary_rows(out)["total"] == ["1", "0", "0", "0"]
    assert "result: conforms: 1 passed, 0 skipped of 1" in out
    assert ANSI not in out + result.stderr, "no colours when stdout is not a terminal"


@pytest.mark.parametrize("slow", [False, True], ids=["default", "--slow"])
def test_slow_properties_run_only_when_asked(slow):
    keyword = "counts_stay_exact and l1_unstructured"  # DEVICE-7, 2**24 entries and more
    result = cli_process("run", "reference", "-k", keyword, "--profile", "ci",
                         *(["--slow"] if slow else []))
    if slow:
        assert result.returncode == 0, result.stdout + result.stderr
        assert summary_rows(result.stdout)["DEVICE"] == ["1", "0", "0", "0"]
    else:
        assert result.returncode == 2
        assert "no property selected" in result.stderr


def test_run_of_a_broken_implementation_exits_1_and_writes_the_reports(tmp_path):
    out_dir = tmp_path / "report"
    result = cli_process("run", BROKEN, "-k", "float_amount and l1_unstructured",
                         "--profile", "ci", "--report", str(out_dir), "--quiet")
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert summary_rows(out)["AMOUNT"] == ["0", "1", "0", "0"]
    assert "FAILED test_amount.py::test_float_amount_is_a_fraction_rounded_half_to_even" in out
    assert "replay: pytest --pyargs 'conformance.properties.test_amount::" in out
    assert "result: departs from SPEC.md: 1 failed of 1" in out
    assert ANSI not in out

    data = json.loads((out_dir / "report.json").read_text())
    assert data["implementation"]["spec"] == BROKEN
    assert data["implementation"]["file"] == BROKEN
    assert data["torch"].startswith("2.") and data["device"] == "cpu"
    assert data["profile"] == "ci" and data["seed"] == "derandomized"
    assert data["exit_code"] == 1
    (prop,) = data["properties"]
    assert prop["id"] == ("test_amount.py::test_float_amount_is_a_fraction_rounded_half_to_even"
                          "[l1_unstructured]")
    assert prop["clauses"] == ["AMOUNT-2"] and prop["areas"] == ["AMOUNT"]
    assert prop["outcome"] == "failed" and prop["clause"] == "AMOUNT-2"
    assert prop["duration"] > 0
    assert prop["message"].startswith("AMOUNT-2: ") and "expected " in prop["message"]
    assert re.search(r"(Failing test case|Falsifying example): test_float_amount", prop["example"])
    assert prop["reproduce_failure"].startswith("@reproduce_failure(")
    assert "spec_from_file_location('prune_under_test', " in prop["repro"]
    assert prop["command"].startswith("pytest --pyargs 'conformance.properties.test_amount::"
                                      "test_float_amount_is_a_fraction_rounded_half_to_even")
    assert "--hypothesis-profile ci" in prop["command"]

    md = (out_dir / "report.md").read_text()
    assert "| AMOUNT: how many units a call prunes | 0 | 1 | 0 | 0 |" in md
    assert "| AMOUNT-2 | core, MUST | FAIL | 1 |" in md
    assert "```python\n# Repro of test_amount.py::test_float_amount" in md
    junit = (out_dir / "junit.xml").read_text()
    assert "<testsuite" in junit and 'failures="1"' in junit


def test_unknown_implementation_is_one_line_and_exit_2():
    result = cli_process("run", "no_such_module_anywhere")
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(
        "prune-conformance: error: unknown implementation 'no_such_module_anywhere'")
    assert result.stdout == "", "nothing runs"


@pytest.mark.parametrize(("args", "says"), [
    (["run", "{syntax}"], "failed to import: SyntaxError("),
    (["run", "reference", "--expected-failures", "{bad_list}"], "bad.txt:1: expected"),
    (["run", "reference", "--profile", "fast"], "unknown profile 'fast'"),
    (["run", "reference", "--device", "gpu0"], "bad --device 'gpu0'"),
    (["run", "reference", "--max-numel", "5000"], "--max-numel 5000 is outside 1..4096"),
    (["compare", "reference", "no_such_module_anywhere"], "unknown implementation"),
    (["spec", "AMOUNT", "NOPE-1"], "unknown clause or area 'NOPE-1'"),
    (["method", "mypkg.Method"], "expected module:Class"),
    (["method", "mypkg:Method", "--kwargs", "{amount: 1}"], "--kwargs is not JSON"),
    (["method", "mypkg:Method", "--kwargs", "[1]"], "must be a JSON object"),
    (["method", "mypkg:Method", "--expected-failures", "[1]"], "must be a JSON object"),
    (["method", "mypkg:Method", "--expected-failures", '{"nope": "why"}'],
     "unknown check 'nope' (checks: type, dim, shape,"),
])
def test_usage_errors_exit_2_with_one_line_before_anything_runs(
        tmp_path, monkeypatch, capsys, args, says):
    syntax = tmp_path / "syntax_error.py"
    syntax.write_text("def l1_unstructured(:\n")
    bad_list = tmp_path / "bad.txt"
    bad_list.write_text("only one field\n")
    monkeypatch.delenv("PRUNE_IMPL", raising=False)
    argv = [a.replace("{syntax}", str(syntax)).replace("{bad_list}", str(bad_list))
            for a in args]
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.strip().splitlines()
    assert line.startswith("prune-conformance: error: ") and says in line


def test_run_without_impl_tests_the_documented_default():
    result = cli_process("run", "-k", "test_amount.py and l1_unstructured and int_amount",
                         "--profile", "ci", "--expected-failures", "none")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"prune-conformance: implementation {config.DEFAULT_IMPL} (" in result.stdout


def test_every_usage_error_is_one_type(monkeypatch):
    monkeypatch.delenv("PRUNE_IMPL", raising=False)
    assert cli.UsageError is config.UsageError is impl.UsageError
    assert issubclass(expected.ExpectedFailuresError, config.UsageError)
    for kwargs, says in [({"profile": "fast"}, "unknown profile 'fast'"),
                         ({"device": "gpu0"}, "bad --device 'gpu0'"),
                         ({"max_numel": 0}, "--max-numel 0 is outside"),
                         ({"expected_option": "no_such_list"}, "no shipped list"),
                         ({"impl_spec": "no_such_module_anywhere"}, "unknown implementation")]:
        with pytest.raises(config.UsageError, match=re.escape(says)):
            config.build(**{"impl_spec": "reference", **kwargs})
    assert config.build(None).spec == config.DEFAULT_IMPL
    monkeypatch.setenv("PRUNE_IMPL", "reference")
    assert config.build(None).spec == "reference"


def test_a_run_loads_its_implementation_once(monkeypatch, capsys):
    loads = []
    real = impl.load
    monkeypatch.setattr(impl, "load", lambda spec: loads.append(spec) or real(spec))
    monkeypatch.setattr(signal, "signal", lambda *args: None)  # leave this process's SIGTERM
    code = cli.main(["run", "reference", "-k", "test_amount.py and l1_unstructured and "
                     "int_amount", "--profile", "ci", "--quiet"])
    assert code == 0, capsys.readouterr().out
    assert loads == ["reference"]


def test_absent_device_skips_with_one_reason():
    result = cli_process("run", "reference", "--device", "cuda:99", "--profile", "ci",
                         "-k", "test_amount.py and l1_unstructured and int_amount")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "device 'cuda:99' is not available on this machine" in result.stdout
    assert "1 properties that need the device were skipped" in result.stdout
    assert summary_rows(result.stdout)["total"] == ["0", "0", "0", "1"]
    assert "result: nothing checked: all 1 properties skipped" in result.stdout


# --- compare --------------------------------------------------------------------------------

def test_compare_prints_clauses_by_implementation_and_exits_1_on_a_departure(tmp_path):
    result = cli_process("compare", "torch", BROKEN, "--profile", "ci", "--report",
                         str(tmp_path), "-k", "l1_unstructured and "
                         "(float_amount or (bad_amount_is_rejected and True))")
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    table = {line.split()[0]: line.split()[1:] for line in out.splitlines()
             if re.match(r"^[A-Z]+-\d+ ", line)}
    header = next(line for line in out.splitlines() if line.startswith("clause "))
    assert header.split() == ["clause", "level", "torch", "broken_amount"]
    # rows: id, level ("core," "MUST"), one cell per implementation
    assert table["AMOUNT-2"] == ["core,", "MUST", "pass", "FAIL"]
    assert table["AMOUNT-8"] == ["robust,", "MUST", "expected", "pass"]
    assert "SELECT-1" not in table  # alike in both columns (no property ran): not shown
    assert re.search(r"\d+ clauses alike in every column are not shown", out)
    assert "unexpected results: broken_amount" in out
    assert ANSI not in out
    assert re.search(r"AMOUNT-2 +core, MUST", (tmp_path / "compare.md").read_text())
    assert re.search(r"SELECT-1 +core, MUST +— +—", (tmp_path / "compare.md").read_text())
    for name in ("torch", "broken_amount"):
        assert (tmp_path / name / "report.json").is_file()


# --- spec -----------------------------------------------------------------------------------

def test_spec_prints_clauses_with_their_properties():
    result = cli_process("spec", "AMOUNT", "errors-4")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("AMOUNT: how many units a call prunes\n")
    assert "AMOUNT-2  [core, MUST]\n    A float `amount`" in out
    assert ("checked by: test_amount.py::test_float_amount_is_a_fraction_rounded_half_to_even"
            in out)
    assert "    torch 2.13: `bool` passes validation as an int" in out  # AMOUNT-8's note
    assert "ERRORS-4  [robust, SHOULD]" in out
    assert "ERRORS-1" not in out and "SELECT-1" not in out
    assert ANSI not in out


# --- method ---------------------------------------------------------------------------------

def test_method_delegates_to_the_method_contract_check(monkeypatch):
    calls = []
    fake = types.ModuleType("conformance.method_contract")
    fake.run_method_check = lambda *args, **kwargs: calls.append((args, kwargs)) or 1
    monkeypatch.setitem(sys.modules, "conformance.method_contract", fake)
    code = cli.main(["method", "mypkg.pruning:Halves", "--kwargs", '{"amount": 0.5}',
                     "--impl", "reference", "--device", "cpu"])
    assert code == 1
    assert calls == [(("mypkg.pruning:Halves", {"amount": 0.5}, "reference", "cpu"),
                      {"expected_failures": {}})]


# --- colours --------------------------------------------------------------------------------

class _Stream:
    def __init__(self, tty: bool) -> None:
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_colours_only_on_a_terminal_without_no_color(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert terminal.colour_enabled(_Stream(tty=True))
    assert not terminal.colour_enabled(_Stream(tty=False))
    monkeypatch.setenv("NO_COLOR", "1")
    assert not terminal.colour_enabled(_Stream(tty=True))
    assert terminal.Style(True)("FAIL", "red") == "\x1b[31mFAIL\x1b[0m"
    assert terminal.Style(False)("FAIL", "red") == "FAIL"


def test_pytest_gets_no_colour_and_the_report_plugin(tmp_path):
    seeded = config.build("reference", seed=7)
    args = cli.pytest_args(seeded, cli.RunOptions(workers="2", keyword="amount"),
                           junitxml=str(tmp_path / "j"), quiet=True, colour=False)
    assert "--color=no" in args and "-q" in args
    assert args[args.index("-p") + 1] == "conformance.report"
    assert "--hypothesis-seed=7" in args and args[args.index("-n") + 1] == "2"
    coloured = cli.pytest_args(config.build("reference", profile="ci"), cli.RunOptions(),
                               junitxml=None, quiet=False, colour=True)
    assert "--color=no" not in coloured and not any("seed" in a for a in coloured)
    assert Path(ROOT / "conformance" / "report.py").is_file()


def test_max_numel_reaches_the_suite_and_must_be_positive(tmp_path):
    result = cli_process("run", "reference", "-k", "test_amount.py and int_amount", "--profile",
                         "ci", "--max-numel", "16", "--report", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    run = json.loads((tmp_path / "report.json").read_text())
    assert "--max-numel 16" in run["command"]
    refused = cli_process("run", "reference", "--max-numel", "0")
    assert refused.returncode == 2 and "--max-numel: expected a positive integer, got '0'" in (
        refused.stderr)


def test_abbreviated_options_are_errors_not_guesses():
    result = cli_process("run", "reference", "--profil", "ci", "-k", "nothing")
    assert result.returncode == 2 and "unrecognized arguments: --profil ci" in result.stderr


def test_compare_without_report_names_no_temporary_report():
    result = cli_process("compare", "reference", "reference", "--profile", "ci", "-k",
                         "test_amount.py and int_amount")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "report: " not in result.stdout and "prune-compare-" not in result.stdout


def test_sourcing_the_venv_script_sets_no_shell_option_and_the_wrapper_runs():
    script = ROOT / "scripts" / "_venv.sh"
    shell = subprocess.run(["bash", "-c", f"set +euo pipefail; source {script}; echo \"$-\"; "
                            "set -o | grep pipefail; command -v prune-conformance"],
                           capture_output=True, text=True, timeout=600)
    flags, pipefail, found = shell.stdout.splitlines()[-3:]
    assert "e" not in flags and "u" not in flags and pipefail.split()[-1] == "off", shell.stdout
    assert found.endswith(".venv/bin/prune-conformance")
    wrapper = subprocess.run([str(ROOT / "scripts" / "prune-conformance"), "spec", "AMOUNT-2"],
                             capture_output=True, text=True, timeout=600)
    assert wrapper.returncode == 0 and "AMOUNT-2" in wrapper.stdout
