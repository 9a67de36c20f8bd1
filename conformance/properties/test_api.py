"""API: the public surface.

Signatures are compared with a table of torch 2.13's, written here from SPEC.md's API clause,
not read from torch at run time, so that the suite also judges torch against it. Annotations are
ignored: names, kinds (positional, `*args`, keyword-only, `**kwargs`), order and defaults count.
"""

from __future__ import annotations

import inspect
import math
from typing import Any

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from conformance import checks as ck
from conformance import measure
from conformance import strategies as hh
from conformance.registry import METHODS, python_literal

SIGNATURES = {
    # functional forms
    "identity": "(module, name)",
    "random_unstructured": "(module, name, amount)",
    "l1_unstructured": "(module, name, amount, importance_scores=None)",
    "random_structured": "(module, name, amount, dim)",
    "ln_structured": "(module, name, amount, n, dim, importance_scores=None)",
    "global_unstructured": "(parameters, pruning_method, importance_scores=None, **kwargs)",
    "custom_from_mask": "(module, name, mask)",
    "remove": "(module, name)",
    "is_pruned": "(module)",
    # constructors
    "PruningContainer": "(*args)",
    "Identity": "()",
    "RandomUnstructured": "(amount)",
    "L1Unstructured": "(amount)",
    "RandomStructured": "(amount, dim=-1)",
    "LnStructured": "(amount, n, dim=-1)",
    "CustomFromMask": "(mask)",
    # Cls.apply
    "BasePruningMethod.apply": "(module, name, *args, importance_scores=None, **kwargs)",
    "Identity.apply": "(module, name)",
    "RandomUnstructured.apply": "(module, name, amount)",
    "L1Unstructured.apply": "(module, name, amount, importance_scores=None)",
    "RandomStructured.apply": "(module, name, amount, dim=-1)",
    "LnStructured.apply": "(module, name, amount, n, dim, importance_scores=None)",
    "CustomFromMask.apply": "(module, name, mask)",
    # the methods a user's subclass relies on
    "BasePruningMethod.__call__": "(self, module, inputs)",
    "BasePruningMethod.compute_mask": "(self, t, default_mask)",
    "BasePruningMethod.apply_mask": "(self, module)",
    "BasePruningMethod.prune": "(self, t, default_mask=None, importance_scores=None)",
    "BasePruningMethod.remove": "(self, module)",
    "PruningContainer.add_pruning_method": "(self, method)",
    "PruningContainer.compute_mask": "(self, t, default_mask)",
}

METHOD_CLASSES = ["PruningContainer", "Identity", "RandomUnstructured", "L1Unstructured",
                  "RandomStructured", "LnStructured", "CustomFromMask"]

PRUNING_TYPES = {
    "Identity": "unstructured",
    "RandomUnstructured": "unstructured",
    "L1Unstructured": "unstructured",
    "RandomStructured": "structured",
    "LnStructured": "structured",
    "CustomFromMask": "global",
}


def _without_annotations(signature: inspect.Signature) -> str:
    parameters = [p.replace(annotation=inspect.Parameter.empty)
                  for p in signature.parameters.values()]
    return str(signature.replace(parameters=parameters,
                                 return_annotation=inspect.Signature.empty))


@pytest.mark.clause("API-1")
@pytest.mark.parametrize("dotted", SIGNATURES)
def test_public_name_has_torchs_signature(prune, dotted):
    owner, _, attribute = dotted.partition(".")
    value = getattr(prune, owner)
    if attribute:
        ck.expect(hasattr(value, attribute), "API-1", f"{owner} must have {attribute!r}")
        value = getattr(value, attribute)
    try:
        seen = _without_annotations(inspect.signature(value))
    except (TypeError, ValueError) as exc:
        ck.fail("API-1", f"{dotted} has no signature to inspect: {exc}")
    ck.expect_equal(seen, SIGNATURES[dotted], "API-1", f"signature of {dotted}")


@pytest.mark.clause("API-1")
@pytest.mark.parametrize("name", METHOD_CLASSES)
def test_classes_are_pruning_methods(prune, name):
    cls = getattr(prune, name)
    ck.expect(isinstance(cls, type) and issubclass(cls, prune.BasePruningMethod), "API-1",
              f"{name} must be a subclass of BasePruningMethod, is {cls!r}")


@pytest.mark.clause("API-2")
@pytest.mark.parametrize("function", [*METHODS, "remove"])
@hh.fewer_examples(10, floor=2)
@given(data=st.data())
def test_functional_form_returns_the_module(prune, device, function, data):
    method = METHODS.get(function)  # None for remove
    subject = data.draw(hh.subjects(device, min_dims=method.min_dims() if method else 0),
                        label="subject")
    if method is None:
        data.draw(hh.applied_calls(prune, subject, 1, 2), label="calls before")
        returned = prune.remove(subject.module, subject.name)
        what = f"prune.remove(module, {subject.name!r})"
    else:
        call = data.draw(hh.calls(subject, [method]), label="call")
        with hh.seeded(data.draw(hh.seeds(), label="seed"), device):
            returned = call(prune, subject.module, subject.name)
        what = repr(call)
    ck.expect(returned is subject.module, "API-2",
              f"{what} must return the module, returned {type(returned).__name__}")


@pytest.mark.clause("API-3")
@pytest.mark.parametrize("name", PRUNING_TYPES)
def test_pruning_type(prune, name):
    ck.expect_equal(getattr(getattr(prune, name), "PRUNING_TYPE", None), PRUNING_TYPES[name],
                    "API-3", f"{name}.PRUNING_TYPE")


# --- API-4: the private helpers user code calls -------------------------------------------------

COMPAT_SIGNATURES = {
    "_validate_pruning_amount_init": "(amount)",
    "_validate_pruning_amount": "(amount, tensor_size)",
    "_compute_nparams_toprune": "(amount, tensor_size)",
    "_validate_structured_pruning": "(t)",
    "_validate_pruning_dim": "(t, dim)",
    "_compute_norm": "(t, n, dim)",
}


def _helper(prune, name: str):
    ck.expect(hasattr(prune, name), "API-4", f"the implementation must have {name!r}, which "
                                             "methods copied from torch's call")
    return getattr(prune, name)


@pytest.mark.clause("API-4")
@pytest.mark.parametrize("name", COMPAT_SIGNATURES)
def test_compatibility_helper_has_torchs_signature(prune, name):
    seen = _without_annotations(inspect.signature(_helper(prune, name)))
    ck.expect_equal(seen, COMPAT_SIGNATURES[name], "API-4", f"signature of {name}")


@pytest.mark.clause("API-4")
@hh.fewer_examples(2)
@given(data=st.data())
def test_amount_helpers_count_and_validate_as_the_spec_does(prune, data):
    units = data.draw(st.integers(0, 300), label="tensor_size")
    amount = data.draw(hh.amounts(units), label="amount")
    call = f"(amount={amount!r}, tensor_size={units})"
    ck.expect_equal(_helper(prune, "_compute_nparams_toprune")(amount, units),
                    measure.expected_count(amount, units), "API-4",
                    f"_compute_nparams_toprune{call}")
    _helper(prune, "_validate_pruning_amount_init")(amount)
    _helper(prune, "_validate_pruning_amount")(amount, units)
    ck.expect_raises("API-4", ValueError,
                     lambda: prune._validate_pruning_amount(units + 1, units),
                     f"_validate_pruning_amount(amount={units + 1}, tensor_size={units})")
    bad = data.draw(st.sampled_from([-1, -0.25, 1.5, math.inf]), label="bad amount")
    ck.expect_raises("API-4", ValueError, lambda: prune._validate_pruning_amount_init(bad),
                     f"_validate_pruning_amount_init(amount={bad!r})")
    ck.expect_raises("API-4", TypeError, lambda: prune._validate_pruning_amount_init("0.5"),
                     "_validate_pruning_amount_init(amount='0.5')")


@pytest.mark.clause("API-4")
@hh.fewer_examples(2)
@given(data=st.data())
def test_tensor_helpers_check_dims_and_take_channel_norms(prune, device, data):
    shape = data.draw(hh.shapes(min_dims=2), label="shape")
    t = data.draw(hh.score_tensors(shape, torch.float64, device), label="t")
    ndim = len(shape)
    _helper(prune, "_validate_structured_pruning")(t)
    flat = t.reshape(-1)
    ck.expect_raises("API-4", ValueError, lambda: prune._validate_structured_pruning(flat),
                     f"_validate_structured_pruning(t of shape {tuple(flat.shape)})")
    dim = data.draw(st.integers(-ndim, ndim - 1), label="dim")
    _helper(prune, "_validate_pruning_dim")(t, dim)
    ck.expect_raises("API-4", IndexError, lambda: prune._validate_pruning_dim(t, ndim),
                     f"_validate_pruning_dim(t of shape {shape}, dim={ndim})")
    n = data.draw(st.sampled_from([1, 2, math.inf]), label="n")
    seen = _helper(prune, "_compute_norm")(t, n, dim)
    others = [d for d in range(ndim) if d != dim % ndim]
    expected = torch.linalg.vector_norm(t, ord=n, dim=others)
    ck.expect(seen.shape == expected.shape and torch.allclose(seen.double(), expected),
              "API-4", f"_compute_norm(t of shape {shape}, n={n!r}, dim={dim}) must be the norm "
                       f"of each channel, {expected.tolist()}; was {seen.tolist()}")


# --- API-5: a container's mask in t's dtype -----------------------------------------------------

OTHER_MASK_DTYPES = (torch.int64, torch.int32, torch.float64, torch.float16)


@pytest.mark.clause("API-5")
@hh.fewer_examples(4)
@given(data=st.data())
def test_container_mask_takes_the_dtype_of_t(prune, device, data):
    shape = data.draw(hh.shapes(min_dims=0), label="shape")
    dtype = data.draw(hh.dtypes(device), label="dtype of t")
    mask_dtype = data.draw(st.sampled_from([d for d in OTHER_MASK_DTYPES if d != dtype]),
                           label="dtype of default_mask")
    t = data.draw(hh.score_tensors(shape, dtype, device), label="t")
    numel = t.numel()
    pattern = torch.tensor(data.draw(st.lists(st.sampled_from([0, 1]), min_size=numel,
                                              max_size=numel), label="pattern"),
                           device=device).reshape(shape)
    # A 'global' method composes on all of t (COMPOSE-2); this one returns a bool mask.
    kind = data.draw(st.sampled_from(["CustomFromMask", "a global method returning bools"]),
                     label="method")
    if kind == "CustomFromMask":
        method = prune.CustomFromMask(pattern)
    else:
        method = type("BoolMask", (prune.BasePruningMethod,), {
            "PRUNING_TYPE": "global",
            "compute_mask": lambda self, t, default_mask: pattern.bool() & default_mask.bool(),
        })()
    method._tensor_name = "weight"  # what apply would set
    default_mask = torch.ones(shape, dtype=mask_dtype, device=device)
    combined = prune.PruningContainer(method).compute_mask(t, default_mask)
    what = (f"PruningContainer({kind}).compute_mask(t, default_mask) with t of {dtype} and "
            f"default_mask of {mask_dtype}")
    ck.expect_equal(combined.dtype, dtype, "API-5", f"dtype of {what}")
    ck.expect_same_mask(combined, pattern.to(dtype), "API-5", what)


# --- API-6: compute_mask returns a new contiguous mask --------------------------------------

NEW_MASK_CASES = [
    *(pytest.param(name, wrapped, id=f"{'container-' if wrapped else ''}{name}")
      for wrapped in (False, True) for name in METHODS
      if wrapped or name != "identity"),  # Identity returns default_mask (CUSTOM-3)
    # A user's method that composes on channels or on all of t (COMPOSE-2), through the container
    # only: what it returns alone is the user's.
    *(pytest.param(f"user-{kind}", True, id=f"container-user-{kind}",
                   marks=pytest.mark.clause("CUSTOM-6")) for kind in ("structured", "global")),
]


def _user_method(prune: Any, kind: str, seen: list[bool]) -> Any:
    """A user's method of PRUNING_TYPE `kind` that records whether each default mask it is given
    is contiguous (CUSTOM-6) and returns it transposed in memory: the container's result must
    still be row-major."""

    class Transposing(prune.BasePruningMethod):
        PRUNING_TYPE = kind
        dim = -1

        def compute_mask(self, t: torch.Tensor, default_mask: torch.Tensor) -> torch.Tensor:
            seen.append(default_mask.is_contiguous())
            return hh.with_layout(default_mask, "transposed")

    return Transposing()


@pytest.mark.clause("API-6")
@pytest.mark.parametrize(("name", "wrapped"), NEW_MASK_CASES)
@hh.fewer_examples(4)
@given(data=st.data())
def test_compute_mask_returns_a_new_contiguous_mask(prune, device, name, wrapped, data):
    """A built-in method's compute_mask, alone or as the last of a PruningContainer, given a
    default mask in any memory layout: a new row-major tensor, the default mask unchanged (an
    amount of 0, where nothing is pruned, included)."""
    entry = METHODS.get(name)
    min_dims = entry.min_dims() if entry else 2
    subject = data.draw(hh.subjects(device, kinds=("Holder",), min_dims=min_dims),
                        label="subject")
    t = subject.param.detach()
    bits = data.draw(st.lists(st.booleans(), min_size=t.numel(), max_size=t.numel()),
                     label="default mask")
    layout = data.draw(st.sampled_from(hh.LAYOUTS), label="layout of default_mask")
    default_mask = hh.with_layout(
        torch.tensor(bits, dtype=t.dtype, device=t.device).reshape(t.shape), layout)
    seen: list[bool] = []
    if entry is None:
        method = _user_method(prune, name.removeprefix("user-"), seen)
        source = f"{type(method).__name__}()  # {name}, returns default_mask transposed"
    else:
        kwargs = dict(data.draw(hh.calls(subject, [entry], importance_scores=False),
                                label="arguments").kwargs)
        if entry.takes_amount:
            left = measure.remaining_units(default_mask, kwargs.get("dim"))
            kwargs["amount"] = data.draw(st.one_of(st.just(0), hh.amounts(left)),
                                         label="amount")
        method = getattr(prune, entry.class_name)(**kwargs)
        source = f"prune.{entry.class_name}(**{kwargs!r})"
    method._tensor_name = "weight"  # what apply would set
    if wrapped:
        method = prune.PruningContainer(method)
        source = f"prune.PruningContainer({source})"
    values = default_mask.clone()
    with hh.seeded(data.draw(hh.seeds(), label="seed"), device):
        mask = method.compute_mask(t, default_mask)
    what = (f"{source}.compute_mask(t, default_mask) with t of shape {tuple(t.shape)} and a "
            f"{layout} default_mask {python_literal(values)}")
    ck.expect(mask.is_contiguous(), "API-6", f"{what}\nreturned a mask that is not contiguous")
    ck.expect(mask.untyped_storage().data_ptr() != default_mask.untyped_storage().data_ptr(),
              "API-6", f"{what}\nreturned default_mask itself (or a view of it)")
    ck.expect(torch.equal(default_mask, values), "API-6", f"{what}\nwrote into default_mask")
    ck.expect(all(seen), "CUSTOM-6", f"{what}\ngave the user's method a default mask that is "
                                     f"not contiguous")
