"""The model of a pruning session (`conformance.stateful`), built once per side, and the helpers
both sides and the repro snippet share.

The model is a `ModuleDict` of a Linear, a Conv2d and a Holder: five tensors (`TARGETS`), named in
snippets by their index (`expression`, `label`). `forward_output`, `sgd_step` and the tutorial's
`FooBarPruningMethod` run on both sides and are copied by `inspect.getsource` into the snippets
that call them (`SNIPPET_HELPERS`), so that each is written once.
"""

from __future__ import annotations

import functools
import inspect
import re
import textwrap
import types
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from conformance import measure, models
from conformance.registry import by_class
from conformance.source import literal

# The tensors of the session's model: (key in the ModuleDict, parameter name).
TARGETS: tuple[tuple[str, str], ...] = (
    ("fc", "weight"), ("fc", "bias"), ("conv", "weight"), ("conv", "bias"), ("holder", "weight"),
)
KEYS = ("fc", "conv", "holder")


# --- helpers the repro snippets call -----------------------------------------------------------

def compute_mask(self: Any, t: torch.Tensor, default_mask: torch.Tensor) -> torch.Tensor:
    """FooBarPruningMethod's: prune every other entry."""
    mask = default_mask.clone()
    mask.view(-1)[::2] = 0
    return mask


@functools.cache
def foobar_method(base: type) -> type:
    """The tutorial's `FooBarPruningMethod` (prunes every other entry) as a subclass of `base`, the
    implementation's BasePruningMethod. Registered in this module under a name of its own per
    base, so that pickle and torch.save find it (SERIAL-2)."""

    qualname = "FooBarPruningMethod_" + re.sub(r"\W", "_", f"{base.__module__}_{base.__name__}")
    cls = types.new_class("FooBarPruningMethod", (base,), {}, lambda ns: ns.update(
        PRUNING_TYPE="unstructured", compute_mask=compute_mask, __module__=__name__,
        __doc__="The tutorial's example: prune every other entry."))
    cls.__qualname__ = qualname
    globals()[qualname] = cls
    return cls


def forward_output(model: nn.Module, inputs: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """The outputs of the model's three modules, flattened into one float64 vector."""
    return torch.cat([model[key](inputs[key]).double().flatten() for key in KEYS])


def sgd_step(model: nn.Module, lr: float) -> None:
    """Plain SGD on every parameter that has a gradient, then the gradients cleared.

    What `torch.optim.SGD(model.parameters(), lr).step(); model.zero_grad()` does, without
    torch.optim, whose first use imports torch._dynamo (seconds)."""
    with torch.no_grad():
        for param in model.parameters():
            if param.grad is not None:
                param.sub_(param.grad, alpha=lr)
    model.zero_grad()


# The helpers a session's snippet may call, as the source it carries (session_snippet).
SNIPPET_HELPERS = {
    "forward_output": lambda: f"KEYS = {KEYS!r}\n\n\n{inspect.getsource(forward_output)}",
    "sgd_step": lambda: inspect.getsource(sgd_step),
    "FooBarPruningMethod": lambda: (
        "class FooBarPruningMethod(prune.BasePruningMethod):\n    PRUNING_TYPE = 'unstructured'\n\n"
        + textwrap.indent(inspect.getsource(compute_mask), "    ")),
}


# --- reading the model --------------------------------------------------------------------------

def parameter_objects(model: nn.Module) -> dict[tuple[str, str], nn.Parameter]:
    """The Parameter behind each tensor: `<name>_orig` when pruned, else `<name>`."""
    found = {}
    for key, name in TARGETS:
        params = model[key]._parameters
        found[(key, name)] = params[f"{name}_orig"] if f"{name}_orig" in params else params[name]
    return found


def describe_history(prune: Any, module: nn.Module, name: str) -> list[tuple[str, dict]]:
    """The tensor's hook history (COMPOSE-4): class names with the arguments they hold."""
    described = []
    for method in measure.history(prune, module, name):
        cls = type(method).__name__
        entry = by_class(cls)
        attributes = entry.attributes if entry is not None else ()
        described.append((cls, {a: getattr(method, a, None) for a in attributes}))
    return described


def whole_channels(before: torch.Tensor, after: torch.Tensor, dim: int) -> bool:
    """Did a structured call change whole channels along `dim` only (each one it touched is now
    fully pruned)?"""
    before, after = before.detach().cpu().ne(0), after.detach().cpu().ne(0)
    dims = measure.channel_dims(before.dim(), dim)
    touched = (before != after).sum(dim=dims).ne(0)
    dead = after.sum(dim=dims).eq(0)
    return bool((dead | ~touched).all())


def module_of(prune: Any) -> Any:
    """The module behind the kit's wrappers of an implementation (the snippet runs it bare)."""
    found = getattr(getattr(prune, "_impl", None), "module", None)
    return prune if found is None else found


# --- the model ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ModelSpec:
    """The session's model: its sizes, dtype and device."""

    linear: tuple[int, int]
    conv: tuple[int, int, int]
    holder: tuple[int, ...]
    dtype: torch.dtype
    device: torch.device

    def build(self) -> nn.ModuleDict:
        """The model, its construction seeded without moving torch's global generator."""
        with torch.random.fork_rng(devices=[]):
            # The CPU generator alone: torch.manual_seed would also queue a seed for every lazy
            # device backend, with a stack trace each time (slow, and the model is built on the
            # CPU anyway).
            torch.random.default_generator.manual_seed(0)
            model = nn.ModuleDict({"fc": nn.Linear(*self.linear), "conv": nn.Conv2d(*self.conv),
                                   "holder": models.Holder(*self.holder)})
        return model.to(device=self.device, dtype=self.dtype)

    def source(self) -> str:
        return ("def build():\n"
                "    torch.manual_seed(0)\n"
                f"    model = nn.ModuleDict({{'fc': nn.Linear{self.linear}, "
                f"'conv': nn.Conv2d{self.conv}, 'holder': Holder{self.holder}}})\n"
                f"    return model.to(device={str(self.device)!r}, dtype={self.dtype})\n")

    def input_shapes(self) -> dict[str, tuple[int, ...]]:
        cin, _, k = self.conv
        return {"fc": (2, self.linear[0]), "conv": (1, cin, k + 1, k + 1), "holder": self.holder}


@dataclass
class Side:
    """One side of the session: an implementation and its copy of the model."""

    prune: Any
    model: nn.ModuleDict
    label: str

    def module(self, index: int) -> nn.Module:
        return self.model[TARGETS[index][0]]

    def mask(self, index: int) -> torch.Tensor:
        """The tensor's mask as a CPU copy (ones when not pruned)."""
        return measure.mask_or_ones(self.module(index), TARGETS[index][1]).detach().cpu()

    def pruned(self, index: int) -> bool:
        return bool(measure.pruning_hooks(self.prune, self.module(index), TARGETS[index][1]))


# --- how the snippet spells the model and its calls ----------------------------------------------

def expression(index: int, model: str = "model") -> str:
    """The module of a tensor, e.g. `model['fc']`."""
    return f"{model}[{TARGETS[index][0]!r}]"


def label(index: int) -> str:
    """A tensor as messages name it, e.g. `model['fc'].weight`."""
    return f"{expression(index)}.{TARGETS[index][1]}"


def call_source(function: str, module: str, name: str, kwargs: Mapping[str, Any],
                sources: Mapping[str, str]) -> str:
    """A pruning call; `sources` spell the arguments a plain literal would not (a layout)."""
    args = "".join(f", {k}={sources.get(k) or literal(v)}" for k, v in kwargs.items())
    return f"prune.{function}({module}, {name!r}{args})"


def rejected_source(call: str, error: type[BaseException], clause: str) -> str:
    """A bad call in a snippet: it must raise `error` (whether it changed nothing is asserted by
    the snippet's comparison with the reference at the end)."""
    message = f"{clause}: {call} must raise {error.__name__}"
    return (f"try:\n{textwrap.indent(call, '    ')}\nexcept {error.__name__}:\n    pass\n"
            f"else:\n    raise AssertionError({message!r})")
