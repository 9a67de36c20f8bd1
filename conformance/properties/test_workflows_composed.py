"""WORKFLOW-9 to 13: pruning composed with what is built around a module: parametrizations
(pruning a parametrized tensor, parametrizing a pruned one), checkpoints between pruned and
unpruned modules, and data-parallel wrappers one process can run (DataParallel, DDP with gloo).
The transforms of a pruned module are test_workflows.py's.
"""
from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import torch
import torch.distributed as dist
from hypothesis import given
from hypothesis import strategies as st
from torch import nn
from torch.nn.utils import parametrize

from conformance import checks as ck
from conformance import devices, models
from conformance import strategies as hh
from conformance import workflows as wf

# Wrappers and parametrizations warn about LSTMs and their own deprecations.
pytestmark = pytest.mark.filterwarnings("ignore")



# --- WORKFLOW-9 to 11: parametrizations --------------------------------------------------------

def _parametrized_subject(device: torch.device, data: st.DataObject,
                          ) -> tuple[models.Subject, wf.Scaled, list[str]]:
    dtype = data.draw(st.sampled_from(wf.NUMERIC_DTYPES), label="dtype")
    subject = data.draw(hh.subjects(device, dtype=dtype, kinds=wf.ZOO, min_dims=0),
                        label="subject")
    scaled = wf.Scaled(data.draw(st.sampled_from(wf.FACTORS), label="factor"))
    lines = [f"module = {subject.source}.to({dtype})  # x: its input"]
    return subject, scaled, lines


@pytest.mark.clause("WORKFLOW-9")
@hh.fewer_examples(2)
@given(data=st.data())
def test_pruning_a_parametrized_tensor_is_rejected_clearly_changing_nothing(prune, device, data):
    subject, scaled, lines = _parametrized_subject(device, data)
    module, name = subject.module, subject.name
    parametrize.register_parametrization(module, name, scaled)
    call = data.draw(hh.calls(subject, importance_scores=False), label="call")
    lines += [f"parametrize.register_parametrization(module, {name!r}, wf.Scaled({scaled.factor}))",
              call.source(name=name)]
    what = "\n".join(lines)
    before = wf.snapshot(module)
    exc = ck.expect_raises("WORKFLOW-9", TypeError, lambda: call(prune, module, name), what)
    wf.expect_unchanged(before, module, "WORKFLOW-9", what)
    text = str(exc).replace(type(module).__name__, "")  # the class is Parametrized<Kind>
    ck.expect(re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text) is not None
              and "parametriz" in text.lower(), "WORKFLOW-9",
              f"{what}\nthe message must name {name!r} and say that it is parametrized, was "
              f"{str(exc)!r}")


@pytest.mark.clause("WORKFLOW-10")
@hh.fewer_examples(2)
@given(data=st.data())
def test_the_parameter_a_parametrization_computes_from_is_pruned_like_any_other(
        prune, device, data):
    subject, scaled, lines = _parametrized_subject(device, data)
    module, name = subject.module, subject.name
    twin = copy.deepcopy(module)
    parametrize.register_parametrization(module, name, scaled)
    source = module.parametrizations[name]
    original = models.Subject(source, "original", subject.inputs, "")
    applied = data.draw(hh.applied_calls(prune, original, 1, 2), label="calls")
    lines += [f"parametrize.register_parametrization(module, {name!r}, wf.Scaled({scaled.factor}))",
              *(a.source(f"module.parametrizations.{name}", "original") for a in applied)]
    what = "\n".join(lines)
    product = (source.original_orig * source.original_mask).detach()
    expected_value = scaled(product)
    ck.expect(torch.equal(getattr(module, name).detach().nan_to_num(),
                          expected_value.nan_to_num()), "WORKFLOW-10",
              f"{what}\nmodule.{name} must be wf.Scaled({scaled.factor}) of original_orig * "
              f"original_mask")
    with torch.no_grad():
        getattr(twin, name).copy_(expected_value)
        wf.close(wf.out(module, subject.inputs), wf.out(twin, subject.inputs), "WORKFLOW-10",
               f"{what}\nmodule(x) against the unpruned module holding that {name}")


@pytest.mark.clause("WORKFLOW-10")
@hh.fewer_examples(2)
@given(data=st.data())
def test_the_other_tensors_of_a_parametrized_module_prune_like_any(prune, device, data):
    """One tensor of a module parametrized, another pruned: the call is no WORKFLOW-9 rejection,
    and the pruned tensor is reparametrized as any (REPARAM-1, REPARAM-2)."""
    subject, scaled, lines = _parametrized_subject(device, data)
    module = subject.module
    names = [n for n, _ in module.named_parameters(recurse=False)]
    if len(names) < 2:
        return  # a module with one tensor has no other to prune
    parametrized = data.draw(st.sampled_from(names), label="parametrized tensor")
    other = data.draw(st.sampled_from([n for n in names if n != parametrized]),
                      label="pruned tensor")
    parametrize.register_parametrization(module, parametrized, scaled)
    target = models.Subject(module, other, subject.inputs, subject.source)
    call = data.draw(hh.calls(target, importance_scores=False), label="call")
    lines += [f"parametrize.register_parametrization(module, {parametrized!r}, "
              f"wf.Scaled({scaled.factor}))", call.source(name=other)]
    what = "\n".join(lines)
    try:
        call(prune, module, other)
    except Exception as exc:
        ck.fail("WORKFLOW-10", f"{what}\nraised {type(exc).__name__}: {exc}")
    ck.expect(isinstance(module._parameters.get(f"{other}_orig"), nn.Parameter)
              and f"{other}_mask" in module._buffers
              and parametrize.is_parametrized(module, parametrized), "WORKFLOW-10",
              f"{what}\nmust reparametrize {other} and leave {parametrized} parametrized")


@pytest.mark.clause("WORKFLOW-11")
@hh.fewer_examples(2)
@given(data=st.data())
def test_a_pruned_tensor_is_parametrized_through_its_orig(prune, device, data):
    subject, unpruned, lines = wf.pruned(prune, device, data)
    module, name = subject.module, subject.name
    scaled = wf.Scaled(data.draw(st.sampled_from(wf.FACTORS), label="factor"))
    before = wf.snapshot(module)
    register = f"parametrize.register_parametrization(module, {name!r}, wf.Scaled({scaled.factor}))"
    ck.expect_raises("WORKFLOW-11", ValueError,
                     lambda: parametrize.register_parametrization(module, name, scaled),
                     "\n".join([*lines, register]))
    wf.expect_unchanged(before, module, "WORKFLOW-11", "\n".join([*lines, register]))
    mask = module._buffers[f"{name}_mask"].detach().clone()
    parametrize.register_parametrization(module, f"{name}_orig", scaled)
    lines.append(register.replace(f"{name!r}", f"{name + '_orig'!r}"))
    what = "\n".join(lines)
    value = (scaled(module.parametrizations[f"{name}_orig"].original) * mask).detach()
    with torch.no_grad():
        getattr(unpruned, name).copy_(value)
        wf.close(wf.out(module, subject.inputs), wf.out(unpruned, subject.inputs), "WORKFLOW-11",
               f"{what}\nmodule(x) against the unpruned module holding wf.Scaled(orig) * mask")
    parametrize.remove_parametrizations(module, f"{name}_orig", leave_parametrized=True)
    lines += [f"parametrize.remove_parametrizations(module, {name + '_orig'!r}, "
              f"leave_parametrized=True)", f"prune.remove(module, {name!r})"]
    what = "\n".join(lines)
    try:
        prune.remove(module, name)
    except Exception as exc:
        ck.fail("WORKFLOW-11", f"{what} raised {type(exc).__name__}: {exc}")
    ck.expect(torch.equal(module._parameters[name].detach().nan_to_num(), value.nan_to_num()),
              "WORKFLOW-11", f"{what}\n{name} must be the Parameter wf.Scaled(orig) * mask")


# --- WORKFLOW-12: checkpoints between pruned and unpruned modules ------------------------------

def _filled(module: nn.Module, value: float) -> nn.Module:
    with torch.no_grad():
        for p in module.parameters():
            p.fill_(value)
    return module


def _strict_load(target: nn.Module, state: dict[str, torch.Tensor], what: str) -> None:
    try:
        target.load_state_dict(state, strict=True)
    except Exception as exc:
        ck.fail("WORKFLOW-12", f"{what} raised {type(exc).__name__}: {str(exc)[:300]}")


def _mismatch_named(exc: BaseException, name: str, what: str) -> None:
    text = str(exc)
    for key in (name, f"{name}_orig", f"{name}_mask"):
        ck.expect(f'"{key}"' in text, "WORKFLOW-12",
                  f"{what}\nthe error must name {key!r} (missing or unexpected), was {text!r}")


def _across_strictly(prune, subject, unpruned, lines) -> None:
    module, name = subject.module, subject.name
    what = "\n".join([*lines, "unpruned.load_state_dict(module.state_dict())"])
    exc = ck.expect_raises("WORKFLOW-12", RuntimeError,
                           lambda: unpruned.load_state_dict(module.state_dict()), what)
    _mismatch_named(exc, name, what)
    what = "\n".join([*lines, "module.load_state_dict(unpruned.state_dict())"])
    exc = ck.expect_raises("WORKFLOW-12", RuntimeError,
                           lambda: module.load_state_dict(unpruned.state_dict()), what)
    _mismatch_named(exc, name, what)


def _through_identity(prune, subject, unpruned, lines) -> None:
    module, name = subject.module, subject.name
    target = _filled(unpruned, 0.5)
    prune.identity(target, name)
    what = "\n".join([*lines, "target = an unpruned module, every value 0.5",
                      f"prune.identity(target, {name!r})",
                      "target.load_state_dict(module.state_dict(), strict=True)"])
    _strict_load(target, module.state_dict(), what)
    ck.expect_same_mask(target._buffers[f"{name}_mask"], module._buffers[f"{name}_mask"],
                        "WORKFLOW-12", f"{name}_mask after\n{what}")
    with torch.no_grad():
        wf.close(wf.out(target, subject.inputs), wf.out(module, subject.inputs), "WORKFLOW-12",
               f"{what}\ntarget(x) against module(x)")


def _after_remove(prune, subject, unpruned, lines) -> None:
    module, name = subject.module, subject.name
    prune.remove(module, name)
    target = _filled(unpruned, 0.5)
    what = "\n".join([*lines, f"prune.remove(module, {name!r})",
                      "target = an unpruned module, every value 0.5",
                      "target.load_state_dict(module.state_dict(), strict=True)"])
    _strict_load(target, module.state_dict(), what)
    with torch.no_grad():
        wf.close(wf.out(target, subject.inputs), wf.out(module, subject.inputs), "WORKFLOW-12",
               f"{what}\ntarget(x) against module(x)")


def _renamed_into_pruned(prune, subject, unpruned, lines) -> None:
    module, name = subject.module, subject.name
    mask = module._buffers[f"{name}_mask"].detach().clone()
    state = _filled(unpruned, -0.25).state_dict()
    state[f"{name}_orig"] = state.pop(name)
    state[f"{name}_mask"] = mask
    what = "\n".join([*lines, "state = an unpruned module's state_dict, every value -0.25",
                      f"state[{name + '_orig'!r}] = state.pop({name!r})",
                      f"state[{name + '_mask'!r}] = module.{name}_mask",
                      "module.load_state_dict(state, strict=True)"])
    _strict_load(module, state, what)
    ck.expect(bool(module._parameters[f"{name}_orig"].eq(-0.25).all()), "WORKFLOW-12",
              f"{what}\n{name}_orig must hold the loaded values")
    with torch.no_grad():
        getattr(unpruned, name).mul_(mask)
        wf.close(wf.out(module, subject.inputs), wf.out(unpruned, subject.inputs), "WORKFLOW-12",
               f"{what}\nmodule(x) against the unpruned module with the mask applied")


CHECKPOINT_PATHS = {
    "strict-across-fails": _across_strictly,
    "identity-then-load": _through_identity,
    "remove-then-load": _after_remove,
    "renamed-into-pruned": _renamed_into_pruned,
}


@pytest.mark.clause("WORKFLOW-12")
@pytest.mark.parametrize("path", CHECKPOINT_PATHS)
@hh.fewer_examples(4)
@given(data=st.data())
def test_checkpoints_cross_between_pruned_and_unpruned_modules_the_supported_ways(
        prune, device, path, data):
    subject, unpruned, lines = wf.pruned(prune, device, data)
    lines.append("unpruned = the module as built, before pruning")
    CHECKPOINT_PATHS[path](prune, subject, unpruned, lines)


# --- WORKFLOW-13: data-parallel wrappers in one process ----------------------------------------

def _expect_wrapper_trains_like_the_module(prune, device, data, wrap: Callable[[nn.Module], Any],
                                           wrapper_source: str) -> None:
    subject, _, lines = wf.pruned(prune, device, data)
    module, name = subject.module, subject.name
    seed = data.draw(hh.seeds(), label="loss seed")
    wf.weighted_sum(wf.out(module, subject.inputs), seed).backward()
    named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
    expected_grads = {n: None if p.grad is None else p.grad.detach().clone() for n, p in named}
    module.zero_grad(set_to_none=True)
    with torch.no_grad():
        expected = wf.out(module, subject.inputs)
    wrapper = wrap(module)
    lines.append(f"wrapper = {wrapper_source}")
    what = "\n".join(lines)
    out = wf.out(wrapper, subject.inputs)
    wf.close(out, expected, "WORKFLOW-13", f"{what}\nwrapper(x) against module(x)")
    wf.weighted_sum(out, seed).backward()
    for pname, p in named:
        ck.expect((p.grad is None) == (expected_grads[pname] is None), "WORKFLOW-13",
                  f"{what}\ngradient of {pname} through the wrapper: {p.grad is not None}, "
                  f"without it {expected_grads[pname] is not None}")
        if p.grad is not None:
            wf.close(p.grad, expected_grads[pname], "WORKFLOW-13",
                   f"{what}\ngradient of {pname} through the wrapper")
    keys = set(wrapper.state_dict())
    ck.expect({f"module.{name}_orig", f"module.{name}_mask"} <= keys and f"module.{name}"
              not in keys, "WORKFLOW-13",
              f"{what}\nwrapper.state_dict() must hold module.{name}_orig and module.{name}_mask, "
              f"holds {sorted(keys)}")
    mask = module._buffers[f"{name}_mask"].detach().clone()
    torch.optim.SGD(wrapper.parameters(), lr=0.1).step()
    with torch.no_grad():
        wf.out(wrapper, subject.inputs)
    used = getattr(module, name).detach()
    ck.expect(bool(used[mask.eq(0)].eq(0).all()), "WORKFLOW-13",
              f"{what}\nan SGD step through the wrapper, wrapper(x): module.{name} must hold 0 at "
              f"the {int(mask.eq(0).sum())} pruned entries")


def _device_ids(device: torch.device) -> list[int] | None:
    """The wrappers' `device_ids`: none on the CPU, else the one device of the run."""
    return None if device.type == "cpu" else [devices.concrete(device).index]


@pytest.mark.clause("WORKFLOW-13")
@hh.fewer_examples(4)
@given(data=st.data())
def test_data_parallel_trains_a_pruned_module_like_the_module(prune, device, data):
    _expect_wrapper_trains_like_the_module(
        prune, device, data, lambda m: nn.DataParallel(m, device_ids=_device_ids(device)),
        "nn.DataParallel(module)")


@pytest.fixture(scope="module")
def gloo_group(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A gloo process group of world size 1 in this process, removed after the module's
    properties (a FileStore: no port to find or to collide on between xdist workers)."""
    if not dist.is_available():
        pytest.skip("torch.distributed is not available in this torch build")
    if dist.is_initialized():
        pytest.skip("this process already has a default process group")
    store = dist.FileStore(str(tmp_path_factory.mktemp("gloo") / "store"), 1)
    dist.init_process_group("gloo", store=store, rank=0, world_size=1)
    try:
        yield
    finally:
        dist.destroy_process_group()


@pytest.mark.clause("WORKFLOW-13")
@hh.fewer_examples(4)
@given(data=st.data())
def test_distributed_data_parallel_trains_a_pruned_module_like_the_module(
        prune, device, gloo_group, data):
    _expect_wrapper_trains_like_the_module(
        prune, device, data,
        lambda m: nn.parallel.DistributedDataParallel(m, device_ids=_device_ids(device)),
        "nn.parallel.DistributedDataParallel(module)  # gloo, world size 1")
