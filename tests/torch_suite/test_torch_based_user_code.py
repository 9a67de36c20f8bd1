"""Pruning code and tests written against torch.nn.utils.prune, the way user projects write them:
methods copied from torch's own that call its private helpers, a pruning schedule, mock.patch of
a method, a container called directly. The kit runs this module against torch and, unchanged,
with the reference swapped in (conftest.py; tests/test_drop_in.py)."""

from __future__ import annotations

from unittest import mock

import torch
import torch.nn.utils.prune as prune
from torch import nn


class SmallestEntries(prune.BasePruningMethod):
    """torch's L1Unstructured, copied and renamed."""

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount):
        prune._validate_pruning_amount_init(amount)
        self.amount = amount

    def compute_mask(self, t, default_mask):
        tensor_size = t.nelement()
        nparams_toprune = prune._compute_nparams_toprune(self.amount, tensor_size)
        prune._validate_pruning_amount(nparams_toprune, tensor_size)
        mask = default_mask.clone(memory_format=torch.contiguous_format)
        if nparams_toprune != 0:
            topk = torch.topk(torch.abs(t).view(-1), k=nparams_toprune, largest=False)
            mask.view(-1)[topk.indices] = 0
        return mask

    @classmethod
    def apply(cls, module, name, amount):
        return super().apply(module, name, amount=amount)


class WeakestRows(prune.BasePruningMethod):
    """torch's LnStructured, copied and renamed."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, n, dim=-1):
        prune._validate_pruning_amount_init(amount)
        self.amount, self.n, self.dim = amount, n, dim

    def compute_mask(self, t, default_mask):
        prune._validate_structured_pruning(t)
        prune._validate_pruning_dim(t, self.dim)
        tensor_size = t.shape[self.dim]
        nparams_toprune = prune._compute_nparams_toprune(self.amount, tensor_size)
        nparams_tokeep = tensor_size - nparams_toprune
        prune._validate_pruning_amount(nparams_toprune, tensor_size)
        norm = prune._compute_norm(t, self.n, self.dim)
        topk = torch.topk(norm, k=nparams_tokeep, largest=True)
        mask = torch.zeros_like(default_mask)
        index = [slice(None)] * t.dim()
        index[self.dim] = topk.indices
        mask[tuple(index)] = 1
        return mask * default_mask

    @classmethod
    def apply(cls, module, name, amount, n, dim):
        return super().apply(module, name, amount=amount, n=n, dim=dim)


def _linear(values):
    module = nn.Linear(len(values[0]), len(values), bias=False)
    with torch.no_grad():
        module.weight.copy_(torch.tensor(values))
    return module


def test_a_pruning_schedule_counts_with_torchs_helper():
    steps = [prune._compute_nparams_toprune(a, 200) for a in (0.1, 0.25, 0.5, 7)]
    assert steps == [20, 50, 100, 7]


def test_a_copied_unstructured_method_prunes_the_smallest_entries():
    module = _linear([[4.0, -1.0, 3.0], [-0.5, 2.0, 6.0]])
    SmallestEntries.apply(module, "weight", amount=2)
    assert module.weight_mask.tolist() == [[1, 0, 1], [0, 1, 1]]
    assert prune.is_pruned(module)


def test_a_copied_structured_method_prunes_the_weakest_rows():
    module = _linear([[1.0, 1.0], [3.0, -4.0], [0.5, 0.0]])
    WeakestRows.apply(module, "weight", amount=1, n=2, dim=0)
    assert module.weight_mask.tolist() == [[1, 1], [1, 1], [0, 0]]
    norms = prune._compute_norm(module.weight_orig.detach(), 2, 0)
    assert torch.allclose(norms, torch.tensor([2 ** 0.5, 5.0, 0.5]))


def test_copied_methods_reject_what_torchs_helpers_reject():
    for bad, error in ((-1, ValueError), (1.5, ValueError), ("half", TypeError)):
        try:
            SmallestEntries(bad)
        except error:
            continue
        raise AssertionError(f"SmallestEntries({bad!r}) must raise {error.__name__}")
    try:
        WeakestRows(1, 2, dim=0).compute_mask(torch.ones(3), torch.ones(3))
    except ValueError:
        pass
    else:
        raise AssertionError("a 1-d tensor must be rejected for structured pruning")


def test_a_patched_compute_mask_is_the_one_pruning_calls():
    def prune_everything(t, default_mask):
        return torch.zeros_like(default_mask)

    module = _linear([[1.0, 2.0], [3.0, 4.0]])
    with mock.patch("torch.nn.utils.prune.L1Unstructured.compute_mask",
                    side_effect=prune_everything) as patched:
        prune.l1_unstructured(module, "weight", amount=1)
    assert patched.called
    assert module.weight_mask.sum().item() == 0


def test_a_container_called_directly_gives_the_mask_in_ts_dtype():
    method = prune.L1Unstructured(amount=1)
    method._tensor_name = "weight"
    container = prune.PruningContainer(method)
    mask = container.compute_mask(torch.tensor([3.0, -1.0, 2.0]), torch.ones(3, dtype=torch.int64))
    assert mask.dtype == torch.float32 and mask.tolist() == [1.0, 0.0, 1.0]


def test_remove_makes_it_permanent():
    module = _linear([[1.0, -2.0], [0.5, 4.0]])
    prune.l1_unstructured(module, "weight", amount=0.5)
    prune.remove(module, "weight")
    assert module.weight.tolist() == [[0.0, -2.0], [0.0, 4.0]]
    assert not prune.is_pruned(module)
