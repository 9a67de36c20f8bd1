"""The reference's fast paths give exactly what their plain definitions give.

Spec: SELECT-1, SELECT-3, SELECT-4, COMPOSE-2, GLOBAL-1, GLOBAL-2, GLOBAL-3.

The radix select, the chunked gather and the tensor-by-tensor global L1 pruning only kick in on
large tensors; here their size thresholds are lowered so that small, derandomized inputs (NaN,
inf, -0.0, subnormals, ties, negative scores, mixed dtypes, earlier masks) go through them, and
each is compared with the definition it replaces: torch.kthvalue, boolean indexing, and
combine_masks on the concatenation of all tensors.
"""

from __future__ import annotations

import random

import pytest
import torch

import reference.prune as prune
import reference.selection as selection
from reference.base import combine_masks
from reference.methods import L1Unstructured

NAN, INF = float("nan"), float("inf")
SPECIALS = [0.0, -0.0, INF, NAN, 1e-45, 1.0, 2.0, 2.0, 65504.0, -1.0, -3.0]
DTYPES = [torch.float16, torch.bfloat16, torch.float32, torch.float64]


@pytest.fixture(autouse=True)
def small_thresholds(monkeypatch):
    monkeypatch.setattr(selection, "_RADIX_MIN", 0)
    monkeypatch.setattr(selection, "_CHUNK", 5)


def random_scores(rng: random.Random, n: int, dtype: torch.dtype) -> torch.Tensor:
    kind = rng.random()
    if kind < 0.4:
        values = [rng.choice(SPECIALS) for _ in range(n)]
    elif kind < 0.7:
        values = [float(rng.randint(-2, 2)) for _ in range(n)]
    else:
        values = [rng.gauss(0, 1) for _ in range(n)]
    scores = torch.tensor(values, dtype=dtype)
    return scores.abs() if rng.random() < 0.6 else scores


def plain_smallest_k(scores: torch.Tensor, k: int) -> torch.Tensor:
    """SELECT-1/3/4 by definition: a stable sort with NaN last, the first k indices."""
    chosen = torch.zeros(scores.numel(), dtype=torch.bool)
    keys = torch.where(torch.isnan(scores), INF, scores.double())
    nan_last = torch.isnan(scores).double()
    order = sorted(range(scores.numel()), key=lambda i: (nan_last[i].item(), keys[i].item(), i))
    chosen[order[:k]] = True
    return chosen


def test_kth_smallest_matches_kthvalue():  # SELECT-1, SELECT-4
    rng = random.Random(0)
    for _ in range(300):
        scores = random_scores(rng, rng.randint(1, 30), rng.choice(DTYPES))
        for k in range(1, scores.numel() + 1):
            got = selection.kth_smallest([scores], k)
            want = torch.kthvalue(scores, k).values
            assert (got.isnan() and want.isnan()) or got == want, (scores, k)


def test_nan_payloads_rank_as_one_nan():  # SELECT-4
    bits = torch.tensor([1.0, NAN, 2.0, NAN, 0.5]).view(torch.int32).clone()
    bits[1], bits[3] = 0x7F800001, 0x7FFFFFFF  # two NaNs with different payloads
    scores = bits.view(torch.float32)
    for k in range(6):
        assert torch.equal(selection.smallest_k(scores, k), plain_smallest_k(scores, k))


def test_smallest_k_of_pieces_is_smallest_k_of_the_concatenation():  # SELECT-1, SELECT-3
    rng = random.Random(1)
    for _ in range(300):
        scores = random_scores(rng, rng.randint(0, 25), rng.choice(DTYPES))
        cuts = sorted(rng.randint(0, scores.numel()) for _ in range(rng.randint(0, 3)))
        sizes = [b - a for a, b in zip([0, *cuts], [*cuts, scores.numel()], strict=True)]
        pieces = list(scores.split(sizes))
        for k in range(scores.numel() + 1):
            expected = plain_smallest_k(scores, k)
            assert torch.equal(selection.smallest_k(scores, k), expected), (scores, k)
            got = torch.cat(selection.smallest_k_of_pieces(pieces, k))
            assert torch.equal(got, expected), (scores, sizes, k)


def test_remaining_entries_is_boolean_indexing():  # COMPOSE-2
    rng = random.Random(2)
    for _ in range(300):
        shape = tuple(rng.randint(0, 4) for _ in range(rng.randint(0, 3)))
        t = torch.randn(shape)
        if t.dim() >= 2 and rng.random() < 0.5:
            t = t.transpose(0, 1)  # not contiguous: row-major order of the logical shape
        remaining = torch.rand(t.shape) < rng.random()
        got = selection.remaining_entries(t, remaining)
        assert got.shape == t[remaining].shape and torch.equal(got, t[remaining])


def test_global_l1_tensor_by_tensor_equals_the_concatenation():  # GLOBAL-1, GLOBAL-2, GLOBAL-3
    rng = random.Random(3)
    for _ in range(300):
        mixed = rng.random() < 0.3
        scores, masks = [], []
        for _ in range(rng.randint(1, 4)):
            dtype = rng.choice(DTYPES[1:]) if mixed else torch.float32
            shape = rng.choice([(rng.randint(0, 5),), (rng.randint(1, 4), rng.randint(1, 4))])
            scores.append(random_scores(rng, torch.Size(shape).numel(), dtype).reshape(shape))
            if rng.random() < 0.4:  # unpruned: global_unstructured passes None
                masks.append(None)
            else:
                mask_dtype = rng.choice([dtype, torch.float32, torch.bool])
                masks.append((torch.rand(shape) < 0.7).to(mask_dtype))
        full = [torch.ones(s.shape, dtype=s.dtype) if m is None else m
                for s, m in zip(scores, masks, strict=True)]
        remaining = sum(int((mask == 1).sum()) for mask in full)
        counts = [0, min(1, remaining), min(3, remaining), remaining]  # never above (AMOUNT-6)
        amount = rng.choice([0.0, 0.3, 0.5, 1.0, *counts])
        flat = combine_masks(
            L1Unstructured(amount),
            torch.cat([s.reshape(-1) for s in scores]),
            torch.cat([m.reshape(-1) for m in full]),
        )
        expected = flat.split([m.numel() for m in full])
        got = prune._global_l1_masks(amount, scores, masks, flat.dtype)
        for want, mask in zip(expected, got, strict=True):
            assert mask.dtype == want.dtype and mask.is_contiguous()
            assert torch.equal(mask, want.view_as(mask)), (scores, masks, amount)


def test_global_l1_rejects_a_count_above_the_remaining_entries():  # AMOUNT-6
    scores, masks = [torch.rand(3), torch.rand(2)], [torch.ones(3), torch.tensor([1.0, 0.0])]
    with pytest.raises(ValueError, match="exceeds the 4 units"):
        prune._global_l1_masks(5, scores, masks, torch.float32)
