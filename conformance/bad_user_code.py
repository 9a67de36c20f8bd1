"""Bad calls made by user code rather than by bad arguments: a user's method that raises
(ATOMIC-1) or breaks CUSTOM-1's contract (CUSTOM-7), and a user's registration hook that makes the
rewiring fail (ATOMIC-3).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import torch
from hypothesis import strategies as st
from torch import nn
from torch.nn.modules.module import register_module_buffer_registration_hook

from conformance import models
from conformance.bad_call import BadCall, Invocation, single, valid_call
from conformance.bad_global_calls import global_entry, global_invocation
from conformance.registry import METHODS, Method


class UserMethodError(Exception):
    """What a user's pruning method raises in `failing_method_entry`: it must propagate as is."""


def failing_method_entry(where: str) -> BadCall:
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


# What each broken method breaks: (error, names its message must hold, PRUNING_TYPE, what its
# compute_mask returns, in source form).
BROKEN_METHODS = {
    "returns-a-list": (TypeError, (BROKEN_METHOD, "list"), "unstructured", "[1.0]"),
    "returns-another-shape": (ValueError, (BROKEN_METHOD, BROKEN_SHAPE), "unstructured",
                              f"torch.ones{BROKEN_SHAPE}"),
    "unknown-pruning-type": (ValueError, (BROKEN_METHOD, "sideways"), "sideways",
                             "default_mask"),
    "structured-without-dim": (AttributeError, (BROKEN_METHOD, "dim"), "structured",
                               "default_mask"),
}


def broken_method(prune: Any, kind: str, pruning_type: str | None = None) -> type:
    """The user's method class named BROKEN_METHOD that breaks the contract as `kind` says
    (BROKEN_METHODS), with `pruning_type` instead of the kind's own (a structured one acts on
    dim -1)."""
    pruning_type = pruning_type or BROKEN_METHODS[kind][2]

    def compute_mask(self: Any, t: torch.Tensor, default_mask: torch.Tensor) -> object:
        if kind == "returns-a-list":
            return [1.0]
        if kind == "returns-another-shape":
            return torch.ones(BROKEN_SHAPE, dtype=default_mask.dtype, device=default_mask.device)
        return default_mask

    body: dict[str, Any] = {"PRUNING_TYPE": pruning_type, "compute_mask": compute_mask}
    if pruning_type == "structured" and kind != "structured-without-dim":
        body["dim"] = -1
    return type(BROKEN_METHOD, (prune.BasePruningMethod,), body)


def broken_method_source(kind: str, pruning_type: str | None = None) -> str:
    pruning_type = pruning_type or BROKEN_METHODS[kind][2]
    return (f"class {BROKEN_METHOD}(prune.BasePruningMethod):  # PRUNING_TYPE "
            f"{pruning_type!r}, compute_mask returns {BROKEN_METHODS[kind][3]}")


def broken_method_entry(kind: str) -> BadCall:
    """A user's method that breaks CUSTOM-1's contract (CUSTOM-7): compute_mask returns a list or
    a tensor of another shape, or, on a pruned tensor (its kind matters once it composes,
    COMPOSE-2), the method has a PRUNING_TYPE composition does not know, or is structured
    without a `dim`."""
    error, names = BROKEN_METHODS[kind][:2]

    def build(draw: st.DrawFn, subjects: list[models.Subject], m: Method) -> Invocation:
        subject = subjects[0]

        def run(prune: Any) -> Any:
            return broken_method(prune, kind).apply(subject.module, subject.name)

        source = (f"{broken_method_source(kind)}\n"
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


def with_failing_rewiring(invocation: Invocation, index: int, name: str) -> Invocation:
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


def failing_rewiring_entry() -> BadCall:
    """A valid call whose rewiring fails in a user's buffer registration hook."""

    def build(draw: st.DrawFn, subjects: list[models.Subject], m: Method) -> Invocation:
        subject = subjects[0]
        return with_failing_rewiring(single(subject, valid_call(draw, subject, m)), 0,
                                      subject.name)

    return BadCall("registration-hook-raises", UserHookError, "ATOMIC-3",
                   tuple(METHODS.values()), build)




def global_failing_rewiring() -> BadCall:
    def make(draw, subjects, pairs, method_name, kwargs) -> Invocation:
        invocation = global_invocation(subjects, pairs, method_name, kwargs)
        return with_failing_rewiring(invocation, len(subjects) - 1, subjects[-1].name)

    return global_entry("registration-hook-raises", UserHookError, "ATOMIC-3", make)
