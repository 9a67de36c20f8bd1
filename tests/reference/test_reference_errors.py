"""ERRORS and ATOMIC clauses: every rejected call names the problem and changes nothing."""

import pytest
import torch
from torch import nn

import reference.prune as prune

META = torch.device("meta")  # a second device on any machine

CASES = {
    "amount bool": (lambda m: prune.l1_unstructured(m, "weight", True), TypeError, "amount=True"),
    "amount str": (lambda m: prune.random_unstructured(m, "weight", "0.1"), TypeError, "amount="),
    "amount None": (lambda m: prune.ln_structured(m, "weight", None, 2, 0), TypeError, "None"),
    "amount tensor": (
        lambda m: prune.l1_unstructured(m, "weight", torch.tensor(0.5)),
        TypeError,
        "amount=",
    ),
    "amount negative": (lambda m: prune.l1_unstructured(m, "weight", -1), ValueError, "amount=-1"),
    "amount above 1": (lambda m: prune.l1_unstructured(m, "weight", 1.5), ValueError, "1.5"),
    "amount nan": (
        lambda m: prune.random_unstructured(m, "weight", float("nan")),
        ValueError,
        "nan",
    ),
    "amount inf": (lambda m: prune.l1_unstructured(m, "weight", float("inf")), ValueError, "inf"),
    "count too large": (lambda m: prune.l1_unstructured(m, "weight", 13), ValueError, "13"),
    "channels too many": (lambda m: prune.ln_structured(m, "weight", 4, 2, 0), ValueError, "4"),
    "name missing": (lambda m: prune.l1_unstructured(m, "wieght", 1), AttributeError, "wieght"),
    "name not tensor": (lambda m: prune.l1_unstructured(m, "training", 1), TypeError, "training"),
    "name buffer": (lambda m: prune.l1_unstructured(m, "buf", 1), TypeError, "buf"),
    "name None": (lambda m: prune.l1_unstructured(m, "nothing", 1), TypeError, "None"),
    "scores list": (
        lambda m: prune.l1_unstructured(m, "weight", 1, importance_scores=[1.0]),
        TypeError,
        "list",
    ),
    "scores shape": (
        lambda m: prune.l1_unstructured(m, "weight", 1, importance_scores=torch.ones(4, 3)),
        ValueError,
        r"\(4, 3\).*\(3, 4\)",
    ),
    "scores device": (
        lambda m: prune.l1_unstructured(
            m, "weight", 1, importance_scores=torch.ones(3, 4, device=META)
        ),
        ValueError,
        "meta",
    ),
    "mask shape": (
        lambda m: prune.custom_from_mask(m, "weight", torch.ones(12)),
        ValueError,
        r"\(12,\)",
    ),
    "mask device": (
        lambda m: prune.custom_from_mask(m, "weight", torch.ones(3, 4, device=META)),
        ValueError,
        "meta",
    ),
    "mask not tensor": (lambda m: prune.custom_from_mask(m, "weight", [1, 0]), TypeError, "list"),
    "dim too large": (lambda m: prune.ln_structured(m, "weight", 1, 2, 2), IndexError, "dim=2"),
    "dim too small": (lambda m: prune.random_structured(m, "weight", 1, -3), IndexError, "dim=-3"),
    "dim not int": (lambda m: prune.ln_structured(m, "weight", 1, 2, 0.0), TypeError, "dim=0.0"),
    "structured 1-d": (lambda m: prune.ln_structured(m, "bias", 1, 2, 0), ValueError, r"\(3,\)"),
    "norm nuc": (lambda m: prune.ln_structured(m, "weight", 1, "nuc", 0), ValueError, "'nuc'"),
    "remove unpruned": (lambda m: prune.remove(m, "bias"), ValueError, "'bias'"),
}

# Where torch raises another type, the reference's error is also an instance of torch's type.
TORCH_TYPES = {
    "scores list": AttributeError,
    "scores shape": AssertionError,
    "scores device": RuntimeError,
    "mask shape": AssertionError,
    "mask device": RuntimeError,
    "norm nuc": RuntimeError,
}


def module(pruned_before: bool) -> nn.Module:
    m = nn.Linear(4, 3)
    m.register_buffer("buf", torch.zeros(2))
    m.nothing = None
    m.register_forward_pre_hook(lambda mod, inputs: None)
    if pruned_before:
        prune.l1_unstructured(m, "weight", 2)
        prune.random_structured(m, "weight", 1, dim=1)
        m(torch.randn(1, 4))
    return m


@pytest.mark.parametrize("pruned_before", [False, True], ids=["fresh", "pruned"])
@pytest.mark.parametrize("case", CASES)
def test_rejected_call_changes_nothing(case, pruned_before, assert_unchanged):  # ATOMIC-1
    call, error, match = CASES[case]
    m = module(pruned_before)
    with assert_unchanged(m), pytest.raises(error, match=match) as info:
        call(m)
    assert isinstance(info.value, TORCH_TYPES.get(case, error))
    assert prune.is_pruned(m) == pruned_before


def test_count_of_remaining_checked_on_reprune(assert_unchanged):  # AMOUNT-6, ATOMIC-1
    m = nn.Linear(4, 3)
    prune.l1_unstructured(m, "weight", 5)
    with assert_unchanged(m), pytest.raises(ValueError, match="7 units"):
        prune.l1_unstructured(m, "weight", 8)
    prune.l1_unstructured(m, "weight", 7)
    assert int(m.weight_mask.sum()) == 0


def test_failing_user_method_changes_nothing(assert_unchanged):  # ATOMIC-1, CUSTOM-1
    class Broken(prune.BasePruningMethod):
        PRUNING_TYPE = "unstructured"

        def compute_mask(self, t, default_mask):
            raise RuntimeError("broken compute_mask")

    class WrongShape(Broken):
        def compute_mask(self, t, default_mask):
            return torch.ones(1)

    class BrokenApply(prune.Identity):
        def apply_mask(self, module):
            raise RuntimeError("broken apply_mask")

    for pruned_before in (False, True):
        m = module(pruned_before)
        with assert_unchanged(m):
            with pytest.raises(RuntimeError, match="broken compute_mask"):
                Broken.apply(m, "weight")
            with pytest.raises(ValueError, match="WrongShape"):
                WrongShape.apply(m, "weight")
            if not pruned_before:  # after a re-prune the container's apply_mask is used
                with pytest.raises(RuntimeError, match="broken apply_mask"):
                    BrokenApply.apply(m, "weight")


def test_failed_commit_restores_lstm(assert_unchanged):  # ATOMIC-1, REMOVE-6
    class BrokenApply(prune.Identity):
        def apply_mask(self, module):
            raise RuntimeError("broken apply_mask")

    lstm = nn.LSTM(2, 2)
    with assert_unchanged(lstm), pytest.raises(RuntimeError):
        BrokenApply.apply(lstm, "weight_hh_l0")
    index = lstm._flat_weights_names.index("weight_hh_l0")
    assert lstm._flat_weights[index] is lstm.weight_hh_l0


def test_rejected_reprune_keeps_hook_working():  # ATOMIC-1 (torch deletes the hook first)
    m = nn.Linear(4, 3)
    prune.l1_unstructured(m, "weight", 2)
    with pytest.raises(ValueError):
        prune.l1_unstructured(m, "weight", 1.5)
    assert prune.is_pruned(m)
    with torch.no_grad():
        m.weight_orig.fill_(1.0)
    m(torch.randn(1, 4))
    assert int((m.weight == 0).sum()) == 2
    prune.remove(m, "weight")
