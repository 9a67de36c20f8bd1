"""Assertions that speak the spec: each failure names its clause, the expected and the seen.

Properties import this module as `ck` and never use a bare `assert` for a spec rule, so that every
failure reads like `AMOUNT-2: 0.5 of 5 entries must prune round(2.5) = 2, pruned 3`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from conformance import spec
from conformance.render import masks_side_by_side


class SpecViolation(AssertionError):
    """A departure from SPEC.md; the message starts with the clause id."""

    def __init__(self, clause: str, message: str) -> None:
        if clause not in spec.clauses():
            raise KeyError(f"checks cite unknown clause {clause!r}")
        self.clause = clause
        super().__init__(f"{clause}: {message}")


def fail(clause: str, message: str) -> None:
    raise SpecViolation(clause, message)


def expect(condition: bool, clause: str, message: str) -> None:
    if not condition:
        raise SpecViolation(clause, message)


def expect_equal(seen: object, expected: object, clause: str, what: str) -> None:
    if seen != expected:
        raise SpecViolation(clause, f"{what}: expected {expected!r}, seen {seen!r}")


def expect_raises(
    clause: str, expected: type[BaseException] | tuple[type[BaseException], ...],
    call: Callable[[], Any], what: str,
) -> BaseException:
    """Run `call`, which the spec says must be rejected with `expected`; return the exception."""
    names = (expected,) if isinstance(expected, type) else expected
    wanted = " or ".join(t.__name__ for t in names)
    try:
        call()
    except expected as exc:
        return exc
    except Exception as exc:
        raise SpecViolation(
            clause, f"{what} must raise {wanted}, raised {type(exc).__name__}: {exc}"
        ) from exc
    raise SpecViolation(clause, f"{what} must raise {wanted}, returned normally")


def expect_message_names(exc: BaseException, value: object, clause: str, what: str) -> None:
    """ERRORS-4: the message names the bad value (its repr or str)."""
    text = str(exc)
    spellings = {repr(value), str(value)}
    if isinstance(value, float) and math.isnan(value):
        spellings.add("nan")
    expect(any(s in text for s in spellings), clause,
           f"{what}: the message must name the bad value {value!r}, was {text!r}")


# --- the model of the spec: units and counts -------------------------------------------------

def expected_count(amount: numbers.Real, units: int) -> int:
    """AMOUNT-1/AMOUNT-2: an int is a count, a float a fraction rounded half to even."""
    if isinstance(amount, numbers.Integral):
        return int(amount)
    return round(float(amount) * units)


def channel_dims(ndim: int, dim: int) -> list[int]:
    dim = dim % ndim
    return [d for d in range(ndim) if d != dim]


def alive_channels(mask: torch.Tensor, dim: int) -> torch.Tensor:
    """Bool per channel along `dim`: does it still hold an unpruned entry?"""
    return mask.ne(0).sum(dim=channel_dims(mask.dim(), dim)).ne(0)


def remaining_units(mask: torch.Tensor, dim: int | None) -> int:
    if dim is None:
        return int(mask.ne(0).sum())
    return int(alive_channels(mask, dim).sum())


def pruned_entries(mask: torch.Tensor) -> int:
    return int(mask.eq(0).sum())


def expect_binary_mask(mask: torch.Tensor, param: torch.Tensor, clause: str) -> None:
    """REPARAM-2: shape, dtype and device of the parameter; only 0 and 1."""
    expect_equal(tuple(mask.shape), tuple(param.shape), clause, "mask shape")
    expect_equal(mask.dtype, param.dtype, clause, "mask dtype")
    expect_equal(mask.device, param.device, clause, "mask device")
    binary = bool(((mask == 0) | (mask == 1)).all())
    values = sorted(set(mask.flatten().tolist()))[:8]
    expect(binary, clause, f"mask must hold only 0 and 1, holds {values}")


def expect_same_mask(seen: torch.Tensor, expected: torch.Tensor, clause: str, what: str) -> None:
    """Masks equal entry for entry; on failure the message draws both (expected beside seen)."""
    same = seen.shape == expected.shape and bool(seen.ne(0).cpu().eq(expected.ne(0).cpu()).all())
    if not same:
        raise SpecViolation(clause, f"{what}:\n{masks_side_by_side(expected, seen)}")


def expect_monotone(before: torch.Tensor, after: torch.Tensor, clause: str) -> None:
    """COMPOSE-1: an entry pruned before stays pruned."""
    revived = before.eq(0) & after.ne(0)
    if bool(revived.any()):
        raise SpecViolation(
            clause, f"{int(revived.sum())} pruned entries were revived:\n"
                    f"{masks_side_by_side(before, after, 'before', 'after')}")


# --- module snapshots for ATOMIC --------------------------------------------------------------

def _hook_history(hook: object) -> tuple[tuple[str, int], ...]:
    methods = getattr(hook, "_pruning_methods", None)
    if methods is None:
        return ((type(hook).__name__, id(hook)),)
    return tuple((type(m).__name__, id(m)) for m in methods)


@dataclass(frozen=True)
class ModuleSnapshot:
    """Everything ATOMIC-1 calls *unchanged*, for a module and its submodules."""

    parameters: dict[str, tuple[int, torch.Tensor]]
    buffers: dict[str, torch.Tensor]
    hooks: dict[str, tuple[tuple[int, int, tuple[tuple[str, int], ...]], ...]]
    attributes: dict[str, tuple[str, ...]]

    @classmethod
    def take(cls, module: nn.Module) -> ModuleSnapshot:
        parameters, buffers, hooks, attributes = {}, {}, {}, {}
        for prefix, sub in module.named_modules(remove_duplicate=False):
            for name, p in sub._parameters.items():
                key = f"{prefix}.{name}" if prefix else name
                parameters[key] = (id(p), None if p is None else p.detach().clone())
            for name, b in sub._buffers.items():
                key = f"{prefix}.{name}" if prefix else name
                buffers[key] = None if b is None else b.detach().clone()
            hooks[prefix] = tuple(
                (k, id(h), _hook_history(h)) for k, h in sub._forward_pre_hooks.items()
            )
            attributes[prefix] = tuple(sorted(vars(sub)))
        return cls(parameters, buffers, hooks, attributes)

    def differences(self, other: ModuleSnapshot) -> list[str]:
        found = []
        if self.parameters.keys() != other.parameters.keys():
            found.append(f"parameters {sorted(self.parameters)} became {sorted(other.parameters)}")
        for key in self.parameters.keys() & other.parameters.keys():
            (id_a, a), (id_b, b) = self.parameters[key], other.parameters[key]
            if id_a != id_b:
                found.append(f"parameter {key} is another object")
            elif not _same_values(a, b):
                found.append(f"parameter {key} changed values")
        if self.buffers.keys() != other.buffers.keys():
            found.append(f"buffers {sorted(self.buffers)} became {sorted(other.buffers)}")
        for key in self.buffers.keys() & other.buffers.keys():
            if not _same_values(self.buffers[key], other.buffers[key]):
                found.append(f"buffer {key} changed values")
        for prefix in self.hooks:
            if self.hooks[prefix] != other.hooks.get(prefix):
                found.append(f"forward pre-hooks of {prefix or 'the module'} changed: "
                             f"{_describe_hooks(self.hooks[prefix])} became "
                             f"{_describe_hooks(other.hooks.get(prefix, ()))}")
        for prefix in self.attributes:
            if self.attributes[prefix] != other.attributes.get(prefix):
                added = set(other.attributes.get(prefix, ())) - set(self.attributes[prefix])
                lost = set(self.attributes[prefix]) - set(other.attributes.get(prefix, ()))
                found.append(f"attributes of {prefix or 'the module'}: added {sorted(added)}, "
                             f"lost {sorted(lost)}")
        return found


def _same_values(a: torch.Tensor | None, b: torch.Tensor | None) -> bool:
    if a is None or b is None:
        return a is b
    return (a.shape == b.shape and a.dtype == b.dtype
            and bool(torch.equal(a.nan_to_num(), b.nan_to_num())))


def _describe_hooks(hooks: tuple) -> str:
    return "[" + ", ".join("+".join(name for name, _ in history) for _, _, history in hooks) + "]"


def expect_unchanged(before: ModuleSnapshot, module: nn.Module, clause: str, what: str) -> None:
    changes = before.differences(ModuleSnapshot.take(module))
    if changes:
        raise SpecViolation(
            clause, f"{what} was rejected but changed the module: " + "; ".join(changes))


def expect_rejected_unchanged(
    module: nn.Module, call: Callable[[], Any], expected: type[BaseException],
    error_clause: str, what: str, atomic_clause: str = "ATOMIC-1",
) -> BaseException:
    """The common shape of ERRORS/ATOMIC properties: the right error, and nothing changed."""
    before = ModuleSnapshot.take(module)
    try:
        exc = expect_raises(error_clause, expected, call, what)
    except SpecViolation:
        # A wrong error type is the primary finding; still report a broken module alongside.
        changes = before.differences(ModuleSnapshot.take(module))
        if changes:
            raise SpecViolation(atomic_clause, f"{what} failed and changed the module: "
                                + "; ".join(changes)) from None
        raise
    expect_unchanged(before, module, atomic_clause, what)
    return exc


# --- reading a pruned tensor -------------------------------------------------------------------

def pruning_hooks(prune: Any, module: nn.Module, name: str) -> list[Any]:
    return [h for h in module._forward_pre_hooks.values()
            if isinstance(h, prune.BasePruningMethod) and getattr(h, "_tensor_name", None) == name]


def history(prune: Any, module: nn.Module, name: str) -> list[Any]:
    """The methods applied to the tensor, in order (COMPOSE-4)."""
    hooks = pruning_hooks(prune, module, name)
    if not hooks:
        return []
    hook = hooks[0]
    return list(hook) if isinstance(hook, prune.PruningContainer) else [hook]


def current_mask(module: nn.Module, name: str) -> torch.Tensor | None:
    """The mask of a pruned tensor, or None: a tensor never pruned has an implicit mask of ones."""
    return module._buffers.get(f"{name}_mask")


def mask_or_ones(module: nn.Module, name: str) -> torch.Tensor:
    mask = current_mask(module, name)
    return torch.ones_like(getattr(module, name)) if mask is None else mask.detach().clone()


def original(module: nn.Module, name: str) -> torch.Tensor:
    """The unmasked values: `name_orig` if pruned, else the parameter itself."""
    orig = module._parameters.get(f"{name}_orig")
    return (orig if orig is not None else getattr(module, name)).detach()
