"""What a property did to the implementation: its public calls, and the modules they received as
they were before their first call, so that a failure can be replayed from literals alone
(`conformance.repro` renders the replay).

The `prune` fixture is a `Recorder` around the implementation. Each call of a public function
(`l1_unstructured`, `global_unstructured`, `remove`, ...) is appended to the current `Recording`,
which the plugin starts afresh before every example; a module is snapshotted (its parameters,
buffers and plain attributes, cloned) the first time a call receives it, a tensor argument is
cloned when passed. Nothing is rendered while the property runs: only a failure pays for text.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

# The public functions whose calls are recorded (classes pass through: isinstance checks and
# subclassing need the real ones, and a class is spelled `prune.<Name>` in a snippet).
RECORDED = ("identity", "random_unstructured", "l1_unstructured", "random_structured",
            "ln_structured", "global_unstructured", "custom_from_mask", "remove", "is_pruned")
# Calls that may draw from torch's generator: a snippet replays them after the same seed.
RANDOM = ("random_unstructured", "random_structured", "global_unstructured")


@dataclass
class ModuleState:
    """A module as it was before the first recorded call that received it."""

    module: nn.Module
    parameters: dict[str, torch.Tensor | None]  # qualified name -> clone (None: registered None)
    requires_grad: dict[str, bool]
    buffers: dict[str, torch.Tensor | None]
    attributes: dict[str, object]  # plain attributes that are not tensors or modules
    hooked: bool  # it had forward pre-hooks already (pruned outside the recording)

    @classmethod
    def take(cls, module: nn.Module) -> ModuleState:
        parameters: dict[str, torch.Tensor | None] = {}
        requires_grad: dict[str, bool] = {}
        buffers: dict[str, torch.Tensor | None] = {}
        hooked = False
        for prefix, sub in module.named_modules(remove_duplicate=False):
            dot = f"{prefix}." if prefix else ""
            for name, p in sub._parameters.items():
                parameters[dot + name] = None if p is None else p.detach().clone()
                requires_grad[dot + name] = bool(p is not None and p.requires_grad)
            for name, b in sub._buffers.items():
                buffers[dot + name] = None if b is None else b.detach().clone()
            hooked = hooked or bool(sub._forward_pre_hooks)
        attributes = {k: v for k, v in vars(module).items()
                      if not k.startswith("_") and not isinstance(v, torch.Tensor | nn.Module)}
        return cls(module, parameters, requires_grad, buffers, attributes, hooked)


@dataclass
class RecordedCall:
    function: str
    args: tuple[Any, ...]  # modules by reference, tensors cloned when passed
    kwargs: dict[str, Any]
    raised: BaseException | None = None
    checked: bool = False  # the call a check judged (one that must raise, or not)
    seed: int | None = None  # the torch.manual_seed a random call ran under


@dataclass
class Recording:
    """The calls of one example, in order, and the modules they received."""

    implementation: Any
    calls: list[RecordedCall] = field(default_factory=list)
    modules: dict[int, ModuleState] = field(default_factory=dict)  # id(module) -> first state
    unrecordable: str = ""  # why the calls cannot be replayed from literals, if so
    # id(tensor) -> (tensor, where it was read from): see conformance.expectations.
    origins: dict[int, tuple[Any, Any]] = field(default_factory=dict)

    def enter(self, function: str, args: tuple, kwargs: dict[str, Any]) -> RecordedCall:
        call = RecordedCall(function, self._keep(args), self._keep(kwargs))
        if function in RANDOM:
            call.seed = _seed_in_force()
            if call.seed is None and function != "global_unstructured":
                self.unrecordable = self.unrecordable or f"{function} under an unknown seed"
        self.calls.append(call)
        return call

    def _keep(self, value: Any) -> Any:
        """The value as the snippet will spell it: tensors cloned, modules snapshotted once."""
        if isinstance(value, nn.Module):
            if id(value) not in self.modules:
                self.modules[id(value)] = ModuleState.take(value)
            return value
        if isinstance(value, torch.Tensor):
            return value.detach().clone()
        if isinstance(value, list | tuple):
            return type(value)(self._keep(v) for v in value)
        if isinstance(value, dict):
            return {self._keep(k): self._keep(v) for k, v in value.items()}
        if isinstance(value, Iterator):
            # Reading it would change what the implementation sees.
            self.unrecordable = self.unrecordable or f"an iterator argument ({type(value)})"
        return value

    def module_state(self, module: nn.Module) -> ModuleState | None:
        return self.modules.get(id(module))


def _seed_in_force() -> int | None:
    """The seed of torch's CPU generator when nothing has drawn from it since it was seeded."""
    seed = torch.initial_seed()
    fresh = torch.Generator().manual_seed(seed).get_state()
    return seed if torch.equal(torch.random.get_rng_state(), fresh) else None


_current: Recording | None = None


def current() -> Recording | None:
    """The recording of the example running now, if the properties are recorded."""
    return _current


@contextmanager
def recording(implementation: Any) -> Iterator[Recording]:
    """Record the calls made inside the block (one example of a property)."""
    global _current
    outer, _current = _current, Recording(implementation)
    try:
        yield _current
    finally:
        _current = outer


@contextmanager
def checked_call() -> Iterator[None]:
    """Mark the calls made inside the block as the ones a check judges (`expect_raises`)."""
    rec = _current
    start = len(rec.calls) if rec is not None else 0
    try:
        yield
    finally:
        if rec is not None:
            for call in rec.calls[start:]:
                call.checked = True


class Recorder:
    """The implementation as properties see it, its public calls recorded (see the module
    docstring); every other attribute is the implementation's own."""

    def __init__(self, namespace: Any) -> None:
        self._namespace = namespace

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._namespace, name)
        if name not in RECORDED or not callable(value):
            return value

        # wraps: signature, docstring and module stay the implementation's (API-1 reads them).
        @functools.wraps(value)
        def recorded(*args: Any, **kwargs: Any) -> Any:
            rec = _current
            if rec is None:
                return value(*args, **kwargs)
            call = rec.enter(name, args, kwargs)
            try:
                return value(*args, **kwargs)
            except BaseException as exc:
                call.raised = exc
                raise

        return recorded

    def __repr__(self) -> str:
        return repr(self._namespace)
