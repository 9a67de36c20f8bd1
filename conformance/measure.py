"""Reading a pruned tensor (its mask, its unmasked values, its pruning hooks) and the arithmetic of
units (how many a given amount prunes, which channels remain): the spec's model, shared by the
assertions (conformance.checks), the statistics (conformance.statistics) and the properties.
"""

from __future__ import annotations

import numbers
from typing import Any

import torch
from torch import nn

from conformance import expectations as ex

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
