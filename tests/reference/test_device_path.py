"""The device-resident selection gives the masks the host-guided one gives (DEVICE-4).

Spec: SELECT-1, SELECT-3, SELECT-4, COMPOSE-2, GLOBAL-2, DEVICE-4.

Every device but the CPU takes reference/select_on_device.py; here the CPU takes it too
(`selection.HOST_GUIDED_DEVICES` emptied, chunks of a few entries), on derandomized inputs
full of what ranking gets wrong: ties, NaN with any sign and payload, +-inf, -0.0, negative
scores, every float dtype and the integer ones, selections restricted to remaining entries,
pieces of mixed sizes. Each mask is compared with SELECT-1/3/4's definition (a stable sort
with NaN last), and whole pruning sessions with the host-guided path's masks.
"""

from __future__ import annotations

import random

import pytest
import torch
from torch import nn

import reference.prune as prune
import reference.select_on_device as select_on_device
import reference.selection as selection

NAN, INF = float("nan"), float("inf")
SPECIALS = [0.0, -0.0, INF, -INF, NAN, -NAN, 1e-45, 1.0, 2.0, 2.0, 65504.0, -1.0, -3.0]
FLOATS = [torch.float16, torch.bfloat16, torch.float32, torch.float64]
INTEGERS = [torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64]


@pytest.fixture
def device_path(monkeypatch):
    monkeypatch.setattr(selection, "HOST_GUIDED_DEVICES", set())
    monkeypatch.setattr(select_on_device, "CHUNK", 4)


def drawn_scores(rng: random.Random, n: int, dtype: torch.dtype) -> torch.Tensor:
    if dtype.is_floating_point:
        values = [rng.choice(SPECIALS) if rng.random() < 0.5 else round(rng.gauss(0, 2), 1)
                  for _ in range(n)]
        scores = torch.tensor(values, dtype=dtype)
        if n and rng.random() < 0.3:  # a NaN of another payload
            bits = scores.view(select_on_device.KEY_DTYPE[dtype])
            bits[rng.randrange(n)] = torch.iinfo(bits.dtype).max
        return scores
    info = torch.iinfo(dtype)
    values = [rng.choice([info.min, info.max, 0, 1, 1, 2, max(info.min, -2)]) for _ in range(n)]
    return torch.tensor(values, dtype=dtype)


def defined_smallest_k(scores: torch.Tensor, k: int, within: torch.Tensor | None) -> torch.Tensor:
    """SELECT-1/3/4 by definition: among the flagged entries, a stable sort with NaN last."""
    values = scores.double().tolist()
    flagged = [i for i in range(len(values)) if within is None or within[i]]
    order = sorted(flagged, key=lambda i: (values[i] != values[i], 0.0 if values[i] != values[i]
                                           else values[i], i))
    chosen = torch.zeros(len(values), dtype=torch.bool)
    chosen[order[:k]] = True
    return chosen


def test_device_selection_is_the_definition(device_path):
    rng = random.Random(13)
    for _ in range(400):
        dtype = rng.choice(FLOATS + INTEGERS)
        scores = drawn_scores(rng, rng.randint(1, 17), dtype)
        within = torch.rand(scores.numel()) < 0.7 if rng.random() < 0.5 else None
        flagged = scores.numel() if within is None else int(within.sum())
        for k in range(flagged + 1):
            got = selection.smallest_k(scores, k, within)
            assert torch.equal(got, defined_smallest_k(scores, k, within)), (scores, within, k)


def test_device_selection_of_pieces_is_that_of_the_concatenation(device_path):
    rng = random.Random(14)
    for _ in range(200):
        dtype = rng.choice(FLOATS)
        pieces = [drawn_scores(rng, rng.randint(0, 9), dtype) for _ in range(rng.randint(1, 4))]
        within = [None if rng.random() < 0.4 else torch.rand(p.numel()) < 0.6 for p in pieces]
        flags = torch.cat([torch.ones(p.numel(), dtype=torch.bool) if w is None else w
                           for p, w in zip(pieces, within, strict=True)])
        whole = torch.cat(pieces)
        for k in range(1, int(flags.sum()) + 1):
            got = torch.cat(selection.smallest_k_of_pieces(pieces, k, within))
            assert torch.equal(got, defined_smallest_k(whole, k, flags)), (pieces, within, k)


def _session(dtype: torch.dtype, seed: int) -> list[torch.Tensor]:
    """Masks after a pruning session on tie-heavy weights: fresh, again, structured, global."""
    torch.manual_seed(seed)
    a, b = nn.Linear(9, 7).to(dtype), nn.Conv2d(3, 4, 2).to(torch.float32)
    with torch.no_grad():
        for p in (a.weight, b.weight):
            p.copy_(torch.randint(-2, 3, p.shape).to(p.dtype))
        a.weight[0, 0] = NAN
    prune.l1_unstructured(a, "weight", amount=0.3)
    prune.l1_unstructured(a, "weight", amount=5)
    prune.ln_structured(a, "weight", amount=0.4, n=1, dim=0)
    prune.ln_structured(b, "weight", amount=1, n=2, dim=1)
    prune.global_unstructured([(a, "weight"), (b, "weight"), (a, "bias")],
                              pruning_method=prune.L1Unstructured, amount=0.5)
    prune.random_unstructured(b, "weight", amount=0.2)
    return [a.weight_mask, a.bias_mask, b.weight_mask]


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
def test_a_pruning_session_gives_the_same_masks_on_both_paths(monkeypatch, dtype):
    host = _session(dtype, 0)
    monkeypatch.setattr(selection, "HOST_GUIDED_DEVICES", set())
    monkeypatch.setattr(select_on_device, "CHUNK", 5)
    device = _session(dtype, 0)
    for h, d in zip(host, device, strict=True):
        assert torch.equal(h, d)


def test_large_scores_with_ties_and_nan_agree(monkeypatch):
    # 2**20 entries and more, where the host-guided path switches to its radix select.
    scores = torch.randint(0, 50, (1 << 20,)).float()
    scores[::1000] = NAN
    within = torch.rand(scores.numel()) < 0.8
    for k in (1, 333_333, int(within.sum())):
        host = selection.smallest_k(scores, k, within)
        monkeypatch.setattr(selection, "HOST_GUIDED_DEVICES", set())
        device = selection.smallest_k(scores, k, within)
        monkeypatch.setattr(selection, "HOST_GUIDED_DEVICES", {"cpu"})
        assert torch.equal(host, device) and int(device.sum()) == k


def test_more_tied_scores_than_a_float32_counts_exactly(monkeypatch):
    # Above 2**24 a float32 count skips integers: the rank of each tie must be counted exactly.
    monkeypatch.setattr(selection, "HOST_GUIDED_DEVICES", set())
    count = (1 << 24) + 8
    for k in (count - 5, (1 << 24) + 3):
        chosen = selection.smallest_k(torch.zeros(count), k)
        assert int(chosen.sum()) == k
        assert bool(chosen[:k].all()) and not bool(chosen[k:].any())


@pytest.mark.parametrize("dtype", [torch.bool, torch.complex64], ids=str)
def test_scores_of_no_real_dtype_are_refused_naming_it(dtype):
    with pytest.raises(TypeError, match=str(dtype)):
        select_on_device.order_keys(torch.zeros(3, dtype=dtype))
