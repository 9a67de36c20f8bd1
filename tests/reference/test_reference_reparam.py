"""REPARAM, HOOK, REMOVE, AUTOGRAD, SERIAL, PRUNED and API clauses."""

import copy
import inspect
import io
import pickle

import pytest
import torch
import torch.nn.utils.prune as torch_prune
from torch import nn

import reference.prune as prune


def test_public_surface_matches_torch():  # API-1, API-3
    for name in torch_prune.__dict__:
        obj = getattr(torch_prune, name)
        if name.startswith("_") or getattr(obj, "__module__", None) != torch_prune.__name__:
            continue
        ours = getattr(prune, name)
        if inspect.isfunction(obj):
            assert (
                inspect.signature(ours).parameters.keys()
                == inspect.signature(obj).parameters.keys()
            )
            for p, q in zip(
                inspect.signature(ours).parameters.values(),
                inspect.signature(obj).parameters.values(),
                strict=True,
            ):
                assert (p.name, p.default, p.kind) == (q.name, q.default, q.kind)
        else:
            assert getattr(ours, "PRUNING_TYPE", None) == getattr(obj, "PRUNING_TYPE", None)
            for meth in ("__init__", "apply", "compute_mask"):
                a, b = inspect.signature(getattr(ours, meth)), inspect.signature(getattr(obj, meth))
                assert list(a.parameters) == list(b.parameters), (name, meth)
                assert [p.default for p in a.parameters.values()] == [
                    p.default for p in b.parameters.values()
                ], (name, meth)


def test_reparametrization():  # REPARAM-1, REPARAM-3, REPARAM-4, REPARAM-5, API-2
    m = nn.Linear(4, 3)
    weight, bias = m.weight, m.bias
    before = list(m.state_dict())
    assert prune.l1_unstructured(m, "weight", 5) is m
    assert m.weight_orig is weight and m.bias is bias
    assert "weight" not in m._parameters and "weight" not in m._buffers
    assert torch.equal(m.weight, weight * m.weight_mask)
    assert "weight_mask" not in m._non_persistent_buffers_set
    assert list(m.state_dict()) == ["bias", "weight_orig", "weight_mask"]
    assert set(before) - {"weight"} < set(m.state_dict())


def test_hook_refreshes_before_forward():  # HOOK-2
    m = nn.Linear(3, 1, bias=False)
    prune.l1_unstructured(m, "weight", 1)
    with torch.no_grad():
        m.weight_orig.fill_(2.0)
        m.weight_mask.fill_(1.0)
    assert m(torch.ones(1, 3)).item() == 6.0


def test_autograd_and_optimizer_never_revive():  # AUTOGRAD-1, AUTOGRAD-2
    m = nn.Linear(5, 4)
    prune.l1_unstructured(m, "weight", 0.5)
    opt = torch.optim.SGD(m.parameters(), lr=0.5, momentum=0.9)
    for _ in range(3):
        opt.zero_grad()
        m(torch.randn(8, 5)).pow(2).sum().backward()
        assert torch.equal(m.weight_orig.grad * (1 - m.weight_mask), torch.zeros(4, 5))
        opt.step()
        m(torch.randn(1, 5))
        assert (m.weight[m.weight_mask == 0] == 0).all()


def test_remove_restores_same_parameter():  # REMOVE-1, REMOVE-2, REMOVE-3
    m = nn.Linear(4, 3)
    weight = m.weight
    prune.l1_unstructured(m, "weight", 0.5)
    prune.l1_unstructured(m, "bias", 1)
    x = torch.randn(2, 4)
    out = m(x)
    assert prune.remove(m, "weight") is m
    assert m.weight is weight and m._parameters["weight"] is weight and weight.requires_grad
    assert int((weight == 0).sum()) == 6
    assert list(m.state_dict()) == ["bias_orig", "weight", "bias_mask"]
    assert [h._tensor_name for h in m._forward_pre_hooks.values()] == ["bias"]
    torch.testing.assert_close(m(x), out)
    assert not any(k.startswith("weight_") for k in m.__dict__)


def test_prune_after_remove_starts_fresh():  # REMOVE-4
    m = nn.Linear(4, 3)
    prune.l1_unstructured(m, "weight", 0.5)
    prune.l1_unstructured(m, "weight", 0.5)
    prune.remove(m, "weight")
    hook = prune.L1Unstructured.apply(m, "weight", 0.5)
    assert isinstance(hook, prune.L1Unstructured)
    assert int((m.weight_mask == 0).sum()) == 6  # round(0.5 * 12), zeros counted as entries


def test_remove_acts_on_given_module_only():  # REMOVE-2, REMOVE-5, PRUNED-1
    net = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
    assert not prune.is_pruned(net)
    prune.identity(net[1], "weight")
    assert prune.is_pruned(net) and not prune.is_pruned(net[0])
    with pytest.raises(ValueError, match="'weight'"):
        prune.remove(net, "weight")
    prune.remove(net[1], "weight")
    assert not prune.is_pruned(net)


def test_remove_lstm_flat_weights():  # REMOVE-6
    lstm = nn.LSTM(3, 4)
    prune.l1_unstructured(lstm, "weight_hh_l0", 0.5)
    prune.remove(lstm, "weight_hh_l0")
    idx = lstm._flat_weights_names.index("weight_hh_l0")
    assert lstm._flat_weights[idx] is lstm.weight_hh_l0
    lstm(torch.randn(2, 1, 3))[0].sum().backward()


def test_deepcopy_is_independent():  # SERIAL-3
    m = nn.Linear(4, 3)
    prune.l1_unstructured(m, "weight", 0.5)
    prune.ln_structured(m, "weight", 1, 2, 0)
    c = copy.deepcopy(m)
    assert c.weight_orig is not m.weight_orig
    assert torch.equal(c.weight, m.weight) and torch.equal(c.weight_mask, m.weight_mask)
    assert [type(h) for h in next(iter(c._forward_pre_hooks.values()))] == [
        prune.L1Unstructured,
        prune.LnStructured,
    ]
    c.weight.sum().backward()  # the copy's attribute derives from the copy's orig
    assert c.weight_orig.grad is not None and m.weight_orig.grad is None
    before = m.weight_orig.detach().clone()
    prune.l1_unstructured(c, "weight", 1)
    with torch.no_grad():
        c.weight_orig.add_(1.0)
    assert torch.equal(m.weight_orig, before) and int((m.weight_mask == 0).sum()) == 7
    copy.deepcopy(c)  # a copy of a copy


def test_deepcopy_after_half():  # SERIAL-3
    m = nn.Linear(4, 3)
    prune.l1_unstructured(m, "weight", 0.5)
    m.half()  # replaces the mask buffer; the pruned attribute lags until the next forward
    c = copy.deepcopy(m)
    assert c.weight.dtype == torch.float16


@pytest.mark.parametrize("how", ["pickle", "torch.save"])
def test_whole_module_round_trips(how):  # SERIAL-2
    m = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    prune.l1_unstructured(m[0], "weight", 0.5)
    prune.random_structured(m[0], "weight", 1, dim=0)
    prune.custom_from_mask(m[2], "bias", torch.tensor([1, 0]))
    if how == "pickle":
        loaded = pickle.loads(pickle.dumps(m))
    else:
        buffer = io.BytesIO()
        torch.save(m, buffer)
        buffer.seek(0)
        loaded = torch.load(buffer, weights_only=False)
    x = torch.randn(5, 4)
    torch.testing.assert_close(loaded(x), m(x))
    assert torch.equal(loaded[0].weight_mask, m[0].weight_mask)
    assert len(next(iter(loaded[0]._forward_pre_hooks.values()))) == 2
    copy.deepcopy(loaded)
    prune.l1_unstructured(loaded[0], "weight", 1)
    prune.remove(loaded[0], "weight")


def test_state_dict_loads_into_fresh_pruned_module():  # SERIAL-1
    m = nn.Linear(4, 3)
    prune.l1_unstructured(m, "weight", 0.5)
    fresh = prune.identity(nn.Linear(4, 3), "weight")
    fresh.load_state_dict(m.state_dict(), strict=True)
    x = torch.randn(2, 4)
    torch.testing.assert_close(fresh(x), m(x))
    sd = m.state_dict()
    buffer = io.BytesIO()
    torch.save(sd, buffer)
    buffer.seek(0)
    assert torch.load(buffer, weights_only=True).keys() == sd.keys()


def test_apply_returns_hook_and_unapplied_method_errors():  # HOOK-3
    method = prune.L1Unstructured(1)
    with pytest.raises(AssertionError, match="has not been applied"):
        method.apply_mask(nn.Linear(1, 1))
