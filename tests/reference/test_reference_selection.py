"""SELECT and STRUCT clauses at the level of reference/selection.py and the methods."""

import pytest
import torch
from torch import nn

import reference.prune as prune
from reference.errors import InvalidNormError
from reference.selection import channel_norms, smallest_k, validate_norm_order

NAN, INF = float("nan"), float("inf")


def pruned(scores, k):
    return smallest_k(torch.tensor(scores), k).nonzero().flatten().tolist()


def test_k_smallest_and_bounds():  # SELECT-1
    assert pruned([3.0, 1.0, 2.0, 0.5], 2) == [1, 3]
    assert pruned([3.0, 1.0], 0) == []
    assert pruned([3.0, 1.0], 2) == [0, 1]
    assert pruned([], 0) == []


def test_ties_lowest_flat_index_first():  # SELECT-3
    assert pruned([1.0, 1.0, 1.0, 1.0], 2) == [0, 1]
    assert pruned([2.0, 1.0, 1.0, 0.0, 1.0], 3) == [1, 2, 3]


def test_nan_ranks_above_inf():  # SELECT-4
    assert pruned([NAN, INF, 1.0, NAN], 2) == [1, 2]
    assert pruned([NAN, INF, 1.0, NAN], 3) == [0, 1, 2]
    assert pruned([NAN, NAN, NAN], 2) == [0, 1]


def test_negative_zero_equals_zero():  # SELECT-4
    m = nn.Linear(4, 1, bias=False)
    with torch.no_grad():
        m.weight.copy_(torch.tensor([[0.0, -0.0, 0.0, 5.0]]))
    prune.l1_unstructured(m, "weight", 2)
    assert m.weight_mask.tolist() == [[0.0, 0.0, 1.0, 1.0]]


def test_ties_follow_logical_not_memory_layout():  # SELECT-3
    conv = nn.Conv2d(3, 2, 2)
    with torch.no_grad():
        conv.weight.fill_(1.0)
    channels_last = nn.Conv2d(3, 2, 2).to(memory_format=torch.channels_last)
    with torch.no_grad():
        channels_last.weight.fill_(1.0)
    prune.l1_unstructured(conv, "weight", 5)
    prune.l1_unstructured(channels_last, "weight", 5)
    assert torch.equal(conv.weight_mask, channels_last.weight_mask)
    assert conv.weight_mask.reshape(-1)[:5].sum() == 0


def test_channel_norms_follow_vector_norm():  # STRUCT-2
    t = torch.randn(3, 4, 5)
    for n in (1, 2, 3.5, INF, -INF, "fro", 0, -1):
        order = 2 if n == "fro" else n
        expected = torch.stack([torch.linalg.vector_norm(t[:, c], ord=order) for c in range(4)])
        torch.testing.assert_close(channel_norms(t, n, 1), expected)
    assert channel_norms(torch.tensor([[0.0, 1.0], [0.0, 2.0]]), 0, 1).tolist() == [0.0, 2.0]


def test_half_norms_accumulate_without_overflow():  # DEVICE-2
    t = torch.full((4, 3), 300.0, dtype=torch.float16)  # 300**2 overflows float16
    assert torch.isfinite(channel_norms(t, 2, 0)).all()


@pytest.mark.parametrize("n", ["nuc", "abc", None, 1j, True, NAN, -1.0, -0.5, [2]])
def test_invalid_norm_orders(n):  # STRUCT-6
    with pytest.raises(ValueError, match="n=") as info:
        validate_norm_order(n)
    assert isinstance(info.value, RuntimeError)  # what torch raises, for drop-in code
    with pytest.raises(InvalidNormError):
        prune.LnStructured(0.5, n)


def test_structured_prunes_smallest_channels_ties_lowest_index():  # STRUCT-1, STRUCT-2
    m = nn.Linear(3, 4, bias=False)
    with torch.no_grad():
        m.weight.copy_(torch.tensor([[1.0] * 3, [0.1] * 3, [1.0] * 3, [5.0] * 3]))
    prune.ln_structured(m, "weight", 2, n=1, dim=0)
    assert m.weight_mask[:, 0].tolist() == [0.0, 0.0, 1.0, 1.0]


def test_negative_dim_equals_positive():  # STRUCT-3
    t = torch.randn(4, 5, 6)
    a, b = nn.Linear(1, 1), nn.Linear(1, 1)
    a.weight, b.weight = nn.Parameter(t.clone()), nn.Parameter(t.clone())
    prune.ln_structured(a, "weight", 0.5, 2, dim=-1)
    prune.ln_structured(b, "weight", 0.5, 2, dim=2)
    assert torch.equal(a.weight_mask, b.weight_mask)


def test_random_structured_uses_tensor_device_generator_and_seed():  # STRUCT-5, DEVICE-5
    masks = []
    for _ in range(2):
        torch.manual_seed(7)
        m = nn.Conv2d(2, 8, 3)
        prune.random_structured(m, "weight", 3, dim=0)
        masks.append(m.weight_mask)
        pruned_channels = (m.weight_mask.sum(dim=(1, 2, 3)) == 0).sum()
        assert pruned_channels == 3
    assert torch.equal(*masks)


def test_random_unstructured_is_uniform_and_reproducible():  # SELECT-6, SELECT-7
    counts = torch.zeros(6)
    for seed in range(600):
        torch.manual_seed(seed)
        m = nn.Linear(6, 1, bias=False)
        prune.random_unstructured(m, "weight", 2)
        assert int((m.weight_mask == 0).sum()) == 2
        counts += (m.weight_mask[0] == 0).float()
    # Each entry is pruned with probability 1/3: 200 expected, sd ~11.5.
    assert ((counts - 200).abs() < 60).all(), counts
    torch.manual_seed(3)
    a = prune.random_unstructured(nn.Linear(9, 9), "weight", 0.4).weight_mask
    torch.manual_seed(3)
    b = prune.random_unstructured(nn.Linear(9, 9), "weight", 0.4).weight_mask
    assert torch.equal(a, b)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
def test_dtypes_exact_counts(dtype):  # DEVICE-2, COMPOSE-1
    m = nn.Linear(20, 10).to(dtype)
    prune.l1_unstructured(m, "weight", 0.35)
    first = m.weight_mask.clone()
    assert first.dtype == dtype
    assert int((first == 0).sum()) == 70
    prune.ln_structured(m, "weight", 0.3, 2, 0)
    rows = m.weight_mask.sum(1) == 0
    assert int(rows.sum()) == 3
    assert torch.equal(m.weight_mask, first * (~rows).to(dtype)[:, None])


def test_large_counts_are_exact():  # DEVICE-7
    scores = torch.zeros(2**24 + 3)
    chosen = smallest_k(scores, 2**24 + 1)
    assert int(chosen.sum()) == 2**24 + 1
    assert not chosen[-2:].any()
