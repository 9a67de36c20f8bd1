"""The bad calls of a session (`conformance.stateful`): a call SPEC.md rejects, made on both sides
of a session in progress; each side must raise the spec's exception and change nothing (ATOMIC-1
for a single tensor, ATOMIC-2 for `global_unstructured` over several).

The calls come from the bad-input catalogue (`conformance.bad_inputs`), built once on the
implementation's side with Hypothesis' draws and replayed with the same draws on the oracle's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule

from conformance import bad_inputs as bi
from conformance import checks as ck
from conformance import strategies as hh
from conformance.session_core import SessionCore, enabled
from conformance.session_model import TARGETS, Side, expression, rejected_source
from conformance.session_pruning import pairs_of, pairs_source
from conformance.source import literal

# Bad calls of the catalogue that prepare the module before the call: how the snippet does it.
_PREPARATIONS = {
    "none-tensor": f"module.register_parameter({bi.NONE_NAME!r}, None)",
    "not-a-tensor": f"module.{bi.NOT_A_TENSOR_NAME} = 0.5",
}
# Catalogue entries the session leaves out: remove is its own step; a user's failing method
# would need its class in the repro snippet (ATOMIC properties make those calls).
_OWN_STEPS = {"remove-unpruned", "user-method-raises-in-compute_mask",
              "user-method-raises-in-apply_mask"}


class RejectionSteps(SessionCore):
    """The steps that make a bad call."""

    def _bad_entries(self, index: int) -> list[bi.BadCall]:
        ndim = getattr(self.impl.module(index), TARGETS[index][1]).dim()
        fits = [b for b in bi.bad_calls(is_global=False)
                if b.id not in _OWN_STEPS and b.clause not in self.departures
                and (ndim <= b.max_dims if b.max_dims < 2 else ndim >= b.min_dims)]
        return fits

    @precondition(enabled("invalid"))
    @rule(data=st.data())
    def reject_bad_call(self, data: st.DataObject) -> None:
        """A bad call of the catalogue: the spec's exception on both sides, nothing changed."""
        usable = [i for i in range(len(TARGETS))
                  if self._may_reject(i, "ATOMIC-1") and self._bad_entries(i)]
        if not usable:
            return
        i = self._targets(data, usable)
        entry = data.draw(st.sampled_from(self._bad_entries(i)), label="bad call")
        method = data.draw(st.sampled_from(entry.methods), label="method") if entry.methods \
            else None
        drawn: list[Any] = []

        def record(strategy: st.SearchStrategy, label: str | None = None) -> Any:
            drawn.append(data.draw(strategy, label=label))
            return drawn[-1]

        def replay(strategy: st.SearchStrategy, label: str | None = None) -> Any:
            return next(values)

        invocation = entry.build(record, [self._subject(self.impl, i)], method)
        values = iter(drawn)
        mirrored = entry.build(replay, [self._subject(self.oracle, i)], method)
        self._oracle(lambda: ck.expect_rejected_unchanged(
            self.oracle.model, lambda: mirrored.run(self.oracle.prune), entry.error, entry.clause,
            mirrored.source), f"to reject {mirrored.source}")
        self.context = "ATOMIC-1"
        self.lines.append(f"module = {expression(i)}")
        if entry.id in _PREPARATIONS:
            self.lines.append(_PREPARATIONS[entry.id])
        line = rejected_source(invocation.source, entry.error, entry.clause)
        self._act(line, lambda: ck.expect_rejected_unchanged(
            self.impl.model, lambda: invocation.run(self.impl.prune), entry.error, entry.clause,
            invocation.source), entry.clause)

    def _global_bad_kinds(self, total: int) -> list[tuple[str, object, type[BaseException], str]]:
        kinds: list[tuple[str, object, type[BaseException], str]] = [
            ("amount", bad.value if bad.clause != "AMOUNT-6" else total + 1, bad.error, bad.clause)
            for bad in hh.bad_amounts(total)]
        kinds += [("structured", None, TypeError, "GLOBAL-6"),
                  ("scores-not-a-dict", None, TypeError, "GLOBAL-6"),
                  ("empty", None, ValueError, "GLOBAL-8"),
                  ("duplicate", None, ValueError, "GLOBAL-8")]
        return [k for k in kinds if k[3] not in self.departures]

    @precondition(enabled("invalid_global"))
    @rule(data=st.data())
    def reject_bad_global_call(self, data: st.DataObject) -> None:
        """A bad global_unstructured call: the spec's exception, none of its modules changed."""
        usable = [i for i in range(len(TARGETS)) if self._may_reject(i, "ATOMIC-2")]
        if not usable:
            return
        indices = data.draw(st.lists(st.sampled_from(usable), min_size=1, unique=True),
                            label="tensors")
        total = sum(ck.remaining_units(self.oracle.mask(i), None) for i in indices)
        kind, value, error, clause = data.draw(st.sampled_from(self._global_bad_kinds(total)),
                                               label="bad call")
        method, kwargs, extra = "L1Unstructured", {"amount": 0}, ""
        pairs = list(indices)
        if kind == "amount":
            kwargs = {"amount": value}
        elif kind == "structured":
            method = data.draw(st.sampled_from(["LnStructured", "RandomStructured"]),
                               label="method")
            kwargs = {"amount": 0, "dim": 0, **({"n": 1} if method == "LnStructured" else {})}
        elif kind == "scores-not-a-dict":
            extra = ", importance_scores=[]"
        elif kind == "empty":
            pairs = []
        else:
            pairs = [*indices, data.draw(st.sampled_from(indices), label="twice")]
        args = "".join(f", {k}={literal(v)}" for k, v in kwargs.items())
        call = f"prune.global_unstructured({pairs_source(pairs, 'list')}, prune.{method}" \
               f"{extra}{args})"

        def run(side: Side) -> Callable[[], object]:
            scores = {"importance_scores": []} if extra else {}
            return lambda: side.prune.global_unstructured(
                pairs_of(side, pairs, "list"), getattr(side.prune, method), **scores, **kwargs)

        self._oracle(lambda: ck.expect_rejected_unchanged(
            self.oracle.model, run(self.oracle), error, clause, call, "ATOMIC-2"),
            f"to reject {call}")
        self.context = "ATOMIC-2"
        line = rejected_source(call, error, clause)
        self._act(line, lambda: ck.expect_rejected_unchanged(
            self.impl.model, run(self.impl), error, clause, call, "ATOMIC-2"), clause)
