"""The built-in pruning methods (API-1, API-3), each a BasePruningMethod subclass.

A method's `compute_mask(t, default_mask)` considers all of `t`: through PruningContainer it is
given only what remains of the tensor (COMPOSE-2), which makes "n counts what remains"
(AMOUNT-3) hold without each method knowing about earlier calls.
"""

from __future__ import annotations

import numbers
from abc import abstractmethod
from collections.abc import Callable

import torch
from torch import nn

from reference.amount import units_to_prune, validate_amount
from reference.base import BasePruningMethod
from reference.errors import check_same_device, check_same_shape, check_tensor
from reference.selection import (
    Flags,
    along,
    channel_norms,
    check_structured,
    magnitude_scores,
    normalize_dim,
    random_scores,
    rank_outside_last,
    remaining_channel_flags,
    smallest_k,
    validate_norm_order,
)


class Identity(BasePruningMethod):
    """Prunes nothing; establishes the reparametrization with a mask of ones (CUSTOM-3)."""

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t: torch.Tensor, default_mask: torch.Tensor) -> torch.Tensor:
        """`default_mask` unchanged (CUSTOM-3)."""
        return default_mask

    @classmethod
    def apply(cls, module: nn.Module, name: str) -> Identity:  # type: ignore[override]
        """Apply Identity to `module.<name>` (CUSTOM-3, HOOK-3)."""
        return super().apply(module, name)


class _RankedEntries(BasePruningMethod):
    """Prunes the k = AMOUNT(amount, entries) entries of smallest `_scores` (COMPOSE-2: of the
    entries that remain, ranked in place on a pruned tensor)."""

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount: int | float) -> None:
        validate_amount(amount)
        self.amount = amount

    def compute_mask(self, t: torch.Tensor, default_mask: torch.Tensor) -> torch.Tensor:
        """Zero the k = AMOUNT(amount, t.numel()) entries of smallest score.

        Spec: AMOUNT-1, AMOUNT-2, SELECT-1, SELECT-3, SELECT-4, SELECT-6.
        """
        k = units_to_prune(self.amount, t.numel())
        return _without_smallest_entries(default_mask, k, self._scores(t))

    @abstractmethod
    def _scores(self, t: torch.Tensor) -> Callable[[], torch.Tensor]:
        """The scores of `t`'s entries, flattened in row-major order, computed when called."""

    def _prune_remaining(self, t: torch.Tensor, mask: torch.Tensor) -> torch.Tensor | None:
        """compute_mask's ranking of the entries of `mask` left, in place (COMPOSE-2).

        Reads only those entries of `t`: whether the others are zeroed does not matter.
        """
        if type(self).compute_mask is not _RankedEntries.compute_mask:
            return None
        return _without_smallest_remaining_entries(mask, self.amount, self._scores(t))


class _RankedChannels(BasePruningMethod):
    """Prunes the k = AMOUNT(amount, channels) channels along `dim` of smallest `_scores`
    (COMPOSE-2: of the channels that remain, ranked in place on a pruned tensor)."""

    PRUNING_TYPE = "structured"
    amount: int | float
    dim: int

    def compute_mask(self, t: torch.Tensor, default_mask: torch.Tensor) -> torch.Tensor:
        """Zero the k channels of `t` along `dim` of smallest score.

        Spec: STRUCT-1, STRUCT-2, STRUCT-3, STRUCT-4, STRUCT-5, ERRORS-2.
        """
        dim = _channel_dim(t, self.dim)
        k = units_to_prune(self.amount, t.shape[dim])
        return _without_smallest_channels(default_mask, dim, k, self._scores(t, dim))

    @abstractmethod
    def _scores(self, t: torch.Tensor, dim: int) -> Callable[[], torch.Tensor]:
        """One score per channel of `t` along `dim`, computed when called."""

    def _prune_remaining(self, t: torch.Tensor, mask: torch.Tensor) -> torch.Tensor | None:
        """compute_mask's ranking of the channels of `mask` left, in place (COMPOSE-2).

        Channel scores read every entry of a remaining channel: the pruned ones must be zeroed.
        """
        if type(self).compute_mask is not _RankedChannels.compute_mask:
            return None
        dim = _channel_dim(t, self.dim)
        return _without_smallest_remaining_channels(mask, dim, self.amount, self._scores(t, dim))


class RandomUnstructured(_RankedEntries):
    """Prunes k entries at random, every k-subset equally likely (SELECT-6, SELECT-7, DEVICE-5)."""

    def _scores(self, t: torch.Tensor) -> Callable[[], torch.Tensor]:
        return lambda: random_scores(t.numel(), t.device)

    @classmethod
    def apply(  # type: ignore[override]
        cls, module: nn.Module, name: str, amount: int | float
    ) -> BasePruningMethod:
        """Apply RandomUnstructured to `module.<name>` (SELECT-6, HOOK-3)."""
        return super().apply(module, name, amount=amount)


class L1Unstructured(_RankedEntries):
    """Prunes the k entries of smallest |score|.

    Spec: SELECT-1, SELECT-2, SELECT-3, SELECT-4, SELECT-5.
    """

    def _scores(self, t: torch.Tensor) -> Callable[[], torch.Tensor]:
        return lambda: magnitude_scores(t)

    @classmethod
    def apply(  # type: ignore[override]
        cls,
        module: nn.Module,
        name: str,
        amount: int | float,
        importance_scores: torch.Tensor | None = None,
    ) -> BasePruningMethod:
        """Apply L1Unstructured to `module.<name>` (SELECT-1, SELECT-5, HOOK-3)."""
        return super().apply(module, name, amount=amount, importance_scores=importance_scores)


class RandomStructured(_RankedChannels):
    """Prunes k whole channels along `dim` at random (STRUCT-5, STRUCT-7, DEVICE-5)."""

    def __init__(self, amount: int | float, dim: int = -1) -> None:
        validate_amount(amount)
        _validate_dim(dim)
        self.amount = amount
        self.dim = dim

    def _scores(self, t: torch.Tensor, dim: int) -> Callable[[], torch.Tensor]:
        return lambda: random_scores(t.shape[dim], t.device)

    @classmethod
    def apply(  # type: ignore[override]
        cls, module: nn.Module, name: str, amount: int | float, dim: int = -1
    ) -> BasePruningMethod:
        """Apply RandomStructured to `module.<name>` (STRUCT-5, HOOK-3)."""
        return super().apply(module, name, amount=amount, dim=dim)


class LnStructured(_RankedChannels):
    """Prunes the k channels along `dim` of smallest L_n norm.

    Spec: STRUCT-1, STRUCT-2, STRUCT-6, STRUCT-7.
    """

    def __init__(self, amount: int | float, n: int | float | str, dim: int = -1) -> None:
        validate_amount(amount)
        validate_norm_order(n)
        _validate_dim(dim)
        self.amount = amount
        self.n = n
        self.dim = dim

    def _scores(self, t: torch.Tensor, dim: int) -> Callable[[], torch.Tensor]:
        return lambda: channel_norms(t, self.n, dim)

    @classmethod
    def apply(  # type: ignore[override]
        cls,
        module: nn.Module,
        name: str,
        amount: int | float,
        n: int | float | str,
        dim: int,
        importance_scores: torch.Tensor | None = None,
    ) -> BasePruningMethod:
        """Apply LnStructured to `module.<name>` (STRUCT-1, SELECT-5, HOOK-3)."""
        return super().apply(
            module, name, amount=amount, n=n, dim=dim, importance_scores=importance_scores
        )


class CustomFromMask(BasePruningMethod):
    """Prunes the entries where a given mask is 0 (CUSTOM-4, CUSTOM-5, GLOBAL-5)."""

    PRUNING_TYPE = "global"

    def __init__(self, mask: torch.Tensor) -> None:
        self.mask = check_tensor(mask, "mask")

    def compute_mask(self, t: torch.Tensor, default_mask: torch.Tensor) -> torch.Tensor:
        """`default_mask` with the entries where `mask == 0` zeroed.

        Spec: CUSTOM-4, CUSTOM-5, DEVICE-6.
        """
        check_same_shape(self.mask, default_mask, "mask", "the parameter")
        check_same_device(self.mask, default_mask, "mask", "the parameter")
        # Any real or bool mask is accepted; the stored mask stays binary (REPARAM-2). The bool
        # factor multiplies as 0 or 1 in default_mask's dtype, without a converted copy. The
        # product keeps default_mask's layout: row-major for the caller (API-6).
        return (default_mask * (self.mask != 0)).contiguous()

    @classmethod
    def apply(  # type: ignore[override]
        cls, module: nn.Module, name: str, mask: torch.Tensor
    ) -> BasePruningMethod:
        """Apply CustomFromMask to `module.<name>` (CUSTOM-4, HOOK-3)."""
        return super().apply(module, name, mask=mask)


def _validate_dim(dim: object) -> None:
    if isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
        raise TypeError(f"dim={dim!r} ({type(dim).__name__}) is not an int")


def _channel_dim(t: torch.Tensor, dim: int) -> int:
    check_structured(t)
    return normalize_dim(dim, t.dim())


def _without_smallest_entries(
    default_mask: torch.Tensor,
    k: int,
    scores: Callable[[], torch.Tensor],
    within: Flags = None,
) -> torch.Tensor:
    """`default_mask` with the entries of the k smallest `scores()` (among those `within`
    flags) zeroed (COMPOSE-1).

    Scores are computed only when something is pruned: a count of 0 draws no random numbers.
    They are ranked before the mask is copied, so that they are freed by then (peak memory).
    """
    pruned = None
    if k > 0:
        ranked = scores()
        pruned = smallest_k(ranked, k, within, nan_outside=rank_outside_last(ranked, within))
        del ranked
        pruned = pruned.view(default_mask.shape)
    return _with_zeros(default_mask, pruned)


def _without_smallest_channels(
    default_mask: torch.Tensor,
    dim: int,
    k: int,
    scores: Callable[[], torch.Tensor],
    within: Flags = None,
) -> torch.Tensor:
    """`default_mask` with the k channels of smallest `scores()` along `dim` (among those
    `within` flags) zeroed (COMPOSE-1)."""
    pruned = None
    if k > 0:
        ranked = scores()
        chosen = smallest_k(ranked, k, within, nan_outside=rank_outside_last(ranked, within))
        pruned = along(chosen, dim, default_mask.dim())
    return _with_zeros(default_mask, pruned)


def _with_zeros(default_mask: torch.Tensor, pruned: torch.Tensor | None) -> torch.Tensor:
    """A new contiguous `default_mask`, 0 where `pruned` (broadcast to its shape) is True.

    One pass instead of a copy and a fill. Flags per entry: torch.where, with a zero of the
    mask's dtype (a Python 0 would promote a bool mask). Flags per channel: a multiply by the
    few kept flags (a mask's entries are finite, so x * 0 is 0), 3 times as fast as torch.where
    broadcasting them; on entries it would need a negated copy of the flags.
    """
    if pruned is None:
        return default_mask.clone(memory_format=torch.contiguous_format)
    if pruned.numel() == default_mask.numel():
        return torch.where(pruned, default_mask.new_zeros(()), default_mask).contiguous()
    return (default_mask * pruned.logical_not()).contiguous()


# A container's mask of what remains, computed in place on the whole tensor: the same mask as
# compute_mask gives on the gathered remaining entries or channels, without the gather and the
# scatter back (copies of the tensor, and on a GPU host reads of how many remain). One value is
# read on the host: how many units remain, which k counts (AMOUNT-3) and a count may not exceed
# (AMOUNT-6).


def _without_smallest_remaining_entries(
    mask: torch.Tensor, amount: int | float, scores: Callable[[], torch.Tensor]
) -> torch.Tensor:
    remaining = (mask == 1).reshape(-1)
    k = units_to_prune(amount, int(torch.count_nonzero(remaining)))
    return _without_smallest_entries(mask, k, scores, remaining)


def _without_smallest_remaining_channels(
    mask: torch.Tensor, dim: int, amount: int | float, scores: Callable[[], torch.Tensor]
) -> torch.Tensor:
    remaining = remaining_channel_flags(mask, dim)
    k = units_to_prune(amount, int(torch.count_nonzero(remaining)))
    return _without_smallest_channels(mask, dim, k, scores, remaining)
