"""The catalogue of bad calls: every input SPEC.md rejects, as data, in one place.

Each `BadCall` says how to build the rejected call for a subject (or, for `global_unstructured`,
for a few subjects), which exception the spec asks for and which clause says so. The ATOMIC,
ERRORS and DEVICE properties iterate over `BAD_CALLS` (a new bad input is one entry here, not a new
test), and the kit's tests can replay an entry by hand.

A builder may prepare the module before the call (e.g. register a `None` parameter, as
`nn.Linear(bias=False)` does); properties take their snapshot after building, so preparation is not
a change made by the call. A preparation is written once, as the source a snippet shows, and made
by running that source (`conformance.bad_call.prepare`). The entries made by user code (a
user's failing method or hook) are built in conformance.bad_user_code, the global ones in
conformance.bad_global_calls.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from hypothesis import strategies as st
from torch import nn

from conformance import bad_global_calls as bg
from conformance import bad_user_code as bu
from conformance import measure, models
from conformance import strategies as hh
from conformance.bad_call import (
    BUFFER_NAME,
    MISSING_NAME,
    NONE_NAME,
    NOT_A_TENSOR_NAME,
    SPARE_NAME,
    BadCall,
    Invocation,
    amount_id,
    other_device,
    other_shape,
    prepare,
    register_none,
    single,
    valid_call,
    with_changes,
)
from conformance.bad_user_code import UserHookError, UserMethodError
from conformance.registry import METHODS, Call, Method, methods

__all__ = ["BadCall", "Invocation", "UserHookError", "UserMethodError", "other_device",
           "other_shape"]


def _amount_entry(method: Method, bad: hh.BadAmount) -> BadCall:
    def build(draw: st.DrawFn, subjects: list[models.Subject], method: Method) -> Invocation:
        subject = subjects[0]
        call = valid_call(draw, subject, method)
        value = bad.value
        if bad.clause == "AMOUNT-6":  # one more than the units that remain
            mask = measure.mask_or_ones(subject.module, subject.name)
            value = measure.remaining_units(mask, call.dim) + 1
        return single(subject, with_changes(call, amount=value), names=(value,))

    return BadCall(f"{method.function}-{amount_id(bad)}", bad.error, bad.clause, (method,), build)


def _name_entry(entry_id: str, error: type[BaseException], name: str,
                preparation: str = "") -> BadCall:
    """A call naming `name`, which the module has not, or has after `preparation` (source, the
    module as `module`) as something that is not a tensor."""
    def build(draw: st.DrawFn, subjects: list[models.Subject], method: Method) -> Invocation:
        subject = subjects[0]
        call = valid_call(draw, subject, method)
        if preparation:
            prepare(preparation, module=subject.module)
        return single(subject, call, name=name, names=(name,), preparation=preparation)

    return BadCall(entry_id, error, "ERRORS-1", tuple(METHODS.values()), build)


NOT_A_MODULE = "not a module"


def _not_a_module_entry() -> BadCall:
    """The module argument is not an nn.Module (a str, spelled as is in a snippet)."""

    def build(draw: st.DrawFn, subjects: list[models.Subject], method: Method) -> Invocation:
        subject = subjects[0]
        call = valid_call(draw, subject, method)
        return Invocation(lambda prune: call(prune, NOT_A_MODULE, subject.name),
                          call.source(module=repr(NOT_A_MODULE), name=subject.name),
                          (NOT_A_MODULE,), (subject.module,))

    return BadCall("module-not-a-module", TypeError, "ERRORS-1", tuple(METHODS.values()), build)


def _scores_entry(method: Method, kind: str) -> BadCall:
    """importance_scores that are not a tensor, of another shape or on another device."""
    error, clause = {"not_a_tensor": (TypeError, "ERRORS-3"), "shape": (ValueError, "ERRORS-3"),
                     "device": (ValueError, "DEVICE-6")}[kind]

    def build(draw: st.DrawFn, subjects: list[models.Subject], m: Method) -> Invocation:
        subject = subjects[0]
        param = subject.param
        call = valid_call(draw, subject, m)
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
        return single(subject, with_changes(call, importance_scores=scores), names=names)

    return BadCall(f"{method.function}-scores-{kind}", error, clause, (method,), build)


def _dim_entry(method: Method, side: str) -> BadCall:
    def build(draw: st.DrawFn, subjects: list[models.Subject], m: Method) -> Invocation:
        subject = subjects[0]
        ndim = subject.param.dim()
        dim = {"high": ndim, "low": -ndim - 1, "type": 0.5}[side]
        call = valid_call(draw, subject, m)
        return single(subject, with_changes(call, dim=dim), names=(dim,))

    error = TypeError if side == "type" else IndexError
    return BadCall(f"{method.function}-dim-{side}", error, "ERRORS-2", (method,), build)


def _low_dims_entry(method: Method) -> BadCall:
    def build(draw: st.DrawFn, subjects: list[models.Subject], m: Method) -> Invocation:
        subject = subjects[0]
        kwargs: dict[str, Any] = {"amount": 0, "dim": draw(st.sampled_from([0, -1]))}
        if m.function == "ln_structured":
            kwargs["n"] = 1
        call = Call(m, kwargs)
        return single(subject, call, names=(tuple(subject.param.shape),))

    # The subject is 0-d or 1-d on purpose (max_dims), below the method's own min_dims.
    return BadCall(f"{method.function}-0d-or-1d", ValueError, "STRUCT-4", (method,), build,
                   max_dims=1)


def _norm_entry(n: object) -> BadCall:
    method = METHODS["ln_structured"]

    def build(draw: st.DrawFn, subjects: list[models.Subject], m: Method) -> Invocation:
        subject = subjects[0]
        return single(subject, with_changes(valid_call(draw, subject, m), n=n), names=(n,))

    return BadCall(f"ln_structured-n={n!r}", ValueError, "STRUCT-6", (method,), build)


def _mask_entry(kind: str) -> BadCall:
    method = METHODS["custom_from_mask"]
    clause = "CUSTOM-5" if kind == "shape" else "DEVICE-6"

    def build(draw: st.DrawFn, subjects: list[models.Subject], m: Method) -> Invocation:
        subject = subjects[0]
        call = valid_call(draw, subject, m)
        mask = call.kwargs["mask"]
        if kind == "shape":
            bad = mask.reshape(other_shape(mask.shape))
            names: tuple[object, ...] = (tuple(bad.shape), tuple(mask.shape))
        else:
            bad = mask.to(other_device(mask.device))
            names = (bad.device,)
        return single(subject, with_changes(call, mask=bad), names=names)

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


# --- the catalogue ------------------------------------------------------------------------------

_SCORED = [m for m in METHODS.values() if m.takes_importance_scores]
_STRUCTURED = methods(structured=True)

BAD_CALLS: tuple[BadCall, ...] = (
    # Per method: torch's verdict on some amounts depends on the method (True prunes one channel
    # with ln_structured and fails inside topk elsewhere), and each departure needs its own id.
    *(_amount_entry(m, bad) for m in methods(takes_amount=True) for bad in hh.bad_amounts(0)),
    _name_entry("missing-name", AttributeError, MISSING_NAME),
    _name_entry("none-tensor", TypeError, NONE_NAME, register_none("module")),
    _name_entry("not-a-tensor", TypeError, NOT_A_TENSOR_NAME,
                f"module.{NOT_A_TENSOR_NAME} = 0.5"),
    _name_entry("buffer-name", TypeError, BUFFER_NAME,
                f"module.register_buffer({BUFFER_NAME!r}, next(module.parameters()).detach()"
                ".clone())"),
    _name_entry("name-not-a-str", TypeError, 5),  # type: ignore[arg-type]
    _not_a_module_entry(),
    *(_scores_entry(m, kind) for m in _SCORED for kind in ("not_a_tensor", "shape", "device")),
    *(_dim_entry(m, side) for m in _STRUCTURED for side in ("low", "high", "type")),
    *(_low_dims_entry(m) for m in _STRUCTURED),
    *(_norm_entry(n) for n in ("nuc", "foo", None, 1j, -1.0, math.nan)),
    _mask_entry("shape"),
    _mask_entry("device"),
    _remove_entry(),
    bu.failing_method_entry("compute_mask"),
    bu.failing_method_entry("apply_mask"),
    bu.failing_rewiring_entry(),
    *(bu.broken_method_entry(kind) for kind in ("returns-a-list", "returns-another-shape",
                                              "unknown-pruning-type", "structured-without-dim")),
    *(bg.global_amount(bad) for bad in hh.bad_amounts(units=0)),
    bg.global_bad_pair("missing"),
    bg.global_bad_pair("none"),
    *(bg.global_scores(kind) for kind in ("not_a_tensor", "shape", "device", "not_a_dict")),
    bg.global_param_other_device(),
    bg.global_empty(),
    bg.global_duplicate(),
    bg.global_malformed("not-iterable"),
    bg.global_malformed("malformed-pair"),
    bg.global_structured_method(),
    bu.global_failing_rewiring(),
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
