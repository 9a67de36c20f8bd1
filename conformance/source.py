"""Python source that rebuilds values: the lowest layer of the repro snippets.

A snippet imports nothing but torch and the implementation under test, so everything it needs is
spelled here as literals: tensors with their dtype, device and memory layout, non-finite floats,
containers, and the line that imports the implementation as `prune`. This module imports torch
(and impl.py's table of short names) only, so that any layer of the kit may use it.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from conformance.impl import ALIASES, is_file_spec


def python_literal(value: object) -> str:
    """Source text that rebuilds a scalar or a contiguous tensor (for messages and snippets)."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"float({str(value)!r})"
    if isinstance(value, torch.Tensor) and value.device.type == "meta":
        # meta tensors (the 'other device' of DEVICE-6 on a CPU-only machine) hold no values.
        return f"torch.empty({list(value.shape)}, dtype={value.dtype}, device='meta')"
    if isinstance(value, torch.Tensor):
        return (f"torch.tensor({literal(value.detach().cpu().tolist())}, dtype={value.dtype}"
                + (f", device={str(value.device)!r})" if value.device.type != "cpu" else ")"))
    return repr(value)


def literal(value: object, names: Mapping[int, str] | None = None) -> str:
    """Source that rebuilds `value`: tensors (any device, strided layouts kept), containers,
    non-finite floats anywhere inside them. `names`: objects the snippet already holds in a
    variable (modules), by id, spelled by that variable's name wherever they occur."""
    if names and id(value) in names:
        return names[id(value)]
    if isinstance(value, torch.Tensor):
        return tensor_literal(value)
    if isinstance(value, list):
        return "[" + ", ".join(literal(v, names) for v in value) + "]"
    if isinstance(value, tuple):
        return ("(" + ", ".join(literal(v, names) for v in value)
                + ("," if len(value) == 1 else "") + ")")
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(k, names)}: {literal(v, names)}"
                               for k, v in value.items()) + "}"
    return python_literal(value)


def tensor_literal(value: torch.Tensor) -> str:
    """A tensor as drawn: values, dtype, device and, when not contiguous, its strides (a bug
    that shows only on a transposed or channels_last tensor must show in the snippet too)."""
    if value.device.type == "meta" or value.is_contiguous() or value.dim() < 2:
        return python_literal(value if value.is_contiguous() else value.contiguous())
    device = "" if value.device.type == "cpu" else f", device={str(value.device)!r}"
    return (f"torch.empty_strided({tuple(value.shape)}, {tuple(value.stride())}, "
            f"dtype={value.dtype}{device}).copy_({python_literal(value.contiguous())})")


def import_line(implementation: Any) -> str:
    """How user code imports the implementation as `prune`: by import name, or by absolute file
    path through importlib for a .py file. Takes an --impl spelling or a loaded module (or the
    kit's wrappers of one, which carry their spelling as `.spec` or `._impl.spec`)."""
    spec = _spelling(implementation)
    if is_file_spec(spec):
        path = str(Path(spec).resolve())
        return ("import importlib.util\n"
                f"_spec = importlib.util.spec_from_file_location('prune_under_test', {path!r})\n"
                "prune = importlib.util.module_from_spec(_spec)\n"
                "_spec.loader.exec_module(prune)")
    return f"import {ALIASES.get(spec, spec)} as prune"


def _spelling(implementation: Any) -> str:
    if isinstance(implementation, str):
        return implementation
    for holder in (implementation, getattr(implementation, "_impl", None)):
        spec = getattr(holder, "spec", None)
        if isinstance(spec, str):
            return spec
    name = getattr(implementation, "__name__", "")
    if name and sys.modules.get(name) is implementation and not name.startswith("prune_impl_"):
        return name
    return str(getattr(implementation, "__file__", name))
