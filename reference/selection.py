"""Which units to prune: the deterministic k-smallest selection and channel norms.

The k smallest scores are found with one selection pass (`torch.kthvalue`, linear time) instead
of a full top-k; entries strictly below the threshold are pruned and the rest of k is filled from
the entries equal to it, lowest flat index first (SELECT-3), so the result depends on the values
alone, not on device, layout or threads.

Spec: SELECT-1, SELECT-2, SELECT-3, SELECT-4, STRUCT-1, STRUCT-2, STRUCT-3.
"""

from __future__ import annotations

import math
import numbers

import torch

from reference.errors import InvalidNormError

# Norms of low-precision tensors are accumulated in float32: summing squares in float16 overflows
# and rounding the norms back to float16 would turn distinct channels into ties.
_ACCUMULATE_IN_FLOAT32 = (torch.float16, torch.bfloat16)


def smallest_k(scores: torch.Tensor, k: int) -> torch.Tensor:
    """Boolean mask of the k smallest entries of the 1-d `scores`.

    Spec: SELECT-1, SELECT-3, SELECT-4, STRUCT-2.

    NaN ranks above +inf (SELECT-4); among equal scores the lowest index is chosen first (SELECT-3).
    """
    total = scores.numel()
    if k <= 0:
        return torch.zeros_like(scores, dtype=torch.bool)
    if k >= total:
        return torch.ones_like(scores, dtype=torch.bool)
    # kthvalue ranks NaN above every number on every backend, as SELECT-4 wants.
    threshold = torch.kthvalue(scores, k).values
    nan_threshold = bool(torch.isnan(threshold))
    # With a NaN threshold every number is below it, and the ties are the NaNs.
    chosen = ~torch.isnan(scores) if nan_threshold else scores < threshold
    missing = k - int(chosen.sum())
    if missing > 0:
        ties = ~chosen if nan_threshold else scores == threshold
        # Only the tie indices are materialised, and only when some of them are needed.
        chosen[ties.nonzero().squeeze(1)[:missing]] = True
    return chosen


def magnitude_scores(t: torch.Tensor) -> torch.Tensor:
    """|t| flattened in row-major order of the logical shape (SELECT-1, SELECT-3).

    abs() maps -0.0 to 0.0, so the two are one score (SELECT-4).
    """
    return t.detach().abs().reshape(-1)


def random_scores(count: int, device: torch.device) -> torch.Tensor:
    """`count` uniform scores drawn from the generator of `device` (SELECT-6, SELECT-7, DEVICE-5).

    Ranking them and pruning the k smallest picks every k-subset with equal probability.
    """
    return torch.rand(count, device=device)


def validate_norm_order(n: object) -> None:
    """Reject an `n` that is not a norm order of STRUCT-2, naming it (STRUCT-6)."""
    if isinstance(n, str) and n == "fro":
        return
    is_real = isinstance(n, numbers.Real) and not isinstance(n, bool)
    if not is_real or math.isnan(n):
        raise InvalidNormError(
            f"n={n!r} is not a norm order: expected a real number p (including 0, inf, -inf) "
            "or 'fro'"
        )


def norm_order(n: float | str) -> float:
    """The `ord` of torch.linalg.vector_norm that `n` names (STRUCT-2): 'fro' is 2."""
    return 2.0 if n == "fro" else float(n)


def normalize_dim(dim: int, ndim: int) -> int:
    """`dim` counted from the front; IndexError outside [-ndim, ndim) (STRUCT-3, ERRORS-2)."""
    if not -ndim <= dim < ndim:
        raise IndexError(
            f"dim={dim} is out of range for a tensor with {ndim} dims: expected "
            f"{-ndim} <= dim < {ndim}"
        )
    return dim % ndim


def check_structured(t: torch.Tensor) -> None:
    """Channels need a tensor of at least 2 dims (STRUCT-4)."""
    if t.dim() < 2:
        raise ValueError(
            f"structured pruning needs a tensor with 2 or more dims, got shape {tuple(t.shape)} "
            f"({t.dim()} dims)"
        )


def channel_norms(t: torch.Tensor, n: float | str, dim: int) -> torch.Tensor:
    """The L_n norm of every channel of `t` along `dim`, over all other dims.

    Spec: STRUCT-1, STRUCT-2.
    """
    others = [d for d in range(t.dim()) if d != dim]
    scores = t.detach()
    if not scores.is_floating_point():
        scores = scores.to(torch.float64)
    accumulate = torch.float32 if scores.dtype in _ACCUMULATE_IN_FLOAT32 else None
    return torch.linalg.vector_norm(scores, ord=norm_order(n), dim=others, dtype=accumulate)


def remaining_channels(mask: torch.Tensor, dim: int) -> torch.Tensor:
    """Indices of the channels along `dim` holding at least one entry with mask 1 (COMPOSE-2)."""
    others = [d for d in range(mask.dim()) if d != dim]
    return ((mask == 1).sum(dim=others) > 0).nonzero().squeeze(1)
