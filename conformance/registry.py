"""One registry of pruning methods drives the properties, like PyTorch's OpInfo database.

Each entry says how to call a method's functional form, which class and PRUNING_TYPE it implies,
what its units are and which arguments it draws. A property asks the registry for "every method
that takes an amount" or "every structured method" instead of naming methods, so a new method is
one entry here, not a new copy of every test.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from hypothesis import strategies as st

from conformance.source import python_literal

# Norm orders of STRUCT-2. Calls draw from PORTABLE_NORMS; 'fro' (= 2, but spelled as a matrix
# norm that torch cannot take over 3+ dims) is checked by its own STRUCT-2 property, so that one
# known departure does not fail every property that draws an ln_structured call.
NORMS: tuple[object, ...] = (1, 2, 3, 0.5, 1.5, math.inf, -math.inf, "fro", 0)
PORTABLE_NORMS: tuple[object, ...] = tuple(n for n in NORMS if n != "fro")
# The one pruning function that is not a method of the registry: targets of properties name it.
GLOBAL = "global_unstructured"


@dataclass(frozen=True)
class Method:
    """A pruning method of the API, as properties see it."""

    function: str  # the functional form, e.g. "l1_unstructured"
    class_name: str  # the class its hook is, e.g. "L1Unstructured"
    pruning_type: str  # "unstructured" | "structured" | "global"
    # The clause a mask that differs from the spec's breaks after a call of this method (the
    # session cites it; a call that ranks values left stale by an optimizer step breaks
    # COMPOSE-3 instead).
    mask_clause: str
    takes_amount: bool = True
    takes_importance_scores: bool = False
    random: bool = False
    # Extra keyword arguments for a tensor of the given shape, drawn by Hypothesis.
    extra: Callable[[tuple[int, ...]], st.SearchStrategy[dict[str, Any]]] = field(
        default=lambda shape: st.just({})
    )
    # Arguments the method's object must expose as attributes (COMPOSE-4).
    attributes: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"<method {self.function}>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        # Hypothesis prints drawn values with its pretty printer, which would otherwise spell out
        # the dataclass field by field (strategies included) instead of using __repr__.
        printer.text(repr(self))

    @property
    def structured(self) -> bool:
        return self.pruning_type == "structured"

    @property
    def deterministic(self) -> bool:
        return not self.random

    def min_dims(self) -> int:
        return 2 if self.structured else 0

    def applies_to(self, shape: tuple[int, ...]) -> bool:
        return len(shape) >= self.min_dims()


def _dims(shape: tuple[int, ...]) -> st.SearchStrategy[int]:
    ndim = len(shape)
    return st.integers(-ndim, ndim - 1)


def _mask_for(shape: tuple[int, ...]) -> st.SearchStrategy[dict[str, Any]]:
    numel = math.prod(shape)
    return st.lists(st.booleans(), min_size=numel, max_size=numel).map(
        lambda bits: {"mask": torch.tensor(bits, dtype=torch.bool).reshape(shape)}
    )


METHODS: dict[str, Method] = {
    m.function: m
    for m in (
        Method("identity", "Identity", "unstructured", mask_clause="CUSTOM-3",
               takes_amount=False),
        Method("random_unstructured", "RandomUnstructured", "unstructured",
               mask_clause="SELECT-6", random=True, attributes=("amount",)),
        Method("l1_unstructured", "L1Unstructured", "unstructured", mask_clause="SELECT-1",
               takes_importance_scores=True, attributes=("amount",)),
        Method("random_structured", "RandomStructured", "structured", mask_clause="STRUCT-5",
               random=True, extra=lambda shape: st.fixed_dictionaries({"dim": _dims(shape)}),
               attributes=("amount", "dim")),
        Method("ln_structured", "LnStructured", "structured", mask_clause="STRUCT-1",
               takes_importance_scores=True,
               extra=lambda shape: st.fixed_dictionaries(
                   {"n": st.sampled_from(PORTABLE_NORMS), "dim": _dims(shape)}),
               attributes=("amount", "n", "dim")),
        Method("custom_from_mask", "CustomFromMask", "global", mask_clause="CUSTOM-4",
               takes_amount=False, extra=_mask_for),
    )
}
_BY_CLASS = {m.class_name: m for m in METHODS.values()}


def methods(**wanted: object) -> list[Method]:
    """Registry entries whose attributes equal `wanted`, e.g. methods(structured=True)."""
    return [m for m in METHODS.values() if all(getattr(m, k) == v for k, v in wanted.items())]


def by_class(class_name: str) -> Method | None:
    """The entry whose hook class is named `class_name`; None for a class of no entry (a user's
    method, or the history container)."""
    return _BY_CLASS.get(class_name)


def method_ids(entries: list[Method]) -> list[str]:
    return [m.function for m in entries]


@dataclass(frozen=True)
class Call:
    """One call of a functional form with its arguments; its repr is runnable Python."""

    method: Method
    kwargs: dict[str, Any]

    def __call__(self, prune: Any, module: torch.nn.Module, name: str) -> Any:
        return getattr(prune, self.method.function)(module, name, **self.kwargs)

    @property
    def amount(self) -> Any:
        return self.kwargs.get("amount")

    @property
    def dim(self) -> int | None:
        return self.kwargs.get("dim") if self.method.structured else None

    def source(self, module: str = "module", name: str = "weight") -> str:
        args = "".join(f", {k}={python_literal(v)}" for k, v in self.kwargs.items())
        return f"prune.{self.method.function}({module}, {name!r}{args})"

    def __repr__(self) -> str:
        return self.source()

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))  # as Method._repr_pretty_: the runnable source, not the fields
