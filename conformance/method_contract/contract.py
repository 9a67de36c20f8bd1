"""The method under check: its class, how it is built, the pruning module it belongs to, and
the facts about it every check reads (PRUNING_TYPE, dim, how it is called in a replay snippet)."""

from __future__ import annotations

import importlib
import os
import sys
import types
from dataclasses import dataclass, field
from typing import Any

import torch

from conformance import config, impl, measure
from conformance import strategies as hh
from conformance.config import UsageError
from conformance.registry import python_literal

PRUNING_TYPES = ("unstructured", "structured", "global")
MISSING = object()  # PRUNING_TYPE or dim not set on the method
# Small budgets: the whole report takes seconds, and a broken method fails on the first examples.
MASK_EXAMPLES = 30
APPLY_EXAMPLES = 12
# Entries of the tensors compute_mask is called on.
SMALL = 64
NAME = "weight"  # the tensor name used in replay snippets of compute_mask calls


class Skipped(Exception):
    """A check that does not apply to this method; the reason is printed."""


# --- the method under check -------------------------------------------------------------------

@dataclass
class Contract:
    """The class under check, how to build it, and the pruning module it belongs to."""

    cls: type
    kwargs: dict[str, Any]
    family: types.ModuleType  # the pruning module whose BasePruningMethod `cls` subclasses
    family_name: str
    device: torch.device
    pruning_type: object
    dim: object
    examples: int = MASK_EXAMPLES
    apply_examples: int = APPLY_EXAMPLES
    last_rejection: list[str] = field(default_factory=list)

    @property
    def structured(self) -> bool:
        return self.pruning_type == "structured"

    @property
    def type_text(self) -> str:
        return "(not set)" if self.pruning_type is MISSING else repr(self.pruning_type)

    @property
    def has_dim(self) -> bool:
        return isinstance(self.dim, int) and not isinstance(self.dim, bool)

    @property
    def min_dims(self) -> int:
        """Fewest dims of a tensor the method can take: 2 for structured methods, more where
        `dim` needs them; 1 otherwise (the container hands unstructured methods 1-d tensors)."""
        if not self.structured:
            return 1
        if not self.has_dim:
            return 2
        dim = int(self.dim)  # type: ignore[call-overload]
        return max(2, dim + 1 if dim >= 0 else -dim)

    @property
    def call(self) -> str:
        """How the method is built, as source: `FooBar(amount=0.5)`."""
        args = ", ".join(f"{k}={python_literal(v)}" for k, v in self.kwargs.items())
        return f"{self.cls.__name__}({args})"

    def apply_source(self, module: str = "module", name: str = NAME) -> str:
        args = "".join(f", {k}={python_literal(v)}" for k, v in self.kwargs.items())
        return f"{self.cls.__name__}.apply({module}, {name!r}{args})"

    def new(self) -> Any:
        return self.cls(**self.kwargs)

    def view(self, t: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """What a PruningContainer hands the method of a pruned tensor (COMPOSE-2): remaining
        entries (1-d) for 'unstructured', remaining channels for 'structured', all else."""
        if self.pruning_type == "unstructured":
            remaining = mask == 1
            return t[remaining], mask[remaining]
        if self.structured and self.has_dim and t.dim() >= 2:
            dim = int(self.dim) % t.dim()  # type: ignore[call-overload]
            keep = measure.alive_channels(mask, dim).nonzero().flatten().to(t.device)
            return t.index_select(dim, keep), mask.index_select(dim, keep)
        return t, mask

    def rejects(self, t: torch.Tensor, mask: torch.Tensor, seed: int) -> bool:
        """Does the method's own compute_mask refuse this input with ValueError? A method may
        (AMOUNT-6: an int amount larger than the units there are); such inputs are skipped."""
        try:
            with hh.seeded(seed, self.device):
                self.new().compute_mask(t.detach().clone(), mask.detach().clone())
        except ValueError as exc:
            self.last_rejection[:] = [f"{type(exc).__name__}: {exc}"]
            return True
        except Exception:
            return False
        return False



# --- loading the target -------------------------------------------------------------------------

def load_class(target: str) -> type:
    """`module:Class`, module a dotted path or a .py file, Class perhaps dotted (Outer.Inner)."""
    module_part, sep, class_part = target.rpartition(":")
    if not sep or not module_part or not class_part:
        raise UsageError(f"expected module:Class, got {target!r}")
    # Like `python -m`: a module beside the user (the current directory) is importable.
    added = os.getcwd() not in sys.path
    if added:
        sys.path.insert(0, os.getcwd())
    try:
        module = impl.load_module(module_part, "module")
    finally:
        if added:
            sys.path.remove(os.getcwd())
    value: object = module
    for part in class_part.split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            raise UsageError(f"{module_part} has no {class_part!r}") from None
    if not isinstance(value, type):
        raise UsageError(f"{target} is {type(value).__name__}, not a class")
    return value


def pruning_module(cls: type, implementation: impl.Implementation,
                   ) -> tuple[types.ModuleType, str]:
    """The pruning module `cls` belongs to: the implementation under test when `cls` subclasses its
    BasePruningMethod, else torch's or the reference's; (module, its name)."""
    own = implementation.name
    candidates = [(implementation.module,
                   implementation.module.__name__ if own in impl.ALIASES else own)]
    for alias, dotted in impl.ALIASES.items():
        if alias != implementation.spec:
            try:
                candidates.append((importlib.import_module(dotted), dotted))
            except Exception:  # the reference may be mid-rewrite: skip it
                continue
    for module, name in candidates:
        base = getattr(module, "BasePruningMethod", None)
        if isinstance(base, type) and issubclass(cls, base):
            return module, name
    names = ", ".join(name for _, name in candidates)
    raise UsageError(f"{cls.__module__}.{cls.__qualname__} is not a subclass of "
                       f"BasePruningMethod (of {names})")


def prepare(target: str, kwargs: dict[str, Any], impl_spec: str | None, device: str,
            ) -> tuple[Contract, impl.Implementation]:
    """Everything the checks need, loaded once, or UsageError naming what is wrong. The
    implementation is chosen as for every command (conformance.config: IMPL, else $PRUNE_IMPL,
    else torch)."""
    if not isinstance(kwargs, dict):
        raise UsageError(f"kwargs must be a dict, got {type(kwargs).__name__}")
    implementation = impl.load(config.chosen_impl(impl_spec))
    torch_device = config.usable_device(device)
    cls = load_class(target)
    family, family_name = pruning_module(cls, implementation)
    try:
        method = cls(**kwargs)
    except Exception as exc:
        raise UsageError(f"{cls.__name__}(**{kwargs!r}) raised {type(exc).__name__}: {exc} "
                         f"(--kwargs go to the constructor)") from None
    contract = Contract(cls, dict(kwargs), family, family_name, torch_device,
                        getattr(method, "PRUNING_TYPE", MISSING), getattr(method, "dim", MISSING))
    return contract, implementation
