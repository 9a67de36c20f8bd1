"""The stateful session (conformance/stateful.py): it passes for the reference and for torch with
its known departures, and it catches an implementation that only misbehaves on the second call of
a sequence, with a repro snippet that runs against the implementation alone."""

from __future__ import annotations

import pytest
import support
import torch
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test
from support import IMPLS

import reference.prune as reference
from conformance import expected, impl, source, stateful
from conformance.registry import METHODS

SECOND_CALL_BUG = IMPLS / "second_call_bug.py"


def _settings(examples: int, steps: int) -> settings:
    # Derandomized and without a database: the same sessions on every run, nothing written.
    return settings(max_examples=examples, stateful_step_count=steps, derandomize=True,
                    database=None, deadline=None, suppress_health_check=list(HealthCheck),
                    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink])


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
