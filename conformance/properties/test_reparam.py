"""REPARAM: how a parameter is renamed.

Each property prunes one tensor of a module by 1-3 calls drawn from the registry (any method,
importance scores of the parameter's dtype) and checks the reparametrization after every call.
Importance scores of another dtype are drawn only by the REPARAM-2 property dedicated to them,
so that torch's departure there fails that property alone.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from conformance import checks as ck
from conformance import measure, models
from conformance import strategies as hh
from conformance.registry import Call, methods

KINDS = ("Holder", *models.KINDS)
SCORED = methods(takes_importance_scores=True)


def _prune_once(prune: Any, data: Any, subject: models.Subject, steps: list[str]) -> None:
    """One valid call of any registry method, under a drawn seed; its source appended."""
    [applied] = data.draw(hh.applied_calls(prune, subject, 1, 1), label=f"call {len(steps)}")
    steps.append(applied.source(name=subject.name))


def _calls(data: Any, low: int = 1, high: int = 3) -> range:
    return range(data.draw(st.integers(low, high), label="calls"))


@pytest.mark.clause("REPARAM-1")
@pytest.mark.parametrize("kind", KINDS)
@hh.fewer_examples(4)
@given(data=st.data())
def test_parameter_moves_to_orig(prune, device, kind, data):
    """After every call, `<name>_orig` is the registered Parameter object that `<name>` was,
    its values unchanged by pruning, and `<name>` is no longer a registered parameter."""
    subject = data.draw(hh.subjects(device, kinds=(kind,), min_dims=0), label="subject")
    module, name = subject.module, subject.name
    param = subject.param
    values = param.detach().clone()
    steps = [f"module = {subject.source}"]
    for _ in _calls(data):
        _prune_once(prune, data, subject, steps)
        what = "\n".join(steps)
        orig = module._parameters.get(f"{name}_orig")
        ck.expect(orig is param, "REPARAM-1",
                  f"{name}_orig must be the registered Parameter that {name} was, "
                  + ("is missing" if orig is None else f"is another object ({type(orig)})")
                  + f", after\n{what}")
        ck.expect(name not in module._parameters, "REPARAM-1",
                  f"{name} must no longer be a registered parameter after\n{what}")
        ck.expect(torch.equal(param.detach().nan_to_num(), values.nan_to_num()), "REPARAM-1",
                  f"pruning must not change the values of {name}_orig, after\n{what}")


@pytest.mark.clause("REPARAM-2")
@given(data=st.data())
def test_mask_is_a_persistent_binary_buffer(prune, device, data):
    """After every call, `<name>_mask` is a registered persistent buffer (in the state_dict) with
    the parameter's shape, dtype and device, only 0 and 1, not requiring grad; custom_from_mask
    draws bool masks."""
    subject = data.draw(hh.subjects(device, min_dims=0), label="subject")
    module, name = subject.module, subject.name
    param = subject.param
    steps = [f"module = {subject.source}"]
    for _ in _calls(data):
        _prune_once(prune, data, subject, steps)
        what = "\n".join(steps)
        mask = module._buffers.get(f"{name}_mask")
        ck.expect(mask is not None, "REPARAM-2",
                  f"{name}_mask must be a registered buffer after\n{what}")
        ck.expect(f"{name}_mask" not in module._non_persistent_buffers_set
                  and f"{name}_mask" in module.state_dict(), "REPARAM-2",
                  f"{name}_mask must be persistent (in the state_dict) after\n{what}")
        ck.expect_binary_mask(mask, param, "REPARAM-2")
        ck.expect(not mask.requires_grad, "REPARAM-2",
                  f"{name}_mask must not require grad after\n{what}")


def _dtype_cases() -> list:
    return [pytest.param(method, when, id=f"{method.function}-{when}")
            for method in SCORED for when in ("first", "second")]


@pytest.mark.clause("REPARAM-2")
@pytest.mark.parametrize(("method", "when"), _dtype_cases())
@hh.fewer_examples(4)
@given(data=st.data())
def test_mask_dtype_ignores_the_dtype_of_importance_scores(prune, device, method, when, data):
    """Importance scores of another float dtype than the parameter, on the first call (pruning
    at least one unit) or on a second call: the mask keeps the parameter's dtype."""
    dtype = data.draw(hh.dtypes(device), label="dtype")
    scores_dtype = data.draw(st.sampled_from([d for d in hh.FLOAT_DTYPES if d != dtype]),
                             label="scores dtype")
    subject = data.draw(hh.subjects(device, dtype=dtype, min_dims=method.min_dims()),
                        label="subject")
    module, name = subject.module, subject.name
    steps = [f"module = {subject.source}"]
    if when == "second":
        _prune_once(prune, data, subject, steps)
    call = data.draw(hh.calls(subject, [method], importance_scores=False), label="call")
    kwargs = dict(call.kwargs)
    if when == "first":
        units = measure.remaining_units(measure.mask_or_ones(module, name), call.dim)
        kwargs["amount"] = data.draw(st.integers(1, units), label="amount")
    kwargs["importance_scores"] = data.draw(
        hh.score_tensors(tuple(subject.param.shape), scores_dtype, device), label="scores")
    call = Call(method, kwargs)
    steps.append(repr(call))
    call(prune, module, name)
    ck.expect_binary_mask(module._buffers[f"{name}_mask"], subject.param, "REPARAM-2")


@pytest.mark.clause("REPARAM-3")
@pytest.mark.parametrize("mode", [hh.DISTINCT, hh.SPECIAL])
@hh.fewer_examples(2)
@given(data=st.data())
def test_name_is_a_plain_attribute_equal_to_orig_times_mask(prune, device, mode, data):
    """After every call and after a forward, `module.<name>` is a tensor that is neither a
    parameter nor a buffer, equal to `<name>_orig * <name>_mask` (NaN where inf meets 0)."""
    subject = data.draw(hh.subjects(device, mode=mode, min_dims=0), label="subject")
    module, name = subject.module, subject.name
    steps = [f"module = {subject.source}"]
    calls = len(_calls(data))
    for index in range(calls + 1):
        if index < calls:
            _prune_once(prune, data, subject, steps)
        else:  # the hook recomputes the attribute; one forward, LSTM forwards are slow
            subject.forward()
            steps.append("module(inputs)")
        what = "\n".join(steps)
        value = getattr(module, name)
        ck.expect(isinstance(value, torch.Tensor) and not isinstance(value, nn.Parameter)
                  and name not in module._parameters and name not in module._buffers,
                  "REPARAM-3", f"{name} must be a plain tensor attribute, is "
                               f"{type(value).__name__}, after\n{what}")
        expected = (module._parameters[f"{name}_orig"].detach()
                    * module._buffers[f"{name}_mask"]).nan_to_num()
        ck.expect(torch.equal(value.detach().nan_to_num(), expected), "REPARAM-3",
                  f"{name} must equal {name}_orig * {name}_mask after\n{what}")


@pytest.mark.clause("REPARAM-4")
@given(data=st.data())
def test_state_dict_keys_replace_name_by_orig_and_mask(prune, device, data):
    """The keys after every call: the keys before the first with `<name>` replaced by
    `<name>_orig` and `<name>_mask` (with the prefix of a submodule), others unchanged."""
    subject = data.draw(hh.subjects(device, min_dims=0), label="subject")
    wrapped = data.draw(st.booleans(), label="inside nn.Sequential")
    root = nn.Sequential(subject.module) if wrapped else subject.module
    prefix = "0." if wrapped else ""
    before = list(root.state_dict())
    expected = sorted({*before} - {prefix + subject.name}
                      | {f"{prefix}{subject.name}_orig", f"{prefix}{subject.name}_mask"})
    steps = [f"module = {subject.source}" + ("; root = nn.Sequential(module)" if wrapped else "")]
    for _ in _calls(data):
        _prune_once(prune, data, subject, steps)
        keys = list(root.state_dict())
        ck.expect_equal(sorted(keys), expected, "REPARAM-4",
                        f"state_dict keys (were {before}) after\n" + "\n".join(steps))
        ck.expect_equal(len(keys), len(set(keys)), "REPARAM-4", "state_dict keys without repeats")


@pytest.mark.clause("REPARAM-5")
@given(data=st.data())
def test_call_changes_nothing_else(prune, device, data):
    """A module with a user's buffer and forward pre-hook, some other tensors pruned before:
    1-2 calls on one tensor leave every other parameter, buffer, plain tensor, hook (order and
    history) and attribute name as they were."""
    subject = data.draw(hh.subjects(device, min_dims=0), label="subject")
    module, name = subject.module, subject.name
    module.register_buffer("user_buffer", torch.arange(3.0, device=device))
    module.register_forward_pre_hook(lambda mod, inputs: None)
    steps = [f"module = {subject.source}", "module.register_buffer('user_buffer', ...)",
             "module.register_forward_pre_hook(lambda mod, inputs: None)"]
    others = [n for n, p in module.named_parameters(recurse=False) if n != name]
    for other in data.draw(st.lists(st.sampled_from(others), unique=True) if others
                           else st.just([]), label="other tensors pruned before"):
        twin = models.Subject(module, other, subject.inputs, subject.source)
        for applied in data.draw(hh.applied_calls(prune, twin, 1, 2), label=f"calls on {other}"):
            steps.append(applied.source(name=other))
    for _ in _calls(data, 1, 2):
        before = ck.snapshot_others(prune, module, name)
        _prune_once(prune, data, subject, steps)
        changes = ck.changes_to_others(before, ck.snapshot_others(prune, module, name))
        ck.expect(not changes, "REPARAM-5",
                  f"the last call changed other parts of the module: {'; '.join(changes)}, "
                  "in\n" + "\n".join(steps))
