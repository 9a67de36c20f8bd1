"""How often a pruning call on the device path reads a value on the host: at most once.

Spec: DEVICE-4 (the device path is the reference on every device but the CPU); issue 13.

On a GPU every value the host reads waits for every queued kernel. The reference's device path
(reference/select_on_device.py and the in-place re-prune of reference/methods.py) is the code a
CUDA tensor takes; `selection.HOST_GUIDED_DEVICES` emptied, the CPU takes it too, and three
checks count its host reads:

- `HostReads`, a TorchFunctionMode that sees every torch call the reference makes from Python,
  on CPU tensors (so the masks are checked too): it counts the calls that return a value to the
  host (`item`, `tolist`, `numpy`, `cpu`, `__bool__`, `__int__`, `__float__`, `__index__`,
  `equal`, ...) and the ops that synchronize inside on CUDA (`nonzero`, boolean indexing,
  `bincount`, `unique`, `masked_select`, `masked_scatter_`, `repeat_interleave`, ...).
- The same calls on `meta` tensors, which hold no values: any kernel whose output or control
  flow depends on values raises there, listed above or not (`HostReads` answers the one read
  allowed with a stand-in count, so that the rest of the call runs).
- On CUDA, where there is one, `torch.cuda.set_sync_debug_mode`: 'error' for the calls that
  must not synchronize at all, 'warn' (warnings counted) for those allowed one.

What they cannot see: on the CPU, a host read made inside a torch function implemented in
Python (the mode is off while it runs) or by a C++ kernel that is not listed and has a meta
kernel; a `.to(device)` whose device happens to be the CPU (the meta run fails on it, not the
CPU run); synchronizations of the CUDA caching allocator; and time: a path can be sync-free and
still slow (scripts/bench --device cuda measures that).

Budgets: a first prune and global pruning of unpruned tensors know every count from shapes and
read nothing; a re-prune (and global pruning over pruned tensors) reads how many units remain,
once, for k (AMOUNT-3) and the count limit (AMOUNT-6). Forward and remove read nothing.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import torch
from torch import nn
from torch.overrides import TorchFunctionMode

import reference.prune as prune
import reference.select_on_device as select_on_device
import reference.selection as selection

# Calls that hand a tensor's value to Python.
_HOST_READS = {
    "item", "tolist", "numpy", "cpu", "__bool__", "__int__", "__float__", "__index__",
    "__complex__", "__array__", "equal", "allclose", "is_nonzero",
}
# Ops whose CUDA kernels read a value on the host before returning (an output size, a bound).
_SYNCING_OPS = {
    "nonzero", "argwhere", "bincount", "unique", "unique_consecutive", "masked_select",
    "masked_scatter", "masked_scatter_", "repeat_interleave", "histc",
}
_INDEXING = {"__getitem__", "__setitem__", "index_put", "index_put_"}
# The count a meta tensor's host read is answered with: large enough for any amount.
_STAND_IN_COUNT = 1 << 20


class HostReads(TorchFunctionMode):
    """Records every host read and syncing op of the torch calls made while it is active."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = getattr(func, "__name__", str(func))
        reads = name in _HOST_READS or name in _SYNCING_OPS or (
            name in _INDEXING and _has_boolean_index(args[1:2])
        )
        if name == "where" and len(args) + len(kwargs) == 1:  # where(condition) is nonzero
            reads = True
        if reads:
            self.seen.append(name)
            first = args[0] if args else None
            if isinstance(first, torch.Tensor) and first.device.type == "meta":
                return _stand_in(name)
        return func(*args, **kwargs)


def _has_boolean_index(indices: tuple) -> bool:
    flat = [i for index in indices for i in (index if isinstance(index, tuple | list) else
                                             (index,))]
    return any(isinstance(i, torch.Tensor) and i.dtype in (torch.bool, torch.uint8) for i in flat)


def _stand_in(name: str) -> object:
    if name in ("__int__", "__index__", "item"):
        return _STAND_IN_COUNT
    raise AssertionError(f"{name} read a value of a meta tensor: the device path must not")


@pytest.fixture
def device_path(monkeypatch):
    """The CPU takes the device path, in chunks small enough that several are used."""
    monkeypatch.setattr(selection, "HOST_GUIDED_DEVICES", set())
    monkeypatch.setattr(select_on_device, "CHUNK", 1000)


@dataclass(frozen=True)
class Case:
    """A pruning call (`call`) on modules prepared by `setup`, with its budget of host reads."""

    name: str
    setup: Callable[[str, torch.dtype], list[nn.Module]]
    call: Callable[[list[nn.Module]], object]
    reads: int


def _linear(device: str, dtype: torch.dtype, shape: tuple[int, int] = (40, 60)) -> nn.Linear:
    module = nn.Linear(shape[1], shape[0], device=device, dtype=dtype)
    if device != "meta":
        with torch.no_grad():  # some ties and a NaN: the cut among equal scores is exercised
            module.weight.copy_(torch.randn(shape).round(decimals=1).to(dtype))
            module.weight.view(-1)[7] = float("nan")
    return module


def _pruned(*steps: Callable[[nn.Module], object]) -> Callable[[str, torch.dtype], list]:
    def setup(device: str, dtype: torch.dtype) -> list[nn.Module]:
        module = _linear(device, dtype)
        for step in steps:
            step(module)
        return [module]
    return setup


def _two(device: str, dtype: torch.dtype) -> list[nn.Module]:
    # Mixed dtypes: the scores are promoted before they are ranked together (GLOBAL-2).
    return [_linear(device, dtype), _linear(device, torch.float32, (30, 20))]


def _two_pruned(device: str, dtype: torch.dtype) -> list[nn.Module]:
    modules = _two(device, dtype)
    prune.l1_unstructured(modules[0], "weight", amount=0.3)
    return modules


def _l1(amount: float | int) -> Callable[[nn.Module], object]:
    return lambda m: prune.l1_unstructured(m, "weight", amount=amount)


def _ln(m: nn.Module) -> object:
    return prune.ln_structured(m, "weight", amount=0.3, n=2, dim=0)


def _global(method: type) -> Callable[[list[nn.Module]], object]:
    return lambda ms: prune.global_unstructured(
        [(m, "weight") for m in ms], pruning_method=method, amount=0.4)


def _scores(m: nn.Module) -> torch.Tensor:
    return torch.ones_like(m.weight, dtype=torch.int32)


CASES = [
    Case("l1 first", _pruned(), lambda ms: _l1(0.5)(ms[0]), 0),
    Case("l1 count", _pruned(), lambda ms: _l1(100)(ms[0]), 0),
    Case("l1 integer scores", _pruned(), lambda ms: prune.l1_unstructured(
        ms[0], "weight", amount=0.5, importance_scores=_scores(ms[0])), 0),
    Case("random first", _pruned(),
         lambda ms: prune.random_unstructured(ms[0], "weight", amount=0.5), 0),
    Case("ln first", _pruned(), lambda ms: _ln(ms[0]), 0),
    Case("random structured first", _pruned(),
         lambda ms: prune.random_structured(ms[0], "weight", amount=0.3, dim=1), 0),
    Case("custom mask", _pruned(), lambda ms: prune.custom_from_mask(
        ms[0], "weight", mask=torch.ones_like(ms[0].weight)), 0),
    Case("global l1 unpruned", _two, _global(prune.L1Unstructured), 0),
    # A method other than L1 prunes globally through a container over the concatenation,
    # which counts what remains: one read even when nothing is pruned yet.
    Case("global random unpruned", _two, _global(prune.RandomUnstructured), 1),
    Case("forward", _pruned(_l1(0.5)), lambda ms: ms[0](torch.ones(
        2, 60, device=ms[0].weight.device, dtype=ms[0].weight.dtype)), 0),
    Case("remove", _pruned(_l1(0.5)), lambda ms: prune.remove(ms[0], "weight"), 0),
    Case("l1 again", _pruned(_l1(0.5)), lambda ms: _l1(0.5)(ms[0]), 1),
    Case("l1 count again", _pruned(_l1(0.5)), lambda ms: _l1(100)(ms[0]), 1),
    Case("l1 after ln", _pruned(_ln), lambda ms: _l1(0.5)(ms[0]), 1),
    Case("random again", _pruned(_l1(0.5)),
         lambda ms: prune.random_unstructured(ms[0], "weight", amount=0.5), 1),
    Case("ln again", _pruned(_ln), lambda ms: _ln(ms[0]), 1),
    Case("ln after l1", _pruned(_l1(0.5)), lambda ms: _ln(ms[0]), 1),
    Case("random structured again", _pruned(_ln),
         lambda ms: prune.random_structured(ms[0], "weight", amount=0.3, dim=0), 1),
    Case("global l1 pruned", _two_pruned, _global(prune.L1Unstructured), 1),
    Case("global random pruned", _two_pruned, _global(prune.RandomUnstructured), 1),
]
DTYPES = [torch.float32, torch.float16, torch.bfloat16, torch.float64]


@contextlib.contextmanager
def _counted() -> Iterator[HostReads]:
    with HostReads() as reads:
        yield reads


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_device_path_reads_the_host_at_most_once(device_path, case, dtype):
    modules = case.setup("cpu", dtype)
    with _counted() as reads:
        case.call(modules)
    assert len(reads.seen) <= case.reads, (
        f"{case.name} ({dtype}) on the device path: {len(reads.seen)} host reads or syncing "
        f"ops {reads.seen}, expected at most {case.reads}")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_device_path_runs_on_meta_tensors(case):
    # meta is not in HOST_GUIDED_DEVICES: no patch needed, this is the path a GPU takes.
    modules = case.setup("meta", torch.float32)
    with _counted() as reads:
        case.call(modules)
    assert len(reads.seen) <= case.reads, (case.name, reads.seen)


def test_large_tensors_are_read_once_per_call(device_path, monkeypatch):
    # Sizes where selection algorithms switch (2**20 entries and more), default chunks.
    monkeypatch.setattr(select_on_device, "CHUNK", 1 << 22)
    module = nn.Linear(1024, 1280, bias=False)
    for budget in (0, 1):
        with _counted() as reads:
            prune.l1_unstructured(module, "weight", amount=0.3)
        assert len(reads.seen) <= budget, reads.seen


def test_the_counter_sees_what_it_must():
    """The counter itself: each kind of host read it claims to see is counted."""
    t = torch.arange(6.0)
    reads = [
        lambda: t[0].item(), lambda: bool(t[1]), lambda: int(t[1]), lambda: float(t[1]),
        lambda: t.tolist(), lambda: t.cpu(), lambda: t.nonzero(), lambda: t[t > 2],
        lambda: torch.bincount(t.long()), lambda: [0, 1][t[1].long()],
        lambda: torch.where(t > 2), lambda: t.masked_select(t > 2),
    ]
    for read in reads:
        with _counted() as seen:
            read()
        assert len(seen.seen) == 1, seen.seen
    with _counted() as seen:  # what the device path does use
        (t > 2).sum()
        torch.searchsorted(t.cumsum(0), t[:1])
        t.clone().index_add_(0, t[:1].long(), t[:1])
    assert seen.seen == []


CUDA = pytest.mark.skipif(not torch.cuda.is_available(),
                          reason="no CUDA device here: the sync-count proxy above runs instead")


@CUDA
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_on_cuda_a_call_synchronizes_at_most_once(case, dtype):
    modules = case.setup("cuda", dtype)
    torch.cuda.synchronize()
    try:
        if case.reads == 0:
            torch.cuda.set_sync_debug_mode("error")
            case.call(modules)
            syncs = []
        else:
            torch.cuda.set_sync_debug_mode("warn")
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                case.call(modules)
            syncs = [w for w in caught if "synchronizing" in str(w.message)]
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert len(syncs) <= case.reads, [str(w.message) for w in syncs]
