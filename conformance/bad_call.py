"""A bad call as data (`BadCall`, `Invocation`) and the blocks its builders share: a valid call
drawn for a subject, changed in one argument, made on one tensor, after a preparation written once
as the source a snippet shows (`prepare` runs that source). The catalogue is conformance.bad_inputs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from hypothesis import strategies as st
from torch import nn

from conformance import models
from conformance import strategies as hh
from conformance.registry import Call, Method

# Names the builders give to tensors a subject does not have; chosen not to clash with any layer's.
MISSING_NAME = "no_such_tensor"
NONE_NAME = "none_tensor"
NOT_A_TENSOR_NAME = "not_a_tensor"
BUFFER_NAME = "a_buffer"
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

def valid_call(draw: st.DrawFn, subject: models.Subject, method: Method) -> Call:
    """A valid call of `method` for the subject as it is now, without importance scores."""
    return draw(hh.calls(subject, [method], importance_scores=False))


def with_changes(call: Call, **changes: object) -> Call:
    return Call(call.method, {**call.kwargs, **changes})


def prepare(source: str, **variables: nn.Module) -> str:
    """Prepare modules by running `source` with them bound to their snippet names; the source."""
    exec(source, {}, variables)
    return source


def single(subject: models.Subject, call: Call, name: str | None = None,
            names: tuple[object, ...] = (), preparation: str = "") -> Invocation:
    name = subject.name if name is None else name
    return Invocation(lambda prune: call(prune, subject.module, name),
                      call.source(name=name), names, (subject.module,), preparation)


def amount_id(bad: hh.BadAmount) -> str:
    # AMOUNT-6's value is computed from the subject: one more than the units that remain.
    return "amount=remaining+1" if bad.clause == "AMOUNT-6" else f"amount={bad.value!r}"


def register_none(variable: str) -> str:
    # What nn.Linear(bias=False) does for its bias.
    return f"{variable}.register_parameter({NONE_NAME!r}, None)"
