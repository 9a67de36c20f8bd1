"""ATOMIC: failures change nothing.

Every entry of the bad-call catalogue (`conformance.bad_inputs.BAD_CALLS`) is made on a fresh
subject and on one already pruned by 1-2 earlier calls: the spec's exception, the module exactly as
it was (parameters, buffers, hooks and their history, attribute names) and, afterwards, still
working: the hook re-applies the mask, `is_pruned` is unchanged, `remove` works.

This is the only module that makes bad calls on pruned tensors, so that torch's known departure
(a rejected second call deletes the hook, GUIDE.md fact 4) fails ATOMIC properties only.
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from conformance import bad_global_calls as bgc
from conformance import bad_inputs as bi
from conformance import bad_user_code as bu
from conformance import checks as ck
from conformance import devices, measure, models
from conformance import strategies as hh
from conformance.bad_call import single


def _cases(entries: list[bi.BadCall], atomic_clause: str) -> list:
    return [pytest.param(entry, state, id=f"{entry.id}-{state}",
                         marks=pytest.mark.clause(entry.clause, atomic_clause))
            for entry in entries for state in bi.STATES
            if bi.fits_state(entry, state)]


REWIRING = bi.bad_calls(clauses=["ATOMIC-3"])
SINGLE = [b for b in bi.bad_calls(is_global=False)
          if b.id != "remove-unpruned" and b not in REWIRING]
REMOVE = [b for b in bi.bad_calls(is_global=False) if b.id == "remove-unpruned"]
GLOBAL = [b for b in bi.bad_calls(is_global=True) if b not in REWIRING]


def _tensor_pruned(prune, subject: models.Subject) -> bool:
    return bool(measure.pruning_hooks(prune, subject.module, subject.name))


def _expect_still_works(prune, subject: models.Subject, was_pruned: bool, module_was_pruned: bool,
                        clause: str, what: str) -> None:
    """After a rejected call the subject behaves as before it: is_pruned, the hook, remove."""
    module, name = subject.module, subject.name
    ck.expect_equal(prune.is_pruned(module), module_was_pruned, clause,
                    f"is_pruned(module) after the rejected {what}")
    if not was_pruned:
        return  # the snapshot already showed the module as it was
    orig = module._parameters[f"{name}_orig"]
    mask = module._buffers[f"{name}_mask"]
    with torch.no_grad():
        # A training step: the hook must still bring it to the forward, masked (HOOK-2).
        orig.add_(1)
    expected = (orig.detach() * mask).nan_to_num()
    subject.forward()
    ck.expect(torch.equal(getattr(module, name).detach().nan_to_num(), expected), clause,
              f"after the rejected {what}, forward must still set module.{name} to "
              f"{name}_orig * {name}_mask")
    try:
        prune.remove(module, name)
    except Exception as exc:
        ck.fail(clause, f"after the rejected {what}, remove(module, {name!r}) must work, raised "
                        f"{type(exc).__name__}: {exc}")
    ck.expect(torch.equal(getattr(module, name).detach().nan_to_num(), expected), clause,
              f"after the rejected {what}, remove must leave {name}_orig * {name}_mask")


def _check(prune, device, drawn: bi.Drawn, atomic_clause: str) -> None:
    entry, invocation = drawn.entry, drawn.invocation
    usable = [s for s in drawn.subjects
              if devices.same_device(measure.original(s.module, s.name).device, device)]
    before = [(s, _tensor_pruned(prune, s), prune.is_pruned(s.module)) for s in usable]
    # One container, so that one snapshot covers every module the call may touch (ATOMIC-2).
    modules = nn.ModuleList(invocation.modules)
    ck.expect_rejected_unchanged(modules, lambda: invocation.run(prune), entry.error,
                                 entry.clause, invocation.source, atomic_clause)
    for subject, was_pruned, module_was_pruned in before:
        _expect_still_works(prune, subject, was_pruned, module_was_pruned, atomic_clause,
                            invocation.source)


@pytest.mark.clause("ATOMIC-1")
@pytest.mark.parametrize(("entry", "state"), _cases(SINGLE, "ATOMIC-1"))
@hh.fewer_examples(10, floor=2)
@given(data=st.data())
def test_rejected_call_changes_nothing(prune, device, entry, state, data):
    drawn = data.draw(bi.drawn_bad_calls(prune, device, entry, state), label="call")
    _check(prune, device, drawn, "ATOMIC-1")


@pytest.mark.clause("ATOMIC-2")
@pytest.mark.parametrize(("entry", "state"), _cases(REMOVE, "ATOMIC-2"))
@hh.fewer_examples(10, floor=2)
@given(data=st.data())
def test_rejected_remove_changes_nothing(prune, device, entry, state, data):
    drawn = data.draw(bi.drawn_bad_calls(prune, device, entry, state), label="call")
    _check(prune, device, drawn, "ATOMIC-2")


@pytest.mark.clause("ATOMIC-2")
@pytest.mark.parametrize(("entry", "state"), _cases(GLOBAL, "ATOMIC-2"))
@hh.fewer_examples(10, floor=2)
@given(data=st.data())
def test_rejected_global_changes_none_of_its_modules(prune, device, entry, state, data):
    drawn = data.draw(bi.drawn_bad_calls(prune, device, entry, state), label="call")
    _check(prune, device, drawn, "ATOMIC-2")


@pytest.mark.clause("ATOMIC-3")
@pytest.mark.parametrize(("entry", "state"), _cases(REWIRING, "ATOMIC-3"))
@hh.fewer_examples(10, floor=2)
@given(data=st.data())
def test_failed_rewiring_changes_nothing(prune, device, entry, state, data):
    drawn = data.draw(bi.drawn_bad_calls(prune, device, entry, state), label="call")
    _check(prune, device, drawn, "ATOMIC-3")


@pytest.mark.clause("ATOMIC-3", "REMOVE-6")
@hh.fewer_examples(4)  # LSTM forwards are the slowest of the kinds
@given(data=st.data())
def test_failed_global_rewiring_restores_an_lstm_forward(prune, device, data):
    """A global call over an LSTM's tensor and a second module whose rewiring fails: the LSTM,
    rewired first, is restored through `setattr` like any module (REMOVE-6's reason), so its
    forward (which reads the weights LSTM tracks in `__setattr__`) is the one before the call."""
    dtype = data.draw(st.sampled_from([torch.float32, torch.float64]), label="dtype")
    lstm = data.draw(hh.subjects(device, kinds=("LSTM",), dtype=dtype), label="lstm")
    other = data.draw(hh.subjects(device, dtype=dtype, min_dims=0), label="other")
    expected = lstm.forward().detach()
    pairs = [(lstm.module, lstm.name), (other.module, other.name)]
    amount = data.draw(hh.amounts(lstm.param.numel() + other.param.numel()), label="amount")
    invocation = bu.with_failing_rewiring(
        bgc.global_invocation([lstm, other], pairs, "L1Unstructured", {"amount": amount}),
        1, other.name)
    what = f"m0 = {lstm.source}\nm1 = {other.source}\n{invocation.source}"
    ck.expect_rejected_unchanged(nn.ModuleList([lstm.module, other.module]),
                                 lambda: invocation.run(prune), bu.UserHookError, "ATOMIC-3",
                                 what, "ATOMIC-3")
    ck.expect(torch.equal(lstm.forward().detach().nan_to_num(), expected.nan_to_num()),
              "ATOMIC-3", f"after the failed\n{what}\nthe LSTM's forward differs from the one "
                          "before the call")


@pytest.mark.clause("ATOMIC-3", "COMPOSE-4")
@hh.fewer_examples(4)
@given(data=st.data())
def test_failed_rewiring_keeps_a_containers_history(prune, device, data):
    """A tensor pruned 2-3 times (its hook a PruningContainer) pruned again while a registration
    hook refuses its new mask: the container keeps its history, the same method objects."""
    subject = data.draw(hh.subjects(device, min_dims=0), label="subject")
    steps = [f"m0 = {subject.source}"]
    steps += hh.pruned_by_calls(data.draw, prune, subject, 2, 3, "m0")
    history = measure.history(prune, subject.module, subject.name)
    call = data.draw(hh.calls(subject, importance_scores=False), label="call")
    invocation = bu.with_failing_rewiring(single(subject, call), 0, subject.name)
    what = "\n".join([*steps, invocation.source])
    ck.expect_rejected_unchanged(subject.module, lambda: invocation.run(prune), bu.UserHookError,
                                 "ATOMIC-3", what, "ATOMIC-3")
    seen = measure.history(prune, subject.module, subject.name)
    ck.expect(len(seen) == len(history) and all(a is b for a, b in zip(seen, history,
                                                                       strict=True)),
              "ATOMIC-3", f"after the failed\n{what}\nthe history is "
                          f"{[type(m).__name__ for m in seen]}, was "
                          f"{[type(m).__name__ for m in history]}")
