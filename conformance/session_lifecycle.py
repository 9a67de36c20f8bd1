"""The steps of a session (`conformance.stateful`) that use a pruned model rather than prune it:
`remove`, forward, backward with an SGD step, a `state_dict` loaded into a freshly built model, a
`torch.save` round trip and `copy.deepcopy`.
"""

from __future__ import annotations

import copy
import io
from typing import Any

import torch
from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule
from torch import nn

from conformance import checks as ck
from conformance import parity
from conformance.registry import Call, by_class
from conformance.session_core import SessionCore, enabled
from conformance.session_model import (
    TARGETS,
    Side,
    call_source,
    describe_history,
    expression,
    foobar_method,
    forward_output,
    label,
    parameter_objects,
    rejected_source,
    sgd_step,
)

# SGD learning rates of the train step: small steps, and steps large enough to reorder the
# values (distinct integers), so that ranking values left stale by the step shows (COMPOSE-3).
LEARNING_RATES = (0.05, 1.0, 4.0)


class LifecycleSteps(SessionCore):
    """remove, forward, training, saving and copying."""

    @precondition(enabled("remove"))
    @rule(data=st.data())
    def remove_pruning(self, data: st.DataObject) -> None:
        """remove() of a pruned tensor; of a tensor not pruned: ValueError, nothing changed."""
        i = self._targets(data)
        module, other, name = self._both(i)
        call = f"prune.remove({expression(i)}, {name!r})"
        if self.oracle.pruned(i):
            self._oracle(lambda: self.oracle.prune.remove(other, name), call)
            self.context = "REMOVE-1"
            self._act(call, lambda: self.impl.prune.remove(module, name), "REMOVE-1")
            self.stale.discard(i)
            return
        if not self._may_reject(i, "ATOMIC-2"):
            return
        self._oracle(lambda: ck.expect_rejected_unchanged(
            self.oracle.model, lambda: self.oracle.prune.remove(other, name), ValueError,
            "REMOVE-5", call, "ATOMIC-2"), f"to reject {call}")
        self.context = "ATOMIC-2"
        line = rejected_source(call, ValueError, "REMOVE-5")
        self._act(line, lambda: ck.expect_rejected_unchanged(
            self.impl.model, lambda: self.impl.prune.remove(module, name), ValueError,
            "REMOVE-5", call, "ATOMIC-2"), "REMOVE-5")

    @precondition(enabled("forward"))
    @rule()
    def forward(self) -> None:
        """A forward: every hook brings its tensor up to date (HOOK-2)."""
        self.context = "HOOK-2"
        self._refresh()

    @precondition(enabled("train"))
    @rule(lr=st.sampled_from(LEARNING_RATES))
    def train(self, lr: float) -> None:
        """Backward through the pruned tensors and one SGD step on both sides."""
        dtype = self.spec.dtype
        self._oracle(lambda: forward_output(self.oracle.model, self.inputs).sum().backward(),
                     "backward")
        self._act("forward_output(model, inputs).sum().backward()",
                  lambda: forward_output(self.impl.model, self.inputs).sum().backward(),
                  "AUTOGRAD-1")
        seen, wanted = parameter_objects(self.impl.model), parameter_objects(self.oracle.model)
        for i, key in enumerate(TARGETS):
            text = f"gradient of {label(i)}'s parameter"
            self._check(lambda key=key, text=text: ck.expect(
                seen[key].grad is not None, "AUTOGRAD-1", text + " is missing"))
            expected_grad = wanted[key].grad.detach().double().cpu()
            self._check(lambda key=key, text=text, expected_grad=expected_grad:
                parity.expect_close_outputs(seen[key].grad.detach().double().cpu(),
                                            expected_grad, dtype, "AUTOGRAD-1", text))
            mask = self.oracle.mask(i)
            text = f"gradient of {label(i)}'s parameter at pruned entries must be 0"
            self._check(lambda key=key, text=text, mask=mask: ck.expect(
                    bool(seen[key].grad.detach().cpu()[mask.eq(0)].eq(0).all()), "AUTOGRAD-1",
                    text))

        self._oracle(lambda: sgd_step(self.oracle.model, lr), "an SGD step")
        self._act(f"sgd_step(model, lr={lr})", lambda: sgd_step(self.impl.model, lr),
                  "AUTOGRAD-1")
        # Both sides computed the same step, up to the dtype's rounding; the oracle adopts the
        # implementation's values so that the sessions stay comparable entry for entry.
        for i, key in enumerate(TARGETS):
            expected_values = wanted[key].detach().double().cpu()
            text = f"{label(i)}'s parameter after an SGD step"
            self._check(lambda key=key, text=text, expected_values=expected_values:
                parity.expect_close_outputs(seen[key].detach().double().cpu(), expected_values,
                                            dtype, "AUTOGRAD-1", text))
            with torch.no_grad():
                wanted[key].copy_(seen[key].detach())
        self.context = "AUTOGRAD-2"
        self._after_optimizer_or_load()

    # -- saving and copying ------------------------------------------------------------------------

    def _fresh_pruned(self, side: Side) -> tuple[nn.ModuleDict, list[str]]:
        """A freshly built model pruned with the same methods as the oracle's (amounts 0,
        masks of ones), and the snippet lines that build it as `fresh`."""
        fresh = self.spec.build()
        lines = ["fresh = build()"]
        for i, (_, name) in enumerate(TARGETS):
            module = fresh[TARGETS[i][0]]
            target = expression(i, "fresh")
            for cls, attributes in describe_history(self.oracle.prune, self.oracle.module(i),
                                                    name):
                if cls == "FooBarPruningMethod":
                    foobar_method(side.prune.BasePruningMethod).apply(module, name)
                    lines.append(f"FooBarPruningMethod.apply({target}, {name!r})")
                    continue
                method = by_class(cls)
                if method is None:
                    raise LookupError(f"{cls} in the history of {target}.{name} is no method of "
                                      "the registry, nor the tutorial's")
                kwargs: dict[str, Any] = {"amount": 0} if method.takes_amount else {}
                kwargs.update({a: v for a, v in attributes.items() if a != "amount"})
                sources = {}
                if method.function == "custom_from_mask":
                    shape = list(getattr(module, name).shape)
                    kwargs["mask"] = torch.ones(shape, device=self.device)
                    sources["mask"] = (f"torch.ones({shape}"
                                       + (f", device={str(self.device)!r})"
                                          if self.device.type != "cpu" else ")"))
                Call(method, kwargs)(side.prune, module, name)
                lines.append(call_source(method.function, target, name, kwargs, sources))
        return fresh, lines

    @precondition(enabled("state_dict"))
    @rule()
    def load_state_dict_into_fresh_model(self) -> None:
        """The state_dict loads strictly into a fresh model pruned with the same methods."""
        def load(side: Side) -> tuple[nn.ModuleDict, list[str]]:
            fresh, lines = self._fresh_pruned(side)
            fresh.load_state_dict(side.model.state_dict())
            return fresh, lines

        fresh, lines = self._oracle(lambda: load(self.oracle), "a state_dict round trip")
        self.context = "SERIAL-1"
        line = "\n".join([*lines, "fresh.load_state_dict(model.state_dict())", "model = fresh"])
        self.impl.model = self._act(line, lambda: load(self.impl)[0], "SERIAL-1")
        self.oracle.model = fresh
        self.replaced = True
        self._after_optimizer_or_load()

    @precondition(enabled("save"))
    @rule()
    def save_and_load(self) -> None:
        """torch.save / torch.load of the whole pruned model (SERIAL-2)."""
        def round_trip(side: Side) -> nn.ModuleDict:
            buffer = io.BytesIO()
            torch.save(side.model, buffer)
            buffer.seek(0)
            return torch.load(buffer, weights_only=False)

        self.oracle.model = self._oracle(lambda: round_trip(self.oracle), "torch.save/load")
        self.context = "SERIAL-2"
        line = ("buffer = io.BytesIO(); torch.save(model, buffer); buffer.seek(0)\n"
                "model = torch.load(buffer, weights_only=False)")
        self.impl.model = self._act(line, lambda: round_trip(self.impl), "SERIAL-2")
        self.replaced = True

    @precondition(lambda self: enabled("deepcopy")(self) and "SERIAL-3" not in self.departures)
    @rule()
    def deepcopy(self) -> None:
        """copy.deepcopy gives an independent model; the original must not change afterwards."""
        self.oracle.model = self._oracle(lambda: copy.deepcopy(self.oracle.model), "deepcopy")
        self.context = "SERIAL-3"
        original = self.impl.model
        snapshot = ck.ModuleSnapshot.take(original)
        line = "original = model\nmodel = copy.deepcopy(model)"
        self.impl.model = self._act(line, lambda: copy.deepcopy(original), "SERIAL-3")
        self.original = (snapshot, original)
        self.replaced = True
        text = "the copy's parameters must be new tensors with their own storage"
        self._check(lambda: ck.expect(all(
            p is not q and p.data_ptr() != q.data_ptr() for p, q in zip(
                parameter_objects(self.impl.model).values(),
                parameter_objects(original).values(), strict=True)), "SERIAL-3", text))
