"""The stateful session (conformance/stateful.py): it passes for the reference and for torch with
its known departures, and it catches an implementation that only misbehaves on the second call of
a sequence, with a repro snippet that runs against the implementation alone. Its named invariants
and the registry's mask clauses are the clauses its failures cite."""

from __future__ import annotations

import dataclasses

import pytest
import support
import torch
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test
from support import IMPLS

import reference.prune as reference
from conformance import bad_inputs as bi
from conformance import expected, impl, source, spec, stateful
from conformance import session_invariants as inv
from conformance.registry import METHODS, by_class

SECOND_CALL_BUG = IMPLS / "second_call_bug.py"
MUTANTS = IMPLS.parent / "mutants"


def _settings(examples: int, steps: int) -> settings:
    # Derandomized and without a database: the same sessions on every run, nothing written.
    return settings(max_examples=examples, stateful_step_count=steps, derandomize=True,
                    database=None, deadline=None, suppress_health_check=list(HealthCheck),
                    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink])


def _unshrunk(examples: int, steps: int) -> settings:
    # A verdict without shrinking: enough where the test asserts only which check failed.
    return settings(_settings(examples, steps), phases=[Phase.explicit, Phase.generate])


def test_session_passes_for_the_reference():
    stateful.run_session(reference, settings=_settings(20, 12))


def test_session_passes_for_torch_with_its_departures():
    import torch.nn.utils.prune as torch_prune

    _, entries = expected.load(None, "torch")
    departures = stateful.departed_clauses(expected.in_force(entries, "cpu", torch.__version__))
    assert {"ATOMIC-1", "SERIAL-3"} <= departures  # non-atomic re-prune, deepcopy RuntimeError
    stateful.run_session(torch_prune, settings=_settings(20, 12), departures=departures)


def test_known_departures_are_not_exercised():
    """Without its departures, torch fails the session at once: copy.deepcopy of a pruned module
    raises (SERIAL-3); with them, the session never makes that step."""
    import torch.nn.utils.prune as torch_prune

    options = dict(methods=[METHODS["identity"]], steps={"prune", "deepcopy"})
    with pytest.raises(stateful.SessionFailure) as failure:
        stateful.run_session(torch_prune, settings=_settings(30, 4), **options)
    assert failure.value.clause == "SERIAL-3"
    stateful.run_session(torch_prune, settings=_settings(10, 4), departures={"SERIAL-3"},
                         **options)


@pytest.fixture(scope="module")
def second_call_failure() -> stateful.SessionFailure:
    broken = impl.load(str(SECOND_CALL_BUG)).module
    machine = stateful.session_machine(broken, methods=[METHODS["l1_unstructured"]],
                                       steps={"prune"})
    with pytest.raises(stateful.SessionFailure) as failure:
        run_state_machine_as_test(machine, settings=_settings(100, 6))
    return failure.value


def test_session_catches_a_bug_of_the_second_call(second_call_failure):
    failure = second_call_failure
    assert failure.clause == "SELECT-1"
    assert str(failure).startswith("SELECT-1: mask of model[")
    # Shrunk: the two calls on one tensor, then the comparison with the reference; no kit import.
    snippet = failure.snippet
    steps = snippet.partition("    model['holder'].weight.copy_(")[2].partition("\n# the model")[0]
    calls = [line for line in steps.splitlines()[1:] if line.strip()]
    assert len(calls) == 2 and all(c.startswith("prune.l1_unstructured(") for c in calls), steps
    assert "conformance" not in snippet and "SELECT-1" in snippet
    assert len(snippet.splitlines()) < 80, snippet


def test_known_departure_snippet_names_the_failing_step():
    """The snippet stops at the step the failure reports: the deepcopy torch cannot make."""
    import torch.nn.utils.prune as torch_prune

    options = dict(methods=[METHODS["identity"]], steps={"prune", "deepcopy"})
    with pytest.raises(stateful.SessionFailure) as failure:
        stateful.run_session(torch_prune, settings=_settings(30, 4), **options)
    snippet = failure.value.snippet
    assert snippet is not None and snippet.rstrip().count("model = copy.deepcopy(model)") == 1
    body = snippet.partition("model = copy.deepcopy(model)")[2]
    assert "prune." not in body  # nothing after the failing step but the comparison


def test_repro_snippet_runs_against_the_implementation_alone(second_call_failure, tmp_path):
    snippet = second_call_failure.snippet
    broken_import = source.import_line(str(SECOND_CALL_BUG))
    assert broken_import in snippet
    assert support.snippet_imports(snippet) <= support.SNIPPET_IMPORTS
    fixed = snippet.replace(broken_import, "import reference.prune as prune")
    assert support.run_snippet(snippet, tmp_path).returncode == 1
    assert support.run_snippet(fixed, tmp_path).returncode == 0


def test_registry_names_the_clause_a_differing_mask_breaks():
    for method in METHODS.values():
        assert method.mask_clause in spec.clauses(), method
        assert method.mask_clause in stateful.CLAUSES, method  # the property cites it
        assert by_class(method.class_name) is method
    assert by_class("FooBarPruningMethod") is None  # a user's class: no entry


def test_session_cites_the_mask_clause_of_the_registry_entry():
    """The second-call bug breaks l1_unstructured's masks: the failure cites the entry's field."""
    entry = dataclasses.replace(METHODS["l1_unstructured"], mask_clause="SELECT-2")
    broken = impl.load(str(SECOND_CALL_BUG)).module
    with pytest.raises(stateful.SessionFailure) as failure:
        stateful.run_session(broken, settings=_unshrunk(100, 6), methods=[entry],
                             steps={"prune"})
    assert failure.value.clause == "SELECT-2"
    assert str(failure.value).startswith("SELECT-2: mask of model[")


def test_every_invariant_names_what_it_checks_and_a_clause_the_session_cites():
    names = [invariant.name for invariant in inv.INVARIANTS]
    assert len(set(names)) == len(names)
    for invariant in inv.INVARIANTS:
        assert invariant.check.__doc__, invariant.name
        assert invariant.clause == inv.STEP or invariant.clause in stateful.CLAUSES, invariant
    # The last step's clause replaces an invariant's own where that step is the better witness.
    values = inv.values_agree
    assert values.cited("SERIAL-1") == "SERIAL-1" and values.cited("SELECT-1") == "REPARAM-1"
    assert inv.mask_agrees.cited("SELECT-1") == "SELECT-1"


@pytest.mark.parametrize(("mutant", "invariant", "message"), [
    ("m33_hooks_stacked", inv.one_hook_per_pruned_tensor, "pruning forward pre-hooks of"),
    ("m65_is_pruned_not_recursive", inv.is_pruned_agrees, "is_pruned(model)"),
    ("m29_parameter_copied", inv.pruned_parameter_kept, "must stay the same object"),
], ids=lambda value: getattr(value, "name", None))
def test_a_broken_invariant_fails_the_session_under_its_clause(mutant, invariant, message):
    """The mutant's defect is the clause it declares; the invariant that catches it cites it."""
    broken = impl.load(str(MUTANTS / f"{mutant}.py")).module
    with pytest.raises(stateful.SessionFailure) as failure:
        stateful.run_session(broken, settings=_unshrunk(20, 6), steps={"prune"})
    assert failure.value.clause == invariant.clause == broken.CLAUSE
    assert message in str(failure.value)


def test_session_draws_its_bad_calls_from_the_catalogue_without_the_atomic_area(monkeypatch):
    session = stateful.PruneSession(reference)
    session.teardown()
    drawn = {b.id for b in session.catalogue_entries(is_global=True)}
    assert drawn == {b.id for b in bi.bad_calls(is_global=True, exclude_areas=["ATOMIC"])} - {
        "global-param-other-device"}
    single = session.catalogue_entries(is_global=False)
    assert single and not any(b.clause.startswith("ATOMIC") for b in single)
    # An ATOMIC entry added to the catalogue (a user's hook that raises) is left to its property.
    hook = dataclasses.replace(bi.bad_calls(is_global=True)[0], id="global-hook-raises",
                               clause="ATOMIC-3")
    monkeypatch.setattr(bi, "BAD_CALLS", (*bi.BAD_CALLS, hook))
    assert hook.id not in {b.id for b in session.catalogue_entries(is_global=True)}
    departing = stateful.PruneSession(reference, departures={"GLOBAL-8"})
    departing.teardown()
    assert not any(b.clause == "GLOBAL-8" for b in departing.catalogue_entries(is_global=True))


def test_a_global_bad_call_snippet_runs_against_the_implementation_alone(tmp_path):
    """A mutant that accepts a negative count fails a bad global call of the catalogue; the
    snippet names its modules m0, m1, ... as the catalogue's source does."""
    path = MUTANTS / "m05_negative_count_accepted.py"
    broken = impl.load(str(path)).module
    with pytest.raises(stateful.SessionFailure) as failure:
        stateful.run_session(broken, settings=_settings(60, 8), steps={"prune", "invalid_global"})
    assert failure.value.clause == "ATOMIC-2"
    snippet = failure.value.snippet
    assert snippet is not None and "m0 = model[" in snippet
    broken_import = source.import_line(str(path))
    fixed = snippet.replace(broken_import, "import reference.prune as prune")
    assert support.run_snippet(snippet, tmp_path).returncode == 1
    assert support.run_snippet(fixed, tmp_path).returncode == 0
