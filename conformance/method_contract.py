"""`prune-conformance method module:Class`: does a user's pruning method keep the method contract?

A `BasePruningMethod` subclass written by a user (the tutorial's `FooBarPruningMethod`) is checked
against the clauses of SPEC.md that a method's own code can break: its `compute_mask` returns a
binary mask of the default mask's shape, dtype and device (CUSTOM-1, REPARAM-2), never revives an
entry (COMPOSE-1), honours its `PRUNING_TYPE` (COMPOSE-2, COMPOSE-5) and is reproducible under
`torch.manual_seed` (SELECT-7); and it works through `Cls.apply` on fresh and pruned tensors, when
applied repeatedly and with `remove` (CUSTOM-1, REPARAM, HOOK-1, COMPOSE-4, REMOVE).

Every check draws its inputs with Hypothesis, derandomized and with a small fixed budget, so two
runs print the same report; a failing check prints the clause it breaks, the masks drawn as grids
(conformance.render) and a snippet that replays the failing example.

The class is applied through its own (inherited) `apply`, and composed and removed by the pruning
module whose `BasePruningMethod` it subclasses: a subclass of torch's class checked with
`--impl reference` (or the reverse) is still checked, with a note saying so.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import os
import sys
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import torch
from hypothesis import HealthCheck, Phase, Verbosity, given, reject, settings
from hypothesis import errors as hypothesis_errors
from hypothesis import strategies as st

from conformance import checks as ck
from conformance import impl as impl_loader
from conformance import models
from conformance import strategies as hh
from conformance.registry import python_literal
from conformance.render import KEPT, PRUNED, as_grid, draw, masks_side_by_side

PROG = "prune-conformance"
EXIT_OK, EXIT_FAILS, EXIT_USAGE = 0, 1, 2
PRUNING_TYPES = ("unstructured", "structured", "global")
# Small budgets: the whole report takes seconds, and a broken method fails on the first examples.
MASK_EXAMPLES = 30
APPLY_EXAMPLES = 12
# Entries of the tensors compute_mask is called on.
SMALL = 64
NAME = "weight"  # the tensor name used in replay snippets of compute_mask calls


class UsageProblem(Exception):
    """The target, kwargs or device cannot be checked at all (exit 2, one line)."""


class Skipped(Exception):
    """A check that does not apply to this method; the reason is printed."""


# --- the method under check -------------------------------------------------------------------

@dataclass
class Contract:
    """The class under check, how to build it, and the pruning module it belongs to."""

    cls: type
    kwargs: dict[str, Any]
    family: types.ModuleType  # the pruning module whose BasePruningMethod `cls` subclasses
    family_name: str
    device: torch.device
    pruning_type: object
    dim: object
    examples: int = MASK_EXAMPLES
    apply_examples: int = APPLY_EXAMPLES
    last_rejection: list[str] = field(default_factory=list)

    @property
    def structured(self) -> bool:
        return self.pruning_type == "structured"

    @property
    def type_text(self) -> str:
        return "(not set)" if self.pruning_type is _MISSING else repr(self.pruning_type)

    @property
    def has_dim(self) -> bool:
        return isinstance(self.dim, int) and not isinstance(self.dim, bool)

    @property
    def min_dims(self) -> int:
        """Fewest dims of a tensor the method can take: 2 for structured methods, more where
        `dim` needs them; 1 otherwise (the container hands unstructured methods 1-d tensors)."""
        if not self.structured:
            return 1
        if not self.has_dim:
            return 2
        dim = int(self.dim)  # type: ignore[call-overload]
        return max(2, dim + 1 if dim >= 0 else -dim)

    @property
    def call(self) -> str:
        """How the method is built, as source: `FooBar(amount=0.5)`."""
        args = ", ".join(f"{k}={python_literal(v)}" for k, v in self.kwargs.items())
        return f"{self.cls.__name__}({args})"

    def apply_source(self, module: str = "module", name: str = NAME) -> str:
        args = "".join(f", {k}={python_literal(v)}" for k, v in self.kwargs.items())
        return f"{self.cls.__name__}.apply({module}, {name!r}{args})"

    def new(self) -> Any:
        return self.cls(**self.kwargs)

    def view(self, t: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """What a PruningContainer hands the method of a pruned tensor (COMPOSE-2): remaining
        entries (1-d) for 'unstructured', remaining channels for 'structured', all else."""
        if self.pruning_type == "unstructured":
            remaining = mask == 1
            return t[remaining], mask[remaining]
        if self.structured and self.has_dim and t.dim() >= 2:
            dim = int(self.dim) % t.dim()  # type: ignore[call-overload]
            keep = ck.alive_channels(mask, dim).nonzero().flatten().to(t.device)
            return t.index_select(dim, keep), mask.index_select(dim, keep)
        return t, mask

    def rejects(self, t: torch.Tensor, mask: torch.Tensor, seed: int) -> bool:
        """Does the method's own compute_mask refuse this input with ValueError? A method may
        (AMOUNT-6: an int amount larger than the units there are); such inputs are skipped."""
        try:
            with hh.seeded(seed, self.device):
                self.new().compute_mask(t.detach().clone(), mask.detach().clone())
        except ValueError as exc:
            self.last_rejection[:] = [f"{type(exc).__name__}: {exc}"]
            return True
        except Exception:
            return False
        return False


# --- inputs -----------------------------------------------------------------------------------

@dataclass
class MaskInput:
    """One compute_mask call: scores, default mask and the seed it runs under."""

    t: torch.Tensor
    default: torch.Tensor
    seed: int

    def replay(self, c: Contract, call: str | None = None) -> str:
        lines = [
            f"torch.manual_seed({self.seed})",
            f"t = {python_literal(self.t)}",
            f"default_mask = {python_literal(self.default)}",
            call or f"mask = {c.call}.compute_mask(t, default_mask)",
        ]
        return "replay:\n" + "\n".join(f"    {line}" for line in lines)


@st.composite
def default_masks(
    draw_: st.DrawFn, c: Contract, shape: tuple[int, ...], dtype: torch.dtype,
    pruned: bool | None = None,
) -> torch.Tensor:
    """A binary mask in the tensor's dtype that leaves at least one unit: all ones (a fresh
    tensor), entries pruned (after unstructured pruning) or whole channels pruned as well.
    `pruned=True` asks for at least one pruned entry."""
    kinds = ["entries", "channels"] if pruned else ["ones", "entries", "channels"]
    kind = draw_(st.sampled_from(kinds), label="default mask")
    numel = math.prod(shape)
    if kind == "ones" or numel < 2:
        return torch.ones(shape, dtype=dtype, device=c.device)
    bits = draw_(st.lists(st.booleans(), min_size=numel, max_size=numel), label="kept entries")
    mask = torch.tensor(bits, dtype=torch.bool).reshape(shape)
    if kind == "channels" and len(shape) >= 2:
        dim = int(c.dim) % len(shape) if c.has_dim else 0  # type: ignore[call-overload]
        gone = draw_(st.lists(st.integers(0, shape[dim] - 1), max_size=shape[dim]),
                     label="pruned channels")
        mask.index_fill_(dim, torch.tensor(sorted(set(gone)), dtype=torch.long), False)
    if not bool(mask.any()):
        mask.view(-1)[-1] = True  # leave something to prune
    if pruned and bool(mask.all()):
        mask.view(-1)[0] = False
    return mask.to(device=c.device, dtype=dtype)


@st.composite
def small_shapes(draw_: st.DrawFn, min_dims: int, max_numel: int = SMALL) -> tuple[int, ...]:
    """Shapes of min_dims..max(min_dims, 4) dims, size-1 dims included, at most `max_numel`
    entries: a method's contract shows on small tensors, and small ones keep the report fast."""
    ndim = draw_(st.integers(min_dims, max(min_dims, 4)), label="dims")
    shape: list[int] = []
    for _ in range(ndim):
        room = max(1, max_numel // max(1, math.prod(shape)))
        shape.append(draw_(st.integers(1, min(6, room))))
    return tuple(shape)


@st.composite
def mask_inputs(draw_: st.DrawFn, c: Contract, pruned: bool | None = None) -> MaskInput:
    shape = draw_(small_shapes(c.min_dims), label="shape")
    dtype = draw_(hh.dtypes(c.device), label="dtype")
    mode = draw_(st.sampled_from((hh.DISTINCT, hh.TIES)), label="values")
    t = draw_(hh.score_tensors(shape, dtype, c.device, mode), label="t")
    default = draw_(default_masks(c, shape, dtype, pruned), label="default_mask")
    return MaskInput(t, default, draw_(hh.seeds(), label="seed"))


@st.composite
def apply_subjects(draw_: st.DrawFn, c: Contract) -> models.Subject:
    """A module with a tensor of at least `c.min_dims` dims (torch's layers or a Holder)."""
    return draw_(hh.subjects(c.device, min_dims=c.min_dims), label="module")


# --- running the method -------------------------------------------------------------------------

def compute(c: Contract, x: MaskInput, clause: str) -> torch.Tensor:
    """`Cls(**kwargs).compute_mask(t, default_mask)` under the example's seed; an input the method
    rejects with ValueError is skipped, anything else it raises fails `clause`."""
    try:
        with hh.seeded(x.seed, c.device):
            mask = c.new().compute_mask(x.t.clone(), x.default.clone())
    except ValueError as exc:
        c.last_rejection[:] = [f"{type(exc).__name__}: {exc}"]
        reject()
    except Exception as exc:
        ck.fail(clause, f"compute_mask raised {type(exc).__name__}: {exc}\n{x.replay(c)}")
    if not isinstance(mask, torch.Tensor):
        ck.fail(clause, f"compute_mask must return a tensor, returned {type(mask).__name__}\n"
                        f"{x.replay(c)}")
    return mask


def _grids(default: torch.Tensor, mask: torch.Tensor, labels: tuple[str, str]) -> str:
    """`default` beside `mask`, drawn as conformance.render does (# kept, . pruned); in the mask,
    an entry kept although `default` prunes it is X and a value other than 0 and 1 is ?."""
    left = draw(default)
    grid, before = as_grid(mask), as_grid(default)
    if grid.shape != before.shape or len(left) != grid.shape[0]:
        return masks_side_by_side(default, mask, *labels)  # too large: counts per row
    values = mask.detach().cpu()
    values = values.reshape(grid.shape) if values.dim() >= 1 else values.reshape(1, 1)
    right = []
    for r in range(grid.shape[0]):
        row = []
        for col in range(grid.shape[1]):
            value = float(values[r, col])
            if value not in (0.0, 1.0):
                row.append("?")
            elif value and not bool(before[r, col]):
                row.append("X")
            else:
                row.append(KEPT if value else PRUNED)
        right.append("".join(row))
    width = max(len(labels[0]), *(len(line) for line in left))
    lines = [f"{labels[0]:<{width}}   {labels[1]}"]
    lines += [f"{a:<{width}}   {b}" for a, b in zip(left, right, strict=True)]
    cells = "".join(right)
    legend = [f"{KEPT} kept", f"{PRUNED} pruned"]
    legend += [f"X kept although {labels[0]} prunes it"] if "X" in cells else []
    legend += ["? neither 0 nor 1"] if "?" in cells else []
    lines.append(f"({', '.join(legend)})")
    return "\n".join(lines)


def _entries(n: int) -> str:
    return f"{n} {'entry' if n == 1 else 'entries'}"


def _values(mask: torch.Tensor) -> list[float]:
    return sorted({float(v) for v in mask.detach().flatten().cpu().tolist()})[:8]


@contextmanager
def _quiet() -> Iterator[None]:
    """The check's own messages say everything; silence torch's warnings about user code."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def examples(count: int, *, shrink: bool = True) -> Callable[[Callable[..., None]],
                                                             Callable[[], None]]:
    """Run the body with Hypothesis draws: `count` examples, derandomized and seeded, no database,
    so that the same method gets the same report on every run and machine."""
    phases = [Phase.explicit, Phase.reuse, Phase.generate] + ([Phase.shrink] if shrink else [])

    def wrap(body: Callable[..., None]) -> Callable[[], None]:
        return settings(
            max_examples=count, derandomize=True, database=None, deadline=None,
            verbosity=Verbosity.quiet, print_blob=False, phases=phases,
            suppress_health_check=list(HealthCheck),
        )(given(data=st.data())(body))

    return wrap


# --- the checks -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Check:
    """One line of the report. `needs` names checks whose failure makes this one moot (a mask of
    the wrong shape fails every apply; a structured method without `dim` fails every container):
    it is then not run, so the report shows the cause once."""

    key: str
    clause: str
    title: str
    run: Callable[[Contract], None]
    needs: tuple[str, ...] = ()


CHECKS: list[Check] = []

# Checks that a call through a PruningContainer needs (the second call on a tensor).
CONTAINER = ("type", "dim")


def check(key: str, clause: str, title: str, needs: tuple[str, ...] = (),
          ) -> Callable[[Callable[[Contract], None]], Callable[[Contract], None]]:
    def register(run: Callable[[Contract], None]) -> Callable[[Contract], None]:
        CHECKS.append(Check(key, clause, title, run, needs))
        return run

    return register


@check("type", "COMPOSE-5", "PRUNING_TYPE is 'unstructured', 'structured' or 'global'")
def _pruning_type(c: Contract) -> None:
    given = "is not set" if c.pruning_type is _MISSING else f"is {c.pruning_type!r}"
    ck.expect(c.pruning_type in PRUNING_TYPES, "COMPOSE-5",
              f"{c.cls.__name__}.PRUNING_TYPE {given}: a PruningContainer needs it to choose "
              f"what the method acts on and fails on the second call on a tensor; expected one "
              f"of {', '.join(map(repr, PRUNING_TYPES))}")


@check("dim", "COMPOSE-5",
       "a 'structured' method has an int `dim` attribute naming its channels' dim")
def _structured_dim(c: Contract) -> None:
    if not c.structured:
        raise Skipped(f"PRUNING_TYPE {c.type_text}")
    ck.expect(c.dim is not _MISSING, "COMPOSE-5",
              f"{c.call} has PRUNING_TYPE 'structured' but no `dim` attribute: a "
              "PruningContainer needs it to find the remaining channels and raises "
              "AttributeError on the second call on a tensor (set self.dim in __init__)")
    ck.expect(c.has_dim, "COMPOSE-5",
              f"{c.call}.dim is {c.dim!r} ({type(c.dim).__name__}): expected an int")


@check("shape", "CUSTOM-1",
       "compute_mask(t, default_mask) returns a tensor of default_mask's shape")
def _mask_shape(c: Contract) -> None:
    @examples(c.examples)
    def run(data: Any) -> None:
        x = data.draw(mask_inputs(c))
        mask = compute(c, x, "CUSTOM-1")
        ck.expect(tuple(mask.shape) == tuple(x.default.shape), "CUSTOM-1",
                  f"mask shape: expected {tuple(x.default.shape)} (default_mask's), seen "
                  f"{tuple(mask.shape)}\n{x.replay(c)}")

    run()


@check("dtype", "REPARAM-2", "compute_mask's mask has default_mask's dtype")
def _mask_dtype(c: Contract) -> None:
    @examples(c.examples)
    def run(data: Any) -> None:
        x = data.draw(mask_inputs(c))
        mask = compute(c, x, "REPARAM-2")
        ck.expect(mask.dtype == x.default.dtype, "REPARAM-2",
                  f"mask dtype: expected {x.default.dtype} (default_mask's, the parameter's), "
                  f"seen {mask.dtype}\n{x.replay(c)}")

    run()


@check("device", "REPARAM-2", "compute_mask's mask is on default_mask's device")
def _mask_device(c: Contract) -> None:
    @examples(c.examples)
    def run(data: Any) -> None:
        x = data.draw(mask_inputs(c))
        mask = compute(c, x, "REPARAM-2")
        ck.expect(mask.device == x.default.device, "REPARAM-2",
                  f"mask device: expected {x.default.device} (default_mask's), seen "
                  f"{mask.device}\n{x.replay(c)}")

    run()


@check("binary", "REPARAM-2", "compute_mask's mask holds only 0 and 1")
def _mask_binary(c: Contract) -> None:
    @examples(c.examples)
    def run(data: Any) -> None:
        x = data.draw(mask_inputs(c))
        mask = compute(c, x, "REPARAM-2")
        binary = bool(((mask == 0) | (mask == 1)).all())
        ck.expect(binary, "REPARAM-2",
                  f"the mask must hold only 0 and 1, holds {_values(mask)}\n"
                  f"{_grids(x.default, mask, ('default_mask', 'mask'))}\n{x.replay(c)}")

    run()


@check("monotone", "COMPOSE-1",
       "compute_mask never revives an entry that default_mask prunes", needs=("shape",))
def _mask_monotone(c: Contract) -> None:
    @examples(c.examples)
    def run(data: Any) -> None:
        x = data.draw(mask_inputs(c, pruned=True))
        mask = compute(c, x, "COMPOSE-1")
        if mask.shape != x.default.shape:
            reject()  # CUSTOM-1's finding
        revived = x.default.eq(0) & mask.ne(0)
        ck.expect(not bool(revived.any()), "COMPOSE-1",
                  f"{_entries(int(revived.sum()))} pruned in default_mask kept by the mask "
                  f"(start from default_mask.clone(), never from ones):\n"
                  f"{_grids(x.default, mask, ('default_mask', 'mask'))}\n{x.replay(c)}")

    run()


def _partial_channels(before: torch.Tensor, after: torch.Tensor, dim: int) -> list[int]:
    """Channels along `dim` that `after` neither keeps as in `before` nor zeroes entirely."""
    dim = dim % before.dim()
    bad = []
    for i in range(before.shape[dim]):
        old, new = before.select(dim, i).ne(0), after.select(dim, i).ne(0)
        if not (torch.equal(old, new) or not bool(new.any())):
            bad.append(i)
    return bad


@check("channels", "COMPOSE-2",
       "a 'structured' compute_mask prunes whole channels along dim: each channel keeps "
       "default_mask's entries or is all zero", needs=("dim", "shape"))
def _whole_channels(c: Contract) -> None:
    if not c.structured:
        raise Skipped(f"PRUNING_TYPE {c.type_text}")
    if not c.has_dim:
        raise Skipped("no int `dim` attribute (see COMPOSE-5 above)")

    @examples(c.examples)
    def run(data: Any) -> None:
        x = data.draw(mask_inputs(c))
        mask = compute(c, x, "COMPOSE-2")
        if mask.shape != x.default.shape:
            reject()
        bad = _partial_channels(x.default, mask, int(c.dim))  # type: ignore[call-overload]
        ck.expect(not bad, "COMPOSE-2",
                  f"channels {bad} along dim={c.dim} are partly pruned: a structured method "
                  f"keeps a channel as default_mask has it or zeroes all of it\n"
                  f"{_grids(x.default, mask, ('default_mask', 'mask'))}\n{x.replay(c)}")

    run()


@check("seed", "SELECT-7",
       "compute_mask is reproducible: the same torch.manual_seed gives the same mask")
def _deterministic(c: Contract) -> None:
    # No shrinking: an unseeded method fails at random, and shrinking would chase that to an
    # example that passes half the time.
    @examples(c.examples, shrink=False)
    def run(data: Any) -> None:
        x = data.draw(mask_inputs(c))
        first = compute(c, x, "SELECT-7")
        for attempt in range(2):
            again = compute(c, x, "SELECT-7")
            same = again.shape == first.shape and torch.equal(
                again.detach().cpu().nan_to_num(), first.detach().cpu().nan_to_num())
            ck.expect(same, "SELECT-7",
                      f"two calls under torch.manual_seed({x.seed}) gave different masks (call "
                      f"{attempt + 2} differs from the first; draw random numbers from torch's "
                      f"default generator of t's device, e.g. torch.rand_like(t), not from a "
                      f"private torch.Generator or Python's random):\n"
                      f"{masks_side_by_side(first, again, 'first call', f'call {attempt + 2}')}"
                      f"\n"
                      f"{x.replay(c)}")

    run()


@check("prune", "CUSTOM-2",
       "method.prune(t, default_mask) is t * compute_mask(t, default_mask)",
       needs=("shape", "seed"))
def _prune_method(c: Contract) -> None:
    @examples(c.examples)
    def run(data: Any) -> None:
        x = data.draw(mask_inputs(c))
        mask = compute(c, x, "CUSTOM-2")
        try:
            with hh.seeded(x.seed, c.device), _quiet():
                pruned = c.new().prune(x.t.clone(), default_mask=x.default.clone())
        except Exception as exc:
            ck.fail("CUSTOM-2", f"prune raised {type(exc).__name__}: {exc}\n"
                                f"{x.replay(c, f'{c.call}.prune(t, default_mask)')}")
        try:
            expected = x.t * mask
        except RuntimeError:
            reject()  # a mask of another shape: CUSTOM-1's finding
        same = (isinstance(pruned, torch.Tensor) and pruned.shape == expected.shape
                and torch.equal(pruned.detach().nan_to_num(), expected.detach().nan_to_num()))
        ck.expect(same, "CUSTOM-2",
                  f"prune(t, default_mask) must return t * compute_mask(t, default_mask), "
                  f"returned {pruned!r}\n{x.replay(c, f'{c.call}.prune(t, default_mask)')}")

    run()


@check("container", "COMPOSE-2",
       "inside a PruningContainer the method acts only on what remains (its PRUNING_TYPE's "
       "units) and the combined mask is binary and monotone",
       needs=(*CONTAINER, "binary", "monotone"))
def _in_container(c: Contract) -> None:
    if c.structured and not c.has_dim:
        raise Skipped("no int `dim` attribute (see COMPOSE-5 above)")

    @examples(c.examples)
    def run(data: Any) -> None:
        x = data.draw(mask_inputs(c, pruned=True))
        source = (f"import {c.family_name} as prune\n"
                  f"    first = prune.Identity(); first._tensor_name = {NAME!r}\n"
                  f"    method = {c.call}; method._tensor_name = {NAME!r}\n"
                  f"    container = prune.PruningContainer(first)\n"
                  f"    container.add_pruning_method(method)\n"
                  f"    mask = container.compute_mask(t, default_mask)")
        try:
            first = c.family.Identity()
            first._tensor_name = NAME
            container = c.family.PruningContainer(first)
            method = c.new()
            method._tensor_name = NAME
            container.add_pruning_method(method)
            with hh.seeded(x.seed, c.device):
                combined = container.compute_mask(x.t.clone(), x.default.clone())
        except Exception as exc:
            if isinstance(exc, ValueError) and c.rejects(*c.view(x.t, x.default), x.seed):
                reject()
            ck.fail("COMPOSE-2", f"{c.family_name}.PruningContainer.compute_mask raised "
                                 f"{type(exc).__name__}: {exc}\n{x.replay(c, source)}")
        ck.expect(isinstance(combined, torch.Tensor)
                  and tuple(combined.shape) == tuple(x.default.shape), "COMPOSE-2",
                  f"the combined mask must have default_mask's shape {tuple(x.default.shape)}, "
                  f"is {getattr(combined, 'shape', combined)!r}\n{x.replay(c, source)}")
        binary = bool(((combined == 0) | (combined == 1)).all())
        ck.expect(binary, "REPARAM-2", f"the combined mask must hold only 0 and 1, holds "
                                       f"{_values(combined)}\n{x.replay(c, source)}")
        revived = x.default.eq(0) & combined.ne(0)
        ck.expect(not bool(revived.any()), "COMPOSE-1",
                  f"the combined mask revives {_entries(int(revived.sum()))}:\n"
                  f"{_grids(x.default, combined, ('default_mask', 'combined'))}\n"
                  f"{x.replay(c, source)}")
        if c.structured:
            bad = _partial_channels(x.default, combined, int(c.dim))  # type: ignore[call-overload]
            ck.expect(not bad, "COMPOSE-2",
                      f"channels {bad} along dim={c.dim} are partly pruned by a structured "
                      f"method:\n{_grids(x.default, combined, ('default_mask', 'combined'))}\n"
                      f"{x.replay(c, source)}")

    run()


# --- through Cls.apply ----------------------------------------------------------------------

@dataclass
class Steps:
    """The calls made on a module so far, as a replay snippet."""

    lines: list[str]

    def add(self, line: str) -> None:
        self.lines.append(line)

    def __str__(self) -> str:
        return "replay:\n" + "\n".join(f"    {line}" for line in self.lines)


def _start(c: Contract, data: Any) -> tuple[models.Subject, Steps]:
    subject = data.draw(apply_subjects(c))
    steps = Steps([f"import {c.family_name} as prune",
                   f"module = {subject.source}",
                   f"with torch.no_grad(): module.{subject.name}.copy_("
                   f"{python_literal(subject.param.detach())})"])
    return subject, steps


def apply_method(c: Contract, data: Any, subject: models.Subject, steps: Steps,
                 clause: str) -> Any:
    """`Cls.apply(module, name, **kwargs)` under a drawn seed; returns the hook it returned.

    A call the method's own compute_mask rejects with ValueError is skipped (see `rejects`);
    anything else raised fails `clause`."""
    module, name = subject.module, subject.name
    seed = data.draw(hh.seeds(), label="seed")
    before = ck.current_mask(module, name)
    steps.add(f"torch.manual_seed({seed}); {c.apply_source(name=name)}")
    try:
        with hh.seeded(seed, c.device), _quiet():
            return c.cls.apply(module, name, **c.kwargs)
    except Exception as exc:
        if isinstance(exc, ValueError):
            scores = ck.original(module, name)
            default = torch.ones_like(scores) if before is None else before.detach()
            args = (scores, default) if before is None else c.view(scores * default, default)
            if c.rejects(*args, seed):
                reject()
        ck.fail(clause, f"{c.apply_source(name=name)} raised {type(exc).__name__}: {exc}\n"
                        f"{steps}")


def _hooks(c: Contract, module: torch.nn.Module, name: str) -> list[Any]:
    return ck.pruning_hooks(c.family, module, name)


def _expect_reparametrized(c: Contract, subject: models.Subject, param: torch.Tensor,
                           steps: Steps, clause: str) -> None:
    """REPARAM-1 and REPARAM-3: `_orig` is the Parameter, `<name>` = orig * mask."""
    module, name = subject.module, subject.name
    orig = module._parameters.get(f"{name}_orig")
    ck.expect(orig is param, clause,
              f"{name}_orig must be the very Parameter that {name} was (REPARAM-1), "
              + ("is missing" if orig is None else "is another object") + f"\n{steps}")
    ck.expect(name not in module._parameters, clause,
              f"{name} must no longer be a registered parameter (REPARAM-1)\n{steps}")
    mask = module._buffers.get(f"{name}_mask")
    ck.expect(isinstance(mask, torch.Tensor), clause,
              f"{name}_mask must be a registered buffer, is {mask!r}\n{steps}")
    value = getattr(module, name, None)
    ck.expect(isinstance(value, torch.Tensor) and not isinstance(value, torch.nn.Parameter)
              and name not in module._buffers, clause,
              f"{name} must be a plain tensor attribute (REPARAM-3), is "
              f"{type(value).__name__}\n{steps}")
    try:
        expected = (param.detach() * mask).nan_to_num()
        same = value.shape == expected.shape and torch.equal(
            value.detach().nan_to_num(), expected)
    except RuntimeError as exc:
        ck.fail(clause, f"{name}_orig * {name}_mask cannot be computed ({exc}): the mask has "
                        f"shape {tuple(mask.shape)}, the parameter {tuple(param.shape)}\n{steps}")
    ck.expect(same, clause, f"{name} must equal {name}_orig * {name}_mask (REPARAM-3)\n{steps}")


@check("apply", "CUSTOM-1",
       "Cls.apply(module, name, **kwargs) on a fresh tensor: name_orig is the very Parameter, "
       "name a plain tensor equal to name_orig * name_mask", needs=("shape",))
def _apply_fresh(c: Contract) -> None:
    @examples(c.apply_examples)
    def run(data: Any) -> None:
        subject, steps = _start(c, data)
        param = subject.param
        apply_method(c, data, subject, steps, "CUSTOM-1")
        _expect_reparametrized(c, subject, param, steps, "CUSTOM-1")

    run()


@check("buffer", "REPARAM-2",
       "Cls.apply stores name_mask: a persistent buffer of the parameter's shape, dtype and "
       "device, holding 0 and 1, not requiring grad", needs=("shape",))
def _apply_mask_buffer(c: Contract) -> None:
    @examples(c.apply_examples)
    def run(data: Any) -> None:
        subject, steps = _start(c, data)
        module, name, param = subject.module, subject.name, subject.param
        apply_method(c, data, subject, steps, "REPARAM-2")
        mask = module._buffers.get(f"{name}_mask")
        ck.expect(isinstance(mask, torch.Tensor)
                  and f"{name}_mask" not in module._non_persistent_buffers_set, "REPARAM-2",
                  f"{name}_mask must be a registered persistent buffer, is {mask!r}\n{steps}")
        for what, seen, expected in (("shape", tuple(mask.shape), tuple(param.shape)),
                                     ("dtype", mask.dtype, param.dtype),
                                     ("device", mask.device, param.device)):
            ck.expect(seen == expected, "REPARAM-2",
                      f"{name}_mask {what}: expected {expected} (the parameter's), seen "
                      f"{seen}\n{steps}")
        binary = bool(((mask == 0) | (mask == 1)).all())
        ck.expect(binary, "REPARAM-2",
                  f"{name}_mask must hold only 0 and 1, holds {_values(mask)}\n{steps}")
        ck.expect(not mask.requires_grad, "REPARAM-2",
                  f"{name}_mask must not require grad\n{steps}")

    run()


@check("hook", "HOOK-1",
       "Cls.apply registers one forward pre-hook for the tensor, the method object itself, and "
       "returns it (HOOK-3)", needs=("shape",))
def _apply_hook(c: Contract) -> None:
    @examples(c.apply_examples)
    def run(data: Any) -> None:
        subject, steps = _start(c, data)
        module, name = subject.module, subject.name
        hook = apply_method(c, data, subject, steps, "HOOK-1")
        hooks = _hooks(c, module, name)
        ck.expect(len(hooks) == 1, "HOOK-1",
                  f"pruning forward pre-hooks for {name!r}: expected 1, seen {len(hooks)}\n"
                  f"{steps}")
        ck.expect(type(hooks[0]) is c.cls, "HOOK-1",
                  f"after one call the hook must be the {c.cls.__name__} object itself, is "
                  f"{type(hooks[0]).__name__}\n{steps}")
        ck.expect(hooks[0]._tensor_name == name, "HOOK-1",
                  f"the hook's _tensor_name must be {name!r}, is "
                  f"{getattr(hooks[0], '_tensor_name', None)!r}\n{steps}")
        ck.expect(hook is hooks[0], "HOOK-3",
                  f"{c.cls.__name__}.apply must return the hook now registered, returned "
                  f"{hook!r}\n{steps}")

    run()


@st.composite
def earlier_masks(draw_: st.DrawFn, c: Contract, param: torch.Tensor) -> torch.Tensor:
    return draw_(default_masks(c, tuple(param.shape), param.dtype, pruned=True))


def _expect_history(c: Contract, module: torch.nn.Module, name: str, expected: list[str],
                    steps: Steps, clause: str = "COMPOSE-4") -> None:
    seen = [type(m).__name__ for m in ck.history(c.family, module, name)]
    ck.expect(seen == expected, clause,
              f"the hook's history (COMPOSE-4): expected {expected}, seen {seen}\n{steps}")


def _expect_no_revival(before: torch.Tensor, module: torch.nn.Module, name: str, steps: Steps,
                       clause: str) -> None:
    after = module._buffers.get(f"{name}_mask")
    if not isinstance(after, torch.Tensor) or after.shape != before.shape:
        ck.fail(clause, f"{name}_mask must keep the parameter's shape {tuple(before.shape)}, is "
                        f"{getattr(after, 'shape', after)!r}\n{steps}")
    revived = before.eq(0) & after.ne(0)
    ck.expect(not bool(revived.any()), clause,
              f"{_entries(int(revived.sum()))} pruned before the call kept after it "
              f"(COMPOSE-1):\n{_grids(before, after, ('before', 'after'))}\n{steps}")


@check("pruned", "COMPOSE-4",
       "Cls.apply on a tensor already pruned (custom_from_mask): one hook, a PruningContainer "
       "holding [CustomFromMask, Cls], no entry revived", needs=("shape", *CONTAINER))
def _apply_on_pruned(c: Contract) -> None:
    @examples(c.apply_examples)
    def run(data: Any) -> None:
        subject, steps = _start(c, data)
        module, name = subject.module, subject.name
        earlier = data.draw(earlier_masks(c, subject.param), label="earlier mask")
        steps.add(f"prune.custom_from_mask(module, {name!r}, mask=mask)  # mask:\n        "
                  + "\n        ".join(draw(earlier)))
        c.family.CustomFromMask.apply(module, name, mask=earlier)
        before = ck.current_mask(module, name).detach().clone()
        hook = apply_method(c, data, subject, steps, "COMPOSE-4")
        hooks = _hooks(c, module, name)
        ck.expect(len(hooks) == 1, "HOOK-1",
                  f"pruning forward pre-hooks for {name!r}: expected 1, seen {len(hooks)}\n"
                  f"{steps}")
        ck.expect(isinstance(hooks[0], c.family.PruningContainer), "COMPOSE-4",
                  f"after the second call the hook must be a PruningContainer, is "
                  f"{type(hooks[0]).__name__}\n{steps}")
        _expect_history(c, module, name, ["CustomFromMask", c.cls.__name__], steps)
        ck.expect(hook is hooks[0], "HOOK-3",
                  f"{c.cls.__name__}.apply must return the hook now registered (the "
                  f"container), returned {hook!r}\n{steps}")
        _expect_no_revival(before, module, name, steps, "COMPOSE-1")

    run()


@check("repeated", "COMPOSE-4",
       "Cls.apply three times: the second call makes a PruningContainer, the third appends to "
       "that same container; no entry revived", needs=("shape", *CONTAINER))
def _apply_repeated(c: Contract) -> None:
    @examples(c.apply_examples)
    def run(data: Any) -> None:
        subject, steps = _start(c, data)
        module, name = subject.module, subject.name
        apply_method(c, data, subject, steps, "COMPOSE-4")
        container = None
        for call in (2, 3):
            before = ck.current_mask(module, name).detach().clone()
            hook = apply_method(c, data, subject, steps, "COMPOSE-4")
            hooks = _hooks(c, module, name)
            ck.expect(len(hooks) == 1, "HOOK-1",
                      f"pruning forward pre-hooks for {name!r} after call {call}: expected 1, "
                      f"seen {len(hooks)}\n{steps}")
            _expect_history(c, module, name, [c.cls.__name__] * call, steps)
            if container is not None:
                ck.expect(hooks[0] is container, "COMPOSE-4",
                          f"call {call} must append to the container of call 2, the hook is "
                          f"another object\n{steps}")
            container = hooks[0]
            ck.expect(hook is container, "HOOK-3",
                      f"{c.cls.__name__}.apply must return the hook now registered\n{steps}")
            _expect_no_revival(before, module, name, steps, "COMPOSE-1")

    run()


def _pruned_then_removed(c: Contract, data: Any, clause: str) -> tuple[
        models.Subject, Steps, torch.Tensor, list[str], torch.Tensor]:
    """A subject pruned by 1-2 calls of the method, then `remove`d: the subject, the steps, the
    parameter, the state_dict keys before pruning and orig * mask just before remove."""
    subject, steps = _start(c, data)
    module, name, param = subject.module, subject.name, subject.param
    keys = list(module.state_dict())
    for _ in range(data.draw(st.integers(1, 2), label="calls before remove")):
        apply_method(c, data, subject, steps, clause)
    mask = module._buffers.get(f"{name}_mask")
    try:
        pruned = (param.detach() * mask).clone()
    except Exception:
        reject()  # a broken mask: the apply checks report it
    steps.add(f"prune.remove(module, {name!r})")
    try:
        with _quiet():
            c.family.remove(module, name)
    except Exception as exc:
        ck.fail(clause, f"remove raised {type(exc).__name__}: {exc}\n{steps}")
    return subject, steps, param, keys, pruned


@check("remove", "REMOVE-1",
       "remove(module, name) after one or two calls puts back the same Parameter, holding "
       "orig * mask, with its requires_grad", needs=("shape", *CONTAINER))
def _remove_restores(c: Contract) -> None:
    @examples(c.apply_examples)
    def run(data: Any) -> None:
        subject, steps, param, _, pruned = _pruned_then_removed(c, data, "REMOVE-1")
        module, name = subject.module, subject.name
        ck.expect(module._parameters.get(name) is param, "REMOVE-1",
                  f"after remove, {name} must be the original Parameter again\n{steps}")
        ck.expect(torch.equal(param.detach().nan_to_num(), pruned.nan_to_num()), "REMOVE-1",
                  f"after remove, {name} must hold {name}_orig * {name}_mask\n{steps}")
        ck.expect(param.requires_grad, "REMOVE-1",
                  f"after remove, {name} must still require grad\n{steps}")

    run()


@check("cleanup", "REMOVE-2",
       "after remove: no name_orig, name_mask or pruning hook; the state_dict keys of the "
       "unpruned module", needs=("shape", *CONTAINER))
def _remove_cleans(c: Contract) -> None:
    @examples(c.apply_examples)
    def run(data: Any) -> None:
        subject, steps, _, keys, _ = _pruned_then_removed(c, data, "REMOVE-2")
        module, name = subject.module, subject.name
        ck.expect(f"{name}_orig" not in module._parameters
                  and f"{name}_mask" not in module._buffers, "REMOVE-2",
                  f"after remove, {name}_orig and {name}_mask must be gone\n{steps}")
        ck.expect(not _hooks(c, module, name), "REMOVE-2",
                  f"after remove, the pruning hook of {name!r} must be gone\n{steps}")
        seen = list(module.state_dict())
        # As sets: torch re-registers the parameter last, so the order may change.
        ck.expect(sorted(seen) == sorted(keys), "REMOVE-2",
                  f"state_dict keys after remove: expected {keys} (before pruning), seen "
                  f"{seen}\n{steps}")

    run()


@check("fresh", "REMOVE-4",
       "Cls.apply after remove starts fresh: a new name_orig/name_mask pair and the method "
       "alone as the hook", needs=("shape", *CONTAINER))
def _apply_after_remove(c: Contract) -> None:
    @examples(c.apply_examples)
    def run(data: Any) -> None:
        subject, steps, param, _, _ = _pruned_then_removed(c, data, "REMOVE-4")
        module, name = subject.module, subject.name
        apply_method(c, data, subject, steps, "REMOVE-4")
        ck.expect(module._parameters.get(f"{name}_orig") is param, "REMOVE-4",
                  f"{name}_orig must again be the Parameter\n{steps}")
        _expect_history(c, module, name, [c.cls.__name__], steps, "REMOVE-4")

    run()


# --- loading the target -------------------------------------------------------------------------

_MISSING = object()


def load_class(target: str) -> type:
    """`module:Class`, module a dotted path or a .py file, Class perhaps dotted (Outer.Inner)."""
    module_part, sep, class_part = target.rpartition(":")
    if not sep or not module_part or not class_part:
        raise UsageProblem(f"expected module:Class, got {target!r}")
    if module_part.endswith(".py") or "/" in module_part or os.sep in module_part:
        module = _load_file(Path(module_part))
    else:
        module = _import(module_part)
    value: object = module
    for part in class_part.split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            raise UsageProblem(f"{module_part} has no {class_part!r}") from None
    if not isinstance(value, type):
        raise UsageProblem(f"{target} is {type(value).__name__}, not a class")
    return value


def _import(name: str) -> types.ModuleType:
    # Like `python -m`: a module beside the user (the current directory) is importable.
    added = os.getcwd() not in sys.path
    if added:
        sys.path.insert(0, os.getcwd())
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and name.startswith(exc.name):
            raise UsageProblem(f"no module named {exc.name!r} (from {name!r})") from None
        raise UsageProblem(f"module {name!r} failed to import: {exc!r}") from None
    except Exception as exc:
        raise UsageProblem(f"module {name!r} failed to import: {exc!r}") from None
    finally:
        if added:
            sys.path.remove(os.getcwd())


def _load_file(path: Path) -> types.ModuleType:
    if not path.is_file():
        raise UsageProblem(f"file {str(path)!r} does not exist")
    name = f"prune_method_{path.stem}_{abs(hash(str(path.resolve()))):x}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise UsageProblem(f"file {str(path)!r} is not a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # before execution: dataclasses and pickling look it up
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise UsageProblem(f"file {str(path)!r} failed to import: {exc!r}") from None
    return module


def pruning_module(cls: type, implementation: impl_loader.Implementation,
                   ) -> tuple[types.ModuleType, str]:
    """The pruning module `cls` belongs to: the implementation under test when `cls` subclasses its
    BasePruningMethod, else torch's or the reference's; (module, its name)."""
    own = implementation.name
    candidates = [(implementation.module,
                   implementation.module.__name__ if own in impl_loader.ALIASES else own)]
    for alias, dotted in impl_loader.ALIASES.items():
        if alias != implementation.spec:
            try:
                candidates.append((importlib.import_module(dotted), dotted))
            except Exception:  # the reference may be mid-rewrite: skip it
                continue
    for module, name in candidates:
        base = getattr(module, "BasePruningMethod", None)
        if isinstance(base, type) and issubclass(cls, base):
            return module, name
    names = ", ".join(name for _, name in candidates)
    raise UsageProblem(f"{cls.__module__}.{cls.__qualname__} is not a subclass of "
                       f"BasePruningMethod (of {names})")


def prepare(target: str, kwargs: dict[str, Any], impl_spec: str, device: str,
            ) -> tuple[Contract, impl_loader.Implementation]:
    """Everything the checks need, or UsageProblem naming what is wrong."""
    if not isinstance(kwargs, dict):
        raise UsageProblem(f"kwargs must be a dict, got {type(kwargs).__name__}")
    try:
        implementation = impl_loader.load(impl_spec)
    except impl_loader.ImplementationError as exc:
        raise UsageProblem(str(exc)) from None
    try:
        torch_device = torch.device(device)
        torch.empty(1, device=torch_device)
    except Exception as exc:
        raise UsageProblem(f"device {device!r} cannot be used here: "
                           f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
                           ) from None
    cls = load_class(target)
    family, family_name = pruning_module(cls, implementation)
    try:
        method = cls(**kwargs)
    except Exception as exc:
        raise UsageProblem(f"{cls.__name__}(**{kwargs!r}) raised {type(exc).__name__}: {exc} "
                           f"(--kwargs go to the constructor)") from None
    contract = Contract(cls, dict(kwargs), family, family_name, torch_device,
                        getattr(method, "PRUNING_TYPE", _MISSING), getattr(method, "dim", _MISSING))
    return contract, implementation


# --- the report -------------------------------------------------------------------------------

@dataclass
class Outcome:
    check: Check
    status: str  # PASS | FAIL | SKIP
    detail: str = ""


def run_one(check_: Check, c: Contract) -> Outcome:
    c.last_rejection.clear()
    try:
        with _quiet():
            check_.run(c)
    except Skipped as exc:
        return Outcome(check_, "SKIP", f"does not apply: {exc}")
    except ck.SpecViolation as exc:
        return Outcome(check_, "FAIL", str(exc))
    except hypothesis_errors.Unsatisfiable:
        last = c.last_rejection[0] if c.last_rejection else "no message"
        return Outcome(check_, "FAIL", f"{check_.clause}: every input drawn was rejected with "
                                       f"ValueError (the last: {last}); do the --kwargs fit "
                                       f"small tensors (up to {SMALL} entries)?")
    except hypothesis_errors.FlakyFailure as exc:
        inner = next((e for e in exc.exceptions if isinstance(e, ck.SpecViolation)), None)
        text = str(inner) if inner is not None else f"{type(exc).__name__}: {exc}"
        return Outcome(check_, "FAIL", f"{text}\n(the failure did not repeat when the example "
                                       f"was replayed: the method's result changes between "
                                       f"calls under the same seed, SELECT-7)")
    except Exception as exc:
        return Outcome(check_, "FAIL", f"{check_.clause}: the check could not run: "
                                       f"{type(exc).__name__}: {exc}")
    return Outcome(check_, "PASS")


def run_all(c: Contract) -> list[Outcome]:
    outcomes: dict[str, Outcome] = {}
    for check_ in CHECKS:
        failed = [outcomes[k].check for k in check_.needs
                  if k in outcomes and outcomes[k].status == "FAIL"]
        if failed:
            outcomes[check_.key] = Outcome(check_, "SKIP", "not run: "
                                           + ", ".join(f"{f.clause} ({f.key})" for f in failed)
                                           + " failed above")
        else:
            outcomes[check_.key] = run_one(check_, c)
    return list(outcomes.values())


def report(c: Contract, implementation: impl_loader.Implementation, target: str,
           out: IO[str]) -> int:
    where = getattr(sys.modules.get(c.cls.__module__), "__file__", None) or c.cls.__module__
    print(f"{PROG} method {target}", file=out)
    print(f"  {c.call} from {where}, PRUNING_TYPE {c.type_text}", file=out)
    print(f"  implementation {implementation.name} ({implementation.version}), device "
          f"{c.device}; Hypothesis, derandomized: {c.examples} examples per compute_mask check, "
          f"{c.apply_examples} per apply check", file=out)
    if c.family is not implementation.module:
        print(f"  note: {c.cls.__name__} subclasses {c.family_name}.BasePruningMethod, not "
              f"{implementation.name}'s: it is applied through its own (inherited) apply, and "
              f"composed and removed by {c.family_name}", file=out)
    outcomes = run_all(c)
    width = max(len(o.check.clause) for o in outcomes)
    for outcome in outcomes:
        print(f"{outcome.status}  {outcome.check.clause:<{width}}  {outcome.check.title}"
              + (f" ({outcome.detail})" if outcome.status == "SKIP" else ""), file=out)
        if outcome.status == "FAIL":
            for line in outcome.detail.splitlines():
                print(f"      {line}", file=out)
    failed = [o for o in outcomes if o.status == "FAIL"]
    passed = [o for o in outcomes if o.status == "PASS"]
    if failed:
        clauses = ", ".join(dict.fromkeys(o.check.clause for o in failed))
        print(f"result: {c.cls.__name__} breaks the method contract: {len(failed)} "
              f"{'check' if len(failed) == 1 else 'checks'} failed ({clauses}), "
              f"{len(passed)} passed", file=out)
    else:
        print(f"result: {c.cls.__name__} keeps the method contract ({len(passed)} checks "
              f"passed)", file=out)
    out.flush()
    return EXIT_FAILS if failed else EXIT_OK


def run_method_check(target: str, kwargs: dict, impl_spec: str, device: str, *,
                     out: IO[str] | None = None, err: IO[str] | None = None,
                     examples: int = MASK_EXAMPLES, apply_examples: int = APPLY_EXAMPLES) -> int:
    """Check `target` ("module:Class") built with `kwargs` against the method contract.

    Prints one line per check (PASS/FAIL/SKIP with its clause) and, under a failure, the example;
    returns 0 when every check passes, 1 when one fails, 2 on a usage error (one line on `err`).
    """
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        contract, implementation = prepare(target, kwargs, impl_spec, device)
    except UsageProblem as exc:
        print(f"{PROG}: error: {exc}", file=err)
        return EXIT_USAGE
    contract.examples, contract.apply_examples = examples, apply_examples
    return report(contract, implementation, target, out)
