"""Bad calls of `global_unstructured`: each builder gets the subjects, their (module, name) pairs,
a drawn method and valid keyword arguments, and spoils one thing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from conformance import measure, models
from conformance import strategies as hh
from conformance.bad_call import (
    MISSING_NAME,
    NONE_NAME,
    BadCall,
    Invocation,
    amount_id,
    other_device,
    other_shape,
    prepare,
    register_none,
)
from conformance.registry import Method, python_literal
from conformance.source import literal

GLOBAL_METHODS = ("L1Unstructured", "RandomUnstructured")


def total_remaining(subjects: list[models.Subject]) -> int:
    return sum(measure.remaining_units(measure.mask_or_ones(s.module, s.name), None)
               for s in subjects)


def global_invocation(
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


def global_entry(entry_id: str, error: type[BaseException], clause: str,
                  make: Callable[..., Invocation]) -> BadCall:
    def build(draw: st.DrawFn, subjects: list[models.Subject], m: Method | None) -> Invocation:
        method_name = draw(st.sampled_from(GLOBAL_METHODS), label="pruning_method")
        pairs = [(s.module, s.name) for s in subjects]
        amount = draw(hh.amounts(total_remaining(subjects)), label="amount")
        return make(draw, subjects, pairs, method_name, {"amount": amount})

    return BadCall(f"global-{entry_id}", error, clause, (), build, is_global=True)


def global_amount(bad: hh.BadAmount) -> BadCall:
    def make(draw, subjects, pairs, method_name, kwargs) -> Invocation:
        value = total_remaining(subjects) + 1 if bad.clause == "AMOUNT-6" else bad.value
        return global_invocation(subjects, pairs, method_name, {"amount": value}, names=(value,))

    return global_entry(amount_id(bad), bad.error, bad.clause, make)


def global_bad_pair(kind: str) -> BadCall:
    """One (module, name) of the list names a missing tensor, or a None parameter."""
    name, error = {"missing": (MISSING_NAME, AttributeError),
                   "none": (NONE_NAME, TypeError)}[kind]

    def make(draw, subjects, pairs, method_name, kwargs) -> Invocation:
        index = draw(st.integers(0, len(subjects) - 1), label="bad entry")
        preparation = ""
        if kind == "none":
            preparation = prepare(register_none(f"m{index}"),
                                   **{f"m{index}": subjects[index].module})
        pairs = [(m, name if i == index else n) for i, (m, n) in enumerate(pairs)]
        return global_invocation(subjects, pairs, method_name, kwargs, names=(name,),
                                  preparation=preparation)

    return global_entry(f"{kind}-name", error, "ERRORS-1", make)


def global_scores(kind: str) -> BadCall:
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
            scores, names = [good], ("importance_scores", "list")  # the type it was given
        return global_invocation(subjects, pairs, method_name, kwargs, scores, names)

    return global_entry(f"scores-{kind}", error, clause, make)


def global_param_other_device() -> BadCall:
    def make(draw, subjects, pairs, method_name, kwargs) -> Invocation:
        index = draw(st.integers(1, len(subjects) - 1), label="moved entry")
        moved = other_device(subjects[0].param.device)
        preparation = prepare(f"m{index}.to({str(moved)!r})",
                               **{f"m{index}": subjects[index].module})
        return global_invocation(subjects, pairs, method_name, kwargs, names=(moved,),
                                  preparation=preparation)

    return global_entry("param-other-device", ValueError, "DEVICE-6", make)


def global_empty() -> BadCall:
    def make(draw, subjects, pairs, method_name, kwargs) -> Invocation:
        return global_invocation(subjects, [], method_name, kwargs, names=("parameters",))

    return global_entry("empty", ValueError, "GLOBAL-8", make)


def global_duplicate() -> BadCall:
    def make(draw, subjects, pairs, method_name, kwargs) -> Invocation:
        index = draw(st.integers(0, len(pairs) - 1), label="duplicated entry")
        twice = [*pairs, pairs[index]]
        return global_invocation(subjects, twice, method_name, kwargs, names=(pairs[index][1],))

    return global_entry("duplicate", ValueError, "GLOBAL-8", make)


def global_malformed(kind: str) -> BadCall:
    """`parameters` that is not iterable, or with one item that is not a (module, name) pair."""

    def make(draw, subjects, pairs, method_name, kwargs) -> Invocation:
        if kind == "not-iterable":
            return global_invocation(subjects, 42, method_name, kwargs, names=("parameters",))
        index = draw(st.integers(0, len(pairs) - 1), label="malformed entry")
        module, name = pairs[index]
        bad = [*pairs[:index], (module, name, "extra"), *pairs[index + 1:]]
        return global_invocation(subjects, bad, method_name, kwargs, names=("parameters",))

    return global_entry(kind, TypeError, "GLOBAL-8", make)


def global_structured_method() -> BadCall:
    def make(draw, subjects, pairs, method_name, kwargs) -> Invocation:
        structured = draw(st.sampled_from(["LnStructured", "RandomStructured"]), label="method")
        extra = {"n": 1, "dim": 0} if structured == "LnStructured" else {"dim": 0}
        return global_invocation(subjects, pairs, structured, {**kwargs, **extra},
                                  names=("structured",))

    return global_entry("structured-method", TypeError, "GLOBAL-6", make)
