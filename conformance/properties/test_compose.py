"""COMPOSE: pruning the same tensor again.

Sequences of 2-4 calls drawn from the registry act on one tensor; every call is checked against
the mask it found (COMPOSE-1, COMPOSE-2) and the scores the spec says it ranks (COMPOSE-3). The
history (COMPOSE-4) is read from the hook; the container's own rules (COMPOSE-5, COMPOSE-6) are
checked on containers built by hand from a recording method, a subclass of the implementation's
`BasePruningMethod` that notes what `compute_mask` is given.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st

from conformance import checks as ck
from conformance import measure, models
from conformance import strategies as hh
from conformance.registry import METHODS, NORMS, Call, Method, method_ids, methods, python_literal

PRUNING_TYPES = ("unstructured", "structured", "global")
# The methods that rank the tensor's own values (when given no importance scores): l1, ln.
SCORED = methods(takes_importance_scores=True)


@dataclass
class Step:
    """One call on the subject's tensor: its masks before and after, and the scores the spec
    says it ranks (its importance scores, else `orig * mask` as it was at the call)."""

    call: Call
    before: torch.Tensor
    after: torch.Tensor
    scores: torch.Tensor


def _step(prune: Any, data: Any, subject: models.Subject, steps: list[str],
          pool: list[Method] | None = None, *, mode: str = hh.DISTINCT,
          importance_scores: bool = True) -> Step:
    """Draw a valid call from `pool` (default: the whole registry), apply it under a drawn seed,
    and append its source to `steps`."""
    module, name = subject.module, subject.name
    call = data.draw(hh.calls(subject, pool, importance_scores=importance_scores, mode=mode),
                     label=f"call {len(steps)}")
    applied = hh.Applied(call, data.draw(hh.seeds(), label="seed"))
    steps.append(applied.source(name=name))
    before = measure.mask_or_ones(module, name)
    scores = call.kwargs.get("importance_scores")
    if scores is None:
        scores = measure.original(module, name) * before
    scores = scores.detach().clone()
    with hh.seeded(applied.seed, subject.param.device):
        call(prune, module, name)
    return Step(call, before, measure.mask_or_ones(module, name), scores)


def _start(subject: models.Subject) -> list[str]:
    return [f"module = {subject.source}"]


def _text(steps: list[str]) -> str:
    return "\n".join(steps)


# --- COMPOSE-1: monotone masks ----------------------------------------------------------------

@pytest.mark.clause("COMPOSE-1")
@pytest.mark.parametrize("mode", [hh.DISTINCT, hh.TIES, hh.SPECIAL])
@given(data=st.data())
def test_masks_are_monotone(prune, device, mode, data):
    """2-4 calls of any registry method on one tensor (custom_from_mask, structured and
    unstructured mixed): an entry pruned by one call stays pruned after every later call."""
    subject = data.draw(hh.subjects(device, mode=mode, min_dims=0), label="subject")
    steps = _start(subject)
    for _ in range(data.draw(st.integers(2, 4), label="calls")):
        step = _step(prune, data, subject, steps, mode=mode)
        ck.expect_same_mask(step.after, step.after * step.before.ne(0), "COMPOSE-1",
                            f"entries pruned before must stay pruned after\n{_text(steps)}")


# --- COMPOSE-2: later calls act on what remains -----------------------------------------------

def _expect_acts_on_remaining(step: Step, what: str) -> None:
    """COMPOSE-2 for one call: k of the remaining units (entries, or channels along its dim),
    counted over them; a global method on all entries."""
    call, before, after = step.call, step.before, step.after
    if call.method.pruning_type == "global":
        if "mask" in call.kwargs:  # custom_from_mask: its zeros on top of the existing mask
            given = call.kwargs["mask"].to(before.device).ne(0).to(before.dtype)
            ck.expect_same_mask(after, before * given, "COMPOSE-2",
                                f"a 'global' method acts on all entries; mask after\n{what}")
        return
    candidates, pruned = measure.newly_pruned(before, after, call.dim)
    if call.method.structured:
        expected = before.clone().index_fill_(
            call.dim % before.dim(), pruned.nonzero().flatten().to(before.device), 0)
        ck.expect_same_mask(after, expected, "COMPOSE-2",
                            f"whole remaining channels along dim={call.dim} zeroed, every other "
                            f"channel's mask as it was, after\n{what}")
        unit = "channels"
    else:
        ck.expect_same_mask(after, after * before.ne(0), "COMPOSE-2",
                            f"only remaining entries may be pruned, after\n{what}")
        unit = "entries"
    remaining = int(candidates.sum())
    k = measure.expected_count(call.amount, remaining) if call.method.takes_amount else 0
    ck.expect_equal(int(pruned.sum()), k, "COMPOSE-2",
                    f"{unit} pruned among the {remaining} remaining by the last call of\n{what}")


def _compose_cases() -> list:
    return [pytest.param(earlier, later, id=f"{earlier}-then-{later.function}")
            for earlier in PRUNING_TYPES for later in METHODS.values()]


@pytest.mark.clause("COMPOSE-2")
@pytest.mark.parametrize(("earlier", "later"), _compose_cases())
@hh.fewer_examples(4)
@given(data=st.data())
def test_later_call_acts_only_on_what_remains(prune, device, earlier, later, data):
    """A tensor pruned by a method of the `earlier` PRUNING_TYPE (then perhaps by any other
    method), then by `later`: every call prunes k of what remains, k counted over it."""
    structured = later.structured or earlier == "structured"
    subject = data.draw(hh.subjects(device, min_dims=2 if structured else 0), label="subject")
    steps = _start(subject)
    pools = [methods(pruning_type=earlier)]
    pools += [None] * data.draw(st.integers(0, 1), label="more earlier calls")
    for pool in [*pools, [later]]:
        step = _step(prune, data, subject, steps, pool)
        _expect_acts_on_remaining(step, _text(steps))


# --- COMPOSE-3: scores are the tensor as it is ------------------------------------------------

def _expect_ranked_by(step: Step, name: str, what: str, clause: str = "COMPOSE-3") -> None:
    """The units the call pruned rank lowest by the spec's scores (`step.scores`): |score| for
    entries, the channel norm for channels. Any choice among equal scores passes."""
    call = step.call
    candidates, pruned = measure.newly_pruned(step.before, step.after, call.dim)
    dtype = step.scores.dtype
    if call.method.structured:
        # Norms are rounded to the scores' dtype, and may exceed each other by a few rounding
        # steps of it, as an implementation computing them in that dtype may (as in STRUCT-1).
        norms = measure.channel_norms(step.scores, call.kwargs["n"], call.dim).to(dtype).double()
        ck.expect_smallest_pruned(norms, candidates, pruned, clause,
                                  f"L{call.kwargs['n']} norms of the channels along "
                                  f"dim={call.dim} of {name}_orig * {name}_mask, after\n"
                                  f"{what}", unit="channel",
                                  rel_tol=4 * torch.finfo(dtype).eps + 1e-5)
    else:
        ck.expect_smallest_pruned(step.scores.abs().flatten(), candidates, pruned, clause,
                                  f"|{name}_orig * {name}_mask| of the remaining entries, "
                                  f"after\n{what}", shape=tuple(step.scores.shape))


@pytest.mark.clause("COMPOSE-3")
@pytest.mark.parametrize("mode", [hh.DISTINCT, hh.TIES])
@pytest.mark.parametrize("method", SCORED, ids=method_ids(SCORED))
@hh.fewer_examples(2)
@given(data=st.data())
def test_later_call_scores_orig_times_mask(prune, device, method, mode, data):
    """After 1-3 calls of any method (custom_from_mask among them), a scoring call without
    importance scores ranks the tensor as it is: the remaining entries by their original values,
    a channel's norm with its pruned entries as zeros."""
    subject = data.draw(hh.subjects(device, mode=mode, min_dims=method.min_dims()),
                        label="subject")
    steps = _start(subject)
    # Before a structured method, an unstructured call that may prune large entries first
    # (random or by a custom mask; l1 prunes the smallest, which barely move a norm): channels
    # partly pruned, whose norms count the pruned entries as zeros.
    first = [METHODS["random_unstructured"], METHODS["custom_from_mask"]] if method.structured \
        else None
    for i in range(data.draw(st.integers(1, 3), label="earlier calls")):
        _step(prune, data, subject, steps, first if i == 0 else None, mode=mode)
    step = _step(prune, data, subject, steps, [method], mode=mode, importance_scores=False)
    _expect_ranked_by(step, subject.name, _text(steps))


# Norm orders whose channel norms separate channels of distinct constant values (the order 0
# counts nonzero entries, equal for every full channel).
_SCALING_NORMS = [n for n in NORMS if n not in (0, "fro")]


@functools.cache
def global_l1(base: type) -> type:
    """A user's subclass of the implementation's L1Unstructured that declares PRUNING_TYPE
    'global': composed again, it ranks all entries (COMPOSE-2), whatever its base does alone."""
    return type("GlobalL1", (base,), {"PRUNING_TYPE": "global"})


@pytest.mark.clause("COMPOSE-2")
@hh.fewer_examples(2)
@given(data=st.data())
def test_a_subclass_composes_as_its_pruning_type_says(prune, device, data):
    """GlobalL1(amount) on a pruned tensor: k from the amount over all entries, ranked on
    orig * mask, where the entries pruned before score 0, below every remaining one (the drawn
    values have no zero): the k - (entries pruned before) smallest remaining ones go."""
    subject = data.draw(hh.subjects(device, min_dims=1), label="subject")
    module, name = subject.module, subject.name
    assume(bool(subject.param.detach().ne(0).all()))
    steps = _start(subject)
    steps += hh.pruned_by_calls(data.draw, prune, subject, 1, 2)
    before = measure.mask_or_ones(module, name).flatten().cpu()
    numel = before.numel()
    amount = data.draw(hh.amounts(numel), label="amount")
    cls = global_l1(prune.L1Unstructured)
    steps += ["GlobalL1 = type('GlobalL1', (prune.L1Unstructured,), {'PRUNING_TYPE': 'global'})",
              f"GlobalL1.apply(module, {name!r}, amount={amount!r})"]
    scores = (measure.original(module, name) * measure.mask_or_ones(module, name)).flatten()
    cls.apply(module, name, amount=amount)
    after = measure.mask_or_ones(module, name).flatten().cpu()
    _, pruned = measure.newly_pruned(before, after, None)
    remaining = before.ne(0)
    expected = max(0, measure.expected_count(amount, numel) - int((~remaining).sum()))
    what = f"entries pruned by the last call of\n{_text(steps)}\n(k counts all {numel} entries)"
    ck.expect_equal(int(pruned.sum()), expected, "COMPOSE-2", what)
    ck.expect_smallest_pruned(scores.abs().cpu(), remaining, pruned, "COMPOSE-2", what)


def _reversed_ranks(values: list[float]) -> list[int]:
    """For each value, len(values) - its rank (lowest first, ties by index): 1..len(values),
    the largest number going to the smallest value."""
    order = sorted(range(len(values)), key=lambda i: (values[i], i))
    ranks = [0] * len(values)
    for rank, i in enumerate(order):
        ranks[i] = len(values) - rank
    return ranks


@pytest.mark.clause("COMPOSE-3")
@pytest.mark.parametrize("method", SCORED, ids=method_ids(SCORED))
@hh.fewer_examples(2)
@given(data=st.data())
def test_later_call_sees_values_changed_since_the_last_forward(prune, device, method, data):
    """An optimizer-like in-place step on `<name>_orig`, no forward, then a scoring call: it
    ranks the new values. The step reverses the ranking of the remaining units, so ranking the
    values of the last forward picks the largest units instead of the smallest.

    Entries: the remaining entries get magnitudes 1..n in the reverse order of their old ones.
    Channels (after `identity`, so every channel is whole): each remaining channel becomes a
    constant 1..C in the reverse order of its old norm.
    """
    subject = data.draw(hh.subjects(device, min_dims=method.min_dims()), label="subject")
    module, name = subject.module, subject.name
    steps = _start(subject)
    if method.structured:
        prune.identity(module, name)
        steps.append(f"prune.identity(module, {name!r})")
    else:
        for _ in range(data.draw(st.integers(1, 2), label="earlier calls")):
            _step(prune, data, subject, steps)
    subject.forward()
    steps.append("module(inputs)")
    mask = measure.mask_or_ones(module, name)
    orig = module._parameters[f"{name}_orig"]
    stale = (orig.detach() * mask).double().cpu()
    call = data.draw(hh.calls(subject, [method], importance_scores=False), label="call shape")
    fresh = orig.detach().double().cpu().clone()
    if method.structured:
        dim = call.dim % orig.dim()
        assume(orig.shape[dim] >= 2)
        n = data.draw(st.sampled_from(_SCALING_NORMS), label="n")
        values = _reversed_ranks(measure.channel_norms(stale, n, dim).tolist())
        shape = [1] * orig.dim()
        shape[dim] = orig.shape[dim]
        fresh = torch.tensor(values, dtype=torch.float64).reshape(shape).expand(orig.shape)
        units = orig.shape[dim]
        kwargs = {"n": n, "dim": call.dim}
    else:
        remaining = mask.cpu().flatten().ne(0)
        units = int(remaining.sum())
        assume(units >= 2)
        signs = stale.flatten()[remaining].sign()
        ranks = _reversed_ranks(stale.flatten()[remaining].abs().tolist())
        flat = fresh.flatten()
        flat[remaining] = signs * torch.tensor(ranks, dtype=torch.float64)
        fresh = flat.reshape(orig.shape)
        kwargs = {}
    with torch.no_grad():
        orig.copy_(fresh.to(device=orig.device, dtype=orig.dtype))
    steps.append(f"with torch.no_grad(): module.{name}_orig.copy_({python_literal(orig.detach())})"
                 "  # an optimizer step, no forward")
    amount = data.draw(hh.interior_counts(units), label="amount")
    rescore = Call(method, {"amount": amount, **kwargs})
    steps.append(repr(rescore))
    before = measure.mask_or_ones(module, name)
    scores = orig.detach() * before
    rescore(prune, module, name)
    step = Step(rescore, before, measure.mask_or_ones(module, name), scores)
    _expect_ranked_by(step, subject.name, _text(steps))


# --- COMPOSE-4: the history -------------------------------------------------------------------

_MISSING = object()


@pytest.mark.clause("COMPOSE-4")
@given(data=st.data())
def test_history_lists_the_calls_in_order(prune, device, data):
    """After the second call the hook is a PruningContainer of the methods applied, first call
    first, each of the call's class and holding its arguments; a third call appends to that same
    container object."""
    subject = data.draw(hh.subjects(device, min_dims=0), label="subject")
    module, name = subject.module, subject.name
    steps = _start(subject)
    calls: list[Call] = []
    container = None
    for index in range(data.draw(st.integers(2, 3), label="calls")):
        calls.append(_step(prune, data, subject, steps).call)
        if index == 0:
            continue
        what = _text(steps)
        hooks = measure.pruning_hooks(prune, module, name)
        ck.expect_equal(len(hooks), 1, "COMPOSE-4", f"pruning hooks for {name!r} after\n{what}")
        hook = hooks[0]
        ck.expect(isinstance(hook, prune.PruningContainer), "COMPOSE-4",
                  f"the hook after\n{what}\nmust be a PruningContainer, is {type(hook).__name__}")
        if container is not None:
            ck.expect(hook is container, "COMPOSE-4",
                      f"the third call must append to the container of the second, after\n{what}")
        container = hook
        history = list(hook)
        ck.expect_equal([type(m).__name__ for m in history],
                        [c.method.class_name for c in calls], "COMPOSE-4",
                        f"classes of the history after\n{what}")
        for position, (method, call) in enumerate(zip(history, calls, strict=True)):
            cls = getattr(prune, call.method.class_name)
            ck.expect(isinstance(method, cls), "COMPOSE-4",
                      f"history[{position}] must be a {cls!r}, is {type(method)!r}, after\n{what}")
            for attribute in call.method.attributes:
                ck.expect_equal(getattr(method, attribute, _MISSING), call.kwargs[attribute],
                                "COMPOSE-4", f"history[{position}].{attribute} after\n{what}")


# --- COMPOSE-5 and COMPOSE-6: PruningContainer built by hand --------------------------------

@functools.cache
def recording_method(base: type) -> type:
    """A subclass of `base` (the implementation's BasePruningMethod) whose compute_mask records
    its arguments and multiplies its default mask by a preset 0/1 pattern; its PRUNING_TYPE and
    `dim` are set per object. Cached: one class per implementation."""

    class Recording(base):
        PRUNING_TYPE = "unstructured"

        def __init__(self, pattern: torch.Tensor, pruning_type: str,
                     dim: int | None = None) -> None:
            self.pattern = pattern  # flat, at least as long as the tensor
            self.PRUNING_TYPE = pruning_type
            if dim is not None:
                self.dim = dim
            self.seen: list[tuple[torch.Tensor, torch.Tensor]] = []

        def compute_mask(self, t: torch.Tensor, default_mask: torch.Tensor) -> torch.Tensor:
            self.seen.append((t.detach().clone(), default_mask.detach().clone()))
            part = self.pattern[: t.numel()].reshape(t.shape).to(default_mask)
            return default_mask * part

        def __repr__(self) -> str:
            dim = getattr(self, "dim", None)
            return f"Recording({self.PRUNING_TYPE!r}" + (f", dim={dim})" if dim is not None
                                                          else ")")

    return Recording


def _recording(prune: Any, pattern: torch.Tensor, pruning_type: str, dim: int | None = None,
               name: str | None = "weight") -> Any:
    method = recording_method(prune.BasePruningMethod)(pattern, pruning_type, dim)
    method._tensor_name = name  # what apply would set
    return method


def _container(prune: Any, methods_in_order: list[Any]) -> Any:
    container = prune.PruningContainer(methods_in_order[0])
    for method in methods_in_order[1:]:
        container.add_pruning_method(method)
    return container


@st.composite
def _patterns(draw: st.DrawFn, numel: int, device: torch.device) -> torch.Tensor:
    bits = draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=numel, max_size=numel))
    return torch.tensor(bits, dtype=torch.float64, device=device)


@pytest.mark.clause("COMPOSE-5")
@pytest.mark.parametrize("pruning_type", PRUNING_TYPES)
@hh.fewer_examples(2)
@given(data=st.data())
def test_container_applies_its_last_method_to_what_remains(prune, device, pruning_type, data):
    """compute_mask(t, default_mask) of a container of 1-3 recording methods calls only the last
    one, on the entries of t where the mask is 1 (in row-major order), on the channels along its
    dim that still hold a 1, or on all of t; the result is the default mask with that method's
    mask written into the part it was given."""
    structured = pruning_type == "structured"
    shape = data.draw(hh.shapes(min_dims=2 if structured else 0), label="shape")
    dtype = data.draw(hh.dtypes(device), label="dtype")
    t = data.draw(hh.score_tensors(shape, dtype, device), label="t")
    numel = t.numel()
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim") if structured else None
    bits = data.draw(_patterns(numel, device), label="default_mask")
    mask = bits.reshape(shape).to(dtype)
    if structured:
        # Some whole channels pruned, so that the container has channels to leave out.
        alive = data.draw(_patterns(shape[dim], device), label="channels of default_mask")
        mask = mask.index_fill(dim % len(shape), alive.eq(0).nonzero().flatten(), 0)
    earlier = [_recording(prune, data.draw(_patterns(numel, device)),
                          data.draw(st.sampled_from(PRUNING_TYPES)), -1)
               for _ in range(data.draw(st.integers(0, 2), label="earlier methods"))]
    pattern = data.draw(_patterns(numel, device), label="pattern of the last method")
    last = _recording(prune, pattern, pruning_type, dim)
    container = _container(prune, [*earlier, last])
    what = (f"t = {python_literal(t)}\ndefault_mask = {python_literal(mask)}\n"
            f"PruningContainer({', '.join(map(repr, [*earlier, last]))}).compute_mask(t, "
            "default_mask)\nwith the last method's pattern "
            f"{python_literal(pattern.reshape(shape))}")
    # A copy: torch writes the combined mask into the default mask it is given.
    combined = container.compute_mask(t, mask.clone())
    ck.expect(all(not m.seen for m in earlier), "COMPOSE-5",
              f"{what}\nmust call only the last method's compute_mask")
    ck.expect_equal(len(last.seen), 1, "COMPOSE-5", f"calls of the last method by\n{what}")
    seen_t, seen_mask = last.seen[0]
    if pruning_type == "unstructured":
        remaining = mask == 1
        part_t, part_mask = t[remaining], mask[remaining]
        expected = mask.clone()
        expected[remaining] = pattern[: part_t.numel()].to(dtype)
        seen_t, seen_mask = seen_t.flatten(), seen_mask.flatten()
    elif structured:
        d = dim % len(shape)
        keep = measure.alive_channels(mask, d).nonzero().flatten().to(device)
        part_t, part_mask = t.index_select(d, keep), mask.index_select(d, keep)
        part = part_mask * pattern[: part_t.numel()].reshape(part_t.shape).to(dtype)
        expected = mask.clone().index_copy_(d, keep, part)
    else:
        part_t, part_mask = t, mask
        expected = mask * pattern.reshape(shape).to(dtype)
    ck.expect(seen_t.shape == part_t.shape and torch.equal(seen_t, part_t), "COMPOSE-5",
              f"{what}\nmust give the last ({pruning_type}) method the part of t it acts on, "
              f"{python_literal(part_t)}; gave {python_literal(seen_t)}")
    ck.expect(seen_mask.shape == part_mask.shape and torch.equal(seen_mask.to(dtype), part_mask),
              "COMPOSE-5", f"{what}\nmust give the last method the default mask of that part, "
              f"{python_literal(part_mask)}; gave {python_literal(seen_mask)}")
    ck.expect_same_mask(combined, expected, "COMPOSE-5",
                        f"the default mask with the last method's mask in its part, from\n{what}")


@functools.cache
def untyped_method(base: type) -> type:
    """A subclass of `base` that forgets to set PRUNING_TYPE."""

    class Untyped(base):
        def compute_mask(self, t: torch.Tensor, default_mask: torch.Tensor) -> torch.Tensor:
            return default_mask

        def __repr__(self) -> str:
            return "Untyped()"

    return Untyped


@pytest.mark.clause("COMPOSE-5")
@pytest.mark.parametrize(("pruning_type", "dim", "error"), [
    pytest.param("sideways", -1, ValueError, id="unknown-type"),
    pytest.param(None, None, ValueError, id="no-type"),
    pytest.param("structured", None, AttributeError, id="structured-without-dim"),
])
def test_container_rejects_a_method_it_cannot_place(prune, device, pruning_type, dim, error):
    t = torch.arange(1.0, 7.0, device=device).reshape(2, 3)
    if pruning_type is None:
        last = untyped_method(prune.BasePruningMethod)()
        last._tensor_name = "weight"
    else:
        last = _recording(prune, torch.ones(6, device=device), pruning_type, dim)
    container = _container(prune, [_recording(prune, torch.ones(6, device=device),
                                              "unstructured"), last])
    ck.expect_raises("COMPOSE-5", error, lambda: container.compute_mask(t, torch.ones_like(t)),
                     f"PruningContainer(..., {last!r}).compute_mask(t, ones)")


@pytest.mark.clause("COMPOSE-5", "ERRORS-4")
def test_empty_container_has_no_method_to_apply(prune, device):
    t = torch.ones(2, 3, device=device)
    what = "PruningContainer().compute_mask(t, ones)"
    exc = ck.expect_raises("COMPOSE-5", ValueError,
                           lambda: prune.PruningContainer().compute_mask(t, torch.ones_like(t)),
                           what)
    ck.expect("empty" in str(exc), "ERRORS-4",
              f"{what}: the message must say that the container is empty, was {str(exc)!r}")


NON_METHODS = {
    "object": lambda prune: object(),
    "str": lambda prune: "l1_unstructured",
    "tensor": lambda prune: torch.ones(2),
    "class": lambda prune: prune.L1Unstructured,
    "None": lambda prune: None,
}


@pytest.mark.clause("COMPOSE-6", "ERRORS-4")
@pytest.mark.parametrize("value", NON_METHODS)
def test_container_rejects_a_non_method(prune, device, value):
    bad = NON_METHODS[value](prune)
    container = _container(prune, [_recording(prune, torch.ones(1), "unstructured")])
    what = f"PruningContainer(method).add_pruning_method({bad!r})"
    exc = ck.expect_raises("COMPOSE-6", TypeError, lambda: container.add_pruning_method(bad), what)
    ck.expect_message_names(exc, bad, "ERRORS-4", what)
    ck.expect_equal(len(container), 1, "COMPOSE-6", f"len of the container after the rejected "
                                                    f"add_pruning_method({bad!r})")


@pytest.mark.clause("COMPOSE-6", "ERRORS-4")
@pytest.mark.parametrize(("held", "added"), [("weight", "bias"), (None, "weight")])
def test_container_rejects_a_method_of_another_tensor(prune, device, held, added):
    """A method for another tensor than the container's (a container of methods never applied
    holds the tensor name None)."""
    container = _container(prune, [_recording(prune, torch.ones(1), "unstructured", name=held)])
    other = _recording(prune, torch.ones(1), "unstructured", name=added)
    what = f"a container of {held!r} methods .add_pruning_method(a method of {added!r})"
    exc = ck.expect_raises("COMPOSE-6", ValueError, lambda: container.add_pruning_method(other),
                           what)
    for name in (added, held):
        ck.expect_message_names(exc, name, "ERRORS-4", what)
    ck.expect_equal(len(container), 1, "COMPOSE-6",
                    "len of the container after the rejected add_pruning_method")


@pytest.mark.clause("COMPOSE-6")
@given(count=st.integers(1, 5), position=st.integers(-5, 4))
def test_container_len_iter_and_index_give_the_history(prune, count, position):
    added = [_recording(prune, torch.ones(1), "unstructured") for _ in range(count)]
    container = _container(prune, added)
    what = f"a PruningContainer of {count} methods added one by one"
    ck.expect_equal(len(container), count, "COMPOSE-6", f"len of {what}")
    ck.expect([id(m) for m in container] == [id(m) for m in added], "COMPOSE-6",
              f"iterating {what} must yield them in the order added")
    if -count <= position < count:
        ck.expect(container[position] is added[position], "COMPOSE-6",
                  f"{what}: container[{position}] must be the method added at {position}")
