"""What the WORKFLOW properties share: the zoo they draw from, a pruned subject with the lines
that made it, losses and comparisons of outputs, a hand edit of a mask, and ATOMIC's *unchanged*
widened to the class a parametrization swaps.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from typing import Any

import torch
from hypothesis import strategies as st
from torch import nn

from conformance import checks as ck
from conformance import models
from conformance import strategies as hh
from conformance.parity import expect_close_outputs

ZOO = ("Holder", *models.KINDS, *models.EXTRA_KINDS)
NUMERIC_DTYPES = (torch.float32, torch.float64)


class Scaled(nn.Module):
    """A parametrization: `original * factor`."""

    def __init__(self, factor: float) -> None:
        super().__init__()
        self.factor = factor

    def forward(self, original: torch.Tensor) -> torch.Tensor:
        return original * self.factor


FACTORS = (2.0, -1.0, 0.5)


# --- drawing and comparing ---------------------------------------------------------------------

def pruned(prune: Any, device: torch.device, data: st.DataObject, *,
            kinds: tuple[str, ...] = ZOO, dtypes: tuple[torch.dtype, ...] = NUMERIC_DTYPES,
            ) -> tuple[models.Subject, nn.Module, list[str]]:
    """A subject pruned by 1-2 calls, a deep copy of its module taken before, and the repro
    lines."""
    dtype = data.draw(st.sampled_from(dtypes), label="dtype")
    subject = data.draw(hh.subjects(device, dtype=dtype, kinds=kinds, min_dims=0), label="subject")
    unpruned = copy.deepcopy(subject.module)  # an unpruned module deep-copies in every torch
    applied = data.draw(hh.applied_calls(prune, subject, 1, 2), label="calls")
    lines = [f"module = {subject.source}.to({dtype})  # x: its input",
             *(a.source(name=subject.name) for a in applied)]
    return subject, unpruned, lines


def out(module: Callable[..., Any], inputs: torch.Tensor) -> torch.Tensor:
    out = module(inputs)
    return out[0] if isinstance(out, tuple) else out


def weighted_sum(out: torch.Tensor, seed: int) -> torch.Tensor:
    """A loss in which every output entry carries gradient: a fixed random weighting."""
    weights = torch.randn(out.shape, generator=torch.Generator().manual_seed(seed),
                          dtype=torch.float64)
    return (out * weights.to(device=out.device, dtype=out.dtype)).sum()


def close(seen: torch.Tensor, expected: torch.Tensor, clause: str, what: str) -> None:
    expect_close_outputs(seen.detach(), expected.detach(), expected.dtype, clause, what)


def zero_one_remaining_entry(data: st.DataObject, module: nn.Module, name: str) -> str:
    """Zero a drawn remaining entry of `<name>_mask` in place (a hand edit); its source text."""
    mask = module._buffers[f"{name}_mask"]
    remaining = mask.ne(0).flatten().nonzero().flatten().tolist()
    if not remaining:
        return "# (nothing remains to edit in the mask)"
    flat = data.draw(st.sampled_from(remaining), label="edited entry")
    index = tuple(int(i) for i in torch.unravel_index(torch.tensor(flat), mask.shape))
    with torch.no_grad():
        mask[index] = 0
    return f"module.{name}_mask[{index}] = 0"


# What torch.jit.script leaves on any module it tries, pruned or not: its own bookkeeping.
SCRIPT_BOOKKEEPING = frozenset({"__overloads__"})


def snapshot(module: nn.Module, ignored: frozenset[str] = frozenset()) -> ck.ModuleSnapshot:
    """ATOMIC's *unchanged*, plus the class (which `register_parametrization` swaps), less the
    `ignored` attribute names."""
    snapshot = ck.ModuleSnapshot.take(module)
    attributes = {prefix: tuple(a for a in names if a not in ignored)
                  for prefix, names in snapshot.attributes.items()}
    attributes["<class>"] = (type(module).__name__,)
    return dataclasses.replace(snapshot, attributes=attributes)


def expect_unchanged(before: ck.ModuleSnapshot, module: nn.Module, clause: str, what: str,
                      ignored: frozenset[str] = frozenset()) -> None:
    changes = before.differences(snapshot(module, ignored))
    ck.expect(not changes, clause, f"{what} must leave the module unchanged: " + "; ".join(changes))
