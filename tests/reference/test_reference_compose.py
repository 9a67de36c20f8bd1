"""COMPOSE, CUSTOM and container clauses: pruning the same tensor again, user methods."""

import pytest
import torch
from torch import nn

import reference.prune as prune


def linear(values):
    m = nn.Linear(len(values[0]), len(values), bias=False)
    with torch.no_grad():
        m.weight.copy_(torch.tensor(values))
    return m


def test_later_calls_score_remaining_entries_by_value():  # COMPOSE-2, COMPOSE-3
    m = linear([[1.0, 2.0, 3.0, 4.0]])
    prune.custom_from_mask(m, "weight", torch.tensor([[1, 1, 0, 1]]))
    prune.l1_unstructured(m, "weight", 1)  # among 1, 2, 4 -> prunes the 1
    assert m.weight_mask.tolist() == [[0.0, 1.0, 0.0, 1.0]]


def test_structured_after_unstructured_counts_remaining_channels():  # COMPOSE-2, STRUCT-1
    m = linear([[0.1, 0.1], [1.0, 0.1], [2.0, 2.0], [3.0, 3.0]])
    prune.custom_from_mask(m, "weight", torch.tensor([[0, 0], [1, 1], [1, 1], [1, 1]]))
    # Row 0 is gone; 0.5 of the 3 remaining rows = round(1.5) = 2, the two smallest norms.
    prune.ln_structured(m, "weight", 0.5, n=1, dim=0)
    assert m.weight_mask.sum(1).tolist() == [0.0, 0.0, 0.0, 2.0]


def test_structured_scores_count_earlier_pruned_entries_as_zeros():  # COMPOSE-3
    m = linear([[5.0, 0.5], [1.0, 1.0]])
    prune.custom_from_mask(m, "weight", torch.tensor([[0, 1], [1, 1]]))
    prune.ln_structured(m, "weight", 1, n=1, dim=0)  # pruned norms 0.5 vs 2: row 0 goes
    assert m.weight_mask.tolist() == [[0.0, 0.0], [1.0, 1.0]]


def test_reprune_scores_values_changed_since_the_last_forward():  # COMPOSE-3
    m = linear([[1.0, 2.0, 3.0, 4.0]])
    prune.identity(m, "weight")
    with torch.no_grad():  # as an optimizer step would, without a forward afterwards
        m.weight_orig.copy_(torch.tensor([[4.0, 3.0, 2.0, 1.0]]))
    prune.l1_unstructured(m, "weight", 1)
    assert m.weight_mask.tolist() == [[1.0, 1.0, 1.0, 0.0]]


def test_unstructured_after_structured():  # COMPOSE-1, COMPOSE-2
    m = linear([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    prune.ln_structured(m, "weight", 1, n=2, dim=0)  # row 0
    prune.l1_unstructured(m, "weight", 0.5)  # 2 of the 4 left: 3 and 4
    assert m.weight_mask.tolist() == [[0.0, 0.0], [0.0, 0.0], [1.0, 1.0]]


def test_history_order_and_same_container():  # COMPOSE-4, HOOK-1, HOOK-3
    m = nn.Linear(6, 6)
    first = prune.RandomUnstructured.apply(m, "weight", 0.1)
    assert next(iter(m._forward_pre_hooks.values())) is first
    container = prune.L1Unstructured.apply(m, "weight", 2)
    assert isinstance(container, prune.PruningContainer)
    third = prune.LnStructured.apply(m, "weight", 1, n=2, dim=0)
    assert third is container
    assert [type(h).__name__ for h in container] == [
        "RandomUnstructured",
        "L1Unstructured",
        "LnStructured",
    ]
    assert container[0] is first and len(container) == 3
    assert (container[1].amount, container[2].n, container[2].dim) == (2, 2, 0)
    assert list(m._forward_pre_hooks.values()) == [container]


def test_reprune_reregisters_hook_last():  # HOOK-3
    m = nn.Linear(3, 3)
    prune.l1_unstructured(m, "weight", 1)
    prune.l1_unstructured(m, "bias", 1)
    other = m.register_forward_pre_hook(lambda mod, inp: None)
    prune.l1_unstructured(m, "weight", 1)
    hooks = list(m._forward_pre_hooks.values())
    assert [getattr(h, "_tensor_name", None) for h in hooks] == ["bias", None, "weight"]
    other.remove()


class FooBar(prune.BasePruningMethod):
    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t, default_mask):
        mask = default_mask.clone()
        mask.view(-1)[::2] = 0
        return mask


def test_user_method_sees_remaining_entries_flattened():  # CUSTOM-1, COMPOSE-2
    m = nn.Linear(4, 1, bias=False)
    FooBar.apply(m, "weight")
    assert m.weight_mask.tolist() == [[0.0, 1.0, 0.0, 1.0]]
    FooBar.apply(m, "weight")  # remaining entries 1 and 3: prunes the first of them
    assert m.weight_mask.tolist() == [[0.0, 0.0, 0.0, 1.0]]


def test_container_compute_mask_rules():  # COMPOSE-5, COMPOSE-6
    class NoDim(prune.BasePruningMethod):
        PRUNING_TYPE = "structured"

        def compute_mask(self, t, default_mask):
            return default_mask

    class Odd(NoDim):
        PRUNING_TYPE = "odd"

    t, mask = torch.ones(2, 3), torch.ones(2, 3)
    for method, error in ((NoDim(), AttributeError), (Odd(), ValueError)):
        with pytest.raises(error, match=type(method).__name__):
            prune.PruningContainer(method).compute_mask(t, mask)
    global_method = prune.CustomFromMask(torch.tensor([[1, 0, 1], [1, 1, 0]]))
    container = prune.PruningContainer(global_method)
    assert container.compute_mask(t, mask).tolist() == [[1, 0, 1], [1, 1, 0]]
    with pytest.raises(TypeError, match="not a BasePruningMethod"):
        container.add_pruning_method("weight")
    other = prune.Identity()
    other._tensor_name = "bias"
    container._tensor_name = "weight"
    with pytest.raises(ValueError, match="'bias'"):
        container.add_pruning_method(other)
    assert len(container) == 1


def test_container_of_several_methods():  # COMPOSE-6
    a, b = prune.Identity(), prune.L1Unstructured(1)
    a._tensor_name = b._tensor_name = "weight"
    container = prune.PruningContainer(a, b)
    assert list(container) == [a, b] and container._tensor_name == "weight"


def test_prune_method_touches_no_module():  # CUSTOM-2
    t = torch.tensor([3.0, -1.0, 2.0, 0.5])
    assert prune.L1Unstructured(2).prune(t).tolist() == [3.0, 0.0, 2.0, 0.0]
    scores = torch.tensor([0.0, 9.0, 9.0, 9.0])
    assert prune.L1Unstructured(1).prune(t, importance_scores=scores).tolist() == [
        0.0,
        -1.0,
        2.0,
        0.5,
    ]
    with pytest.raises(ValueError, match=r"\(3,\)"):
        prune.L1Unstructured(1).prune(t, importance_scores=torch.ones(3))


def test_identity_and_custom_from_mask():  # CUSTOM-3, CUSTOM-4
    m = nn.Linear(3, 2)
    prune.identity(m, "weight")
    assert torch.equal(m.weight_mask, torch.ones(2, 3))
    assert isinstance(m._forward_pre_hooks[next(iter(m._forward_pre_hooks))], prune.Identity)
    prune.custom_from_mask(m, "weight", torch.tensor([[True, False, True], [True, True, True]]))
    prune.custom_from_mask(m, "weight", torch.tensor([[2.0, 2.0, 0.0], [1.0, 1.0, 1.0]]))
    assert m.weight_mask.tolist() == [[1.0, 0.0, 0.0], [1.0, 1.0, 1.0]]
    assert m.weight_mask.dtype == m.weight_orig.dtype


def test_mask_dtype_ignores_importance_score_dtype():  # REPARAM-2
    m = nn.Linear(4, 3)
    prune.l1_unstructured(m, "weight", 2)
    prune.l1_unstructured(m, "weight", 2, importance_scores=torch.randn(3, 4, dtype=torch.float64))
    prune.ln_structured(m, "weight", 1, 2, 0, importance_scores=torch.randn(3, 4).half())
    assert m.weight_mask.dtype == torch.float32
    assert not m.weight_mask.requires_grad
    assert set(m.weight_mask.unique().tolist()) <= {0.0, 1.0}


def test_importance_scores_replace_values():  # SELECT-5
    m = linear([[1.0, 2.0, 3.0]])
    prune.l1_unstructured(m, "weight", 1, importance_scores=torch.tensor([[5.0, 0.1, 5.0]]))
    assert m.weight_mask.tolist() == [[1.0, 0.0, 1.0]]
