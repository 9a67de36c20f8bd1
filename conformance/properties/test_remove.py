"""REMOVE: making pruning permanent.

A tensor pruned by 1-3 calls drawn from the registry is made permanent by `remove`; the
parameter, the state_dict, the other tensors, the forward and every place the original values
could hide are checked afterwards. LSTM gets its own property (REMOVE-6): it keeps its weights
in a list that only `__setattr__` updates (pytorch#33618).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from conformance import checks as ck
from conformance import measure, models, parity
from conformance import strategies as hh
from conformance.registry import METHODS, method_ids

ALL_METHODS = list(METHODS.values())


def _prune(prune: Any, data: Any, subject: models.Subject, steps: list[str], low: int = 1,
           high: int = 3) -> None:
    """low..high valid calls of any registry method, each under a drawn seed; as source."""
    applied = data.draw(hh.applied_calls(prune, subject, low, high),
                        label=f"calls on {subject.name}")
    steps += [a.source(name=subject.name) for a in applied]


def _tensor(subject: models.Subject, name: str) -> models.Subject:
    """Another tensor of the subject's module, as a subject of its own."""
    return models.Subject(subject.module, name, subject.inputs, subject.source)


def _output(module: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    out = module(inputs)
    return (out[0] if isinstance(out, tuple) else out).detach()


@pytest.mark.clause("REMOVE-1")
@given(data=st.data())
def test_remove_gives_back_the_parameter_holding_orig_times_mask(prune, device, data):
    """After an in-place step on `<name>_orig` (no forward, so `module.<name>` is stale) and a
    drawn `requires_grad`, remove makes `<name>` the very Parameter again, registered, holding
    orig * mask and keeping its requires_grad."""
    subject = data.draw(hh.subjects(device, min_dims=0), label="subject")
    module, name = subject.module, subject.name
    param = subject.param
    steps = [f"module = {subject.source}"]
    _prune(prune, data, subject, steps)
    orig, mask = module._parameters[f"{name}_orig"], module._buffers[f"{name}_mask"]
    with torch.no_grad():
        orig.add_(data.draw(hh.score_tensors(tuple(orig.shape), orig.dtype, device),
                            label="step on orig"))
    requires_grad = data.draw(st.booleans(), label="requires_grad")
    orig.requires_grad_(requires_grad)
    steps += [f"with torch.no_grad(): module.{name}_orig.add_(...)",
              f"module.{name}_orig.requires_grad_({requires_grad})",
              f"prune.remove(module, {name!r})"]
    what = "\n".join(steps)
    expected = (orig.detach() * mask).nan_to_num()
    prune.remove(module, name)
    restored = module._parameters.get(name)
    ck.expect(restored is param, "REMOVE-1",
              f"{name} must be the registered Parameter that {name}_orig was, "
              + ("is not registered" if restored is None else "is another object")
              + f", after\n{what}")
    ck.expect(getattr(module, name) is param, "REMOVE-1",
              f"module.{name} must be that Parameter after\n{what}")
    ck.expect(torch.equal(param.detach().nan_to_num(), expected), "REMOVE-1",
              f"{name} must hold {name}_orig * {name}_mask after\n{what}")
    ck.expect_equal(param.requires_grad, requires_grad, "REMOVE-1",
                    f"{name}.requires_grad after\n{what}")


@pytest.mark.clause("REMOVE-2")
@given(data=st.data())
def test_remove_drops_orig_mask_and_hook(prune, device, data):
    """A module with a user's buffer and forward pre-hook, some of its other tensors pruned:
    remove of one tensor drops its `_orig`, `_mask` and hook, gives the state_dict keys of the
    module as if that tensor had never been pruned, and leaves everything else alone."""
    subject = data.draw(hh.subjects(device, min_dims=0), label="subject")
    module, name = subject.module, subject.name
    module.register_buffer("user_buffer", torch.arange(3.0, device=device))
    module.register_forward_pre_hook(lambda mod, inputs: None)
    steps = [f"module = {subject.source}", "module.register_buffer('user_buffer', ...)",
             "module.register_forward_pre_hook(lambda mod, inputs: None)"]
    keys = set(module.state_dict())
    others = [n for n, _ in module.named_parameters(recurse=False) if n != name]
    pruned_others = data.draw(st.lists(st.sampled_from(others), unique=True) if others
                              else st.just([]), label="other tensors pruned")
    for other in pruned_others:
        _prune(prune, data, _tensor(subject, other), steps, 1, 2)
        keys = keys - {other} | {f"{other}_orig", f"{other}_mask"}
    _prune(prune, data, subject, steps)
    steps.append(f"prune.remove(module, {name!r})")
    what = "\n".join(steps)
    before = ck.snapshot_others(prune, module, name)
    prune.remove(module, name)
    ck.expect(f"{name}_orig" not in module._parameters and not hasattr(module, f"{name}_orig"),
              "REMOVE-2", f"{name}_orig must be gone after\n{what}")
    ck.expect(f"{name}_mask" not in module._buffers and not hasattr(module, f"{name}_mask"),
              "REMOVE-2", f"{name}_mask must be gone after\n{what}")
    ck.expect_equal(len(measure.pruning_hooks(prune, module, name)), 0, "REMOVE-2",
                    f"pruning hooks for {name!r} after\n{what}")
    ck.expect_equal(sorted(module.state_dict()), sorted(keys), "REMOVE-2",
                    f"state_dict keys after\n{what}")
    changes = ck.changes_to_others(before, ck.snapshot_others(prune, module, name))
    ck.expect(not changes, "REMOVE-2",
              f"remove changed other parts of the module: {'; '.join(changes)}, in\n{what}")


@pytest.mark.clause("REMOVE-2")
@given(data=st.data())
def test_remove_acts_on_the_given_module_only(prune, device, data):
    """A Holder whose submodule is the subject, both pruned: remove(parent, 'weight') leaves
    the pruned submodule exactly as it was."""
    subject = data.draw(hh.subjects(device, min_dims=0), label="child")
    parent = models.holder(data.draw(hh.shapes(min_dims=0), label="parent shape"),
                           subject.param.dtype, device)
    parent.module.add_module("child", subject.module)
    steps = [f"child = {subject.source}", f"parent = {parent.source}",
             "parent.add_module('child', child)"]
    _prune(prune, data, subject, steps, 1, 2)
    _prune(prune, data, parent, steps, 1, 2)
    steps.append("prune.remove(parent, 'weight')")
    before = ck.ModuleSnapshot.take(subject.module)
    prune.remove(parent.module, "weight")
    changes = before.differences(ck.ModuleSnapshot.take(subject.module))
    ck.expect(not changes, "REMOVE-2",
              "remove must act on the given module only, but changed its submodule: "
              + "; ".join(changes) + ", in\n" + "\n".join(steps))


def _tensors_in(value: object, path: str, seen: set[int], depth: int = 0,
                ) -> Iterator[tuple[str, torch.Tensor]]:
    """Every tensor reachable from `value` through dicts, sequences and object attributes
    (hooks and their histories), with its path; modules are not entered (each is searched on
    its own)."""
    if id(value) in seen or depth > 8:
        return
    seen.add(id(value))
    if isinstance(value, torch.Tensor):
        yield path, value
    elif isinstance(value, nn.Module | type):
        return
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _tensors_in(item, f"{path}[{key!r}]", seen, depth + 1)
    elif isinstance(value, list | tuple | set | frozenset):
        for index, item in enumerate(value):
            yield from _tensors_in(item, f"{path}[{index}]", seen, depth + 1)
    elif hasattr(value, "__dict__"):
        yield from _tensors_in(vars(value), f"{path}.__dict__", seen, depth + 1)


def _holders_of(root: nn.Module, original: torch.Tensor, gone: torch.Tensor) -> list[str]:
    """Paths of the tensors anywhere in `root` (attributes, parameters, buffers, hooks) that
    still hold the original values at the entries `gone` (pruned, originally nonzero)."""
    found = []
    for prefix, module in root.named_modules():
        seen: set[int] = set()
        for path, t in _tensors_in(vars(module), prefix or "module", seen):
            if t.shape != original.shape or not t.dtype.is_floating_point:
                continue
            if torch.equal(t.detach()[gone].to(original), original[gone]):
                found.append(path)
    return found


@pytest.mark.clause("REMOVE-3")
@given(data=st.data())
def test_remove_is_permanent_and_keeps_the_output(prune, device, data):
    """remove keeps the forward output (within the dtype's tolerance) and the pruned entries
    zero, and no attribute, parameter, buffer or hook of the module still holds the original
    values where they were pruned. The values are doubled (even, nonzero) so that no 0/1 mask
    can pass for them."""
    subject = data.draw(hh.subjects(device, min_dims=0), label="subject")
    module, name = subject.module, subject.name
    with torch.no_grad():
        subject.param.mul_(2)
    steps = [f"module = {subject.source}", f"module.{name}.data *= 2"]
    _prune(prune, data, subject, steps)
    steps.append(f"prune.remove(module, {name!r})")
    what = "\n".join(steps)
    original = module._parameters[f"{name}_orig"].detach().clone()
    mask = module._buffers[f"{name}_mask"].detach().clone()
    out = _output(module, subject.inputs)
    prune.remove(module, name)
    parity.expect_close_outputs(_output(module, subject.inputs), out, original.dtype, "REMOVE-3",
                                f"forward output after remove against before it, in\n{what}")
    pruned = mask.eq(0)
    ck.expect(bool(getattr(module, name).detach()[pruned].eq(0).all()), "REMOVE-3",
              f"the pruned entries of {name} must be zero after\n{what}")
    gone = pruned & original.ne(0)
    if bool(gone.any()):
        holders = _holders_of(module, original, gone)
        ck.expect(not holders, "REMOVE-3",
                  f"after\n{what}\nthe original values of the pruned entries are still held by "
                  f"{holders}")


@pytest.mark.clause("REMOVE-4")
@pytest.mark.parametrize("method", ALL_METHODS, ids=method_ids(ALL_METHODS))
@hh.fewer_examples(4)
@given(data=st.data())
def test_pruning_after_remove_starts_fresh(prune, device, method, data):
    """Prune, remove, prune again: a new `_orig` (the same Parameter) and `_mask`, a hook that is
    the new method alone, and k counted over all units, the zeros left by the first pruning
    among them."""
    subject = data.draw(hh.subjects(device, min_dims=method.min_dims()), label="subject")
    module, name = subject.module, subject.name
    param = subject.param
    steps = [f"module = {subject.source}"]
    _prune(prune, data, subject, steps, 1, 2)
    prune.remove(module, name)
    steps.append(f"prune.remove(module, {name!r})")
    [applied] = data.draw(hh.applied_calls(prune, subject, 1, 1, methods=[method]),
                          label="call after remove")
    steps.append(applied.source(name=name))
    what = "\n".join(steps)
    call = applied.call
    hooks = measure.pruning_hooks(prune, module, name)
    cls = getattr(prune, method.class_name)
    ck.expect(len(hooks) == 1 and isinstance(hooks[0], cls)
              and not isinstance(hooks[0], prune.PruningContainer), "REMOVE-4",
              f"the hook must be the new {method.class_name} alone, is "
              f"{[type(h).__name__ for h in hooks]} (history "
              f"{[type(m).__name__ for m in measure.history(prune, module, name)]}) after\n{what}")
    ck.expect(module._parameters.get(f"{name}_orig") is param, "REMOVE-4",
              f"{name}_orig must be the Parameter again after\n{what}")
    mask = module._buffers.get(f"{name}_mask")
    ck.expect(mask is not None, "REMOVE-4", f"{name}_mask must be registered after\n{what}")
    if "mask" in call.kwargs:
        ck.expect_same_mask(mask, call.kwargs["mask"].to(mask.device), "REMOVE-4",
                            f"exactly the given mask, the first pruning forgotten, after\n{what}")
    else:
        units = measure.remaining_units(torch.ones_like(mask), call.dim)
        k = measure.expected_count(call.amount, units) if method.takes_amount else 0
        ck.expect_equal(units - measure.remaining_units(mask, call.dim), k, "REMOVE-4",
                        f"units pruned, counted over all {units}, after\n{what}")


REMOVE_STATES = ["fresh", "other-tensor-pruned", "pruned-then-removed", "child-pruned"]
# Module kinds with more than one tensor, for the state where another tensor is pruned.
MULTI_TENSOR_KINDS = tuple(k for k, spec in models.KINDS.items() if len(spec.tensors) > 1)


@pytest.mark.clause("REMOVE-5")
@pytest.mark.parametrize("state", REMOVE_STATES)
@hh.fewer_examples(4)
@given(data=st.data())
def test_remove_of_an_unpruned_tensor_is_rejected(prune, device, state, data):
    """remove of a tensor that is not pruned (never, only another tensor of the module, pruned
    and removed already, or pruned only in a submodule of the module given) raises ValueError
    and changes nothing."""
    kinds = MULTI_TENSOR_KINDS if state == "other-tensor-pruned" else None
    subject = data.draw(hh.subjects(device, kinds=kinds, min_dims=0), label="subject")
    module, name = subject.module, subject.name
    target = module
    steps = [f"module = {subject.source}"]
    if state == "other-tensor-pruned":
        others = [n for n, _ in module.named_parameters(recurse=False) if n != name]
        other = data.draw(st.sampled_from(others), label="other tensor")
        _prune(prune, data, _tensor(subject, other), steps, 1, 2)
    elif state == "pruned-then-removed":
        _prune(prune, data, subject, steps, 1, 2)
        prune.remove(module, name)
        steps.append(f"prune.remove(module, {name!r})")
    elif state == "child-pruned":
        _prune(prune, data, subject, steps, 1, 2)
        target = nn.Sequential(module)
        steps.append("module = nn.Sequential(module)")
    steps.append(f"prune.remove(module, {name!r})")
    ck.expect_rejected_unchanged(target, lambda: prune.remove(target, name), ValueError,
                                 "REMOVE-5", "\n".join(steps), atomic_clause="REMOVE-5")


@pytest.mark.clause("REMOVE-5", "ERRORS-4")
@pytest.mark.parametrize("deleted", ["orig", "mask"])
@hh.fewer_examples(4)
@given(data=st.data())
def test_remove_of_a_tensor_missing_its_orig_or_mask_is_rejected(prune, device, deleted, data):
    """A pruned tensor whose `<name>_orig` or `<name>_mask` the user deleted cannot be made
    permanent: remove raises ValueError or AttributeError naming the missing attribute, and
    changes nothing."""
    subject = data.draw(hh.subjects(device, min_dims=0), label="subject")
    module, name = subject.module, subject.name
    steps = [f"module = {subject.source}"]
    _prune(prune, data, subject, steps, 1, 2)
    missing = f"{name}_{deleted}"
    delattr(module, missing)
    steps += [f"del module.{missing}", f"prune.remove(module, {name!r})"]
    exc = ck.expect_rejected_unchanged(module, lambda: prune.remove(module, name),
                                       (ValueError, AttributeError), "REMOVE-5",
                                       "\n".join(steps), atomic_clause="REMOVE-5")
    ck.expect(missing in str(exc), "ERRORS-4",
              f"{steps[-1]} after {steps[-2]}: the message must name {missing}, was {exc}")


@pytest.mark.clause("REMOVE-6")
@hh.fewer_examples(3)  # LSTM forwards in float16 and bfloat16 are slow on the CPU
@given(data=st.data())
def test_lstm_forward_uses_the_pruned_weights_after_remove(prune, device, data):
    """Some of an LSTM's tensors pruned (with or without a forward in between) and removed: its
    forward equals that of a fresh LSTM loaded with its state_dict, before and after an in-place
    step on the restored parameters (as an optimizer makes)."""
    subject = data.draw(hh.subjects(device, kinds=("LSTM",), min_dims=0), label="subject")
    module = subject.module
    names = [n for n, _ in module.named_parameters(recurse=False)]
    chosen = data.draw(st.lists(st.sampled_from(names), min_size=1, unique=True),
                       label="tensors pruned")
    steps = [f"module = {subject.source}"]
    for name in chosen:
        _prune(prune, data, _tensor(subject, name), steps, 1, 2)
        if data.draw(st.booleans(), label="forward"):
            module(subject.inputs)
            steps.append("module(inputs)")
    for name in chosen:
        prune.remove(module, name)
        steps.append(f"prune.remove(module, {name!r})")
    dtype = next(module.parameters()).dtype

    def expect_like_a_fresh_lstm(moment: str) -> None:
        fresh = nn.LSTM(module.input_size, module.hidden_size).to(device=device, dtype=dtype)
        fresh.load_state_dict(module.state_dict())
        parity.expect_close_outputs(
            _output(module, subject.inputs), _output(fresh, subject.inputs), dtype, "REMOVE-6",
            f"forward output against nn.LSTM({module.input_size}, {module.hidden_size}) loaded "
            f"with the state_dict, {moment}\n" + "\n".join(steps))

    expect_like_a_fresh_lstm("after")
    with torch.no_grad():
        for name in chosen:
            getattr(module, name).add_(1)
    steps.append(f"with torch.no_grad(): each of {chosen}.add_(1)  # a training step")
    expect_like_a_fresh_lstm("after")
