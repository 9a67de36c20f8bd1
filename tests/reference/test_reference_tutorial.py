"""PyTorch's pruning tutorial (conformance/tutorial.py) run end to end.

Parametrized over torch.nn.utils.prune and reference.prune: the same code, unchanged, gives
what the tutorial shows with both (API-1, CUSTOM-1 and the clauses cited per step).
"""

import pytest
import torch
import torch.nn.functional as F
import torch.nn.utils.prune as torch_prune
from torch import nn

import reference.prune as reference_prune


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.view(-1, int(x.nelement() / x.shape[0]))
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


@pytest.fixture(params=[torch_prune, reference_prune], ids=["torch", "reference"])
def prune(request):
    return request.param


def names(pairs):
    return [name for name, _ in pairs]


def zeros(t):
    return int((t == 0).sum())


def test_iterative_pruning_of_conv1(
    prune,
):  # REPARAM-1, REPARAM-2, REPARAM-3, REPARAM-4, HOOK-1, COMPOSE-1, COMPOSE-4, AMOUNT-2
    model = LeNet()
    module = model.conv1
    assert names(module.named_parameters()) == ["weight", "bias"]
    assert names(module.named_buffers()) == []

    prune.random_unstructured(module, name="weight", amount=0.3)
    assert names(module.named_parameters()) == ["bias", "weight_orig"]
    assert names(module.named_buffers()) == ["weight_mask"]
    assert zeros(module.weight_mask) == round(0.3 * 150) == 45
    assert torch.equal(module.weight, module.weight_orig * module.weight_mask)
    assert len(module._forward_pre_hooks) == 1

    prune.l1_unstructured(module, name="bias", amount=3)
    assert names(module.named_parameters()) == ["weight_orig", "bias_orig"]
    assert names(module.named_buffers()) == ["weight_mask", "bias_mask"]
    assert zeros(module.bias) == 3
    assert len(module._forward_pre_hooks) == 2

    before = module.weight_mask.clone()
    prune.ln_structured(module, name="weight", amount=0.5, n=2, dim=0)
    channel_zero = module.weight.sum(dim=(1, 2, 3)) == 0
    assert int(channel_zero.sum()) == 3  # 50% of 6 channels
    assert (module.weight_mask <= before).all()  # the earlier mask is preserved

    for hook in module._forward_pre_hooks.values():
        if hook._tensor_name == "weight":
            break
    assert [type(h) for h in hook] == [prune.RandomUnstructured, prune.LnStructured]

    assert list(model.state_dict()) == [
        "conv1.weight_orig",
        "conv1.bias_orig",
        "conv1.weight_mask",
        "conv1.bias_mask",
        "conv2.weight",
        "conv2.bias",
        "fc1.weight",
        "fc1.bias",
        "fc2.weight",
        "fc2.bias",
        "fc3.weight",
        "fc3.bias",
    ]

    pruned_weight = module.weight.detach().clone()
    prune.remove(module, "weight")
    assert names(module.named_parameters()) == ["bias_orig", "weight"]
    assert names(module.named_buffers()) == ["bias_mask"]
    assert torch.equal(module.weight, pruned_weight)
    model(torch.randn(1, 1, 32, 32))


def test_pruning_by_layer_type(prune):  # AMOUNT-2, REPARAM-2
    new_model = LeNet()
    for _, module in new_model.named_modules():
        if isinstance(module, torch.nn.Conv2d):
            prune.l1_unstructured(module, name="weight", amount=0.2)
        elif isinstance(module, torch.nn.Linear):
            prune.l1_unstructured(module, name="weight", amount=0.4)
    assert list(dict(new_model.named_buffers())) == [
        "conv1.weight_mask",
        "conv2.weight_mask",
        "fc1.weight_mask",
        "fc2.weight_mask",
        "fc3.weight_mask",
    ]
    expected = {"conv1": 30, "conv2": 480, "fc1": 19200, "fc2": 4032, "fc3": 336}
    assert {k: zeros(getattr(new_model, k).weight) for k in expected} == expected


def test_global_pruning(prune):  # GLOBAL-1, GLOBAL-2, GLOBAL-5
    model = LeNet()
    parameters_to_prune = (
        (model.conv1, "weight"),
        (model.conv2, "weight"),
        (model.fc1, "weight"),
        (model.fc2, "weight"),
        (model.fc3, "weight"),
    )
    prune.global_unstructured(parameters_to_prune, pruning_method=prune.L1Unstructured, amount=0.2)
    total = sum(m.weight.nelement() for m, _ in parameters_to_prune)
    assert total == 61470
    assert sum(zeros(m.weight) for m, _ in parameters_to_prune) == round(0.2 * total)
    sparsities = [zeros(m.weight) / m.weight.nelement() for m, _ in parameters_to_prune]
    assert len(set(sparsities)) > 1  # one global threshold, per-layer sparsities differ
    assert all(
        isinstance(h, prune.CustomFromMask)
        for m, _ in parameters_to_prune
        for h in m._forward_pre_hooks.values()
    )


def test_custom_pruning_method(prune):  # CUSTOM-1
    class FooBarPruningMethod(prune.BasePruningMethod):
        """Prune every other entry in a tensor"""

        PRUNING_TYPE = "unstructured"

        def compute_mask(self, t, default_mask):
            mask = default_mask.clone()
            mask.view(-1)[::2] = 0
            return mask

    def foobar_unstructured(module, name):
        FooBarPruningMethod.apply(module, name)
        return module

    model = LeNet()
    foobar_unstructured(model.fc3, name="bias")
    assert model.fc3.bias_mask.tolist() == [0.0, 1.0] * 5
