"""AMOUNT: how many units a call prunes."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from conformance import checks as ck
from conformance import devices, measure
from conformance import strategies as hh
from conformance.registry import Call, Method, method_ids, methods

AMOUNT_METHODS = methods(takes_amount=True)


def _units_pruned(prune, subject, call: Call) -> tuple[int, int]:
    """(remaining units before the call, units the call pruned)."""
    before = measure.mask_or_ones(subject.module, subject.name)
    call(prune, subject.module, subject.name)
    after = measure.mask_or_ones(subject.module, subject.name)
    remaining = measure.remaining_units(before, call.dim)
    return remaining, remaining - measure.remaining_units(after, call.dim)


def _draw_call(data, subject, method: Method, amount_strategy) -> Call:
    call = data.draw(hh.calls(subject, [method], importance_scores=False))
    mask = measure.mask_or_ones(subject.module, subject.name)
    amount = data.draw(amount_strategy(measure.remaining_units(mask, call.dim)), label="amount")
    return Call(method, {**call.kwargs, "amount": amount})


@pytest.mark.clause("AMOUNT-1", "AMOUNT-4")
@pytest.mark.parametrize("method", AMOUNT_METHODS, ids=method_ids(AMOUNT_METHODS))
@given(data=st.data())
def test_int_amount_is_a_count(prune, device, method, data):
    subject = data.draw(hh.subjects(device, min_dims=method.min_dims()))
    call = _draw_call(data, subject, method, lambda units: st.integers(0, units))
    _, pruned = _units_pruned(prune, subject, call)
    ck.expect_equal(pruned, call.amount, "AMOUNT-1", f"units pruned by {call}")


@pytest.mark.clause("AMOUNT-2")
@pytest.mark.parametrize("method", AMOUNT_METHODS, ids=method_ids(AMOUNT_METHODS))
@given(data=st.data())
def test_float_amount_is_a_fraction_rounded_half_to_even(prune, device, method, data):
    subject = data.draw(hh.subjects(device, min_dims=method.min_dims()))
    call = _draw_call(data, subject, method,
                      lambda units: hh.amounts(units).filter(lambda a: isinstance(a, float)))
    remaining, pruned = _units_pruned(prune, subject, call)
    expected = measure.expected_count(call.amount, remaining)
    ck.expect_equal(pruned, expected, "AMOUNT-2",
                    f"{call.amount!r} of {remaining} units must prune "
                    f"round({call.amount * remaining!r})"
                    f" = {expected}; units pruned by {call}")


@pytest.mark.clause("AMOUNT-2")
@pytest.mark.parametrize("method", AMOUNT_METHODS, ids=method_ids(AMOUNT_METHODS))
@given(data=st.data())
def test_exact_half_way_fractions_round_to_even(prune, device, method, data):
    """Every example is a tie of the rounding: 0.5 of 5, where half up would prune one more, or
    0.5 of 3, where a floor would prune one fewer."""
    subject = data.draw(hh.subjects(device, min_dims=method.min_dims()))
    call = _draw_call(data, subject, method, hh.half_way_fractions)
    remaining, pruned = _units_pruned(prune, subject, call)
    expected = measure.expected_count(call.amount, remaining)
    ck.expect_equal(pruned, expected, "AMOUNT-2",
                    f"{call.amount!r} of {remaining} units is {call.amount * remaining!r}, which "
                    f"rounds half to even to {expected}; units pruned by {call}")


@pytest.mark.clause("AMOUNT-3")
@pytest.mark.parametrize("method", AMOUNT_METHODS, ids=method_ids(AMOUNT_METHODS))
@given(data=st.data())
def test_fraction_counts_only_what_remains(prune, device, method, data):
    subject = data.draw(hh.subjects(device, min_dims=method.min_dims()))
    first = data.draw(hh.calls(subject, AMOUNT_METHODS, importance_scores=False), label="first")
    # A random first call decides which channels keep an entry: seeded, so an example replays.
    with hh.seeded(data.draw(hh.seeds(), label="seed"), device):
        first(prune, subject.module, subject.name)
    call = _draw_call(data, subject, method,
                      lambda units: hh.amounts(units).filter(lambda a: isinstance(a, float)))
    remaining, pruned = _units_pruned(prune, subject, call)
    ck.expect_equal(pruned, measure.expected_count(call.amount, remaining), "AMOUNT-3",
                    f"after {first}, {call.amount!r} of the {remaining} remaining units; "
                    f"units pruned by {call}")


@pytest.mark.clause("AMOUNT-4")
@pytest.mark.parametrize("amount", [0, 0.0])
@pytest.mark.parametrize("method", AMOUNT_METHODS, ids=method_ids(AMOUNT_METHODS))
@given(data=st.data())
def test_zero_amount_prunes_nothing_but_reparametrizes(prune, device, method, amount, data):
    subject = data.draw(hh.subjects(device, min_dims=method.min_dims()))
    call = _draw_call(data, subject, method, lambda units: st.just(amount))
    drawn_before = devices.generator_state(device)
    call(prune, subject.module, subject.name)
    drawn_after = devices.generator_state(device)
    mask = measure.current_mask(subject.module, subject.name)
    ck.expect(mask is not None, "AMOUNT-4", f"{call} must register {subject.name}_mask")
    ck.expect_equal(measure.pruned_entries(mask), 0, "AMOUNT-4", f"entries pruned by {call}")
    ck.expect(drawn_before is None or torch.equal(drawn_before, drawn_after), "AMOUNT-4",
              f"{call} drew random numbers from the generator of {device}, pruning nothing")


def _bad_amount_cases() -> list:
    cases = []
    for method in AMOUNT_METHODS:
        for bad in hh.bad_amounts(units=0):  # the real unit count replaces 0 in the property
            cases.append(pytest.param(method, bad, id=f"{method.function}-{bad.value!r}",
                                      marks=pytest.mark.clause(bad.clause)))
    return cases


@pytest.mark.clause("ERRORS-4")
@pytest.mark.parametrize(("method", "bad"), _bad_amount_cases())
@given(data=st.data())
def test_bad_amount_is_rejected(prune, device, method, bad, data):
    subject = data.draw(hh.subjects(device, min_dims=method.min_dims()))
    call = data.draw(hh.calls(subject, [method], importance_scores=False))
    value = bad.value
    if bad.clause == "AMOUNT-6":  # one more than the units that remain
        mask = measure.mask_or_ones(subject.module, subject.name)
        value = measure.remaining_units(mask, call.dim) + 1
    bad_call = Call(method, {**call.kwargs, "amount": value})
    exc = ck.expect_raises(bad.clause, bad.error,
                           lambda: bad_call(prune, subject.module, subject.name), repr(bad_call))
    ck.expect_message_names(exc, value, "ERRORS-4", repr(bad_call))


@pytest.mark.clause("AMOUNT-1", "AMOUNT-2")
@pytest.mark.parametrize("method", AMOUNT_METHODS, ids=method_ids(AMOUNT_METHODS))
@given(data=st.data())
def test_numpy_scalars_are_amounts(prune, device, method, data):
    np = pytest.importorskip("numpy", reason="numpy scalars need numpy")
    subject = data.draw(hh.subjects(device, min_dims=method.min_dims()))
    call = data.draw(hh.calls(subject, [method], importance_scores=False))
    units = measure.remaining_units(measure.mask_or_ones(subject.module, subject.name), call.dim)
    as_int = data.draw(st.booleans(), label="integer")
    if as_int:
        amount = data.draw(st.sampled_from([np.int64, np.int32, np.uint8]))(
            data.draw(st.integers(0, min(units, 255))))
    else:
        amount = data.draw(st.sampled_from([np.float64, np.float32]))(
            data.draw(st.sampled_from([0.0, 0.25, 0.5, 1.0])))
    numpy_call = Call(method, {**call.kwargs, "amount": amount})
    remaining, pruned = _units_pruned(prune, subject, numpy_call)
    expected = int(amount) if as_int else round(float(amount) * remaining)
    ck.expect_equal(pruned, expected, "AMOUNT-1" if as_int else "AMOUNT-2",
                    f"units pruned by {numpy_call} ({type(amount).__name__})")
