"""The pruned tensor `module.<name>` and how it survives copy.deepcopy (REPARAM-3, SERIAL-3).

`module.<name>` is a non-leaf tensor (it is computed from `<name>_orig`), and torch refuses to
deepcopy non-leaf tensors (pytorch#37322), which makes `copy.deepcopy` of a pruned module fail.
copy.deepcopy looks `__deepcopy__` up on the object itself, so an instance attribute shadows
Tensor.__deepcopy__: the pruned tensor carries one that rebuilds it from the copies of its own
orig and mask (the memo shared with the module's copy makes them the copy's `_orig` and `_mask`).
The attribute is a small picklable object, so pickle and torch.save of the module keep working.
"""

from __future__ import annotations

import copy

import torch


class _RebuildFromCopies:
    """`__deepcopy__` of a pruned tensor: the product of the deep copies of its orig and mask."""

    def __init__(self, orig: torch.Tensor, mask: torch.Tensor) -> None:
        self.orig = orig
        self.mask = mask

    def __call__(self, memo: dict) -> torch.Tensor:
        return pruned_tensor(copy.deepcopy(self.orig, memo), copy.deepcopy(self.mask, memo))


def pruned_tensor(orig: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """`orig * mask`, differentiable wrt orig and deep-copyable (REPARAM-3, SERIAL-3)."""
    # The mask may lag behind orig after module.to()/half() replaced the buffer before a forward;
    # its values are still right, so it is brought to orig's device and dtype.
    pruned = orig * mask.to(device=orig.device, dtype=orig.dtype)
    pruned.__deepcopy__ = _RebuildFromCopies(orig, mask)
    return pruned
