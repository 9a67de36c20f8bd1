"""A failed check as the assertion of a repro snippet.

A check helper of `conformance.checks` that fails attaches one of these to its `SpecViolation`
(`.expectation`): what it checked, as an expression over the objects the property passed to the
implementation, and what it expected, as literals. `render(names)` gives the snippet's lines
(`names` spells each recorded module: `m0`, `m1`, ...), or None where the checked object is not
one the snippet can name.

Tensors a property reads from a module are remembered with where they come from (`mark_origin`,
for the example being recorded), so that a check that receives one can name the expression:
`ck.mask_or_ones(module, 'weight')` is `m0`'s mask.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from conformance import recording
from conformance.render import draw
from conformance.source import literal

Names = Callable[[nn.Module], str | None]


@dataclass(frozen=True)
class Origin:
    """A tensor read from `module.<name>`'s mask; `dim` and `before` for per-unit flags."""

    module: nn.Module
    name: str
    dim: int | None = None
    before: torch.Tensor | None = None  # the mask before the call, for `newly_pruned` flags


def mark_origin(t: torch.Tensor, origin: Origin) -> torch.Tensor:
    # Kept beside the recording, not on the tensor: an attribute would travel with copies.
    rec = recording.current()
    if rec is not None:
        rec.origins[id(t)] = (t, origin)
    return t


def origin_of(t: object) -> Origin | None:
    rec = recording.current()
    found = rec.origins.get(id(t)) if rec is not None else None
    return found[1] if found is not None and found[0] is t else None


def mask_expression(names: Names, origin: Origin) -> str | None:
    """The implementation's mask of the tensor (ones where it was never pruned)."""
    module = names(origin.module)
    if module is None:
        return None
    name = origin.name
    return (f"getattr({module}, {name + '_mask'!r}, None)\n"
            f"mask = torch.ones_like({module}.{name}) if mask is None else mask")


def _message(text: str) -> str:
    return repr(text)


@dataclass(frozen=True)
class SameMask:
    """expect_same_mask: the mask equals the one the clause defines."""

    origin: Origin
    expected: torch.Tensor
    message: str

    def render(self, names: Names) -> list[str] | None:
        mask = mask_expression(names, self.origin)
        if mask is None:
            return None
        return [f"mask = {mask}",
                f"expected = {literal(self.expected.ne(0).cpu())}",
                "assert mask.shape == expected.shape and torch.equal(mask.ne(0).cpu(), expected), "
                f"{_message(self.message)}"]


@dataclass(frozen=True)
class SmallestPruned:
    """expect_smallest_pruned: no pruned unit scores above a kept one (SELECT, STRUCT)."""

    origin: Origin
    scores: torch.Tensor  # per unit, as the check ranked them
    candidates: torch.Tensor  # per unit: remaining before the call
    rel_tol: float
    clause: str  # the clause whose order ranks them
    message: str

    def render(self, names: Names) -> list[str] | None:
        mask = mask_expression(names, self.origin)
        if mask is None:
            return None
        dim = self.origin.dim
        if dim is None:
            alive = "mask.ne(0).flatten().cpu()"
            unit = "entry"
        else:
            alive = f"mask.ne(0).sum(dim={_others(self.origin.before, dim)}).ne(0).cpu()"
            unit = f"channel along dim={dim}"
        return [f"mask = {mask}",
                f"scores = {literal(self.scores.double().cpu())}  # per {unit}, "
                f"as {self.clause} ranks them",
                "scores = scores.nan_to_num(nan=float('inf'))  # NaN ranks largest",
                f"remaining = {literal(self.candidates.bool().cpu())}  # before the call",
                f"alive = {alive}",
                "pruned, kept = remaining & ~alive, remaining & alive",
                "if pruned.any() and kept.any():",
                "    worst, best = scores[pruned].max(), scores[kept].min()",
                f"    assert worst <= best + {self.rel_tol!r} * best.abs(), "
                f"{_message(self.message)}"]


def _others(before: torch.Tensor | None, dim: int) -> tuple[int, ...]:
    ndim = before.dim() if before is not None else 2
    return tuple(d for d in range(ndim) if d != dim % ndim)


@dataclass(frozen=True)
class Raises:
    """expect_raises: the checked call must raise one of `errors`."""

    errors: tuple[str, ...]  # exception class names (builtins)
    message: str

    def render(self, names: Names) -> list[str] | None:
        # The checked call itself is rendered by the snippet inside this try (see repro).
        caught = self.errors[0] if len(self.errors) == 1 else "(" + ", ".join(self.errors) + ")"
        return ["except " + caught + ":",
                "    pass",
                "else:",
                f"    raise AssertionError({_message(self.message)})"]


@dataclass(frozen=True)
class NamesValue:
    """expect_message_names: the checked call's error message names the bad value."""

    value: Any
    message: str

    def render(self, names: Names) -> list[str] | None:
        spellings = {repr(self.value), str(self.value)}
        return ["except Exception as exc:",
                f"    assert any(s in str(exc) for s in {sorted(spellings)!r}), "
                f"{_message(self.message)} + '; message: ' + repr(str(exc))",
                "else:",
                "    raise AssertionError('the call was accepted; no message to read')"]


def selection_picture(origin: Origin) -> str:
    """The tensor a selection check ranked and the mask it got, for the failure's message."""
    module, name = origin.module, origin.name
    orig = module._parameters.get(f"{name}_orig")
    values = (orig if orig is not None else getattr(module, name)).detach()
    mask = module._buffers.get(f"{name}_mask")
    lines = [f"the tensor ({name}_orig, {values.dtype}): {literal(values.cpu().tolist())}"]
    if mask is not None:
        lines.append("its mask after the call (# kept, . pruned):\n" + "\n".join(draw(mask)))
    return "\n".join(lines)
