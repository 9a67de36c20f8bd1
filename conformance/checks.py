"""Assertions that speak the spec: each failure names its clause, the expected and the seen.

Properties import this module as `ck` and never use a bare `assert` for a spec rule, so that every
failure reads like `AMOUNT-2: 0.5 of 5 entries must prune round(2.5) = 2, pruned 3`.
"""

from __future__ import annotations

import functools
import itertools
import math
import numbers
import os
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import torch
from torch import nn

from conformance import devices, models, spec
from conformance import expectations as ex
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


def newly_pruned(
    before: torch.Tensor, after: torch.Tensor, dim: int | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per unit (entry in row-major order, or channel along `dim`), on the CPU: (remaining before
    the call, pruned by the call)."""
    if dim is None:
        candidates = before.ne(0).flatten()
        pruned = candidates & after.eq(0).flatten()
    else:
        candidates = alive_channels(before, dim)
        pruned = candidates & ~alive_channels(after, dim)
    origin = ex.origin_of(after)
    pruned = pruned.cpu()
    if origin is not None:  # what the call did to a module's mask: a snippet can recompute it
        ex.mark_origin(pruned, ex.Origin(origin.module, origin.name, dim, before.detach().cpu()))
    return candidates.cpu(), pruned


def pruned_entries(mask: torch.Tensor) -> int:
    return int(mask.eq(0).sum())


def channel_norms(scores: torch.Tensor, n: object, dim: int) -> torch.Tensor:
    """STRUCT-2's norm of each channel of `scores` along `dim` ('fro' is 2), in float64 on the
    CPU, so that the check does not share the implementation's rounding."""
    order = 2.0 if n == "fro" else float(n)
    others = channel_dims(scores.dim(), dim)
    return torch.linalg.vector_norm(scores.detach().double(), ord=order, dim=others).cpu()


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


# --- statistics of random methods (SELECT-6, STRUCT-5) ------------------------------------------

# All statistical checks of a run share one false-alarm budget: a conforming implementation fails a
# run through them with probability below FALSE_ALARM_PER_RUN. Each check spends its share,
# FALSE_ALARM_PER_CHECK, Bonferroni-split over the counts it tests; the suite holds at most
# STATISTICAL_CHECKS_PER_RUN of them (test_select.py and test_struct.py list theirs).
FALSE_ALARM_PER_RUN = 1e-6
STATISTICAL_CHECKS_PER_RUN = 16
FALSE_ALARM_PER_CHECK = FALSE_ALARM_PER_RUN / STATISTICAL_CHECKS_PER_RUN


@functools.cache
def binomial_acceptance(trials: int, p: Fraction, tail: float) -> tuple[int, int]:
    """Counts [low, high] such that Binomial(trials, p) falls below low, or above high, each with
    probability <= `tail`.

    Exact: the tails are summed in integers, weight C(trials, j) a^j (b-a)^(trials-j) out of
    b^trials for p = a/b; no normal approximation.
    """
    a, b = p.numerator, p.denominator
    if a == 0 or a == b:
        return (0, 0) if a == 0 else (trials, trials)
    rest = b - a
    tail_num, tail_den = Fraction(tail).as_integer_ratio()
    bound = tail_num * b**trials  # compare count_weights * tail_den against it
    low, weight, total = 0, rest**trials, 0
    while (total + weight) * tail_den <= bound:
        total += weight
        weight = weight * (trials - low) * a // ((low + 1) * rest)
        low += 1
    high, weight, total = trials, a**trials, 0
    while (total + weight) * tail_den <= bound:
        total += weight
        weight = weight * high * rest // ((trials - high + 1) * a)
        high -= 1
    return low, high


def expect_binomial_counts(
    counts: Sequence[tuple[str, int]], trials: int, p: Fraction, false_alarm: float,
    clause: str, what: str,
) -> None:
    """Each count is Binomial(trials, p) for a conforming implementation; fail on any count outside
    the exact two-sided acceptance range, Bonferroni over the counts, so that a conforming
    implementation fails with probability <= `false_alarm`.
    """
    tail = false_alarm / (2 * len(counts))
    low, high = binomial_acceptance(trials, p, tail)
    outside = [(label, c) for label, c in counts if not low <= c <= high]
    if outside:
        fail(clause, f"{what}: each of {len(counts)} outcomes must occur with probability {p}, "
                     f"about {float(p * trials):.1f} times in {trials} trials; a conforming "
                     f"implementation keeps every count within [{low}, {high}] except with "
                     f"probability {false_alarm:.1e}; outside: "
                     + ", ".join(f"{label}: {c}" for label, c in outside[:8])
                     + (f" and {len(outside) - 8} more" if len(outside) > 8 else ""))


def counting_trial(
    prune: Any, shape: tuple[int, ...], calls: Sequence[Callable[[Any, nn.Module, str], Any]],
    device: torch.device, dim: int | None,
) -> Callable[[], tuple[torch.Tensor, torch.Tensor]]:
    """A trial for `expect_uniform_selection`: a fresh Holder of `shape` holding 1, 2, ... n in
    row-major order, pruned by `calls`; what the last call pruned, per unit (`newly_pruned`)."""

    def trial() -> tuple[torch.Tensor, torch.Tensor]:
        subject = models.holder(shape, torch.float32, device)
        with torch.no_grad():
            subject.param.copy_(torch.arange(1.0, subject.param.numel() + 1).reshape(shape))
        for call in calls[:-1]:
            call(prune, subject.module, subject.name)
        before = mask_or_ones(subject.module, subject.name)
        calls[-1](prune, subject.module, subject.name)
        return newly_pruned(before, mask_or_ones(subject.module, subject.name), dim)

    return trial


def expect_uniform_selection(
    trial: Callable[[], tuple[torch.Tensor, torch.Tensor]], k: int, trials: int, clause: str,
    what: str, *, unit: str = "entry", false_alarm: float = FALSE_ALARM_PER_CHECK,
    max_subsets: int = 64,
) -> None:
    """A random method prunes exactly k of the remaining units, every k-subset equally likely.

    `trial()` prunes a fresh tensor once and returns `newly_pruned(...)`; the caller seeds the
    generators, so the check replays. Every trial must prune exactly k remaining units. Then each
    remaining unit must be pruned with frequency k/n and, where there are at most `max_subsets`
    k-subsets, each subset with frequency 1/C(n, k): exact binomial bounds, `false_alarm` split
    evenly between the two families and Bonferroni within each.
    """
    units = unit[:-1] + "ies" if unit.endswith("y") else unit + "s"
    reference: torch.Tensor | None = None
    ids: list[int] = []
    subsets: dict[tuple[int, ...], int] = {}
    for index in range(trials):
        candidates, pruned = trial()
        if reference is None:
            reference, ids = candidates, candidates.nonzero().flatten().tolist()
        elif not torch.equal(candidates, reference):
            fail(clause, f"{what}: the remaining {units} before the call differ between trials "
                         f"({reference.nonzero().flatten().tolist()} in the first, "
                         f"{candidates.nonzero().flatten().tolist()} in trial {index})")
        gone = pruned.tolist()
        chosen = tuple(i for i in ids if gone[i])
        expect_equal(len(chosen), k, clause,
                     f"remaining {units} pruned by {what} (trial {index} of {trials})")
        subsets[chosen] = subsets.get(chosen, 0) + 1
    n = len(ids)
    if not 0 < k < n:
        return  # a single possible outcome, checked by the count above
    families = [("positions", Fraction(k, n),
                 [(f"{unit} {i}", sum(c for s, c in subsets.items() if i in s)) for i in ids])]
    if math.comb(n, k) <= max_subsets:
        families.append(("subsets", Fraction(1, math.comb(n, k)),
                         [(f"{units} {s}", subsets.get(s, 0))
                          for s in itertools.combinations(ids, k)]))
    for family, p, counts in families:
        expect_binomial_counts(counts, trials, p, false_alarm / len(families), clause,
                               f"{what}, {family} of the {k} pruned among {n} remaining {units}")


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
    module: nn.Module, call: Callable[[], Any], expected: type[BaseException],
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
    found = torch.ones_like(getattr(module, name)) if mask is None else mask.detach().clone()
    return ex.mark_origin(found, ex.Origin(module, name))


def original(module: nn.Module, name: str) -> torch.Tensor:
    """The unmasked values: `name_orig` if pruned, else the parameter itself."""
    orig = module._parameters.get(f"{name}_orig")
    return (orig if orig is not None else getattr(module, name)).detach()


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
