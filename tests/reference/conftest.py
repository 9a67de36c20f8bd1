"""Shared helpers of the reference's unit tests."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import pytest
import torch
from torch import nn


def module_state(module: nn.Module) -> dict:
    """Everything ATOMIC-1 calls 'unchanged', for every submodule."""
    state = {}
    for prefix, sub in module.named_modules():
        state[prefix] = {
            "attributes": sorted(sub.__dict__),
            "parameters": [(k, id(p), p.detach().clone()) for k, p in sub._parameters.items()],
            "buffers": [(k, id(b), b.clone()) for k, b in sub._buffers.items()],
            "non_persistent": set(sub._non_persistent_buffers_set),
            "hooks": [(k, id(h)) for k, h in sub._forward_pre_hooks.items()],
            "histories": [
                tuple(id(m) for m in h)
                for h in sub._forward_pre_hooks.values()
                if hasattr(h, "_pruning_methods")
            ],
            "tensors": {
                k: (id(v), v.detach().clone())
                for k, v in sub.__dict__.items()
                if isinstance(v, torch.Tensor)
            },
        }
    return state


def _equal(a: object, b: object) -> bool:
    if isinstance(a, torch.Tensor):
        same_kind = (a.shape, a.dtype, a.device) == (b.shape, b.dtype, b.device)
        if a.device.type == "meta":  # meta tensors hold no values
            return same_kind
        return same_kind and torch.equal(torch.nan_to_num(a), torch.nan_to_num(b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    return a == b


@contextlib.contextmanager
def _unchanged(*modules: nn.Module) -> Iterator[None]:
    before = [module_state(m) for m in modules]
    yield
    after = [module_state(m) for m in modules]
    for b, a in zip(before, after, strict=True):
        for prefix in b:
            for key in b[prefix]:
                assert _equal(b[prefix][key], a[prefix][key]), (
                    f"ATOMIC-1: {prefix or 'module'} {key} changed"
                )


@pytest.fixture
def assert_unchanged() -> Callable[..., contextlib.AbstractContextManager]:
    """`with assert_unchanged(m1, m2): ...` fails if the block changes any of the modules."""
    return _unchanged


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)
