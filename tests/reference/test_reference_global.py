"""GLOBAL clauses: global_unstructured."""

import pytest
import torch
from torch import nn

import reference.prune as prune


def net():
    return nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 4))


def pairs(model):
    return [(model[0], "weight"), (model[2], "weight"), (model[2], "bias")]


def zeros(model):
    return sum(int((getattr(m, n) == 0).sum()) for m, n in pairs(model))


def test_exact_count_one_threshold():  # GLOBAL-1, GLOBAL-2
    model = net()
    model(torch.randn(1, 6))
    prune.global_unstructured(pairs(model), pruning_method=prune.L1Unstructured, amount=0.3)
    assert zeros(model) == round(0.3 * (30 + 20 + 4))
    pruned = torch.cat(
        [getattr(m, n + "_orig")[getattr(m, n + "_mask") == 0] for m, n in pairs(model)]
    )
    kept = torch.cat(
        [getattr(m, n + "_orig")[getattr(m, n + "_mask") == 1] for m, n in pairs(model)]
    )
    assert pruned.abs().max() <= kept.abs().min()


def test_int_count_and_random_method():  # GLOBAL-1, AMOUNT-1
    model = net()
    prune.global_unstructured(pairs(model), prune.RandomUnstructured, amount=17)
    assert zeros(model) == 17


def test_existing_masks_and_history():  # GLOBAL-3, GLOBAL-5
    model = net()
    prune.l1_unstructured(model[0], "weight", 10)
    before = model[0].weight_mask.clone()
    prune.global_unstructured(pairs(model), prune.L1Unstructured, amount=0.5)
    # 44 entries remained; half of them = 22 more, on top of the 10.
    assert zeros(model) == 10 + 22
    assert (model[0].weight_mask <= before).all()
    history = next(iter(model[0]._forward_pre_hooks.values()))
    assert [type(h) for h in history] == [prune.L1Unstructured, prune.CustomFromMask]
    hook = next(iter(model[2]._forward_pre_hooks.values()))
    assert isinstance(hook, prune.CustomFromMask)
    assert list(model.state_dict()) == [
        "0.bias",
        "0.weight_orig",
        "0.weight_mask",
        "2.weight_orig",
        "2.bias_orig",
        "2.weight_mask",
        "2.bias_mask",
    ]


def test_importance_scores_dict():  # GLOBAL-4
    model = net()
    scores = {(model[2], "bias"): torch.full((4,), -1e-9)}  # |score| smallest of all
    prune.global_unstructured(
        pairs(model), prune.L1Unstructured, importance_scores=scores, amount=4
    )
    assert int(model[2].bias_mask.sum()) == 0 and zeros(model) == 4


@pytest.mark.parametrize("kind", ["generator", "tuple", "dict keys"])
def test_any_iterable_read_once(kind):  # GLOBAL-7
    model = net()
    given = pairs(model)
    iterable = {
        "generator": (p for p in given),
        "tuple": tuple(given),
        "dict keys": dict.fromkeys(given).keys(),
    }[kind]
    prune.global_unstructured(iterable, prune.L1Unstructured, amount=0.2)
    assert zeros(model) == round(0.2 * 54)


def duplicate(model):
    return [*pairs(model), (model[0], "weight")]


BAD = {
    "empty": (lambda m: [], {}, ValueError, "empty"),
    "duplicate": (duplicate, {}, ValueError, "twice"),
    "not a pair": (lambda m: [m[0]], {}, TypeError, "pairs"),
    "swapped pair": (lambda m: [("weight", m[0])], {}, TypeError, "pairs"),
    "structured method": (
        pairs,
        {"pruning_method": prune.LnStructured, "n": 2},
        TypeError,
        "structured",
    ),
    "scores not dict": (pairs, {"importance_scores": [1]}, TypeError, "dict"),
    "too many": (pairs, {"amount": 55}, ValueError, "55"),
    "bad amount": (pairs, {"amount": 1.5}, ValueError, "1.5"),
    "missing name": (lambda m: [(m[0], "weight"), (m[2], "nope")], {}, AttributeError, "nope"),
    "other device": (lambda m: [*pairs(m), (m[1].to("meta"), "weight")], {}, ValueError, "meta"),
}


@pytest.mark.parametrize("case", BAD)
def test_rejected_global_changes_nothing(case, assert_unchanged):  # GLOBAL-6, GLOBAL-8, ATOMIC-2
    model = nn.Sequential(nn.Linear(6, 5), nn.Linear(3, 3), nn.Linear(5, 4))
    prune.l1_unstructured(model[2], "weight", 3)
    make, kwargs, error, match = BAD[case]
    given = make(model)
    kwargs = {"pruning_method": prune.L1Unstructured, "amount": 0.5, **kwargs}
    with assert_unchanged(model), pytest.raises(error, match=match):
        prune.global_unstructured(given, **kwargs)


def test_other_device_scores(assert_unchanged):  # DEVICE-6
    model = net()
    scores = {(model[0], "weight"): torch.ones(5, 6, device="meta")}
    with assert_unchanged(model), pytest.raises(ValueError, match="meta"):
        prune.global_unstructured(pairs(model), prune.L1Unstructured, scores, amount=3)
