"""Drop-in replacement for `torch.nn.utils.prune` (API-1, API-2).

Same public names, signatures and defaults as torch's module; the behaviour is SPEC.md's. The
functional forms prune in place and return the module; `Cls.apply` returns the hook.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

import torch
from torch import nn

from reference.amount import units_to_prune
from reference.base import (
    BasePruningMethod,
    PruningContainer,
    checked_scores,
    combine_masks,
    commit_all,
    find_hook,
    parameter_to_prune,
    plan_pruning,
)
from reference.compat import (  # noqa: F401  (torch's private helpers that user code calls)
    _compute_norm,
    _compute_nparams_toprune,
    _validate_pruning_amount,
    _validate_pruning_amount_init,
    _validate_pruning_dim,
    _validate_structured_pruning,
)
from reference.errors import check_same_device
from reference.methods import (
    CustomFromMask,
    Identity,
    L1Unstructured,
    LnStructured,
    RandomStructured,
    RandomUnstructured,
)
from reference.selection import magnitude_scores, rank_outside_last, smallest_k_of_pieces

__all__ = [
    "BasePruningMethod",
    "CustomFromMask",
    "Identity",
    "L1Unstructured",
    "LnStructured",
    "PruningContainer",
    "RandomStructured",
    "RandomUnstructured",
    "custom_from_mask",
    "global_unstructured",
    "identity",
    "is_pruned",
    "l1_unstructured",
    "ln_structured",
    "random_structured",
    "random_unstructured",
    "remove",
]


def identity(module: nn.Module, name: str) -> nn.Module:
    """Reparametrize `module.<name>` with a mask of ones, pruning nothing (CUSTOM-3, API-2)."""
    Identity.apply(module, name)
    return module


def random_unstructured(module: nn.Module, name: str, amount: int | float) -> nn.Module:
    """Prune `amount` of the remaining entries of `module.<name>` at random.

    AMOUNT-1, AMOUNT-2, AMOUNT-3, AMOUNT-4, AMOUNT-5, AMOUNT-6, AMOUNT-7, AMOUNT-8, AMOUNT-9,
    SELECT-6, SELECT-7, DEVICE-5, REPARAM-1, REPARAM-2, REPARAM-3, REPARAM-4, REPARAM-5, API-2.
    """
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(
    module: nn.Module,
    name: str,
    amount: int | float,
    importance_scores: torch.Tensor | None = None,
) -> nn.Module:
    """Prune `amount` of the remaining entries of `module.<name>` of smallest |score|.

    AMOUNT-1, AMOUNT-2, AMOUNT-3, AMOUNT-4, AMOUNT-5, AMOUNT-6, AMOUNT-7, AMOUNT-8, AMOUNT-9,
    SELECT-1, SELECT-2, SELECT-3, SELECT-4, SELECT-5, COMPOSE-3, ERRORS-3, REPARAM-1, REPARAM-2,
    REPARAM-3, REPARAM-4, REPARAM-5, API-2.
    """
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module: nn.Module, name: str, amount: int | float, dim: int) -> nn.Module:
    """Prune `amount` of the remaining channels of `module.<name>` along `dim` at random.

    STRUCT-3, STRUCT-4, STRUCT-5, DEVICE-5, ERRORS-2, API-2.
    """
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(
    module: nn.Module,
    name: str,
    amount: int | float,
    n: int | float | str,
    dim: int,
    importance_scores: torch.Tensor | None = None,
) -> nn.Module:
    """Prune `amount` of the remaining channels along `dim` of smallest L_n norm.

    STRUCT-1, STRUCT-2, STRUCT-3, STRUCT-4, STRUCT-6, COMPOSE-2, COMPOSE-3, ERRORS-2, ERRORS-3,
    API-2.
    """
    LnStructured.apply(
        module, name, amount=amount, n=n, dim=dim, importance_scores=importance_scores
    )
    return module


def custom_from_mask(module: nn.Module, name: str, mask: torch.Tensor) -> nn.Module:
    """Prune the entries of `module.<name>` where `mask == 0` (CUSTOM-4, CUSTOM-5, API-2)."""
    CustomFromMask.apply(module, name, mask=mask)
    return module


def global_unstructured(
    parameters: Iterable[tuple[nn.Module, str]],
    pruning_method: type[BasePruningMethod],
    importance_scores: dict[tuple[nn.Module, str], torch.Tensor] | None = None,
    **kwargs: object,
) -> None:
    """Prune the given tensors together: one selection over all their remaining entries.

    k is counted over the remaining entries of all tensors, one call of the method's
    compute_mask picks them (one global threshold for L1Unstructured), and each tensor is then
    pruned by custom_from_mask with its share, as torch records it. Everything is validated and
    computed before the first module changes.

    Spec: GLOBAL-1, GLOBAL-2, GLOBAL-3, GLOBAL-4, GLOBAL-5, GLOBAL-6, GLOBAL-7, GLOBAL-8, ATOMIC-2,
    ATOMIC-3, DEVICE-6.
    """
    pairs = _collect_pairs(parameters)
    if importance_scores is None:
        importance_scores = {}
    if not isinstance(importance_scores, dict):
        raise TypeError(
            f"importance_scores must be a dict keyed by (module, name), got "
            f"{type(importance_scores).__name__}"
        )
    method = pruning_method(**kwargs)
    if not isinstance(method, BasePruningMethod):
        raise TypeError(
            f"global_unstructured needs a pruning_method whose instances are BasePruningMethods, "
            f"got {pruning_method!r}"
        )
    kind = getattr(method, "PRUNING_TYPE", None)
    if kind != "unstructured":
        raise TypeError(
            f"global_unstructured needs a pruning_method with PRUNING_TYPE 'unstructured', got "
            f"{pruning_method!r} with PRUNING_TYPE {kind!r}"
        )
    origs, scores, masks = [], [], []
    for module, name in pairs:
        orig = parameter_to_prune(module, name)
        first = origs[0] if origs else orig
        check_same_device(orig, first, f"parameter {name!r}", f"parameter {pairs[0][1]!r}")
        given = importance_scores.get((module, name))
        scores.append(orig if given is None else checked_scores(given, orig, f"parameter {name!r}"))
        masks.append(_current_mask(module, name))
        origs.append(orig)
    # The dtype torch.cat would give the masks (an unpruned tensor's mask has its dtype).
    mask_dtype = functools.reduce(
        torch.promote_types,
        [(o if m is None else m).dtype for o, m in zip(origs, masks, strict=True)],
    )
    new_masks = _global_masks(method, scores, masks, mask_dtype)
    plans = [
        plan_pruning(CustomFromMask(mask), module, name)
        for (module, name), mask in zip(pairs, new_masks, strict=True)
    ]
    commit_all(plans)


def _global_masks(
    method: BasePruningMethod,
    scores: list[torch.Tensor],
    masks: list[torch.Tensor | None],
    mask_dtype: torch.dtype,
) -> list[torch.Tensor]:
    """Each tensor's new mask: `method` applied once to the remaining entries of all the tensors
    together, as combine_masks applies it to their concatenation (GLOBAL-1, GLOBAL-2, GLOBAL-3).
    A mask of None is an unpruned tensor's; `mask_dtype` is the dtype of the masks' concatenation.
    """
    # Exactly L1Unstructured: a subclass may rank otherwise, through its own compute_mask.
    if type(method) is L1Unstructured:
        return _global_l1_masks(method.amount, scores, masks, mask_dtype)
    flat_mask = combine_masks(
        method,
        torch.cat([s.detach().reshape(-1) for s in scores]),
        torch.cat([_mask_or_ones(m, s, mask_dtype).reshape(-1)
                   for s, m in zip(scores, masks, strict=True)]),
    )
    shares = flat_mask.split([s.numel() for s in scores])
    # Copies, so that no tensor's hook keeps the whole concatenation alive.
    return [share.view_as(s).clone() for share, s in zip(shares, scores, strict=True)]


def _global_l1_masks(
    amount: int | float,
    scores: list[torch.Tensor],
    masks: list[torch.Tensor | None],
    mask_dtype: torch.dtype,
) -> list[torch.Tensor]:
    """`_global_masks` of L1Unstructured, computed tensor by tensor.

    The same masks as combine_masks gives on the concatenation (k counted over all remaining
    entries, one threshold, ties to the lowest index of the concatenation), without building
    it: the concatenated scores and masks and their copies are most of the memory and time of
    global pruning (torch makes several of them). The remaining entries are ranked in place, and
    only how many remain is read on the host, once, and only when some tensor is pruned already.
    """
    # The dtype torch.cat would give the concatenated scores.
    score_dtype = functools.reduce(torch.promote_types, [s.dtype for s in scores])
    remaining = [None if mask is None else (mask == 1).reshape(-1) for mask in masks]
    k = units_to_prune(amount, _count_remaining(scores, remaining))
    magnitudes = [magnitude_scores(s.detach().to(score_dtype)) for s in scores]
    nan_outside = all(
        rank_outside_last(m, left) or left is None
        for m, left in zip(magnitudes, remaining, strict=True)
    )
    pruned = smallest_k_of_pieces(magnitudes, k, remaining, nan_outside=nan_outside)
    del magnitudes  # freed before the masks are built (peak memory)
    return [
        _mask_or_ones(mask, s, mask_dtype).masked_fill_(chosen.view(s.shape), 0)
        for s, mask, chosen in zip(scores, masks, pruned, strict=True)
    ]


def _count_remaining(scores: list[torch.Tensor], remaining: list[torch.Tensor | None]) -> int:
    """How many entries remain: every entry of an unpruned tensor (no host read), and the
    flagged ones of the others, read on the host once for all of them (AMOUNT-3)."""
    unpruned = sum(s.numel() for s, left in zip(scores, remaining, strict=True) if left is None)
    flagged = [torch.count_nonzero(left) for left in remaining if left is not None]
    return unpruned + (int(torch.stack(flagged).sum()) if flagged else 0)


def _mask_or_ones(
    mask: torch.Tensor | None, like: torch.Tensor, dtype: torch.dtype
) -> torch.Tensor:
    """A contiguous copy of `mask` in `dtype`, or ones of `like`'s shape where it is None."""
    if mask is None:
        return torch.ones(like.shape, dtype=dtype, device=like.device)
    return mask.to(dtype=dtype, memory_format=torch.contiguous_format, copy=True)


def remove(module: nn.Module, name: str) -> nn.Module:
    """Make the pruning of `module.<name>` permanent and drop its hook.

    Spec: REMOVE-1, REMOVE-2, REMOVE-3, REMOVE-4, REMOVE-5, REMOVE-6, API-2.

    Acts on `module` only; ValueError, module unchanged, when `name` is not pruned.
    """
    key, hook = find_hook(module, name)
    if hook is None:
        raise ValueError(
            f"parameter {name!r} of {type(module).__name__} has to be pruned before pruning can "
            f"be removed; pruned here: {_pruned_names(module) or 'nothing'}"
        )
    hook.remove(module)
    del module._forward_pre_hooks[key]
    return module


def is_pruned(module: nn.Module) -> bool:
    """Whether `module` or a submodule has a pruning forward pre-hook (PRUNED-1)."""
    return any(_pruned_names(submodule) for submodule in module.modules())


def _pruned_names(module: nn.Module) -> list[str]:
    return [
        hook._tensor_name
        for hook in module._forward_pre_hooks.values()
        if isinstance(hook, BasePruningMethod)
    ]


def _collect_pairs(parameters: object) -> list[tuple[nn.Module, str]]:
    """`parameters` read once into a list of distinct (module, name) pairs (GLOBAL-7, GLOBAL-8)."""
    if not isinstance(parameters, Iterable):
        raise TypeError(
            f"parameters must be an iterable of (module, name) pairs, got "
            f"{type(parameters).__name__}"
        )
    pairs: list[tuple[nn.Module, str]] = []
    seen: set[tuple[int, str]] = set()
    for item in parameters:
        if not (
            isinstance(item, tuple | list)
            and len(item) == 2
            and isinstance(item[0], nn.Module)
            and isinstance(item[1], str)
        ):
            raise TypeError(f"parameters holds {item!r}: expected (module, name) pairs")
        module, name = item
        if (id(module), name) in seen:
            raise ValueError(
                f"parameters names ({type(module).__name__}, {name!r}) twice: each tensor may be "
                "given once"
            )
        seen.add((id(module), name))
        pairs.append((module, name))
    if not pairs:
        raise ValueError("parameters is empty: expected at least one (module, name) pair")
    return pairs


def _current_mask(module: nn.Module, name: str) -> torch.Tensor | None:
    """The mask of `module.<name>`: its buffer if pruned, else None, every entry remaining
    (GLOBAL-3)."""
    if find_hook(module, name)[1] is not None:
        return getattr(module, name + "_mask").detach()
    return None
