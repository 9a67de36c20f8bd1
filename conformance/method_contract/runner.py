"""Runs the checks and prints the report: one line per check, the example under a failure, and
the verdict; expected failures are data, `{check key: reason}`, as scikit-learn's
`check_estimator(expected_failed_checks=...)` takes them, and strict: a listed check that passes
is reported, so that a fixed method is noticed."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, Any

from hypothesis import errors as hypothesis_errors

from conformance import checks as ck
from conformance import impl
from conformance.config import EXIT_DEPARTS, EXIT_OK, EXIT_USAGE, PROG, UsageError
from conformance.method_contract.checks import CHECKS, Check
from conformance.method_contract.contract import (
    APPLY_EXAMPLES,
    MASK_EXAMPLES,
    SMALL,
    Contract,
    Skipped,
    prepare,
)
from conformance.method_contract.inputs import quiet

# Outcomes that count as a failure of the check (dependent checks are not run after them).
FAILED = ("FAIL", "XFAIL")


@dataclass
class Outcome:
    check: Check
    status: str  # PASS | FAIL | SKIP | XFAIL (an expected failure) | XPASS (listed, passed)
    detail: str = ""


def run_one(check_: Check, c: Contract) -> Outcome:
    c.last_rejection.clear()
    try:
        with quiet():
            check_.run(c)
    except Skipped as exc:
        return Outcome(check_, "SKIP", f"does not apply: {exc}")
    except ck.SpecViolation as exc:
        return Outcome(check_, "FAIL", str(exc))
    except hypothesis_errors.Unsatisfiable:
        last = c.last_rejection[0] if c.last_rejection else "no message"
        return Outcome(check_, "FAIL", f"{check_.clause}: every input drawn was rejected with "
                                       f"ValueError (the last: {last}); do the --kwargs fit "
                                       f"small tensors (up to {SMALL} entries)?")
    except hypothesis_errors.FlakyFailure as exc:
        inner = next((e for e in exc.exceptions if isinstance(e, ck.SpecViolation)), None)
        text = str(inner) if inner is not None else f"{type(exc).__name__}: {exc}"
        return Outcome(check_, "FAIL", f"{text}\n(the failure did not repeat when the example "
                                       f"was replayed: the method's result changes between "
                                       f"calls under the same seed, SELECT-7)")
    except Exception as exc:
        return Outcome(check_, "FAIL", f"{check_.clause}: the check could not run: "
                                       f"{type(exc).__name__}: {exc}")
    return Outcome(check_, "PASS")


def checked_expectations(expected_failures: Mapping[str, str] | None) -> dict[str, str]:
    """`{check key: reason}`, every key a check and every reason said, or UsageError."""
    listed = dict(expected_failures or {})
    keys = [c.key for c in CHECKS]
    for key, reason in listed.items():
        if key not in keys:
            raise UsageError(f"expected failures: unknown check {key!r} (checks: "
                             f"{', '.join(keys)})")
        if not isinstance(reason, str) or not reason.strip():
            raise UsageError(f"expected failures: check {key!r} needs a reason, got {reason!r}")
    return listed


def expected_outcome(outcome: Outcome, reason: str | None) -> Outcome:
    """An outcome held to an expected failure: a failure is XFAIL, a pass XPASS (strict)."""
    if reason is None or outcome.status == "SKIP":
        return outcome
    if outcome.status == "FAIL":
        return Outcome(outcome.check, "XFAIL", f"expected: {reason}")
    return Outcome(outcome.check, "XPASS", f"listed as an expected failure ({reason}) but "
                                           f"passed: take it off the list")


def run_all(c: Contract, expected_failures: Mapping[str, str] | None = None) -> list[Outcome]:
    listed = expected_failures or {}
    outcomes: dict[str, Outcome] = {}
    for check_ in CHECKS:
        failed = [outcomes[k].check for k in check_.needs
                  if k in outcomes and outcomes[k].status in FAILED]
        if failed:
            outcomes[check_.key] = Outcome(check_, "SKIP", "not run: "
                                           + ", ".join(f"{f.clause} ({f.key})" for f in failed)
                                           + " failed above")
        else:
            outcomes[check_.key] = expected_outcome(run_one(check_, c), listed.get(check_.key))
    return list(outcomes.values())


def report(c: Contract, implementation: impl.Implementation, target: str, out: IO[str],
           expected_failures: Mapping[str, str] | None = None) -> int:
    where = getattr(sys.modules.get(c.cls.__module__), "__file__", None) or c.cls.__module__
    print(f"{PROG} method {target}", file=out)
    print(f"  {c.call} from {where}, PRUNING_TYPE {c.type_text}", file=out)
    print(f"  implementation {implementation.name} ({implementation.version}), device "
          f"{c.device}; Hypothesis, derandomized: {c.examples} examples per compute_mask check, "
          f"{c.apply_examples} per apply check", file=out)
    if c.family is not implementation.module:
        print(f"  note: {c.cls.__name__} subclasses {c.family_name}.BasePruningMethod, not "
              f"{implementation.name}'s: it is applied through its own (inherited) apply, and "
              f"composed and removed by {c.family_name}", file=out)
    outcomes = run_all(c, expected_failures)
    width = max(len(o.check.clause) for o in outcomes)
    for outcome in outcomes:
        print(f"{outcome.status}  {outcome.check.clause:<{width}}  {outcome.check.title}"
              + (f" ({outcome.detail})" if outcome.status != "FAIL" and outcome.detail else ""),
              file=out)
        if outcome.status == "FAIL":
            for line in outcome.detail.splitlines():
                print(f"      {line}", file=out)
    print(verdict(c, outcomes), file=out)
    out.flush()
    return EXIT_DEPARTS if any(o.status in ("FAIL", "XPASS") for o in outcomes) else EXIT_OK


def verdict(c: Contract, outcomes: list[Outcome]) -> str:
    count = {status: [o for o in outcomes if o.status == status]
             for status in ("PASS", "FAIL", "XFAIL", "XPASS")}
    known = (f", {len(count['XFAIL'])} expected "
             f"{'failure' if len(count['XFAIL']) == 1 else 'failures'}" if count["XFAIL"] else "")
    bad = count["FAIL"] + count["XPASS"]
    if not bad:
        return (f"result: {c.cls.__name__} keeps the method contract ({len(count['PASS'])} "
                f"checks passed{known})")
    clauses = ", ".join(dict.fromkeys(o.check.clause for o in bad))
    fixed = f", {len(count['XPASS'])} listed as expected failures passed" if count["XPASS"] else ""
    return (f"result: {c.cls.__name__} breaks the method contract: {len(count['FAIL'])} "
            f"{'check' if len(count['FAIL']) == 1 else 'checks'} failed ({clauses}){fixed}, "
            f"{len(count['PASS'])} passed{known}")


def run_method_check(target: str, kwargs: dict[str, Any], impl_spec: str | None, device: str,
                     *, out: IO[str] | None = None, err: IO[str] | None = None,
                     examples: int = MASK_EXAMPLES, apply_examples: int = APPLY_EXAMPLES,
                     expected_failures: Mapping[str, str] | None = None) -> int:
    """Check `target` ("module:Class") built with `kwargs` against the method contract.

    `impl_spec` None is the default of every command ($PRUNE_IMPL, else torch);
    `expected_failures` maps check keys (the names in `CHECKS`) to the reason each is known to
    fail. Prints one line per check (PASS/FAIL/SKIP/XFAIL/XPASS with its clause) and, under a
    failure, the example; returns 0 when no check fails unexpectedly, 1 when one fails or a
    listed one passes, 2 on a usage error (one line on `err`).
    """
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        listed = checked_expectations(expected_failures)
        contract, implementation = prepare(target, kwargs, impl_spec, device)
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=err)
        return EXIT_USAGE
    contract.examples, contract.apply_examples = examples, apply_examples
    return report(contract, implementation, target, out, listed)
