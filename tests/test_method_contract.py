"""`prune-conformance method` (conformance.method_contract): a user's BasePruningMethod subclass
against the method contract of SPEC.md.

The tutorial's FooBarPruningMethod keeps it; each broken variant in tests/impls/methods.py breaks
one clause and must fail with that clause, its line marked FAIL, the example drawn under it.
Budgets are reduced where the verdict shows on the first examples.
"""

from __future__ import annotations

import io
import re

import pytest
from support import IMPLS, run_kit

from conformance import cli
from conformance.method_contract import APPLY_EXAMPLES, MASK_EXAMPLES, run_method_check

METHODS = str(IMPLS / "methods.py")
FAST = {"examples": 10, "apply_examples": 4}


def check(target: str, kwargs: dict | None = None, impl: str = "torch", device: str = "cpu",
          expected_failures: dict[str, str] | None = None, **budget: int,
          ) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_method_check(target, kwargs or {}, impl, device, out=out, err=err,
                            expected_failures=expected_failures, **(budget or FAST))
    return code, out.getvalue(), err.getvalue()


def lines(report: str, status: str) -> list[str]:
    return [line for line in report.splitlines() if line.startswith(status + "  ")]


def test_the_tutorials_foobar_keeps_the_contract():
    code, out, err = check(f"{METHODS}:FooBarPruningMethod", examples=MASK_EXAMPLES,
                           apply_examples=APPLY_EXAMPLES)
    assert code == 0, out
    assert err == ""
    assert out.startswith(f"prune-conformance method {METHODS}:FooBarPruningMethod\n")
    assert not lines(out, "FAIL")
    checked = lines(out, "PASS")
    for clause in ("COMPOSE-5", "CUSTOM-1", "REPARAM-2", "COMPOSE-1", "COMPOSE-2", "SELECT-7",
                   "CUSTOM-2", "HOOK-1", "COMPOSE-4", "REMOVE-1", "REMOVE-2", "REMOVE-4"):
        assert any(line.split()[1] == clause for line in checked), (clause, out)
    # The structured-only checks do not apply to an unstructured method.
    assert all("structured" in line for line in lines(out, "SKIP"))
    assert out.splitlines()[-1] == (f"result: FooBarPruningMethod keeps the method contract "
                                    f"({len(checked)} checks passed)")


@pytest.mark.parametrize(("name", "kwargs", "impl"), [
    ("FooBarPruningMethod", {}, "reference"),  # torch's subclass, --impl reference
    ("ReferenceFooBar", {}, "reference"),
    ("ReferenceFooBar", {}, "torch"),  # the reverse
    ("EveryOtherChannel", {"dim": 0}, "torch"),
    ("EveryOtherChannel", {"dim": -1}, "reference"),
    ("RandomHalf", {"p": 0.25}, "torch"),  # random, but from torch's seeded generator
])
def test_conforming_methods_pass(name, kwargs, impl):
    code, out, _ = check(f"{METHODS}:{name}", kwargs, impl)
    assert code == 0, out
    assert not lines(out, "FAIL")


def test_a_subclass_of_another_implementations_base_is_checked_with_a_note():
    code, out, _ = check(f"{METHODS}:FooBarPruningMethod", impl="reference")
    assert code == 0, out
    assert ("note: FooBarPruningMethod subclasses torch.nn.utils.prune.BasePruningMethod, not "
            "reference's") in out


@pytest.mark.parametrize(("target", "impl"), [
    ("torch.nn.utils.prune:L1Unstructured", "torch"),
    ("reference.prune:L1Unstructured", "reference"),
])
def test_built_in_methods_keep_the_contract(target, impl):
    code, out, _ = check(target, {"amount": 0.3}, impl, examples=5, apply_examples=3)
    assert code == 0, out


BROKEN = [
    # (class, kwargs, clause, words of the failing check's title, words of its message)
    ("RevivingFooBar", {}, "COMPOSE-1", "never revives",
     "pruned in default_mask kept by the mask"),
    ("BoolMaskFooBar", {}, "REPARAM-2", "default_mask's dtype", "seen torch.bool"),
    ("Float64FooBar", {}, "REPARAM-2", "default_mask's dtype", "seen torch.float64"),
    ("HalvingFooBar", {}, "REPARAM-2", "holds only 0 and 1", "holds [0.5]"),
    ("StructuredWithoutDim", {}, "COMPOSE-5", "`dim` attribute", "no `dim` attribute"),
    ("PartialChannels", {}, "COMPOSE-2", "whole channels", "partly pruned"),
    ("UnseededRandom", {}, "SELECT-7", "reproducible", "gave different masks"),
    ("FlatMask", {}, "CUSTOM-1", "default_mask's shape", "mask shape: expected"),
    ("NoPruningType", {}, "COMPOSE-5", "PRUNING_TYPE is", "PRUNING_TYPE is not set"),
]


@pytest.mark.parametrize(("name", "kwargs", "clause", "title", "message"), BROKEN,
                         ids=[b[0] for b in BROKEN])
def test_a_broken_method_fails_with_its_clause(name, kwargs, clause, title, message):
    code, out, err = check(f"{METHODS}:{name}", kwargs)
    assert code == 1, out
    assert err == ""
    failed = lines(out, "FAIL")
    assert any(line.split()[1] == clause and title in line for line in failed), out
    # The message under the line cites the clause and shows the example that breaks it.
    block = out.split(next(line for line in failed if title in line))[1]
    block = block.split("\n" + re.search(r"\n(PASS|SKIP|FAIL|result)", block).group(1))[0]
    assert f"{clause}: " in block and message in block, block
    if clause != "COMPOSE-5":
        assert "replay:" in block and "torch.manual_seed(" in block and "compute_mask(" in block
    assert out.splitlines()[-1].startswith(f"result: {name} breaks the method contract")


def test_a_failure_draws_the_masks():
    _, out, _ = check(f"{METHODS}:RevivingFooBar")
    block = out.split("FAIL  COMPOSE-1")[1]
    assert "default_mask   mask" in block
    assert "X kept although default_mask prunes it" in block


def test_a_failed_check_leaves_the_checks_that_depend_on_it_not_run():
    _, out, _ = check(f"{METHODS}:FlatMask")
    assert len(lines(out, "FAIL")) == 1
    assert any("(not run: CUSTOM-1 (shape) failed above)" in line for line in lines(out, "SKIP"))


def test_expected_failures_are_data_and_strict():
    # As scikit-learn's check_estimator(expected_failed_checks={check: reason}).
    code, out, err = check(f"{METHODS}:RevivingFooBar",
                           expected_failures={"monotone": "revives on purpose"})
    assert code == 0, out
    assert err == ""
    (xfail,) = lines(out, "XFAIL")
    assert xfail.split()[1] == "COMPOSE-1" and xfail.endswith("(expected: revives on purpose)")
    assert "      COMPOSE-1: " not in out, "a known failure is one line, without its example"
    assert out.splitlines()[-1].endswith("1 expected failure)"), out
    # A listed check that passes fails the run, so that a fixed method is noticed.
    fixed = check(f"{METHODS}:FooBarPruningMethod", expected_failures={"seed": "was unseeded"})
    assert fixed[0] == 1, fixed[1]
    (xpass,) = lines(fixed[1], "XPASS")
    assert "SELECT-7" in xpass and "was unseeded" in xpass and "take it off the list" in xpass
    assert "breaks the method contract" in fixed[1].splitlines()[-1]


@pytest.mark.parametrize(("listed", "says"), [
    ({"no_such_check": "why"}, "unknown check 'no_such_check' (checks: type, dim, shape"),
    ({"seed": ""}, "check 'seed' needs a reason"),
])
def test_a_bad_expected_failure_is_a_usage_error(listed, says):
    code, out, err = check(f"{METHODS}:FooBarPruningMethod", expected_failures=listed)
    assert code == 2 and out == ""
    assert err.startswith("prune-conformance: error: ") and says in err, err


def test_the_report_is_the_same_on_every_run():
    first = check(f"{METHODS}:RevivingFooBar", examples=5, apply_examples=2)
    assert first[0] == 1
    assert check(f"{METHODS}:RevivingFooBar", examples=5, apply_examples=2) == first


# --- usage errors: exit 2, one line on stderr, nothing on stdout ----------------------------

@pytest.mark.parametrize(("target", "kwargs", "impl", "device", "says"), [
    (f"{IMPLS}/no_such_file.py:FooBar", {}, "torch", "cpu", "does not exist"),
    ("no_such_package.methods:FooBar", {}, "torch", "cpu", "no module named 'no_such_package'"),
    (f"{METHODS}:NoSuchClass", {}, "torch", "cpu", "has no 'NoSuchClass'"),
    (f"{METHODS}:NotAMethod", {}, "torch", "cpu", "is not a subclass of BasePruningMethod"),
    (f"{METHODS}:foobar_unstructured", {}, "torch", "cpu", "is function, not a class"),
    ("torch.nn:Linear", {}, "torch", "cpu", "is not a subclass of BasePruningMethod"),
    (f"{METHODS}:FooBarPruningMethod", {"amount": 0.5}, "torch", "cpu",
     "FooBarPruningMethod() takes no arguments"),
    ("torch.nn.utils.prune:BasePruningMethod", {}, "torch", "cpu", "abstract"),
    (f"{METHODS}.FooBarPruningMethod", {}, "torch", "cpu", "expected module:Class"),
    (f"{METHODS}:FooBarPruningMethod", {}, "no_such_impl", "cpu", "no_such_impl"),
    (f"{METHODS}:FooBarPruningMethod", {}, "torch", "no-such-device", "cannot be used here"),
])
def test_usage_errors_exit_2_with_one_line(target, kwargs, impl, device, says):
    code, out, err = check(target, kwargs, impl, device)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("prune-conformance: error: "), err
    assert says in err
    assert "Traceback" not in err


def test_the_command_line_checks_a_dotted_target_from_the_current_directory(capsys):
    # Through the CLI, in its own process: `tests.impls.methods` resolves from the repository root.
    result = run_kit("-m", "conformance.cli", "method", "tests.impls.methods:FlatMask")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL  CUSTOM-1" in result.stdout


def test_the_command_line_reports_a_missing_class_in_one_line(capsys):
    assert cli.main(["method", f"{METHODS}:NoSuchClass"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "NoSuchClass" in err
