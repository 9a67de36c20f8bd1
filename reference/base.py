"""The pruning framework: BasePruningMethod, PruningContainer and the reparametrization.

A call prunes in two phases. `plan_pruning` validates everything and computes the new mask while
touching nothing; `commit` then rewires the module (`<name>_orig`, `<name>_mask`, the plain
attribute `<name>` and the forward pre-hook). So every rejected call leaves the module unchanged
(ATOMIC-1); should a user's `apply_mask` fail during the commit, the module is restored.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils import parametrize

from reference.errors import (
    NotAppliedError,
    check_same_device,
    check_same_shape,
    check_tensor,
)
from reference.selection import (
    check_structured,
    normalize_dim,
    remaining_channels,
    remaining_entries,
)
from reference.serial import pruned_tensor

_MISSING = object()


class BasePruningMethod(ABC):
    """Base class of pruning methods (CUSTOM-1, API-1).

    A subclass sets `PRUNING_TYPE` ('unstructured', 'structured' with a `dim` attribute, or
    'global', COMPOSE-2) and defines `compute_mask(t, default_mask)`; `apply` does the rest.
    An applied method is the tensor's forward pre-hook (HOOK-1) and knows its `_tensor_name`.
    """

    PRUNING_TYPE: str
    _tensor_name: str | None = None

    def __call__(self, module: nn.Module, inputs: object) -> None:
        """Forward pre-hook: refresh `module.<name>` to `<name>_orig * <name>_mask` (HOOK-2)."""
        setattr(module, self._applied_name(), self.apply_mask(module))

    @abstractmethod
    def compute_mask(self, t: torch.Tensor, default_mask: torch.Tensor) -> torch.Tensor:
        """The mask of `t` after this method, on top of `default_mask` (COMPOSE-1, CUSTOM-1).

        `t` holds the scores of the units this method acts on; entries that are 0 in
        `default_mask` must stay 0.
        """

    def _prune_remaining(self, t: torch.Tensor, mask: torch.Tensor) -> torch.Tensor | None:
        """The mask after this method acts on what `mask` leaves of `t`, computed on all of `t`
        without gathering it, or None: then a container gathers what remains for compute_mask.

        Built-in methods rank in place (reference.methods); a user's method has only
        compute_mask, which must be given what remains (COMPOSE-2).
        """
        return None

    def apply_mask(self, module: nn.Module) -> torch.Tensor:
        """`<name>_orig * <name>_mask` of `module`, differentiable (REPARAM-3, SERIAL-3)."""
        name = self._applied_name()
        return pruned_tensor(getattr(module, name + "_orig"), getattr(module, name + "_mask"))

    @classmethod
    def apply(
        cls,
        module: nn.Module,
        name: str,
        *args: object,
        importance_scores: torch.Tensor | None = None,
        **kwargs: object,
    ) -> BasePruningMethod:
        """Prune `module.<name>` with `cls(*args, **kwargs)`; return the hook now registered.

        REPARAM-1, REPARAM-2, REPARAM-3, REPARAM-4, REPARAM-5, HOOK-1, HOOK-3, COMPOSE-2, COMPOSE-3,
        COMPOSE-4, SELECT-5, ATOMIC-1, ERRORS-1, ERRORS-3.
        """
        method = cls(*args, **kwargs)
        return commit(plan_pruning(method, module, name, importance_scores))

    def prune(
        self,
        t: torch.Tensor,
        default_mask: torch.Tensor | None = None,
        importance_scores: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """`t * compute_mask(scores, default_mask or ones)`, touching no module (CUSTOM-2)."""
        check_tensor(t, "t")
        scores = t if importance_scores is None else checked_scores(importance_scores, t, "t")
        if default_mask is None:
            default_mask = torch.ones_like(t, memory_format=torch.contiguous_format)
        return t * self.compute_mask(scores, default_mask=default_mask)

    def remove(self, module: nn.Module) -> None:
        """Make the pruning of `module.<name>` permanent (REMOVE-1, REMOVE-3, REMOVE-6).

        `<name>` becomes again the very Parameter that `<name>_orig` was, now holding
        orig * mask; `<name>_orig` and `<name>_mask` are deleted. The hook itself is
        deleted by the functional `remove`.
        """
        name = self._applied_name()
        orig = module._parameters.get(name + "_orig")
        mask = module._buffers.get(name + "_mask")
        if orig is None or mask is None:
            raise ValueError(
                f"parameter {name!r} of {type(module).__name__} has no {name}_orig parameter and "
                f"{name}_mask buffer: it has to be pruned before pruning can be removed"
            )
        check_same_shape(mask, orig, f"{name}_mask", f"{name}_orig")
        # In place, so that optimizers holding the Parameter keep training the pruned values.
        with torch.no_grad():
            orig.mul_(mask.to(device=orig.device, dtype=orig.dtype))
        module.__dict__.pop(name, None)
        del module._parameters[name + "_orig"]
        del module._buffers[name + "_mask"]
        module._non_persistent_buffers_set.discard(name + "_mask")
        # setattr, not _parameters[...]: modules such as LSTM track their weights in __setattr__.
        setattr(module, name, orig)

    def _applied_name(self) -> str:
        if self._tensor_name is None:
            raise NotAppliedError(
                f"{type(self).__name__} has not been applied to a tensor: use "
                f"{type(self).__name__}.apply(module, name, ...) first"
            )
        return self._tensor_name


class PruningContainer(BasePruningMethod):
    """The history of the methods applied to one tensor, oldest first.

    Spec: COMPOSE-4, COMPOSE-5, COMPOSE-6.
    """

    def __init__(self, *args: BasePruningMethod) -> None:
        self._pruning_methods: tuple[BasePruningMethod, ...] = ()
        for method in args:
            self.add_pruning_method(method)

    def add_pruning_method(self, method: BasePruningMethod) -> None:
        """Append `method` to the history (COMPOSE-6); the first names the container's tensor."""
        if not isinstance(method, BasePruningMethod):
            raise TypeError(
                f"{method!r} ({type(method).__name__}) is not a BasePruningMethod: a "
                "PruningContainer holds pruning methods only"
            )
        if not self._pruning_methods and self._tensor_name is None:
            self._tensor_name = method._tensor_name
        elif method._tensor_name != self._tensor_name:
            raise ValueError(
                f"{type(method).__name__} acts on tensor {method._tensor_name!r}, but this "
                f"PruningContainer holds the history of tensor {self._tensor_name!r}"
            )
        self._pruning_methods += (method,)

    def __len__(self) -> int:
        return len(self._pruning_methods)

    def __iter__(self) -> Iterator[BasePruningMethod]:
        return iter(self._pruning_methods)

    def __getitem__(self, idx: int) -> BasePruningMethod:
        return self._pruning_methods[idx]

    def compute_mask(self, t: torch.Tensor, default_mask: torch.Tensor) -> torch.Tensor:
        """Apply the latest method to what remains of `t` and merge it, in `t`'s dtype.

        Spec: COMPOSE-2, COMPOSE-5, API-5.
        """
        if not self._pruning_methods:
            raise ValueError("this PruningContainer is empty: there is no method to apply")
        return combine_masks(self._pruning_methods[-1], t, default_mask.to(dtype=t.dtype))


def combine_masks(
    method: BasePruningMethod, t: torch.Tensor, mask: torch.Tensor, *, zero_pruned: bool = False
) -> torch.Tensor:
    """The mask after `method` acts on the part of `t` that `mask` leaves.

    Spec: COMPOSE-1, COMPOSE-2, COMPOSE-3, COMPOSE-5.

    'unstructured': the remaining entries, flattened; 'structured': the remaining channels along
    `method.dim`; 'global': all of `t`. The result keeps the dtype of `mask` (REPARAM-2).
    `zero_pruned`: `t` is a parameter whose entries pruned earlier (mask not 1) still hold their
    values; they count as `t * mask` for the methods that read them (COMPOSE-3).
    """
    kind = getattr(method, "PRUNING_TYPE", None)
    if zero_pruned and kind != "unstructured":
        # Unstructured methods read the remaining entries only, the same zeroed or not: the
        # product, a copy of the whole tensor, is made only for channel norms and global methods.
        t = t * mask.to(t.dtype)
    if kind in ("unstructured", "structured") and isinstance(method, BasePruningMethod):
        in_place = method._prune_remaining(t, mask)
        if in_place is not None:
            return in_place
    if kind == "unstructured":
        remaining = mask == 1
        candidates = remaining_entries(t, remaining)
        # The old mask is 1 on every remaining entry: the method starts from ones.
        partial = method.compute_mask(candidates, default_mask=mask.new_ones(candidates.shape))
        partial = _checked_partial(partial, candidates, method, mask.dtype)
        # Copied only now, once the method's temporaries are freed (peak memory); masked_scatter_
        # fills the remaining entries in row-major order without int64 indices.
        return mask.clone(memory_format=torch.contiguous_format).masked_scatter_(remaining, partial)
    combined = mask.clone(memory_format=torch.contiguous_format)
    if kind == "structured":
        if not hasattr(method, "dim"):
            raise AttributeError(
                f"{type(method).__name__} has PRUNING_TYPE 'structured' but no `dim` attribute "
                "naming the dim of its channels"
            )
        check_structured(t)
        dim = normalize_dim(method.dim, t.dim())
        keep = remaining_channels(mask, dim)
        candidates = t.index_select(dim, keep)
        partial = method.compute_mask(candidates, default_mask=mask.index_select(dim, keep))
        combined.index_copy_(dim, keep, _checked_partial(partial, candidates, method, mask.dtype))
    elif kind == "global":
        partial = method.compute_mask(t, default_mask=combined)
        combined = _checked_partial(partial, t, method, mask.dtype)
    else:
        raise ValueError(
            f"unrecognized PRUNING_TYPE {kind!r} of {type(method).__name__}: expected "
            "'unstructured', 'structured' or 'global'"
        )
    return combined


def _checked_partial(
    partial: object, candidates: torch.Tensor, method: BasePruningMethod, dtype: torch.dtype
) -> torch.Tensor:
    """A method's mask of `candidates`, in the dtype of the tensor's mask (REPARAM-2), row-major
    whatever layout a user's method returned (API-6)."""
    what = f"the mask computed by {type(method).__name__}"
    check_same_shape(check_tensor(partial, what), candidates, what, "its input")
    return partial.to(dtype=dtype).contiguous()


def checked_scores(scores: object, tensor: torch.Tensor, of: str) -> torch.Tensor:
    """`scores` if they are a tensor with the shape and device of `tensor` (ERRORS-3, DEVICE-6)."""
    check_tensor(scores, "importance_scores")
    check_same_shape(scores, tensor, "importance_scores", of)
    check_same_device(scores, tensor, "importance_scores", of)
    return scores


def find_hook(module: nn.Module, name: str) -> tuple[int | None, BasePruningMethod | None]:
    """The key and object of the pruning hook of `module.<name>`, or (None, None) (HOOK-1)."""
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            return key, hook
    return None, None


def parameter_to_prune(module: nn.Module, name: str) -> torch.Tensor:
    """The parameter behind `module.<name>`: the parameter itself, or `_orig` once pruned.

    ERRORS-1: a missing name is AttributeError, None or a non-tensor TypeError; only a
    registered Parameter can be reparametrized (REPARAM-1).
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"module={module!r} is not a torch.nn.Module")
    if not isinstance(name, str):
        raise TypeError(f"name={name!r} is not a str naming a parameter of the module")
    if find_hook(module, name)[1] is not None:
        return getattr(module, name + "_orig")
    try:
        value = getattr(module, name)
    except AttributeError:
        raise AttributeError(
            f"{type(module).__name__} has no parameter {name!r} to prune"
        ) from None
    if not isinstance(value, torch.Tensor):
        raise TypeError(
            f"{type(module).__name__}.{name} is {value!r} ({type(value).__name__}): expected a "
            "tensor parameter to prune"
        )
    if parametrize.is_parametrized(module, name):
        # Its value is recomputed by the parametrization at every read: a mask applied to it
        # would be lost, and moving it to <name>_orig would not be a Parameter (WORKFLOW-9).
        raise TypeError(
            f"{type(module).__name__}.{name} is parametrized (torch.nn.utils.parametrize): "
            f"prune the Parameter it is computed from, module.parametrizations.{name}.original"
        )
    if module._parameters.get(name) is not value:
        raise TypeError(
            f"{type(module).__name__}.{name} is a tensor but not a registered Parameter (a buffer "
            "or a plain attribute): only parameters can be pruned"
        )
    return value


@dataclass
class PruningPlan:
    """A validated pruning call: the new mask and hook, ready to be committed (ATOMIC-1)."""

    module: nn.Module
    name: str
    method: BasePruningMethod
    hook: BasePruningMethod
    old_key: int | None
    orig: torch.Tensor
    mask: torch.Tensor


def plan_pruning(
    method: BasePruningMethod,
    module: nn.Module,
    name: str,
    importance_scores: torch.Tensor | None = None,
) -> PruningPlan:
    """Validate a call and compute its mask without changing the module (ATOMIC-1).

    Scores are `importance_scores`, else the tensor as it is now: the parameter, or
    `orig * mask` of a pruned one, never a value left stale by the last forward (SELECT-5,
    COMPOSE-3); a pruned tensor is pruned again through its history (COMPOSE-2, COMPOSE-4).
    """
    orig = parameter_to_prune(module, name)
    old_key, old_hook = find_hook(module, name)
    method._tensor_name = name
    if old_hook is None:
        default_mask = torch.ones_like(orig.detach(), memory_format=torch.contiguous_format)
    else:
        default_mask = getattr(module, name + "_mask").detach()
    if importance_scores is not None:
        scores = checked_scores(importance_scores, orig, f"parameter {name!r}")
    else:
        scores = orig
    if old_hook is None:
        mask = method.compute_mask(scores.detach(), default_mask=default_mask)
        hook = method
    else:
        zero_pruned = importance_scores is None
        mask = combine_masks(method, scores.detach(), default_mask, zero_pruned=zero_pruned)
        hook = old_hook if isinstance(old_hook, PruningContainer) else PruningContainer(old_hook)
    return PruningPlan(
        module, name, method, hook, old_key, orig, _stored_mask(mask, orig, name, method)
    )


def _stored_mask(
    mask: object, orig: torch.Tensor, name: str, method: BasePruningMethod
) -> torch.Tensor:
    """The buffer `<name>_mask`: the parameter's shape, dtype and device, no grad (REPARAM-2)."""
    what = f"the mask computed by {type(method).__name__} for {name!r}"
    check_same_shape(check_tensor(mask, what), orig, what, f"parameter {name!r}")
    return mask.detach().to(device=orig.device, dtype=orig.dtype)


def commit(plan: PruningPlan) -> BasePruningMethod:
    """Rewire the module as `plan` says; return the registered hook.

    Spec: REPARAM-1, REPARAM-2, REPARAM-3, REPARAM-4, REPARAM-5, HOOK-1, HOOK-3.
    """
    module, name = plan.module, plan.name
    undo = _Undo(module, name, plan.hook)
    try:
        if plan.old_key is None:
            module.register_parameter(name + "_orig", plan.orig)
            del module._parameters[name]
        else:
            # Re-registering puts the tensor's hook after the module's other pre-hooks, as torch.
            del module._forward_pre_hooks[plan.old_key]
            plan.hook.add_pruning_method(plan.method)
        module.register_buffer(name + "_mask", plan.mask)
        setattr(module, name, plan.hook.apply_mask(module))
        module.register_forward_pre_hook(plan.hook)
    except BaseException:
        undo.restore()
        raise
    return plan.hook


def commit_all(plans: list[PruningPlan]) -> None:
    """Commit every plan or none: a failing commit (a user's hook or `apply_mask`) restores the
    modules committed before it too, newest first (ATOMIC-3)."""
    done: list[_Undo] = []
    try:
        for plan in plans:
            undo = _Undo(plan.module, plan.name, plan.hook)
            commit(plan)
            done.append(undo)
    except BaseException:
        for undo in reversed(done):
            undo.restore()
        raise


class _Undo:
    """What `commit` may change on a module, recorded so that a failed commit is undone."""

    def __init__(self, module: nn.Module, name: str, hook: BasePruningMethod) -> None:
        self.module = module
        self.name = name
        self.parameters = dict(module._parameters)
        self.buffers = dict(module._buffers)
        self.non_persistent = set(module._non_persistent_buffers_set)
        self.attribute = module.__dict__.get(name, _MISSING)
        self.hooks = dict(module._forward_pre_hooks)
        self.hook = hook
        self.history = getattr(hook, "_pruning_methods", None)

    def restore(self) -> None:
        module = self.module
        module.__dict__.pop(self.name, None)
        for live, saved in (
            (module._parameters, self.parameters),
            (module._buffers, self.buffers),
            (module._forward_pre_hooks, self.hooks),
        ):
            live.clear()
            live.update(saved)
        module._non_persistent_buffers_set.clear()
        module._non_persistent_buffers_set.update(self.non_persistent)
        if self.history is not None:
            self.hook._pruning_methods = self.history
        value = self.parameters.get(self.name, self.attribute)
        if value is not _MISSING:
            # Through setattr again, so that modules tracking weights in __setattr__ follow.
            setattr(module, self.name, value)
