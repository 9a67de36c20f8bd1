"""The reference as a drop-in for the installed torch's `torch.nn.utils.prune`: every name torch's
module defines, every method of its classes and the attributes pruning leaves on a hook, with
compatible signatures; and a torch-based test module (tests/torch_suite/) that passes unchanged
with the reference swapped in."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys

import pytest
import torch
import torch.nn.utils.prune as torch_prune
from support import ROOT
from torch import nn

import reference.prune as reference

# Differences from torch's surface that are deliberate, by dotted name, with the reason. Empty:
# the reference has every name, method and signature of the torch this kit pins.
DELIBERATE: dict[str, str] = {}

# Dunder methods that are part of the surface a user relies on.
PROTOCOL = ("__init__", "__call__", "__len__", "__iter__", "__getitem__")


def _signature(value: object) -> str:
    signature = inspect.signature(value)  # type: ignore[arg-type]
    parameters = [p.replace(annotation=inspect.Parameter.empty)
                  for p in signature.parameters.values()]
    return str(signature.replace(parameters=parameters,
                                 return_annotation=inspect.Signature.empty))


def _defined_by_torch() -> dict[str, object]:
    return {name: value for name, value in vars(torch_prune).items()
            if getattr(value, "__module__", None) == torch_prune.__name__}


def _members(cls: type) -> list[str]:
    return [name for name in vars(cls)
            if (not name.startswith("__") or name in PROTOCOL) and name != "_abc_impl"]


MODULE_NAMES = sorted(_defined_by_torch())
CLASS_MEMBERS = [f"{name}.{member}" for name, value in sorted(_defined_by_torch().items())
                 if isinstance(value, type) for member in _members(value)]


@pytest.mark.parametrize("name", MODULE_NAMES)
def test_every_name_torchs_module_defines_exists_with_its_signature(name):
    if name in DELIBERATE:
        pytest.skip(DELIBERATE[name])
    assert hasattr(reference, name), f"reference.prune lacks {name}"
    torch_value, ours = getattr(torch_prune, name), getattr(reference, name)
    assert isinstance(ours, type) == isinstance(torch_value, type), name
    assert _signature(ours) == _signature(torch_value), name


@pytest.mark.parametrize("dotted", CLASS_MEMBERS)
def test_every_member_of_torchs_classes_exists_with_its_signature(dotted):
    if dotted in DELIBERATE:
        pytest.skip(DELIBERATE[dotted])
    cls_name, member = dotted.split(".")
    torch_value = getattr(getattr(torch_prune, cls_name), member)
    assert hasattr(getattr(reference, cls_name), member), f"reference.prune lacks {dotted}"
    ours = getattr(getattr(reference, cls_name), member)
    if callable(torch_value):
        assert _signature(ours) == _signature(torch_value), dotted
    else:
        assert ours == torch_value, dotted


def test_hooks_carry_torchs_attributes_after_pruning():
    """`_tensor_name`, `amount`, a container's `_pruning_methods` (a tuple, indexable and
    iterable): what code that inspects the hook reads."""
    hooks = {}
    for prune in (torch_prune, reference):
        module = nn.Linear(3, 2)
        prune.l1_unstructured(module, "weight", amount=1)
        prune.ln_structured(module, "weight", amount=1, n=2, dim=0)
        hook = next(h for h in module._forward_pre_hooks.values()
                    if isinstance(h, prune.BasePruningMethod))
        hooks[prune] = hook
        assert isinstance(hook, prune.PruningContainer)
        assert len(hook) == 2 and [type(m).__name__ for m in hook] == [
            "L1Unstructured", "LnStructured"]
        assert hook[0].amount == 1 and hook[1].n == 2 and hook[1].dim == 0
    torch_hook, ours = hooks[torch_prune], hooks[reference]
    assert isinstance(ours._pruning_methods, type(torch_hook._pruning_methods))
    for torch_method, method in zip(torch_hook, ours, strict=True):
        missing = set(vars(torch_method)) - set(vars(method))
        assert not missing, f"{type(method).__name__} lacks {sorted(missing)}"


def test_a_torch_based_test_module_passes_unchanged_with_the_reference_swapped_in():
    suite = ROOT / "tests" / "torch_suite"
    for swap in ("0", "1"):
        env = {**os.environ, "PRUNE_SWAP_IN_REFERENCE": swap}
        result = subprocess.run([sys.executable, "-m", "pytest", str(suite), "-p",
                                 "no:cacheprovider", "-p", "no:xdist"], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stdout
        module = "reference.prune" if swap == "1" else "torch.nn.utils.prune"
        assert f"torch.nn.utils.prune is {module}" in result.stdout
    assert torch.nn.utils.prune is torch_prune  # this process was left alone
