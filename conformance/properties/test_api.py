"""API: the public surface.

Signatures are compared with a table of torch 2.13's, written here from SPEC.md's API clause,
not read from torch at run time, so that the suite also judges torch against it. Annotations are
ignored: names, kinds (positional, `*args`, keyword-only, `**kwargs`), order and defaults count.
"""

from __future__ import annotations

import inspect

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance import checks as ck
from conformance import strategies as hh
from conformance.registry import METHODS

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
