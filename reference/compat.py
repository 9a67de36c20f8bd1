"""The private helpers of `torch.nn.utils.prune` that user code calls (API-4).

Pruning methods written by copying torch's `L1Unstructured` or `LnStructured`, and training scripts
that plan pruning schedules, call these module-level names. Each is a thin name over the
reference's own amount and selection code, with torch's signature and argument names; where torch
accepts what SPEC.md rejects (a bool amount, NaN, a negative dim out of range), the reference's
stricter rule applies, with its error.
"""

from __future__ import annotations

import numbers

import torch

from reference.amount import is_count, units_for, units_to_prune, validate_amount
from reference.selection import channel_norms, check_structured, normalize_dim


def _validate_pruning_amount_init(amount: object) -> None:
    """Reject what is not an amount: TypeError for a non-number, ValueError out of range."""
    validate_amount(amount)


def _validate_pruning_amount(amount: numbers.Real, tensor_size: int) -> None:
    """An int count may not exceed `tensor_size`, the units that remain (ValueError)."""
    if is_count(amount):
        units_to_prune(amount, tensor_size)


def _compute_nparams_toprune(amount: numbers.Real, tensor_size: int) -> int:
    """Units an amount prunes among `tensor_size`: a count as is, a fraction rounded half to
    even. Like torch's, it does not check a count against `tensor_size`."""
    return units_for(amount, tensor_size)


def _validate_structured_pruning(t: torch.Tensor) -> None:
    """Structured pruning needs 2 or more dims (ValueError)."""
    check_structured(t)


def _validate_pruning_dim(t: torch.Tensor, dim: int) -> None:
    """`dim` must name a dim of `t` (IndexError)."""
    normalize_dim(dim, t.dim())


def _compute_norm(t: torch.Tensor, n: int | float | str, dim: int) -> torch.Tensor:
    """The L_n norm of each channel of `t` along `dim`, over all other dims: one value per
    channel, as torch's returns."""
    return channel_norms(t, n, normalize_dim(dim, t.dim()))
