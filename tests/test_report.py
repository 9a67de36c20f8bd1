"""The report machinery: failure details, outcomes, clause cells, report.md, repro snippets."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from conformance import checks as ck
from conformance import report, repro
from conformance.report import PropertyResult, RunReport

try:
    from builtins import ExceptionGroup  # Python 3.11+
except ImportError:  # Python 3.10: Hypothesis depends on the backport
    from exceptiongroup import ExceptionGroup

GRID_MESSAGE = "SELECT-1: mask of l1_unstructured: expected\n#.#   #X#\n(# kept, . pruned)"


def hypothesis_failure(with_repro: bool) -> BaseException:
    """A real Hypothesis failure, as the worker-side hook sees it."""

    @settings(database=None, print_blob=True, derandomize=True, max_examples=50)
    @given(st.integers(0, 100))
    def prop(amount):
        if with_repro:
            note(f"# repro\nmodule = nn.Linear(2, 3)\nprune.l1_unstructured(module, 'weight', "
                 f"amount={amount})")
        ck.expect(amount < 10, "AMOUNT-2", f"amount {amount} is too large")

    with pytest.raises(ck.SpecViolation) as info:
        prop()
    return info.value


def test_failure_details_of_a_hypothesis_failure():
    details = report.failure_details(hypothesis_failure(with_repro=True))
    assert details["clause"] == "AMOUNT-2"
    assert details["message"] == "AMOUNT-2: amount 10 is too large"
    assert "prop(" in details["example"] and "amount=10" in details["example"]
    assert details["reproduce_failure"].startswith("@reproduce_failure('")
    assert details["repro"] == ("# repro\nmodule = nn.Linear(2, 3)\n"
                                "prune.l1_unstructured(module, 'weight', amount=10)")
    assert "# repro" not in details["example"] and "reproduce_failure" not in details["example"]
    assert "where" not in details, "a spec violation needs no location"


def test_failure_details_of_other_exceptions_and_groups():
    try:
        [][1]
    except IndexError as exc:
        crash = exc
    details = report.failure_details(crash)
    assert details["message"] == "IndexError: list index out of range"
    assert "clause" not in details and "test_report.py:" in details["where"]

    violation = ck.SpecViolation("REMOVE-1", "remove() did not restore weight")
    violation.repro = "prune.remove(module, 'weight')"
    group = ExceptionGroup("Hypothesis found 2 distinct failures.", [violation, crash])
    details = report.failure_details(group)
    assert details["clause"] == "REMOVE-1"
    assert details["message"].startswith("REMOVE-1: remove() did not restore weight\n\n(and 1 "
                                         "other distinct failure")
    assert details["repro"] == "prune.remove(module, 'weight')"


def test_one_failure_of_a_group_gives_the_message_clause_and_snippet():
    """Hypothesis reports distinct bugs together: the first gives all three, so that the snippet
    stops where the reported failure does (a session's snippet was once 21 pasted together)."""
    first = ck.SpecViolation("SELECT-1", "mask differs")
    first.add_note(f"{repro.STANDALONE} first\nprune.l1_unstructured(m0, 'weight', amount=1)")
    second = ck.SpecViolation("HOOK-1", "two hooks")
    second.add_note(f"{repro.STANDALONE} second\nprune.remove(m0, 'weight')")
    details = report.failure_details(ExceptionGroup("2 distinct failures", [first, second]))
    assert details["clause"] == "SELECT-1" and "HOOK-1" not in details["message"]
    assert "first" in details["standalone"] and "second" not in details["standalone"]
    assert "STANDALONE" not in details["example"] and "remove" not in details["example"]


def _report(when: str, outcome: str, longrepr: object = None, **extra: object) -> pytest.TestReport:
    return pytest.TestReport(
        nodeid="conformance/properties/test_amount.py::test_x[l1_unstructured]",
        location=("x", 0, "x"), keywords={}, outcome=outcome, longrepr=longrepr, when=when,
        duration=0.5, **extra)


def _details(**failure: str) -> dict:
    return {report.DETAILS: {"id": "test_amount.py::test_x[l1_unstructured]",
                             "clauses": ["AMOUNT-2", "ERRORS-4"], **failure}}


@pytest.mark.parametrize(("reports", "outcome", "clause", "reason"), [
    ([("setup", "passed", None, {}), ("call", "passed", None, {}),
      ("teardown", "passed", None, {})], "passed", None, ""),
    ([("call", "failed", "tb", {"message": "AMOUNT-2: seen 3", "clause": "AMOUNT-2"})],
     "failed", "AMOUNT-2", ""),
    ([("call", "skipped", None, {"wasxfail": "AMOUNT-8: bool passes"})],
     "expected", "AMOUNT-8", "AMOUNT-8: bool passes"),
    ([("call", "failed", "[XPASS(strict)] AMOUNT-8: bool passes", {})],
     "unexpected-pass", "AMOUNT-8", "AMOUNT-8: bool passes"),
    ([("setup", "skipped", ("f", 1, "Skipped: device 'cuda:9' is not available"), {})],
     "skipped", None, "device 'cuda:9' is not available"),
    ([("setup", "failed", "tb", {"message": "RuntimeError: boom"})], "failed", None, ""),
])
def test_collector_turns_reports_into_one_outcome_per_property(reports, outcome, clause, reason):
    collector = report.Collector()
    for when, result, longrepr, extra in reports:
        failure = {k: v for k, v in extra.items() if k in ("message", "clause")}
        attributes = {k: v for k, v in extra.items() if k == "wasxfail"}
        collector.pytest_runtest_logreport(
            _report(when, result, longrepr, **_details(**failure), **attributes))
    (result,) = collector.results.values()
    assert result.id == "test_amount.py::test_x[l1_unstructured]"
    assert result.clauses == ["AMOUNT-2", "ERRORS-4"] and result.areas == ["AMOUNT", "ERRORS"]
    assert (result.outcome, result.clause, result.reason) == (outcome, clause, reason)
    assert result.duration == 0.5 * len(reports)
    if reports[0][0] == "setup" and outcome == "failed":
        assert result.message == "error in setup: RuntimeError: boom"


def test_details_survive_the_serialization_xdist_uses():
    """Workers send reports to the controller as JSON (pytest_report_to_serializable)."""
    sent = _report("call", "failed", "tb",
                   **_details(message="AMOUNT-2: seen 3", clause="AMOUNT-2", example="Draw 1: 0"))
    received = pytest.TestReport._from_json(json.loads(json.dumps(sent._to_json())))
    assert getattr(received, report.DETAILS) == getattr(sent, report.DETAILS)


def _result(outcome: str, clauses: list[str], clause: str | None = None, **kw) -> PropertyResult:
    return PropertyResult(id=f"test_a.py::test_{len(clauses)}_{outcome}", nodeid="n",
                          clauses=clauses, areas=report.areas_of(clauses), outcome=outcome,
                          clause=clause, **kw)


def test_clause_cells_take_the_worst_evidence_and_blame_only_the_named_clause():
    cells = report.clause_cells([
        _result("passed", ["AMOUNT-1", "AMOUNT-2"]),
        _result("failed", ["AMOUNT-2", "ERRORS-4"], "AMOUNT-2"),  # ERRORS-4 not reached
        _result("expected", ["AMOUNT-8"], "AMOUNT-8"),
        _result("passed", ["AMOUNT-9"]),
        _result("unexpected-pass", ["AMOUNT-9"], "AMOUNT-9"),
        _result("skipped", ["DEVICE-1"]),
        _result("failed", ["HOOK-1"], None),  # a crash blames every clause it cites
        _result("failed", ["AMOUNT-5"], "API-1"),  # a missing name
    ])
    assert cells["AMOUNT-1"] == "pass"
    assert cells["AMOUNT-2"] == "FAIL"
    assert cells["ERRORS-4"] == "skip"
    assert cells["AMOUNT-8"] == "expected"
    assert cells["AMOUNT-9"] == "XPASS"
    assert cells["DEVICE-1"] == "skip"
    assert cells["HOOK-1"] == "FAIL"
    assert cells["API-1"] == "FAIL" and cells["AMOUNT-5"] == "skip"
    assert cells["SELECT-1"] == "—"


def _run(impl_spec: str = "reference", results: list[PropertyResult] | None = None,
         seed: int | str = 1234) -> RunReport:
    return RunReport(
        implementation={"spec": impl_spec, "name": impl_spec, "version": "0.1.0",
                        "file": "/x/prune.py"},
        torch="2.13.0+cpu", device="cpu", profile="default", seed=seed, expected_failures=None,
        command=f"prune-conformance run {impl_spec}", properties=results or [])


@pytest.mark.parametrize(("impl_spec", "line"), [
    ("torch", "import torch.nn.utils.prune as prune"),
    ("reference", "import reference.prune as prune"),
    ("mypkg.pruning", "import mypkg.pruning as prune"),
    ("impls/mine.py", "spec_from_file_location('prune_under_test', "),
])
def test_repro_snippet_imports_the_implementation_and_replays_the_property(impl_spec, line):
    failure = _result("failed", ["AMOUNT-2"], "AMOUNT-2", message="AMOUNT-2: seen 3")
    failure.id = "test_amount.py::test_x[l1_unstructured-0.5]"
    run = _run(impl_spec, [failure])
    report.finish(run)
    snippet = failure.repro
    compile(snippet, "<repro>", "exec")  # runnable Python
    assert snippet.splitlines()[1:3] == ["import torch", "from torch import nn"]
    assert line in snippet
    assert "pytest.main(['--pyargs', " in snippet and "raise SystemExit(" in snippet
    assert "'conformance.properties.test_amount::test_x[l1_unstructured-0.5]'" in snippet
    assert "'--hypothesis-seed=1234'" in snippet
    assert failure.command.startswith(
        "pytest --pyargs 'conformance.properties.test_amount::test_x[l1_unstructured-0.5]' "
        "--impl ")
    assert "--hypothesis-profile default --hypothesis-seed=1234" in failure.command


def test_standalone_snippet_comes_first_and_the_replay_works_from_anywhere(tmp_path,
                                                                           monkeypatch):
    """The standalone snippet is the repro; the kit's replay is a comment, with every path
    absolute (a relative --expected-failures once broke it outside the repository root)."""
    mine = tmp_path / "mine.txt"
    mine.write_text("", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    standalone = f"{repro.STANDALONE} t\nimport torch\nimport reference.prune as prune\n"
    failure = _result("failed", ["AMOUNT-2"], "AMOUNT-2", message="AMOUNT-2: seen 3",
                      standalone=standalone)
    run = _run("reference", [failure])
    run.expected_failures = "torch,mine.txt"
    report.finish(run)
    assert failure.repro.startswith(standalone)
    assert f"'--expected-failures', 'torch,{mine}'" in failure.repro
    assert "#   import pytest; pytest.main(" in failure.repro


def test_repro_snippet_uses_what_the_property_attached():
    failure = _result("failed", ["AMOUNT-2"], "AMOUNT-2", message="AMOUNT-2: seen 3",
                      property_repro="module = nn.Linear(2, 3)\nprune.l1_unstructured("
                                     "module, 'weight', amount=0.5)",
                      reproduce_failure="@reproduce_failure('6.1', b'AA==')")
    run = _run("torch", [failure], seed="derandomized")
    report.finish(run)
    snippet = failure.repro
    compile(snippet, "<repro>", "exec")
    body = snippet.index("module = nn.Linear(2, 3)")
    assert snippet.index("import torch.nn.utils.prune as prune") < body
    assert "#   import pytest; pytest.main(" in snippet, "the replay becomes a comment"
    assert "--hypothesis-seed" not in snippet, "a derandomized profile needs no seed"
    assert "# or decorate the property with @reproduce_failure('6.1', b'AA==')" in snippet


def test_report_json_round_trips_and_markdown_has_the_tables(tmp_path):
    results = [
        _result("passed", ["AMOUNT-1"]),
        _result("failed", ["SELECT-1"], "SELECT-1", message=GRID_MESSAGE,
                example="Failing test case: test_x(\n    data=data(...),\n)\nDraw 1: 0.5"),
        _result("expected", ["AMOUNT-8"], "AMOUNT-8", reason="AMOUNT-8: bool passes"),
        _result("skipped", ["DEVICE-1"], reason="device 'cuda:9' is not available"),
        _result("unexpected-pass", ["AMOUNT-9"], "AMOUNT-9", reason="AMOUNT-9: stale"),
    ]
    run = _run("reference", results)
    report.finish(run)
    json_path, md_path = report.write(run, tmp_path / "out")
    data = json.loads(json_path.read_text())
    assert {"implementation", "torch", "device", "profile", "seed", "properties", "summary",
            "areas", "clauses", "exit_code", "command"} <= set(data)
    assert data["summary"] == {"passed": 1, "failed": 1, "expected": 1, "unexpected-pass": 1,
                               "skipped": 1}
    assert data["areas"]["AMOUNT"] == {"passed": 1, "failed": 1, "expected": 1, "skipped": 0}
    assert data["clauses"]["SELECT-1"] == "FAIL" and data["clauses"]["AMOUNT-8"] == "expected"
    assert RunReport.from_json(data).properties == run.properties

    md = md_path.read_text()
    assert md.startswith("# prune-conformance report: reference\n")
    assert "| area | passed | failed | expected | skipped |" in md
    assert "| AMOUNT: how many units a call prunes | 1 | 1 | 1 | 0 |" in md
    assert "| SELECT: which entries unstructured methods prune | 0 | 1 | 0 | 0 |" in md
    assert "| **total** | **1** | **2** | **1** | **1** |" in md
    assert "| SELECT-1 | core, MUST | FAIL | 1 |" in md
    assert f"```text\n{GRID_MESSAGE}\n```" in md, "mask grids stay in a code block"
    assert "```python\n# Repro of test_a.py::test_1_failed (SELECT-1) against reference" in md
    assert "Listed as a known departure (AMOUNT-9: stale) but passed" in md
    assert "- 1 properties: device 'cuda:9' is not available" in md
    assert "**departs from SPEC.md: 1 failed, 1 known departures passed of 5**" in md


def test_a_failure_that_is_not_a_spec_violation_is_reported_under_the_cited_clauses():
    """torch 2.1's missing float16 kernels raised bare RuntimeErrors: the report names the
    clauses of the property they broke."""
    bare = _result("failed", ["DEVICE-2", "SELECT-1"], message="RuntimeError: not implemented")
    named = _result("failed", ["DEVICE-2", "SELECT-1"], clause="SELECT-1", message="SELECT-1: x")
    assert report.blamed_clauses(bare) == "cites DEVICE-2, SELECT-1"
    assert report.blamed_clauses(named) == "SELECT-1"
    text = report.markdown(_run(results=[bare]))
    assert f"### `{bare.id}` (cites DEVICE-2, SELECT-1)" in text


def test_compare_table_shows_only_differing_clauses_and_survives_none(tmp_path):
    from conformance import spec, terminal

    same = [_result("passed", ["AMOUNT-1"])]
    alike = terminal.compare_table(["a", "b"], [_run(results=same), _run(results=same)],
                              terminal.Style(False), only_differing=True)
    assert f"{len(spec.clauses())} clauses alike in every column are not shown" in alike
    assert "AMOUNT-1" not in alike
    differ = terminal.compare_table(["a", "b"], [_run(results=same),
                                            _run(results=[_result("failed", ["AMOUNT-1"])])],
                               terminal.Style(False), only_differing=True)
    assert any(line.split()[:1] == ["AMOUNT-1"] and line.split()[-2:] == ["pass", "FAIL"]
               for line in differ.splitlines())
    full = terminal.compare_table(["a", "b"], [_run(results=same), _run(results=same)],
                             terminal.Style(False))
    assert "AMOUNT-1" in full and "alike" not in full
