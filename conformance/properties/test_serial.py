"""SERIAL: saving and copying pruned modules.

Subjects of every kind and dtype, pruned by 1-3 calls of the built-in methods (classes defined
inside a function cannot be pickled, so user methods stay in test_custom.py). Each property has its
own copy mechanism, so that torch's deepcopy failure (pytorch#37322) fails SERIAL-3 alone.
"""

from __future__ import annotations

import copy
import io
import pickle

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from conformance import checks as ck
from conformance import measure, models
from conformance import strategies as hh
from conformance.registry import Call

# Relative tolerance of forward outputs computed twice from equal values (exact on the CPU; a
# device may pick another kernel for another module object).
OUTPUT_RTOL = {torch.float16: 1e-2, torch.bfloat16: 2e-2, torch.float32: 1e-5,
               torch.float64: 1e-12}


def _pruned_subject(prune, device, data) -> tuple[models.Subject, list[hh.Applied], nn.Module]:
    """A subject pruned by 1-3 calls, the calls, and a deep copy of its module taken before."""
    subject = data.draw(hh.subjects(device, min_dims=0), label="subject")
    unpruned = copy.deepcopy(subject.module)  # an unpruned module deep-copies in every torch
    applied = data.draw(hh.applied_calls(prune, subject, 1, 3), label="calls")
    return subject, applied, unpruned


def _repro(subject: models.Subject, applied: list[hh.Applied]) -> str:
    return "\n".join([f"module = {subject.source}",
                      *(a.source(name=subject.name) for a in applied)])


def _output(module: nn.Module, subject: models.Subject) -> torch.Tensor:
    out = module(subject.inputs)
    return (out[0] if isinstance(out, tuple) else out).detach()


def _expect_same_tensor(seen: torch.Tensor, expected: torch.Tensor, clause: str,
                        what: str) -> None:
    same = (seen.shape == expected.shape and seen.dtype == expected.dtype
            and seen.device == expected.device
            and torch.equal(seen.detach().nan_to_num(), expected.detach().nan_to_num()))
    ck.expect(same, clause, f"{what}: expected {tuple(expected.shape)} {expected.dtype} on "
                            f"{expected.device}, seen {tuple(seen.shape)} {seen.dtype} on "
                            f"{seen.device}" + ("" if seen.shape != expected.shape
                                                else " with other values"))


def _expect_same_output(seen: torch.Tensor, expected: torch.Tensor, clause: str,
                        what: str) -> None:
    rtol = OUTPUT_RTOL[expected.dtype]
    magnitude = expected.double().abs().nan_to_num()
    scale = float(magnitude.max().clamp(min=1)) if expected.numel() else 1.0
    close = seen.shape == expected.shape and bool(torch.allclose(
        seen.double(), expected.double(), rtol=rtol, atol=rtol * scale, equal_nan=True))
    ck.expect(close, clause, f"{what}: the forward output differs from the original module's")


def _expect_same_pruning(seen: nn.Module, original: nn.Module, subject: models.Subject, prune,
                         clause: str, what: str) -> None:
    """The same _orig, _mask, hook history (classes) and forward output as `original`."""
    name = subject.name
    for suffix in ("_orig", "_mask"):
        theirs = getattr(original, name + suffix)
        ours = getattr(seen, name + suffix, None)
        ck.expect(ours is not None, clause, f"{what}: {name}{suffix} is missing")
        _expect_same_tensor(ours, theirs, clause, f"{what}: {name}{suffix}")
    ck.expect(isinstance(seen._parameters.get(f"{name}_orig"), nn.Parameter), clause,
              f"{what}: {name}_orig must be a parameter")
    ck.expect_equal([type(m).__name__ for m in measure.history(prune, seen, name)],
                    [type(m).__name__ for m in measure.history(prune, original, name)], clause,
                    f"{what}: hook history")
    _expect_same_output(_output(seen, subject), _output(original, subject), clause, what)


@pytest.mark.clause("SERIAL-1")
@given(data=st.data())
def test_state_dict_loads_into_a_fresh_module_pruned_alike(prune, device, data):
    """The state_dict of a pruned module loads strictly into a fresh module of the same class,
    other values, pruned by the same methods with amount 0 (masks of ones); it then has the
    same _orig, _mask and forward output."""
    subject, applied, fresh = _pruned_subject(prune, device, data)
    with torch.no_grad():
        for p in fresh.parameters():
            p.fill_(0.5)
    for a in applied:
        kwargs = {k: v for k, v in a.call.kwargs.items() if k != "importance_scores"}
        if a.call.method.takes_amount:
            kwargs["amount"] = 0
        if "mask" in kwargs:
            kwargs["mask"] = torch.ones_like(kwargs["mask"])
        Call(a.call.method, kwargs)(prune, fresh, subject.name)
    what = (f"{_repro(subject, applied)}\nfresh = {subject.source} with every value 0.5, pruned "
            f"by the same methods with amount 0\nfresh.load_state_dict(module.state_dict(), "
            f"strict=True)")
    try:
        fresh.load_state_dict(subject.module.state_dict(), strict=True)
    except Exception as exc:
        ck.fail("SERIAL-1", f"{what} raised {type(exc).__name__}: {exc}")
    _expect_same_pruning(fresh, subject.module, subject, prune, "SERIAL-1", what)


def _torch_round_trip(module: nn.Module) -> nn.Module:
    buffer = io.BytesIO()
    torch.save(module, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=False)


ROUND_TRIPS = {
    "torch.save": _torch_round_trip,
    "pickle": lambda module: pickle.loads(pickle.dumps(module)),
}


@pytest.mark.clause("SERIAL-2")
@pytest.mark.parametrize("how", ROUND_TRIPS)
@hh.fewer_examples(2)
@given(data=st.data())
def test_whole_module_round_trips(prune, device, how, data):
    """The loaded module has the same _orig, _mask, history and output; a further call (the same
    on both) prunes it as it prunes the original, and remove makes it permanent."""
    subject, applied, _ = _pruned_subject(prune, device, data)
    module, name = subject.module, subject.name
    what = f"{_repro(subject, applied)}\nloaded = round trip of module through {how}"
    try:
        loaded = ROUND_TRIPS[how](module)
    except Exception as exc:
        ck.fail("SERIAL-2", f"{what} raised {type(exc).__name__}: {exc}")
    _expect_same_pruning(loaded, module, subject, prune, "SERIAL-2", what)
    further = data.draw(hh.calls(subject), label="further call")
    seed = data.draw(hh.seeds(), label="seed")
    for target in (module, loaded):
        with hh.seeded(seed, device):
            further(prune, target, name)
    what = f"{what}\ntorch.manual_seed({seed}); {further.source('loaded', name)}"
    ck.expect_same_mask(measure.mask_or_ones(loaded, name), measure.mask_or_ones(module, name),
                        "SERIAL-2",
                        f"mask of the loaded module (expected: the original's) after\n{what}")
    expected = (module._parameters[f"{name}_orig"] * module._buffers[f"{name}_mask"]).detach()
    orig = loaded._parameters[f"{name}_orig"]
    prune.remove(loaded, name)
    ck.expect(loaded._parameters.get(name) is orig and f"{name}_mask" not in loaded._buffers,
              "SERIAL-2", f"{what}\nprune.remove(loaded, {name!r}) must make {name} the "
                          f"{name}_orig parameter again")
    _expect_same_tensor(loaded._parameters[name], expected, "SERIAL-2",
                        f"{what}\nprune.remove(loaded, {name!r}): {name}")


def _expect_attribute_computed_from(module: nn.Module, name: str, what: str) -> None:
    """module.<name> is computed from the module's own <name>_orig, as after a forward
    (REPARAM-3): a loss summing it reaches <name>_orig.grad, which is then the mask."""
    orig = module._parameters[f"{name}_orig"]
    if not orig.requires_grad:
        return
    orig.grad = None
    attribute = getattr(module, name)
    if attribute.requires_grad:
        attribute.float().sum().backward()
    seen, mask = orig.grad, module._buffers[f"{name}_mask"]
    ck.expect(seen is not None and torch.equal(seen.ne(0), mask.ne(0)), "SERIAL-3",
              f"{what}\nmust reach {name}_orig.grad (the copy's own) as the mask, saw "
              f"{'no gradient' if seen is None else 'another gradient'}")
    orig.grad = None


@pytest.mark.clause("SERIAL-3")
@given(data=st.data())
def test_deepcopy_is_an_independent_pruned_module(prune, device, data):
    """copy.deepcopy of a pruned module (before and after a forward) has the same state and
    history; pruning and training the copy leave the original as it was."""
    subject, applied, _ = _pruned_subject(prune, device, data)
    module, name = subject.module, subject.name
    if data.draw(st.booleans(), label="forward before the copy"):
        subject.forward()
    what = f"{_repro(subject, applied)}\ncopied = copy.deepcopy(module)"
    try:
        copied = copy.deepcopy(module)
    except Exception as exc:
        ck.fail("SERIAL-3", f"{what} raised {type(exc).__name__}: {exc}")
    _expect_attribute_computed_from(copied, name, f"{what}\ncopied.{name}.sum().backward()"
                                                  f"  # before any forward of the copy")
    _expect_same_pruning(copied, module, subject, prune, "SERIAL-3", what)
    ck.expect(copied._parameters[f"{name}_orig"] is not module._parameters[f"{name}_orig"]
              and not set(map(id, measure.history(prune, copied, name)))
              & set(map(id, measure.history(prune, module, name))), "SERIAL-3",
              f"{what}\nthe copy must have its own {name}_orig and hook objects")
    snapshot = ck.ModuleSnapshot.take(module)
    further = data.draw(hh.calls(subject), label="further call")
    with hh.seeded(data.draw(hh.seeds(), label="seed"), device):
        further(prune, copied, name)
    with torch.no_grad():
        copied._parameters[f"{name}_orig"].add_(1)  # a training step on the copy
    _output(copied, subject)
    changes = snapshot.differences(ck.ModuleSnapshot.take(module))
    ck.expect(not changes, "SERIAL-3", f"{what}\n{further.source('copied', name)} and a training "
                                       f"step on the copy changed the original: "
                                       + "; ".join(changes))
