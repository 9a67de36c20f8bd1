"""What the checks call the method on, drawn with Hypothesis: compute_mask inputs (scores, a
default mask, a seed) and modules for `Cls.apply`, each with the replay snippet a failure prints;
and the two calls every check makes, `compute` and `apply_method`."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
from hypothesis import HealthCheck, Phase, Verbosity, given, reject, settings
from hypothesis import strategies as st

from conformance import checks as ck
from conformance import measure, models
from conformance import strategies as hh
from conformance.method_contract.contract import SMALL, Contract
from conformance.registry import python_literal


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



@contextmanager
def quiet() -> Iterator[None]:
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



# --- through Cls.apply ----------------------------------------------------------------------

@dataclass
class Steps:
    """The calls made on a module so far, as a replay snippet."""

    lines: list[str]

    def add(self, line: str) -> None:
        self.lines.append(line)

    def __str__(self) -> str:
        return "replay:\n" + "\n".join(f"    {line}" for line in self.lines)


def start(c: Contract, data: Any) -> tuple[models.Subject, Steps]:
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
    before = measure.current_mask(module, name)
    steps.add(f"torch.manual_seed({seed}); {c.apply_source(name=name)}")
    try:
        with hh.seeded(seed, c.device), quiet():
            return c.cls.apply(module, name, **c.kwargs)
    except Exception as exc:
        if isinstance(exc, ValueError):
            scores = measure.original(module, name)
            default = torch.ones_like(scores) if before is None else before.detach()
            args = (scores, default) if before is None else c.view(scores * default, default)
            if c.rejects(*args, seed):
                reject()
        ck.fail(clause, f"{c.apply_source(name=name)} raised {type(exc).__name__}: {exc}\n"
                        f"{steps}")



@st.composite
def earlier_masks(draw_: st.DrawFn, c: Contract, param: torch.Tensor) -> torch.Tensor:
    return draw_(default_masks(c, tuple(param.shape), param.dtype, pruned=True))

