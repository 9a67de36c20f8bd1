"""HOOK: forward pre-hooks.

The tensors of one module (a Linear's weight and bias, an LSTM's four) are pruned in a drawn
order, each any number of times; the hooks are counted after every call. The forward is checked
against an unpruned twin of the module (a deep copy taken before pruning) holding
`<name>_orig * <name>_mask` as its parameter.
"""

from __future__ import annotations

import copy
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


def pruning_hook_objects(prune: Any, module: nn.Module) -> list[Any]:
    return [h for h in module._forward_pre_hooks.values()
            if isinstance(h, prune.BasePruningMethod)]


def _tensor(subject: models.Subject, name: str) -> models.Subject:
    """Another tensor of the subject's module, as a subject of its own."""
    return models.Subject(subject.module, name, subject.inputs, subject.source)


@pytest.mark.clause("HOOK-1")
@given(data=st.data())
def test_one_hook_per_pruned_tensor(prune, device, data):
    """1-6 calls, each on a drawn tensor of the module: after every call there is exactly one
    pruning hook per pruned tensor, naming it, and no other; a tensor pruned once has the method
    object of its call as its hook."""
    subject = data.draw(hh.subjects(device, min_dims=0), label="subject")
    module = subject.module
    names = [n for n, _ in module.named_parameters(recurse=False)]
    calls: dict[str, list[str]] = {}  # tensor name -> class names of its calls
    steps = [f"module = {subject.source}"]
    for _ in range(data.draw(st.integers(1, 6), label="calls")):
        target = _tensor(subject, data.draw(st.sampled_from(names), label="tensor"))
        [applied] = data.draw(hh.applied_calls(prune, target, 1, 1), label="call")
        steps.append(applied.source(name=target.name))
        calls.setdefault(target.name, []).append(applied.call.method.class_name)
        what = "\n".join(steps)
        hooks = pruning_hook_objects(prune, module)
        ck.expect_equal(sorted(getattr(h, "_tensor_name", None) for h in hooks), sorted(calls),
                        "HOOK-1", f"the tensors named by the module's pruning hooks after\n{what}")
        for name, classes in calls.items():
            own = measure.pruning_hooks(prune, module, name)
            ck.expect_equal(len(own), 1, "HOOK-1", f"pruning hooks for {name!r} after\n{what}")
            if len(classes) == 1:
                cls = getattr(prune, classes[0])
                ck.expect(isinstance(own[0], cls)
                          and not isinstance(own[0], prune.PruningContainer), "HOOK-1",
                          f"after one call on {name!r} its hook must be the {classes[0]} object "
                          f"itself, is {type(own[0]).__name__}, after\n{what}")


def _forward_output(module: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    out = module(inputs)
    return (out[0] if isinstance(out, tuple) else out).detach()


@pytest.mark.clause("HOOK-2")
@hh.fewer_examples(2)  # four forwards per example
@given(data=st.data())
def test_forward_applies_the_current_orig_and_mask(prune, device, data):
    """After an in-place step on `<name>_orig` (as an optimizer makes) and after an in-place
    edit of `<name>_mask`, the next forward sets `module.<name>` to orig * mask and computes
    the output of the module holding those values as its parameter."""
    subject = data.draw(hh.subjects(device, min_dims=0), label="subject")
    module, name = subject.module, subject.name
    twin = copy.deepcopy(module)  # unpruned: deep-copies in every torch
    steps = [f"module = {subject.source}"]
    steps += [a.source(name=name)
              for a in data.draw(hh.applied_calls(prune, subject, 1, 3), label="calls")]
    orig = module._parameters[f"{name}_orig"]
    mask = module._buffers[f"{name}_mask"]
    shape, dtype = tuple(orig.shape), orig.dtype

    def expect_forward_sees(edit: str) -> None:
        steps.append(edit)
        steps.append("module(inputs)")
        what = "\n".join(steps)
        out = _forward_output(module, subject.inputs)
        expected = orig.detach() * mask
        ck.expect(torch.equal(getattr(module, name).detach().nan_to_num(), expected.nan_to_num()),
                  "HOOK-2", f"forward must set {name} to {name}_orig * {name}_mask after\n{what}")
        with torch.no_grad():
            getattr(twin, name).copy_(expected)
        parity.expect_close_outputs(out, _forward_output(twin, subject.inputs), dtype, "HOOK-2",
                                    f"forward output against the unpruned module holding "
                                    f"{name}_orig * {name}_mask, after\n{what}")

    step = data.draw(hh.score_tensors(shape, dtype, device), label="step on orig")
    with torch.no_grad():
        orig.add_(step)
    expect_forward_sees(f"with torch.no_grad(): module.{name}_orig.add_(...)  # a training step")
    bits = data.draw(st.lists(st.booleans(), min_size=orig.numel(), max_size=orig.numel()),
                     label="edited mask")
    with torch.no_grad():
        mask.copy_(torch.tensor(bits, dtype=mask.dtype, device=mask.device).reshape(shape))
    expect_forward_sees(f"with torch.no_grad(): module.{name}_mask.copy_(...)  # an edited mask")


@pytest.mark.clause("HOOK-2", "REPARAM-2", "REMOVE-1")
@pytest.mark.parametrize("mask_dtype", [torch.bool, torch.float64], ids=str)
@hh.fewer_examples(2)
@given(data=st.data())
def test_a_mask_replaced_in_another_dtype_acts_in_the_parameters_dtype(prune, device, mask_dtype,
                                                                       data):
    """A user replaces `<name>_mask` by a 0/1 tensor of another dtype (a bool mask saves
    memory): forward sets `module.<name>` to orig * mask in the parameter's dtype, a later call
    stores its mask in the parameter's dtype, and remove leaves the parameter's dtype."""
    subject = data.draw(hh.subjects(device, min_dims=0), label="subject")
    module, name = subject.module, subject.name
    steps = [f"module = {subject.source}"]
    steps += hh.pruned_by_calls(data.draw, prune, subject, 1, 2)
    orig = module._parameters[f"{name}_orig"]
    bits = data.draw(st.lists(st.booleans(), min_size=orig.numel(), max_size=orig.numel()),
                     label="replaced mask")
    replaced = torch.tensor(bits, dtype=mask_dtype, device=orig.device).reshape(orig.shape)
    setattr(module, f"{name}_mask", replaced)
    steps += [f"module.{name}_mask = torch.tensor(..., dtype={mask_dtype})", "module(inputs)"]
    subject.forward()
    seen = getattr(module, name).detach()
    what = "\n".join(steps)
    ck.expect_equal(seen.dtype, orig.dtype, "HOOK-2", f"dtype of module.{name} after\n{what}")
    expected = (orig.detach() * replaced.to(orig.dtype)).nan_to_num()
    ck.expect(torch.equal(seen.nan_to_num(), expected), "HOOK-2",
              f"module.{name} is not orig * mask after\n{what}")
    call = data.draw(hh.calls(subject), label="later call")
    call(prune, module, name)
    steps.append(call.source(name=name))
    ck.expect_binary_mask(module._buffers[f"{name}_mask"], orig, "REPARAM-2")
    prune.remove(module, name)
    steps.append(f"prune.remove(module, {name!r})")
    ck.expect_equal(module._parameters[name].dtype, orig.dtype, "REMOVE-1",
                    f"dtype of {name} after\n" + "\n".join(steps))


@pytest.mark.clause("HOOK-3")
@pytest.mark.parametrize("method", ALL_METHODS, ids=method_ids(ALL_METHODS))
@hh.fewer_examples(4)
@given(data=st.data())
def test_apply_returns_the_registered_hook(prune, device, method, data):
    """`Cls.apply` returns the hook it registered: on a fresh tensor the method object, after a
    user's forward pre-hook (and perhaps another tensor's pruning hook) were registered, a
    re-prune by any method returns the container, registered last, the other hooks in their
    order."""
    subject = data.draw(hh.subjects(device, min_dims=method.min_dims()), label="subject")
    module, name = subject.module, subject.name
    cls = getattr(prune, method.class_name)
    call = data.draw(hh.calls(subject, [method]), label="first call")
    seed = data.draw(hh.seeds(), label="seed")
    steps = [f"module = {subject.source}", f"torch.manual_seed({seed})",
             f"hook = {method.class_name}.apply(module, {name!r}, ...)  # {call}"]
    with hh.seeded(seed, device):
        hook = cls.apply(module, name, **call.kwargs)
    what = "\n".join(steps)
    ck.expect(isinstance(hook, cls), "HOOK-3",
              f"{what}\nmust return a {method.class_name}, returned {type(hook).__name__}")
    ck.expect([id(h) for h in measure.pruning_hooks(prune, module, name)] == [id(hook)], "HOOK-3",
              f"{what}\nmust return the hook it registered for {name!r}")
    module.register_forward_pre_hook(lambda mod, inputs: None)
    steps.append("module.register_forward_pre_hook(lambda mod, inputs: None)")
    others = [n for n, _ in module.named_parameters(recurse=False) if n != name]
    if others and data.draw(st.booleans(), label="prune another tensor"):
        other = _tensor(subject, data.draw(st.sampled_from(others), label="other tensor"))
        steps += [a.source(name=other.name)
                  for a in data.draw(hh.applied_calls(prune, other, 1, 1), label="other call")]
    second = data.draw(hh.calls(subject), label="re-prune")
    second_cls = getattr(prune, second.method.class_name)
    steps.append(f"hook = {second.method.class_name}.apply(module, {name!r}, ...)  # {second}")
    what = "\n".join(steps)
    rest = [h for h in module._forward_pre_hooks.values() if h is not hook]
    with hh.seeded(seed, device):
        container = second_cls.apply(module, name, **second.kwargs)
    ck.expect(isinstance(container, prune.PruningContainer), "HOOK-3",
              f"{what}\nmust return a PruningContainer, returned {type(container).__name__}")
    ck.expect([id(h) for h in measure.pruning_hooks(prune, module, name)] == [id(container)],
              "HOOK-3", f"{what}\nmust return the hook it registered for {name!r}")
    order = list(module._forward_pre_hooks.values())
    ck.expect([id(h) for h in order] == [*map(id, rest), id(container)], "HOOK-3",
              f"{what}\nthe re-pruned tensor's hook must come after the module's other forward "
              f"pre-hooks, which keep their order; the hooks are "
              f"{[type(h).__name__ for h in order]}")
