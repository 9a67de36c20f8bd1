"""Assertions that speak the spec: each failure names its clause, the expected and the seen.

Properties import this module as `ck` and never use a bare `assert` for a spec rule, so that every
failure reads like `AMOUNT-2: 0.5 of 5 entries must prune round(2.5) = 2, pruned 3`.
"""

from __future__ import annotations

import math
import os
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from conformance import devices, spec
from conformance import expectations as ex
from conformance.measure import pruning_hooks
from conformance.recording import checked_call
from conformance.render import masks_side_by_side


class SpecViolation(AssertionError):
    """A departure from SPEC.md; the message starts with the clause id. `expectation`: the
    check as a snippet's assertion (`conformance.expectations`), where the check can say it."""

    def __init__(self, clause: str, message: str, expectation: Any = None) -> None:
        if clause not in spec.clauses():
            raise KeyError(f"checks cite unknown clause {clause!r}")
        self.clause = clause
        self.expectation = expectation
        super().__init__(f"{clause}: {message}")


def fail(clause: str, message: str, expectation: Any = None) -> None:
    raise SpecViolation(clause, message, expectation)


def expect(condition: bool, clause: str, message: str) -> None:
    if not condition:
        raise SpecViolation(clause, message)


def expect_equal(seen: object, expected: object, clause: str, what: str) -> None:
    if seen != expected:
        raise SpecViolation(clause, f"{what}: expected {expected!r}, seen {seen!r}")


def expect_on_device(t: torch.Tensor, wanted: torch.device, clause: str, what: str) -> None:
    """`t` lives on the device the run asked for (`conformance.devices.same_device`)."""
    if not devices.same_device(t.device, wanted):
        raise SpecViolation(clause, f"{what}: expected {devices.concrete(wanted)} (asked for "
                                    f"{wanted}), seen {t.device}")


def expect_raises(
    clause: str, expected: type[BaseException] | tuple[type[BaseException], ...],
    call: Callable[[], Any], what: str,
) -> BaseException:
    """Run `call`, which the spec says must be rejected with `expected`; return the exception."""
    names = (expected,) if isinstance(expected, type) else expected
    wanted = " or ".join(t.__name__ for t in names)
    try:
        with checked_call():
            call()
    except expected as exc:
        return exc
    except Exception as exc:
        # Not chained: pytest and Hypothesis would render the cause's traceback through torch's
        # internals (seconds per failure, re-parsing large files); where it was raised is named.
        message = f"{what} must raise {wanted}, raised {type(exc).__name__}: {exc}"
        raise SpecViolation(clause, f"{message} (at {_raised_at(exc)})",
                            _raises(names, clause, message)) from None
    message = f"{what} must raise {wanted}, returned normally"
    raise SpecViolation(clause, message, _raises(names, clause, message))


def _raises(names: tuple[type[BaseException], ...], clause: str, message: str) -> Any:
    """The snippet's form of expect_raises, for errors a snippet can name without the kit."""
    if not all(t.__module__ == "builtins" for t in names):
        return None
    return ex.Raises(tuple(t.__name__ for t in names), f"{clause}: {message}")


def _raised_at(exc: BaseException, frames: int = 2) -> str:
    """The innermost frames of an exception's traceback, as `file:line in function`."""
    summary = traceback.extract_tb(exc.__traceback__)[-frames:]
    return " <- ".join(f"{os.path.basename(f.filename)}:{f.lineno} in {f.name}"
                       for f in reversed(summary))


def expect_message_names(exc: BaseException, value: object, clause: str, what: str) -> None:
    """ERRORS-4: the message names the bad value (its repr or str)."""
    text = str(exc)
    spellings = {repr(value), str(value)}
    if isinstance(value, float) and math.isnan(value):
        spellings.add("nan")
    if isinstance(value, tuple | torch.Size):
        # A shape may be spelled (2, 3), [2, 3] or torch.Size([2, 3]).
        spellings |= {str(tuple(value)), str(list(value))}
    if not any(s in text for s in spellings):
        fail(clause, f"{what}: the message must name the bad value {value!r}, was {text!r}",
             ex.NamesValue(value, f"{clause}: {what}: the message must name the bad value "
                                  f"{value!r}"))


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
        origin = ex.origin_of(seen)
        message = f"{what}:\n{masks_side_by_side(expected, seen)}"
        fail(clause, message, origin and ex.SameMask(origin, expected, f"{clause}: {message}"))


def expect_monotone(before: torch.Tensor, after: torch.Tensor, clause: str) -> None:
    """COMPOSE-1: an entry pruned before stays pruned."""
    revived = before.eq(0) & after.ne(0)
    if bool(revived.any()):
        raise SpecViolation(
            clause, f"{int(revived.sum())} pruned entries were revived:\n"
                    f"{masks_side_by_side(before, after, 'before', 'after')}")


# --- selection: pruned units rank below kept units (SELECT, STRUCT, GLOBAL) --------------------

def _rank_keys(values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """SELECT-4's order as two keys, compared in turn: NaN or not (NaN ranks above every number,
    +inf included), then the value, NaN read as 0 (-0.0 and 0.0 compare equal)."""
    nan = values.isnan()
    return nan, values.masked_fill(nan, 0.0)


def _ranks_above(a: float, b: float, rel_tol: float) -> bool:
    """Does score `a` rank strictly above `b`, beyond `rel_tol` of `b`?"""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and not math.isnan(b)
    if a <= b:
        return False
    return math.isinf(a) or a - b > rel_tol * abs(b)


def _unit_name(index: int, shape: tuple[int, ...] | None) -> str:
    """A flat index, with its position in `shape` when given: `7 (1, 3)`."""
    if shape is None:
        return str(index)
    position, rest = [], index
    for side in reversed(shape):
        position.append(rest % side)
        rest //= side
    return f"{index} {tuple(reversed(position))}"


def lowest_index_first(scores: torch.Tensor, candidates: torch.Tensor, k: int) -> torch.Tensor:
    """SELECT-3's choice: the k candidates of smallest score, NaN last, equal scores lowest first.

    `scores` and `candidates` hold one value per unit (flat row-major index, or channel index);
    returns a bool tensor of the units to prune. Vectorised: the large-size properties rank
    millions of units.
    """
    values = scores.detach().double().cpu().flatten()
    alive = candidates.cpu().flatten().nonzero().squeeze(1)
    nan, value = _rank_keys(values[alive])
    # Stable sorts by the minor key, then the major one: equal keys keep their index order.
    order = torch.sort(value, stable=True).indices
    order = order[torch.sort(nan[order].to(torch.uint8), stable=True).indices]
    pruned = torch.zeros(values.numel(), dtype=torch.bool)
    pruned[alive[order[:k]]] = True
    return pruned


def _extreme(values: torch.Tensor, ids: torch.Tensor, largest: bool) -> int:
    """The unit among `ids` of largest (or smallest) rank, the lowest index among equals."""
    nan, value = _rank_keys(values[ids])
    pick = torch.amax if largest else torch.amin
    ids, value = ids[nan == pick(nan)], value[nan == pick(nan)]
    return int(ids[value == pick(value)][0])


def expect_smallest_pruned(
    scores: torch.Tensor, candidates: torch.Tensor, pruned: torch.Tensor, clause: str, what: str,
    *, unit: str = "entry", shape: tuple[int, ...] | None = None, rel_tol: float = 0.0,
) -> None:
    """Every pruned candidate scores <= every kept candidate (NaN ranks largest, SELECT-4).

    All three tensors hold one value per unit. Only the order is asserted, so every choice among
    equal scores passes (SELECT-2). `rel_tol` lets a pruned score exceed a kept one by that
    fraction, for scores an implementation computes in its own precision (channel norms).
    """
    values = scores.detach().double().cpu().flatten()
    alive = candidates.cpu().flatten().bool()
    gone = pruned.cpu().flatten().bool()
    pruned_ids, kept_ids = (alive & gone).nonzero().squeeze(1), (alive & ~gone).nonzero().squeeze(1)
    if not pruned_ids.numel() or not kept_ids.numel():
        return
    worst = _extreme(values, pruned_ids, largest=True)
    best = _extreme(values, kept_ids, largest=False)
    if _ranks_above(float(values[worst]), float(values[best]), rel_tol):
        message = (f"{what}: pruned {unit} {_unit_name(worst, shape)} scores "
                   f"{float(values[worst])!r}, above the kept {unit} {_unit_name(best, shape)} "
                   f"scoring {float(values[best])!r}; every pruned {unit} must score <= every "
                   f"kept one" + (f" (relative tolerance {rel_tol:.1e})" if rel_tol else ""))
        origin = ex.origin_of(pruned)
        if origin is None:
            fail(clause, message)
        fail(clause, f"{message}\n{ex.selection_picture(origin)}", ex.SmallestPruned(
            origin, values, alive, rel_tol, clause, f"{clause}: {message}"))


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
    # Plain tensor attributes (a pruned tensor's `module.<name>`) by key: their values, or None
    # where the attribute holds something else (a rolled-back `module.weight` left None).
    tensors: dict[str, torch.Tensor | None]

    @classmethod
    def take(cls, module: nn.Module) -> ModuleSnapshot:
        parameters, buffers, hooks, attributes, tensors = {}, {}, {}, {}, {}
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
            for name, value in vars(sub).items():
                key = f"{prefix}.{name}" if prefix else name
                is_tensor = isinstance(value, torch.Tensor)
                tensors[key] = value.detach().clone() if is_tensor else None
        return cls(parameters, buffers, hooks, attributes, tensors)

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
        for key in self.tensors.keys() & other.tensors.keys():
            a, b = self.tensors[key], other.tensors[key]
            if (a is None) != (b is None):
                found.append(f"attribute {key} was {_what(a)}, became {_what(b)}")
            elif a is not None and not _same_values(a, b):
                found.append(f"attribute {key} changed values")
        return found


def _what(value: torch.Tensor | None) -> str:
    return "not a tensor" if value is None else f"a tensor of shape {tuple(value.shape)}"


def _same_values(a: torch.Tensor | None, b: torch.Tensor | None) -> bool:
    if a is None or b is None:
        return a is b
    if a.device.type == "meta" or b.device.type == "meta":
        # meta tensors (the 'other device' of DEVICE-6 on a CPU-only machine) hold no values.
        return a.shape == b.shape and a.dtype == b.dtype and a.device == b.device
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
    module: nn.Module, call: Callable[[], Any],
    expected: type[BaseException] | tuple[type[BaseException], ...],
    error_clause: str, what: str, atomic_clause: str = "ATOMIC-1",
) -> BaseException:
    """The common shape of ERRORS/ATOMIC properties: the right error, and nothing changed."""
    before = ModuleSnapshot.take(module)
    try:
        exc = expect_raises(error_clause, expected, call, what)
    except SpecViolation as wrong:
        # A wrong error type is the primary finding; still report a broken module alongside.
        changes = before.differences(ModuleSnapshot.take(module))
        if changes:
            raise SpecViolation(atomic_clause, f"{wrong.args[0]}; and it changed the module: "
                                + "; ".join(changes)) from None
        raise
    expect_unchanged(before, module, atomic_clause, what)
    return exc


def snapshot_others(prune: Any, module: nn.Module, name: str) -> dict[str, Any]:
    """What a call on `module.<name>` (a prune or a remove) must leave alone (REPARAM-5,
    REMOVE-2): the module's other parameters (objects and values), buffers, plain tensor
    attributes, forward pre-hooks other than the pruning hook of `name` (keys, objects, history,
    order) and attribute names. Compare two with `changes_to_others`."""
    own = {name, f"{name}_orig", f"{name}_mask"}
    return {
        "parameters": {k: (id(p), None if p is None else p.detach().clone())
                       for k, p in module._parameters.items() if k not in own},
        "buffers": {k: None if b is None else b.detach().clone()
                    for k, b in module._buffers.items() if k not in own},
        "plain tensors": {k: v.detach().clone() for k, v in vars(module).items()
                          if isinstance(v, torch.Tensor) and k not in own},
        "hooks": [(k, id(h), _hook_history(h)) for k, h in module._forward_pre_hooks.items()
                  if not (isinstance(h, prune.BasePruningMethod)
                          and getattr(h, "_tensor_name", None) == name)],
        "attribute names": sorted(set(vars(module)) - own),
    }


def changes_to_others(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """The differences between two `snapshot_others`, in words; empty when none."""
    found = []
    for part in ("parameters", "buffers", "plain tensors"):
        if before[part].keys() != after[part].keys():
            found.append(f"{part} {sorted(before[part])} became {sorted(after[part])}")
            continue
        for key in before[part]:
            old, new = before[part][key], after[part][key]
            if part == "parameters":
                if old[0] != new[0]:
                    found.append(f"parameter {key} is another object")
                old, new = old[1], new[1]
            if not _same_values(old, new):
                found.append(f"{part[:-1]} {key} changed values")
    if before["hooks"] != after["hooks"]:
        found.append(f"the other forward pre-hooks {_describe_hooks(tuple(before['hooks']))} "
                     f"became {_describe_hooks(tuple(after['hooks']))}")
    if before["attribute names"] != after["attribute names"]:
        added = set(after["attribute names"]) - set(before["attribute names"])
        lost = set(before["attribute names"]) - set(after["attribute names"])
        found.append(f"attributes: added {sorted(added)}, lost {sorted(lost)}")
    return found


def expect_reparametrized(
    prune: Any, module: nn.Module, name: str, param: torch.Tensor, clause: str, what: str,
) -> None:
    """A pruned tensor as REPARAM-1..3 and HOOK-1 describe it, checked under `clause` (for
    properties of other areas whose rule is "pruned like a built-in method"): `<name>_orig` is
    `param` (the Parameter `<name>` was before the first call), `<name>` no longer a parameter,
    `<name>_mask` a persistent binary buffer, `<name>` a plain attribute equal to orig * mask, and
    one pruning hook for the name."""
    orig = module._parameters.get(f"{name}_orig")
    expect(orig is param, clause,
           f"{what}: {name}_orig must be the very Parameter that {name} was (REPARAM-1), "
           + ("is missing" if orig is None else "is another object"))
    expect(name not in module._parameters, clause,
           f"{what}: {name} must no longer be a registered parameter (REPARAM-1)")
    mask = module._buffers.get(f"{name}_mask")
    expect(mask is not None and f"{name}_mask" not in module._non_persistent_buffers_set, clause,
           f"{what}: {name}_mask must be a registered persistent buffer (REPARAM-2)")
    expect_binary_mask(mask, param, clause)
    value = getattr(module, name)
    expect(isinstance(value, torch.Tensor) and not isinstance(value, nn.Parameter)
           and name not in module._buffers, clause,
           f"{what}: {name} must be a plain tensor attribute (REPARAM-3), is {type(value)}")
    expected = (param.detach() * mask).nan_to_num()
    expect(torch.equal(value.detach().nan_to_num(), expected), clause,
           f"{what}: {name} must equal {name}_orig * {name}_mask (REPARAM-3)")
    expect_equal(len(pruning_hooks(prune, module, name)), 1, clause,
                 f"{what}: pruning forward pre-hooks for {name!r} (HOOK-1)")
