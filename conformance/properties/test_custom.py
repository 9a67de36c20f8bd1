"""CUSTOM: methods written by users, identity, custom_from_mask.

The user's methods are subclasses of the implementation's own `BasePruningMethod`, built once per
implementation (`user_methods`): the tutorial's `FooBarPruningMethod` (every other entry) and a
structured one in the same spirit (every other channel along `dim`), and both again returning bool
masks (the stored mask takes the parameter's dtype all the same). Acting only on what remains
(COMPOSE-2), each prunes every other *remaining* entry or channel, starting with the first.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from conformance import bad_inputs as bi
from conformance import bad_user_code as bu
from conformance import checks as ck
from conformance import measure, models
from conformance import strategies as hh
from conformance.bad_inputs import other_shape
from conformance.registry import METHODS, Call, Method, python_literal


@functools.cache
def user_methods(base: type) -> dict[str, type]:
    """The user's methods as subclasses of `base`, the implementation's BasePruningMethod.

    Cached so that each implementation gets one class of each (isinstance checks and pickling
    see one class per run).
    """

    class FooBarPruningMethod(base):
        """The tutorial's example: prune every other entry."""

        PRUNING_TYPE = "unstructured"

        def compute_mask(self, t: torch.Tensor, default_mask: torch.Tensor) -> torch.Tensor:
            mask = default_mask.clone()
            mask.view(-1)[::2] = 0
            return mask

    class EveryOtherChannel(base):
        """A structured method: prune every other channel along `dim`."""

        PRUNING_TYPE = "structured"

        def __init__(self, dim: int = -1) -> None:
            self.dim = dim

        def compute_mask(self, t: torch.Tensor, default_mask: torch.Tensor) -> torch.Tensor:
            index = torch.arange(0, t.shape[self.dim], 2, device=default_mask.device)
            return default_mask.clone().index_fill(self.dim, index, 0)

    methods = {"unstructured": FooBarPruningMethod, "structured": EveryOtherChannel}
    return {**methods, **{f"{kind}-bool": _returning_bool(m) for kind, m in methods.items()}}


def _returning_bool(method: type) -> type:
    """`method` returning its mask as bool: the stored mask still takes the parameter's dtype
    (REPARAM-2), on a fresh tensor and when merged into an earlier mask (COMPOSE-2)."""

    class Bool(method):
        def compute_mask(self, t: torch.Tensor, default_mask: torch.Tensor) -> torch.Tensor:
            return super().compute_mask(t, default_mask).bool()

    Bool.__name__ = Bool.__qualname__ = f"Bool{method.__name__}"
    return Bool


def every_other_remaining(before: torch.Tensor, dim: int | None) -> torch.Tensor:
    """The mask after a user method on a tensor whose mask was `before`: every other remaining
    entry (row-major) or channel along `dim` pruned, starting with the first."""
    if dim is None:
        flat = before.flatten().clone()
        flat[flat.ne(0).nonzero().flatten()[::2]] = 0
        return flat.reshape(before.shape)
    alive = measure.alive_channels(before, dim).nonzero().flatten()[::2].to(before.device)
    return before.index_fill(dim % before.dim(), alive, 0)


def _earlier(prune: Any, data: Any, subject: models.Subject, low: int, high: int) -> list[str]:
    """low..high valid built-in calls (random ones under a drawn seed), applied; as source."""
    applied = data.draw(hh.applied_calls(prune, subject, low, high), label="built-in calls")
    return [a.source(name=subject.name) for a in applied]


# --- CUSTOM-1: a user's method through apply ------------------------------------------------

@pytest.mark.clause("CUSTOM-1")
@pytest.mark.parametrize("kind", ["unstructured", "structured", "unstructured-bool",
                                  "structured-bool"])
@hh.fewer_examples(2)
@given(data=st.data())
def test_user_method_prunes_like_a_built_in(prune, device, kind, data):
    """Cls.apply on a fresh or pruned tensor, built-in calls before and after it: the mask acts
    on what remains, the hook, history and reparametrization are those of a built-in method;
    forward re-applies the mask and remove makes it permanent."""
    cls = user_methods(prune.BasePruningMethod)[kind]
    structured = kind.startswith("structured")
    subject = data.draw(hh.subjects(device, min_dims=2 if structured else 0))
    module, name = subject.module, subject.name
    param = subject.param
    steps = [f"module = {subject.source}"]
    steps += _earlier(prune, data, subject, 0, 2)
    for _ in range(data.draw(st.integers(1, 2), label="user calls")):
        args: tuple[object, ...] = ()
        kwargs: dict[str, object] = {}
        dim = None
        if structured:
            dim = data.draw(st.integers(-param.dim(), param.dim() - 1), label="dim")
            if data.draw(st.booleans(), label="dim by keyword"):
                kwargs["dim"] = dim
            else:
                args = (dim,)
        steps.append(f"{cls.__name__}.apply(module, {name!r}, "
                     + ", ".join([*map(repr, args), *(f"{k}={v!r}" for k, v in kwargs.items())])
                     + ")")
        what = "\n".join(steps)
        before = measure.mask_or_ones(module, name)
        history = measure.history(prune, module, name)
        hook = cls.apply(module, name, *args, **kwargs)
        ck.expect_same_mask(measure.mask_or_ones(module, name), every_other_remaining(before, dim),
                            "CUSTOM-1", f"mask after\n{what}")
        ck.expect_reparametrized(prune, module, name, param, "CUSTOM-1", what)
        seen = measure.history(prune, module, name)
        ck.expect_equal([type(m).__name__ for m in seen],
                        [*(type(m).__name__ for m in history), cls.__name__], "CUSTOM-1",
                        f"hook history after\n{what}")
        ck.expect(hook is measure.pruning_hooks(prune, module, name)[0], "CUSTOM-1",
                  f"{what}\nmust return the hook now registered for {name!r} (HOOK-3)")
        ck.expect(seen[-1]._tensor_name == name and getattr(seen[-1], "dim", dim) == dim,
                  "CUSTOM-1", f"{what}\nthe method object must know its tensor and its dim")
        steps += _earlier(prune, data, subject, 0, 1)
    what = "\n".join(steps)
    orig, mask = module._parameters[f"{name}_orig"], module._buffers[f"{name}_mask"]
    with torch.no_grad():
        orig.add_(1)  # a training step reaches the forward through the hook (HOOK-2)
    subject.forward()
    expected = (orig.detach() * mask).nan_to_num()
    ck.expect(torch.equal(getattr(module, name).detach().nan_to_num(), expected), "CUSTOM-1",
              f"{what}\nafter a change to {name}_orig, forward must see {name}_orig * {name}_mask")
    prune.remove(module, name)
    ck.expect(module._parameters.get(name) is param
              and torch.equal(param.detach().nan_to_num(), expected), "CUSTOM-1",
              f"{what}\nremove must make {name} the original Parameter holding orig * mask")


# --- CUSTOM-2: method.prune -----------------------------------------------------------------

def _method_object(prune: Any, method: Method, kwargs: dict[str, Any]) -> object:
    """The method's object built from the keyword arguments of its functional form."""
    kwargs = {k: v for k, v in kwargs.items() if k != "importance_scores"}
    return getattr(prune, method.class_name)(**kwargs)


PRUNE_CASES = [*METHODS, "user-unstructured", "user-structured"]


@pytest.mark.clause("CUSTOM-2")
@pytest.mark.parametrize("case", PRUNE_CASES)
@hh.fewer_examples(4)
@given(data=st.data())
def test_method_prune_returns_t_times_its_mask(prune, device, case, data):
    """method.prune(t, default_mask, importance_scores) is t * method.compute_mask(scores,
    default_mask or ones) (under the same seed for random methods) and changes nothing: not t,
    not the mask or scores given, not the module holding t."""
    structured = case == "user-structured" or (case in METHODS and METHODS[case].structured)
    subject = data.draw(hh.subjects(device, kinds=("Holder",), min_dims=2 if structured else 0))
    t = subject.param
    default_mask = None
    if data.draw(st.booleans(), label="default_mask given"):
        bits = data.draw(st.lists(st.booleans(), min_size=t.numel(), max_size=t.numel()))
        default_mask = torch.tensor(bits, dtype=t.dtype, device=t.device).reshape(t.shape)
    if case.startswith("user-"):
        cls = user_methods(prune.BasePruningMethod)[case.removeprefix("user-")]
        args = ()
        if structured:
            args = (data.draw(st.integers(-t.dim(), t.dim() - 1), label="dim"),)
        method = cls(*args)
        source = f"{cls.__name__}{args!r}".replace(",)", ")")
        scores = None
    else:
        entry = METHODS[case]
        call = data.draw(hh.calls(subject, [entry]), label="arguments")
        if entry.takes_amount and default_mask is not None:
            # Valid whether compute_mask counts the units of t or those default_mask leaves.
            left = measure.remaining_units(default_mask, call.dim)
            call = Call(entry, {**call.kwargs,
                                "amount": data.draw(hh.amounts(left), label="amount")})
        method = _method_object(prune, entry, call.kwargs)
        source = repr(call)
        scores = call.kwargs.get("importance_scores")
    seed = data.draw(hh.seeds(), label="seed")
    what = (f"t = {python_literal(t.detach())}\nmethod from {source}\nmethod.prune(t, "
            f"default_mask={python_literal(default_mask)}, importance_scores="
            f"{python_literal(scores)})")
    inputs = [x.detach().clone() for x in (t, default_mask, scores) if x is not None]
    snapshot = ck.ModuleSnapshot.take(subject.module)
    with hh.seeded(seed, device):
        seen = method.prune(t, default_mask=default_mask, importance_scores=scores)
    ck.expect_unchanged(snapshot, subject.module, "CUSTOM-2", what)
    after = [x.detach() for x in (t, default_mask, scores) if x is not None]
    ck.expect(all(torch.equal(a.nan_to_num(), b.nan_to_num()) for a, b in zip(
        inputs, after, strict=True)), "CUSTOM-2", f"{what}\nmust not change its arguments")
    with hh.seeded(seed, device):
        mask = method.compute_mask(t if scores is None else scores,
                                   torch.ones_like(t) if default_mask is None else default_mask)
    ck.expect(torch.equal(seen.detach().nan_to_num(), (t.detach() * mask).nan_to_num()),
              "CUSTOM-2", f"{what}\nmust return t * method.compute_mask(...)")


# --- CUSTOM-6: the default mask a method receives ------------------------------------------

def _noting_layout(cls: type, seen: list[bool]) -> type:
    """`cls` noting, in `seen`, whether each default mask its compute_mask gets is contiguous."""

    class Noting(cls):
        def compute_mask(self, t: torch.Tensor, default_mask: torch.Tensor) -> torch.Tensor:
            seen.append(default_mask.is_contiguous())
            return super().compute_mask(t, default_mask)

    return Noting


@pytest.mark.clause("CUSTOM-6")
@pytest.mark.parametrize("kind", ["unstructured", "structured"])
@pytest.mark.parametrize("route", ["fresh", "pruned", "method.prune"])
@hh.fewer_examples(4)
@given(data=st.data())
def test_default_mask_is_contiguous_for_any_layout(prune, device, kind, route, data):
    """A user's method gets a contiguous default mask whatever the layout of the parameter, so
    the tutorial's `mask.view(-1)[::2] = 0` works, and prunes what it would on a contiguous copy."""
    layout = data.draw(st.sampled_from(hh.LAYOUTS[1:]), label="layout")
    subject = data.draw(hh.relaid_subjects(device, layout), label="subject")
    module, name, param = subject.module, subject.name, subject.param
    steps = [f"module = {subject.source}"]
    if route == "pruned":
        steps += _earlier(prune, data, subject, 1, 2)
    param.data = hh.with_layout(param.data, layout)
    steps.append(f"module.{name if route != 'pruned' else name + '_orig'} laid out {layout}, "
                 f"contiguous: {param.is_contiguous()}")
    dim = data.draw(st.integers(-param.dim(), param.dim() - 1), label="dim")
    seen: list[bool] = []
    cls = _noting_layout(user_methods(prune.BasePruningMethod)[kind], seen)
    method_args = (dim,) if kind == "structured" else ()
    steps.append(f"{user_methods(prune.BasePruningMethod)[kind].__name__}"
                 f"{method_args!r}".replace(",)", ")") + (
                     ".prune(t)" if route == "method.prune" else f".apply(module, {name!r})"))
    what = "\n".join(steps)
    expected_dim = dim if kind == "structured" else None
    before = measure.mask_or_ones(module, name)
    try:
        if route == "method.prune":
            result = cls(*method_args).prune(param.detach())
        else:
            cls.apply(module, name, *method_args)
    except RuntimeError as exc:
        ck.fail("CUSTOM-6", f"{what}\nraised RuntimeError: {exc}")
    ck.expect(all(seen), "CUSTOM-6", f"{what}\ncompute_mask got a default mask that is not "
                                     "contiguous")
    expected = every_other_remaining(before, expected_dim)
    if route == "method.prune":
        ck.expect(torch.equal(result.detach().nan_to_num(),
                              (param.detach() * expected).nan_to_num()), "CUSTOM-6",
                  f"{what}\nmust return t times the mask of the contiguous copy")
    else:
        ck.expect_same_mask(measure.mask_or_ones(module, name), expected, "CUSTOM-6",
                            f"mask after\n{what}")


# --- CUSTOM-7: a user's method that breaks the contract ------------------------------------

@pytest.mark.clause("CUSTOM-7")
@pytest.mark.parametrize("entry", [pytest.param(e, id=e.id)
                                   for e in bi.bad_calls(clauses=["CUSTOM-7"])])
@hh.fewer_examples(4)
@given(data=st.data())
def test_broken_user_method_is_rejected(prune, device, entry, data):
    """The error the clause names, the module unchanged (its messages are ERRORS-4's, the same
    call on a tensor pruned otherwise ATOMIC-1's)."""
    drawn = data.draw(bi.drawn_bad_calls(prune, device, entry), label="call")
    ck.expect_rejected_unchanged(drawn.invocation.modules[0], lambda: drawn.invocation.run(prune),
                                 entry.error, "CUSTOM-7", repr(drawn), "CUSTOM-7")


@pytest.mark.clause("CUSTOM-7", "ERRORS-4")
@pytest.mark.parametrize("pruning_type", ["unstructured", "structured", "global"])
@pytest.mark.parametrize("kind", ["returns-a-list", "returns-another-shape"])
@hh.fewer_examples(6)
@given(data=st.data())
def test_broken_user_method_on_a_pruned_tensor_is_named(prune, device, kind, pruning_type,
                                                        data):
    """On a tensor already pruned, a method of each PRUNING_TYPE composes its own way
    (COMPOSE-2); whichever way, its broken mask is rejected naming the method's class and what
    it returned, the module unchanged."""
    min_dims = 2 if pruning_type == "structured" else 0
    subject = data.draw(hh.subjects(device, min_dims=min_dims), label="subject")
    module, name = subject.module, subject.name
    steps = [f"module = {subject.source}"]
    steps += hh.pruned_by_calls(data.draw, prune, subject, 1, 2)
    steps += [bu.broken_method_source(kind, pruning_type),
              f"{bu.BROKEN_METHOD}.apply(module, {name!r})"]
    broken = bu.broken_method(prune, kind, pruning_type)
    error, names = bu.BROKEN_METHODS[kind][:2]
    exc = ck.expect_rejected_unchanged(module, lambda: broken.apply(module, name), error,
                                       "CUSTOM-7", "\n".join(steps), "CUSTOM-7")
    for value in names:
        ck.expect_message_names(exc, value, "ERRORS-4", "\n".join(steps))


# --- CUSTOM-3: identity ---------------------------------------------------------------------

@pytest.mark.clause("CUSTOM-3")
@pytest.mark.parametrize("state", ["fresh", "pruned"])
@hh.fewer_examples(2)
@given(data=st.data())
def test_identity_prunes_nothing(prune, device, state, data):
    subject = data.draw(hh.subjects(device, min_dims=0))
    module, name = subject.module, subject.name
    param = subject.param
    steps = [f"module = {subject.source}"]
    if state == "pruned":
        steps += _earlier(prune, data, subject, 1, 2)
    steps.append(f"prune.identity(module, {name!r})")
    what = "\n".join(steps)
    before = measure.mask_or_ones(module, name)
    history = measure.history(prune, module, name)
    prune.identity(module, name)
    ck.expect_reparametrized(prune, module, name, param, "CUSTOM-3", what)
    ck.expect_same_mask(measure.mask_or_ones(module, name), before, "CUSTOM-3",
                        f"identity must prune nothing; mask after\n{what}")
    seen = measure.history(prune, module, name)
    ck.expect(len(seen) == len(history) + 1 and isinstance(seen[-1], prune.Identity),
              "CUSTOM-3", f"{what}\nthe hook history must end with an Identity, is "
                          f"{[type(m).__name__ for m in seen]}")


# --- CUSTOM-4 and CUSTOM-5: custom_from_mask ------------------------------------------------

MASK_DTYPES = {"bool": torch.bool, "uint8": torch.uint8, "int32": torch.int32,
               "int64": torch.int64, "float32": torch.float32, "float64": torch.float64,
               "param": None}


@pytest.mark.clause("CUSTOM-4", "REPARAM-2")
@pytest.mark.parametrize("mask_dtype", MASK_DTYPES)
@hh.fewer_examples(4)
@given(data=st.data())
def test_custom_from_mask_prunes_its_zeros(prune, device, mask_dtype, data):
    """Exactly the entries where mask == 0 (-0.0 included) are pruned on top of the existing
    mask; the stored mask has the parameter's dtype whatever the given mask's."""
    subject = data.draw(hh.subjects(device, min_dims=0))
    module, name = subject.module, subject.name
    param = subject.param
    steps = [f"module = {subject.source}"]
    steps += _earlier(prune, data, subject, 0, 2)
    dtype = MASK_DTYPES[mask_dtype] or param.dtype
    zeros = [0.0, -0.0] if dtype.is_floating_point else [0]
    values = data.draw(st.lists(st.sampled_from([*zeros, 1]), min_size=param.numel(),
                                max_size=param.numel()), label="mask")
    mask = torch.tensor(values, dtype=torch.float64).reshape(param.shape).to(device, dtype)
    steps.append(f"prune.custom_from_mask(module, {name!r}, mask={python_literal(mask)})")
    what = "\n".join(steps)
    before = measure.mask_or_ones(module, name)
    prune.custom_from_mask(module, name, mask=mask)
    stored = module._buffers.get(f"{name}_mask")
    ck.expect(stored is not None, "CUSTOM-4", f"{what}\nmust register {name}_mask")
    ck.expect_binary_mask(stored, param, "CUSTOM-4")
    ck.expect_same_mask(stored, before * mask.ne(0).to(before.dtype), "CUSTOM-4",
                        f"the entries where the mask is 0, on top of the existing mask, after\n"
                        f"{what}")


@pytest.mark.clause("CUSTOM-4", "REPARAM-2")
@hh.fewer_examples(4)
@given(data=st.data())
def test_custom_from_mask_keeps_every_nonzero_entry(prune, device, data):
    """A mask holding values other than 0 and 1 (0.5, 2, -1): every nonzero entry is kept, not
    scaled, and the stored mask holds only 0 and 1."""
    subject = data.draw(hh.subjects(device, min_dims=0))
    module, name = subject.module, subject.name
    param = subject.param
    dtype = data.draw(st.sampled_from([torch.int64, torch.float32, param.dtype]), label="dtype")
    pool = [0, 1, 2, -1, 3] + ([0.5, -0.0] if dtype.is_floating_point else [])
    values = data.draw(st.lists(st.sampled_from(pool), min_size=param.numel(),
                                max_size=param.numel()), label="mask")
    # At least one value that is neither 0 nor 1, so that every example asks the question.
    values[data.draw(st.integers(0, param.numel() - 1), label="index")] = data.draw(
        st.sampled_from([v for v in pool if v not in (0, 1)]), label="value")
    mask = torch.tensor(values, dtype=torch.float64).reshape(param.shape).to(device, dtype)
    what = (f"module = {subject.source}\n"
            f"prune.custom_from_mask(module, {name!r}, mask={python_literal(mask)})")
    prune.custom_from_mask(module, name, mask=mask)
    stored = module._buffers.get(f"{name}_mask")
    ck.expect(stored is not None, "CUSTOM-4", f"{what}\nmust register {name}_mask")
    ck.expect_binary_mask(stored, param, "CUSTOM-4")
    ck.expect_same_mask(stored, mask.ne(0), "CUSTOM-4", f"the entries where the mask is 0 after\n"
                                                        f"{what}")


@pytest.mark.clause("CUSTOM-5")
@given(data=st.data())
def test_custom_from_mask_of_another_shape_is_rejected(prune, device, data):
    """A mask of the same number of entries in another shape, or of another number of entries:
    ValueError naming both shapes, the module as it was."""
    subject = data.draw(hh.subjects(device, min_dims=0))
    param = subject.param
    shape = tuple(param.shape)
    bad_shape = data.draw(st.sampled_from([other_shape(shape), (param.numel() + 1,),
                                           (*shape, 2)]), label="mask shape")
    mask = torch.ones(bad_shape, dtype=torch.bool, device=device)
    what = (f"module = {subject.source}\nprune.custom_from_mask(module, {subject.name!r}, "
            f"mask=torch.ones({bad_shape}, dtype=torch.bool))")
    exc = ck.expect_rejected_unchanged(
        subject.module, lambda: prune.custom_from_mask(subject.module, subject.name, mask=mask),
        ValueError, "CUSTOM-5", what, atomic_clause="CUSTOM-5")
    ck.expect_message_names(exc, bad_shape, "CUSTOM-5", what)
    ck.expect_message_names(exc, shape, "CUSTOM-5", what)
