"""The catalogue of bad calls: every input SPEC.md rejects, as data, in one place.

Each `BadCall` says how to build the rejected call for a subject (or, for `global_unstructured`,
for a few subjects), which exception the spec asks for and which clause says so. The ATOMIC,
ERRORS and DEVICE properties iterate over `BAD_CALLS` (a new bad input is one entry here, not a new
test), and the kit's tests can replay an entry by hand.

A builder may prepare the module before the call (e.g. register a `None` parameter, as
`nn.Linear(bias=False)` does); properties take their snapshot after building, so preparation is not
a change made by the call. A preparation is written once, as the source a snippet shows, and made
by running that source (`_prepare`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import torch
from hypothesis import strategies as st
from torch import nn
from torch.nn.modules.module import register_module_buffer_registration_hook

from conformance import measure, models
from conformance import strategies as hh
from conformance.registry import METHODS, Call, Method, methods, python_literal
from conformance.source import literal

# Names the builders give to tensors a subject does not have; chosen not to clash with any layer's.
MISSING_NAME = "no_such_tensor"
NONE_NAME = "none_tensor"
NOT_A_TENSOR_NAME = "not_a_tensor"
SPARE_NAME = "spare"


def other_device(device: torch.device | str) -> torch.device:
    """A device that is not `device`: the CPU, or `meta` when `device` is the CPU.

    `meta` tensors have a device, shape and dtype but no values, which is all a device check
    needs, so DEVICE-6 is testable on a CPU-only machine.
    """
    device = torch.device(device)
    return torch.device("meta") if device.type == "cpu" else torch.device("cpu")


def other_shape(shape: Sequence[int]) -> tuple[int, ...]:
    """A shape other than `shape` with the same number of entries (an implementation that only
    flattens would not notice it): reversed, else flat, else a column."""
    shape = tuple(shape)
    if tuple(reversed(shape)) != shape:
        return tuple(reversed(shape))
    if len(shape) != 1:
        return (math.prod(shape),)
    return (shape[0], 1)


@dataclass(frozen=True)
class Invocation:
    """A bad call ready to run: `run(prune)` makes it; `source` is how a user would write it."""

    run: Callable[[Any], Any]
    source: str
    # Values the error message must name (ERRORS-4), e.g. the bad amount, or both shapes.
    names: tuple[object, ...] = ()
    # The modules the call may touch (global_unstructured: all of its modules).
    modules: tuple[nn.Module, ...] = ()
    # Source that prepared the module(s) before the call (`module`; m0, m1, ... for a global
    # call), as a snippet writes it; empty when nothing was prepared.
    preparation: str = ""


@dataclass(frozen=True)
class BadCall:
    """One kind of bad input: how to build it, what the spec says it gets."""

    id: str
    error: type[BaseException]
    clause: str
    # Single-tensor entries: the registry methods the call may be made with (one is drawn).
    methods: tuple[Method, ...] = ()
    # build(draw, subjects, method) -> Invocation; subjects[0] is the subject of a single call.
    build: Callable[..., Invocation] = field(default=None, repr=False,  # type: ignore[assignment]
                                             compare=False)
    max_dims: int = 5  # the subject's tensor has at most this many dims (structured on 0-d/1-d)
    is_global: bool = False
    fresh_only: bool = False  # the call fails on a tensor not yet pruned only
    pruned_only: bool = False  # the call fails on a tensor already pruned only

    @property
    def min_dims(self) -> int:
        return max((m.min_dims() for m in self.methods), default=0)

    def __repr__(self) -> str:
        return f"<bad call {self.id}>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        # Hypothesis prints falsifying examples with its pretty printer, which would otherwise
        # spell out the dataclass with its builder and registry entries.
        printer.text(repr(self))


# --- building blocks --------------------------------------------------------------------------

def _valid_call(draw: st.DrawFn, subject: models.Subject, method: Method) -> Call:
    """A valid call of `method` for the subject as it is now, without importance scores."""
    return draw(hh.calls(subject, [method], importance_scores=False))


def _with(call: Call, **changes: object) -> Call:
    return Call(call.method, {**call.kwargs, **changes})


def _prepare(source: str, **variables: nn.Module) -> str:
    """Prepare modules by running `source` with them bound to their snippet names; the source."""
    exec(source, {}, variables)
    return source


def _single(subject: models.Subject, call: Call, name: str | None = None,
            names: tuple[object, ...] = (), preparation: str = "") -> Invocation:
    name = subject.name if name is None else name
    return Invocation(lambda prune: call(prune, subject.module, name),
                      call.source(name=name), names, (subject.module,), preparation)


def _amount_id(bad: hh.BadAmount) -> str:
    # AMOUNT-6's value is computed from the subject: one more than the units that remain.
    return "amount=remaining+1" if bad.clause == "AMOUNT-6" else f"amount={bad.value!r}"


def _amount_entry(method: Method, bad: hh.BadAmount) -> BadCall:
    def build(draw: st.DrawFn, subjects: list[models.Subject], method: Method) -> Invocation:
        subject = subjects[0]
        call = _valid_call(draw, subject, method)
        value = bad.value
        if bad.clause == "AMOUNT-6":  # one more than the units that remain
            mask = measure.mask_or_ones(subject.module, subject.name)
            value = measure.remaining_units(mask, call.dim) + 1
        return _single(subject, _with(call, amount=value), names=(value,))

    return BadCall(f"{method.function}-{_amount_id(bad)}", bad.error, bad.clause, (method,), build)


def _name_entry(entry_id: str, error: type[BaseException], name: str,
                preparation: str = "") -> BadCall:
    """A call naming `name`, which the module has not, or has after `preparation` (source, the
    module as `module`) as something that is not a tensor."""
    def build(draw: st.DrawFn, subjects: list[models.Subject], method: Method) -> Invocation:
        subject = subjects[0]
        call = _valid_call(draw, subject, method)
        if preparation:
            _prepare(preparation, module=subject.module)
        return _single(subject, call, name=name, names=(name,), preparation=preparation)

    return BadCall(entry_id, error, "ERRORS-1", tuple(METHODS.values()), build)


NOT_A_MODULE = "not a module"


def _not_a_module_entry() -> BadCall:
    """The module argument is not an nn.Module (a str, spelled as is in a snippet)."""

    def build(draw: st.DrawFn, subjects: list[models.Subject], method: Method) -> Invocation:
        subject = subjects[0]
        call = _valid_call(draw, subject, method)
        return Invocation(lambda prune: call(prune, NOT_A_MODULE, subject.name),
                          call.source(module=repr(NOT_A_MODULE), name=subject.name),
                          (NOT_A_MODULE,), (subject.module,))

    return BadCall("module-not-a-module", TypeError, "ERRORS-1", tuple(METHODS.values()), build)


def _register_none(variable: str) -> str:
    # What nn.Linear(bias=False) does for its bias.
    return f"{variable}.register_parameter({NONE_NAME!r}, None)"


def _scores_entry(method: Method, kind: str) -> BadCall:
    """importance_scores that are not a tensor, of another shape or on another device."""
    error, clause = {"not_a_tensor": (TypeError, "ERRORS-3"), "shape": (ValueError, "ERRORS-3"),
                     "device": (ValueError, "DEVICE-6")}[kind]

    def build(draw: st.DrawFn, subjects: list[models.Subject], m: Method) -> Invocation:
        subject = subjects[0]
        param = subject.param
        call = _valid_call(draw, subject, m)
        good = draw(hh.score_tensors(tuple(param.shape), param.dtype, param.device))
        if kind == "not_a_tensor":
            scores: object = good.tolist()
            names: tuple[object, ...] = ("importance_scores",)
        elif kind == "shape":
            scores = good.reshape(other_shape(param.shape))
            names = (tuple(scores.shape), tuple(param.shape))
        else:
            scores = good.to(other_device(param.device))
            names = (scores.device,)
        return _single(subject, _with(call, importance_scores=scores), names=names)

    return BadCall(f"{method.function}-scores-{kind}", error, clause, (method,), build)


def _dim_entry(method: Method, side: str) -> BadCall:
    def build(draw: st.DrawFn, subjects: list[models.Subject], m: Method) -> Invocation:
        subject = subjects[0]
        ndim = subject.param.dim()
        dim = {"high": ndim, "low": -ndim - 1, "type": 0.5}[side]
        call = _valid_call(draw, subject, m)
        return _single(subject, _with(call, dim=dim), names=(dim,))

    error = TypeError if side == "type" else IndexError
    return BadCall(f"{method.function}-dim-{side}", error, "ERRORS-2", (method,), build)


def _low_dims_entry(method: Method) -> BadCall:
    def build(draw: st.DrawFn, subjects: list[models.Subject], m: Method) -> Invocation:
        subject = subjects[0]
        kwargs: dict[str, Any] = {"amount": 0, "dim": draw(st.sampled_from([0, -1]))}
        if m.function == "ln_structured":
            kwargs["n"] = 1
        call = Call(m, kwargs)
        return _single(subject, call, names=(tuple(subject.param.shape),))

    # The subject is 0-d or 1-d on purpose (max_dims), below the method's own min_dims.
    return BadCall(f"{method.function}-0d-or-1d", ValueError, "STRUCT-4", (method,), build,
                   max_dims=1)


def _norm_entry(n: object) -> BadCall:
    method = METHODS["ln_structured"]

    def build(draw: st.DrawFn, subjects: list[models.Subject], m: Method) -> Invocation:
        subject = subjects[0]
        return _single(subject, _with(_valid_call(draw, subject, m), n=n), names=(n,))

    return BadCall(f"ln_structured-n={n!r}", ValueError, "STRUCT-6", (method,), build)


def _mask_entry(kind: str) -> BadCall:
    method = METHODS["custom_from_mask"]
    clause = "CUSTOM-5" if kind == "shape" else "DEVICE-6"

    def build(draw: st.DrawFn, subjects: list[models.Subject], m: Method) -> Invocation:
        subject = subjects[0]
        call = _valid_call(draw, subject, m)
        mask = call.kwargs["mask"]
        if kind == "shape":
            bad = mask.reshape(other_shape(mask.shape))
            names: tuple[object, ...] = (tuple(bad.shape), tuple(mask.shape))
        else:
            bad = mask.to(other_device(mask.device))
            names = (bad.device,)
        return _single(subject, _with(call, mask=bad), names=names)

    return BadCall(f"custom_from_mask-mask-{kind}", ValueError, clause, (method,), build)


def _remove_entry() -> BadCall:
    def build(draw: st.DrawFn, subjects: list[models.Subject], m: Method) -> Invocation:
        subject = subjects[0]
        module = subject.module
        name = subject.name
        if measure.current_mask(module, name) is not None:
            # The subject's tensor is pruned: remove a tensor of the same module that is not.
            param = subject.param
            module.register_parameter(SPARE_NAME, nn.Parameter(torch.ones_like(param.detach())))
            name = SPARE_NAME
        return Invocation(lambda prune: prune.remove(module, name),
                          f"prune.remove(module, {name!r})", (name,), (module,))

    return BadCall("remove-unpruned", ValueError, "REMOVE-5", (), build)


class UserMethodError(Exception):
    """What a user's pruning method raises in `_failing_method_entry`: it must propagate as is."""


def _failing_method_entry(where: str) -> BadCall:
    """A user's method that raises in `compute_mask`, or in `apply_mask` while the tensor is being
    rewired (on a pruned tensor the history container applies the mask: fresh only)."""

    def build(draw: st.DrawFn, subjects: list[models.Subject], m: Method) -> Invocation:
        subject = subjects[0]

        def run(prune: Any) -> Any:
            class Failing(prune.BasePruningMethod):
                PRUNING_TYPE = "unstructured"

                def compute_mask(self, t: torch.Tensor, default_mask: torch.Tensor):
                    if where == "compute_mask":
                        raise UserMethodError("compute_mask failed")
                    return default_mask

                def apply_mask(self, module: nn.Module) -> torch.Tensor:
                    if where == "apply_mask":
                        raise UserMethodError("apply_mask failed")
                    return super().apply_mask(module)

            return Failing.apply(subject.module, subject.name)

        source = (f"class Failing(prune.BasePruningMethod):  # unstructured, raises in {where}\n"
                  f"Failing.apply(module, {subject.name!r})")
        return Invocation(run, source, (), (subject.module,))

    return BadCall(f"user-method-raises-in-{where}", UserMethodError, "ATOMIC-1",
                   fresh_only=where == "apply_mask", build=build)


BROKEN_METHOD = "BrokenMethod"
BROKEN_SHAPE = (2, 3, 5)  # no subject's tensor or remaining entries have this shape


def _broken_method_entry(kind: str) -> BadCall:
    """A user's method that breaks CUSTOM-1's contract (CUSTOM-7): compute_mask returns a list or
    a tensor of another shape, or, on a pruned tensor (its kind matters once it composes,
    COMPOSE-2), the method has a PRUNING_TYPE composition does not know, or is structured
    without a `dim`."""
    error, names, pruning_type, returns = {
        "returns-a-list": (TypeError, (BROKEN_METHOD, "list"), "unstructured", "[1.0]"),
        "returns-another-shape": (ValueError, (BROKEN_METHOD, BROKEN_SHAPE), "unstructured",
                                  f"torch.ones{BROKEN_SHAPE}"),
        "unknown-pruning-type": (ValueError, (BROKEN_METHOD, "sideways"), "sideways",
                                 "default_mask"),
        "structured-without-dim": (AttributeError, (BROKEN_METHOD, "dim"), "structured",
                                   "default_mask"),
    }[kind]

    def compute_mask(self: Any, t: torch.Tensor, default_mask: torch.Tensor) -> object:
        if kind == "returns-a-list":
            return [1.0]
        if kind == "returns-another-shape":
            return torch.ones(BROKEN_SHAPE, dtype=default_mask.dtype, device=default_mask.device)
        return default_mask

    def build(draw: st.DrawFn, subjects: list[models.Subject], m: Method) -> Invocation:
        subject = subjects[0]

        def run(prune: Any) -> Any:
            broken = type(BROKEN_METHOD, (prune.BasePruningMethod,),
                          {"PRUNING_TYPE": pruning_type, "compute_mask": compute_mask})
            return broken.apply(subject.module, subject.name)

        source = (f"class {BROKEN_METHOD}(prune.BasePruningMethod):  # PRUNING_TYPE "
                  f"{pruning_type!r}, compute_mask returns {returns}\n"
                  f"{BROKEN_METHOD}.apply(module, {subject.name!r})")
        return Invocation(run, source, names, (subject.module,))

    composing = kind in ("unknown-pruning-type", "structured-without-dim")
    return BadCall(f"user-method-{kind}", error, "CUSTOM-7", build=build, pruned_only=composing)


class UserHookError(Exception):
    """What a user's registration hook raises in `_failing_rewiring`: it must propagate as is."""


@contextmanager
def _buffer_registration_fails(module: nn.Module, buffer: str) -> Iterator[list[str]]:
    """A global buffer registration hook that raises when `module` registers `buffer`; yields
    the names it refused, so that a call that never registered it can be told apart."""
    refused: list[str] = []

    def hook(owner: nn.Module, name: str, tensor: object) -> None:
        if owner is module and name == buffer:
            refused.append(name)
            raise UserHookError(f"a user's buffer registration hook refused {name}")

    handle = register_module_buffer_registration_hook(hook)
    try:
        yield refused
    finally:
        handle.remove()


def _with_failing_rewiring(invocation: Invocation, index: int, name: str) -> Invocation:
    """`invocation` made while the registration of `<name>_mask` on its module `index` raises:
    the rewiring fails after every check passed (ATOMIC-3), in the last module of a global call
    after the others were rewired."""
    module, buffer = invocation.modules[index], f"{name}_mask"

    def run(prune: Any) -> Any:
        with _buffer_registration_fails(module, buffer) as refused:
            result = invocation.run(prune)
        if not refused:
            pytest.skip(f"{invocation.source} registered no {buffer} through torch's buffer "
                        "registration hooks, so a failing rewiring cannot be staged")
        return result

    source = (f"# while a registration hook raises for m{index}.{buffer}\n"
              f"{invocation.source}")
    return Invocation(run, source, invocation.names, invocation.modules,
                      invocation.preparation)


def _failing_rewiring_entry() -> BadCall:
    """A valid call whose rewiring fails in a user's buffer registration hook."""

    def build(draw: st.DrawFn, subjects: list[models.Subject], m: Method) -> Invocation:
        subject = subjects[0]
        return _with_failing_rewiring(_single(subject, _valid_call(draw, subject, m)), 0,
                                      subject.name)

    return BadCall("registration-hook-raises", UserHookError, "ATOMIC-3",
                   tuple(METHODS.values()), build)


# --- global_unstructured ----------------------------------------------------------------------

GLOBAL_METHODS = ("L1Unstructured", "RandomUnstructured")


def _total_remaining(subjects: list[models.Subject]) -> int:
    return sum(measure.remaining_units(measure.mask_or_ones(s.module, s.name), None)
               for s in subjects)


def _global_invocation(
    subjects: list[models.Subject], pairs: object, method_name: str, kwargs: dict[str, Any],
    importance_scores: object = None, names: tuple[object, ...] = (), preparation: str = "",
) -> Invocation:
    """The call, and its source with the subjects' modules as m0, m1, ... (the first name of a
    module that several subjects share)."""
    def run(prune: Any) -> Any:
        extra = {} if importance_scores is None else {"importance_scores": importance_scores}
        return prune.global_unstructured(pairs, getattr(prune, method_name), **extra, **kwargs)

    labels = {id(s.module): f"m{i}" for i, s in reversed(list(enumerate(subjects)))}
    args = "".join(f", {k}={python_literal(v)}" for k, v in kwargs.items())
    scores = ("" if importance_scores is None
              else f", importance_scores={literal(importance_scores, labels)}")
    source = (f"prune.global_unstructured({literal(pairs, labels)}, prune.{method_name}{scores}"
              f"{args})")
    return Invocation(run, source, names, tuple(s.module for s in subjects), preparation)


def _global_entry(entry_id: str, error: type[BaseException], clause: str,
                  make: Callable[..., Invocation]) -> BadCall:
    def build(draw: st.DrawFn, subjects: list[models.Subject], m: Method | None) -> Invocation:
        method_name = draw(st.sampled_from(GLOBAL_METHODS), label="pruning_method")
        pairs = [(s.module, s.name) for s in subjects]
        amount = draw(hh.amounts(_total_remaining(subjects)), label="amount")
        return make(draw, subjects, pairs, method_name, {"amount": amount})

    return BadCall(f"global-{entry_id}", error, clause, (), build, is_global=True)


def _global_amount(bad: hh.BadAmount) -> BadCall:
    def make(draw, subjects, pairs, method_name, kwargs) -> Invocation:
        value = _total_remaining(subjects) + 1 if bad.clause == "AMOUNT-6" else bad.value
        return _global_invocation(subjects, pairs, method_name, {"amount": value}, names=(value,))

    return _global_entry(_amount_id(bad), bad.error, bad.clause, make)


def _global_bad_pair(kind: str) -> BadCall:
    """One (module, name) of the list names a missing tensor, or a None parameter."""
    name, error = {"missing": (MISSING_NAME, AttributeError),
                   "none": (NONE_NAME, TypeError)}[kind]

    def make(draw, subjects, pairs, method_name, kwargs) -> Invocation:
        index = draw(st.integers(0, len(subjects) - 1), label="bad entry")
        preparation = ""
        if kind == "none":
            preparation = _prepare(_register_none(f"m{index}"),
                                   **{f"m{index}": subjects[index].module})
        pairs = [(m, name if i == index else n) for i, (m, n) in enumerate(pairs)]
        return _global_invocation(subjects, pairs, method_name, kwargs, names=(name,),
                                  preparation=preparation)

    return _global_entry(f"{kind}-name", error, "ERRORS-1", make)


def _global_scores(kind: str) -> BadCall:
    error, clause = {"not_a_tensor": (TypeError, "ERRORS-3"), "shape": (ValueError, "ERRORS-3"),
                     "device": (ValueError, "DEVICE-6"), "not_a_dict": (TypeError, "GLOBAL-6"),
                     }[kind]

    def make(draw, subjects, pairs, method_name, kwargs) -> Invocation:
        index = draw(st.integers(0, len(subjects) - 1), label="bad entry")
        param = subjects[index].param
        good = draw(hh.score_tensors(tuple(param.shape), param.dtype, param.device))
        names: tuple[object, ...] = ("importance_scores",)
        if kind == "not_a_tensor":
            scores: object = {pairs[index]: good.tolist()}
        elif kind == "shape":
            bad = good.reshape(other_shape(param.shape))
            scores, names = {pairs[index]: bad}, (tuple(bad.shape), tuple(param.shape))
        elif kind == "device":
            bad = good.to(other_device(param.device))
            scores, names = {pairs[index]: bad}, (bad.device,)
        else:
            scores = [good]
        return _global_invocation(subjects, pairs, method_name, kwargs, scores, names)

    return _global_entry(f"scores-{kind}", error, clause, make)


def _global_param_other_device() -> BadCall:
    def make(draw, subjects, pairs, method_name, kwargs) -> Invocation:
        index = draw(st.integers(1, len(subjects) - 1), label="moved entry")
        moved = other_device(subjects[0].param.device)
        preparation = _prepare(f"m{index}.to({str(moved)!r})",
                               **{f"m{index}": subjects[index].module})
        return _global_invocation(subjects, pairs, method_name, kwargs, names=(moved,),
                                  preparation=preparation)

    return _global_entry("param-other-device", ValueError, "DEVICE-6", make)


def _global_empty() -> BadCall:
    def make(draw, subjects, pairs, method_name, kwargs) -> Invocation:
        return _global_invocation(subjects, [], method_name, kwargs, names=("parameters",))

    return _global_entry("empty", ValueError, "GLOBAL-8", make)


def _global_duplicate() -> BadCall:
    def make(draw, subjects, pairs, method_name, kwargs) -> Invocation:
        index = draw(st.integers(0, len(pairs) - 1), label="duplicated entry")
        twice = [*pairs, pairs[index]]
        return _global_invocation(subjects, twice, method_name, kwargs, names=(pairs[index][1],))

    return _global_entry("duplicate", ValueError, "GLOBAL-8", make)


def _global_malformed(kind: str) -> BadCall:
    """`parameters` that is not iterable, or with one item that is not a (module, name) pair."""

    def make(draw, subjects, pairs, method_name, kwargs) -> Invocation:
        if kind == "not-iterable":
            return _global_invocation(subjects, 42, method_name, kwargs, names=("parameters",))
        index = draw(st.integers(0, len(pairs) - 1), label="malformed entry")
        module, name = pairs[index]
        bad = [*pairs[:index], (module, name, "extra"), *pairs[index + 1:]]
        return _global_invocation(subjects, bad, method_name, kwargs, names=("parameters",))

    return _global_entry(kind, TypeError, "GLOBAL-8", make)


def _global_failing_rewiring() -> BadCall:
    def make(draw, subjects, pairs, method_name, kwargs) -> Invocation:
        invocation = _global_invocation(subjects, pairs, method_name, kwargs)
        return _with_failing_rewiring(invocation, len(subjects) - 1, subjects[-1].name)

    return _global_entry("registration-hook-raises", UserHookError, "ATOMIC-3", make)


def _global_structured_method() -> BadCall:
    def make(draw, subjects, pairs, method_name, kwargs) -> Invocation:
        structured = draw(st.sampled_from(["LnStructured", "RandomStructured"]), label="method")
        extra = {"n": 1, "dim": 0} if structured == "LnStructured" else {"dim": 0}
        return _global_invocation(subjects, pairs, structured, {**kwargs, **extra},
                                  names=("structured",))

    return _global_entry("structured-method", TypeError, "GLOBAL-6", make)


# --- the catalogue ------------------------------------------------------------------------------

_SCORED = [m for m in METHODS.values() if m.takes_importance_scores]
_STRUCTURED = methods(structured=True)

BAD_CALLS: tuple[BadCall, ...] = (
    # Per method: torch's verdict on some amounts depends on the method (True prunes one channel
    # with ln_structured and fails inside topk elsewhere), and each departure needs its own id.
    *(_amount_entry(m, bad) for m in methods(takes_amount=True) for bad in hh.bad_amounts(0)),
    _name_entry("missing-name", AttributeError, MISSING_NAME),
    _name_entry("none-tensor", TypeError, NONE_NAME, _register_none("module")),
    _name_entry("not-a-tensor", TypeError, NOT_A_TENSOR_NAME,
                f"module.{NOT_A_TENSOR_NAME} = 0.5"),
    _name_entry("name-not-a-str", TypeError, 5),  # type: ignore[arg-type]
    _not_a_module_entry(),
    *(_scores_entry(m, kind) for m in _SCORED for kind in ("not_a_tensor", "shape", "device")),
    *(_dim_entry(m, side) for m in _STRUCTURED for side in ("low", "high", "type")),
    *(_low_dims_entry(m) for m in _STRUCTURED),
    *(_norm_entry(n) for n in ("nuc", "foo", None, 1j, -1.0, math.nan)),
    _mask_entry("shape"),
    _mask_entry("device"),
    _remove_entry(),
    _failing_method_entry("compute_mask"),
    _failing_method_entry("apply_mask"),
    _failing_rewiring_entry(),
    *(_broken_method_entry(kind) for kind in ("returns-a-list", "returns-another-shape",
                                              "unknown-pruning-type", "structured-without-dim")),
    *(_global_amount(bad) for bad in hh.bad_amounts(units=0)),
    _global_bad_pair("missing"),
    _global_bad_pair("none"),
    *(_global_scores(kind) for kind in ("not_a_tensor", "shape", "device", "not_a_dict")),
    _global_param_other_device(),
    _global_empty(),
    _global_duplicate(),
    _global_malformed("not-iterable"),
    _global_malformed("malformed-pair"),
    _global_structured_method(),
    _global_failing_rewiring(),
)


def bad_calls(*, clauses: Sequence[str] | None = None, areas: Sequence[str] | None = None,
              is_global: bool | None = None, exclude_areas: Sequence[str] = ()) -> list[BadCall]:
    """Catalogue entries by clause, clause area or single/global."""
    return [b for b in BAD_CALLS
            if (clauses is None or b.clause in clauses)
            and (areas is None or b.clause.partition("-")[0] in areas)
            and b.clause.partition("-")[0] not in exclude_areas
            and (is_global is None or b.is_global == is_global)]


# --- drawing a bad call with its subjects -------------------------------------------------------

FRESH, PRUNED = "fresh", "pruned"
STATES = (FRESH, PRUNED)


def _subject_for(device: torch.device, entry: BadCall, dtype: torch.dtype | None,
                 ) -> st.SearchStrategy[models.Subject]:
    # Values decide nothing in a rejected call; TIES values are the cheapest to draw.
    if entry.max_dims < 2:
        return hh.subjects(device, mode=hh.TIES, dtype=dtype, min_dims=0).filter(
            lambda s: s.param.dim() <= entry.max_dims)
    return hh.subjects(device, mode=hh.TIES, dtype=dtype, min_dims=entry.min_dims)


def _prune_earlier(draw: st.DrawFn, prune: Any, subject: models.Subject, calls: int) -> list[Call]:
    """Valid earlier calls on the subject (random methods under a drawn seed), applied."""
    done = []
    for _ in range(calls):
        call = draw(hh.calls(subject, importance_scores=False), label="earlier call")
        # Seeded: the mask of a random earlier call decides which later draws are valid.
        with hh.seeded(draw(hh.seeds(), label="seed"), subject.param.device):
            call(prune, subject.module, subject.name)
        done.append(call)
    return done


@dataclass
class Drawn:
    """A drawn bad call: its subjects (already pruned in the PRUNED state) and the invocation."""

    entry: BadCall
    state: str
    subjects: list[models.Subject]
    earlier: list[str]
    invocation: Invocation

    def __repr__(self) -> str:
        lines = [f"{s.source} as m{i}, pruning {s.name!r}" for i, s in enumerate(self.subjects)]
        lines += self.earlier
        lines += [self.invocation.preparation] if self.invocation.preparation else []
        lines.append(self.invocation.source)
        return "\n".join(lines)


def fits_state(entry: BadCall, state: str) -> bool:
    """Whether `entry` is a bad call in `state` (FRESH or PRUNED)."""
    return not ((entry.fresh_only and state == PRUNED) or (entry.pruned_only and state == FRESH))


def first_state(entry: BadCall) -> str:
    """The state in which `entry` is rejected first: FRESH, or PRUNED for `pruned_only`."""
    return PRUNED if entry.pruned_only else FRESH


@st.composite
def drawn_bad_calls(draw: st.DrawFn, prune: Any, device: torch.device, entry: BadCall,
                    state: str | None = None) -> Drawn:
    """Subjects for `entry`, pruned by 1-2 earlier valid calls in the PRUNED state, and the call
    (the state `first_state(entry)` unless given)."""
    state = state or first_state(entry)
    dtype = draw(hh.dtypes(device), label="dtype")
    count = draw(st.integers(2, 3), label="modules") if entry.is_global else 1
    subjects = [draw(_subject_for(device, entry, dtype), label=f"m{i}") for i in range(count)]
    earlier: list[str] = []
    if state == PRUNED:
        for i, subject in enumerate(subjects):
            calls = draw(st.integers(1, 2), label="earlier calls") if i == 0 else 1
            earlier += [f"{c.source(f'm{i}', subject.name)}"
                        for c in _prune_earlier(draw, prune, subject, calls)]
    method = draw(st.sampled_from(entry.methods), label="method") if entry.methods else None
    invocation = entry.build(draw, subjects, method)
    return Drawn(entry, state, subjects, earlier, invocation)
