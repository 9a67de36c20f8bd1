"""The bad calls of a session (`conformance.stateful`): a call SPEC.md rejects, made on both sides
of a session in progress; each side must raise the spec's exception and change nothing (ATOMIC-1
for a single tensor, ATOMIC-2 for `global_unstructured` over several).

The calls come from the bad-input catalogue (`conformance.bad_inputs`), built once on the
implementation's side with Hypothesis' draws and replayed with the same draws on the oracle's.
The snippet names the subjects as the catalogue's sources do (`module`; m0, m1, ... for a global
call) and prepares them as the catalogue did.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule

from conformance import bad_inputs as bi
from conformance import checks as ck
from conformance.session_core import SessionCore, enabled
from conformance.session_model import TARGETS, expression, rejected_source

# The catalogue's ATOMIC entries (a user's method or hook that raises) would need their classes
# in the repro snippet; the ATOMIC properties make those calls.
_LEFT_TO_THEIR_PROPERTIES = ("ATOMIC",)
# Entries the session leaves out: remove of a tensor not pruned is part of its remove step; a
# module moved to another device would leave the session's model there (DEVICE-6 has them).
_LEFT_OUT = {"remove-unpruned", "global-param-other-device"}


class RejectionSteps(SessionCore):
    """The steps that make a bad call of the catalogue."""

    def catalogue_entries(self, is_global: bool) -> list[bi.BadCall]:
        """The catalogue's entries the session draws, single-tensor or global."""
        return [b for b in bi.bad_calls(is_global=is_global,
                                        exclude_areas=_LEFT_TO_THEIR_PROPERTIES)
                if b.id not in _LEFT_OUT and b.clause not in self.departures]

    def _single_entries(self, index: int) -> list[bi.BadCall]:
        """The single-tensor entries whose subjects may have the tensor's number of dims."""
        ndim = getattr(self.impl.module(index), TARGETS[index][1]).dim()
        state = bi.PRUNED if self.oracle.pruned(index) else bi.FRESH
        return [b for b in self.catalogue_entries(is_global=False)
                if (ndim <= b.max_dims if b.max_dims < 2 else ndim >= b.min_dims)
                and bi.fits_state(b, state)]

    @precondition(enabled("invalid"))
    @rule(data=st.data())
    def reject_bad_call(self, data: st.DataObject) -> None:
        """A bad call on one tensor: the spec's exception on both sides, nothing changed."""
        usable = [i for i in range(len(TARGETS))
                  if self._may_reject(i, "ATOMIC-1") and self._single_entries(i)]
        if not usable:
            return
        i = self._targets(data, usable)
        entry = data.draw(st.sampled_from(self._single_entries(i)), label="bad call")
        self._reject(data, entry, [i], "ATOMIC-1")

    @precondition(enabled("invalid_global"))
    @rule(data=st.data())
    def reject_bad_global_call(self, data: st.DataObject) -> None:
        """A bad global_unstructured call: the spec's exception, none of its modules changed."""
        usable = [i for i in range(len(TARGETS)) if self._may_reject(i, "ATOMIC-2")]
        entries = self.catalogue_entries(is_global=True)
        if not usable or not entries:
            return
        indices = data.draw(st.lists(st.sampled_from(usable), min_size=1, unique=True),
                            label="tensors")
        entry = data.draw(st.sampled_from(entries), label="bad call")
        self._reject(data, entry, indices, "ATOMIC-2")

    def _reject(self, data: st.DataObject, entry: bi.BadCall, indices: Sequence[int],
                atomic: str) -> None:
        """Build `entry` on the tensors of `indices` on both sides (the same draws), then make
        it: the entry's exception, and nothing changed (`atomic`)."""
        method = data.draw(st.sampled_from(entry.methods), label="method") if entry.methods \
            else None
        drawn: list[Any] = []

        def record(strategy: st.SearchStrategy, label: str | None = None) -> Any:
            drawn.append(data.draw(strategy, label=label))
            return drawn[-1]

        def replay(strategy: st.SearchStrategy, label: str | None = None) -> Any:
            return next(values)

        invocation = entry.build(record, [self._subject(self.impl, i) for i in indices], method)
        values = iter(drawn)
        mirrored = entry.build(replay, [self._subject(self.oracle, i) for i in indices], method)
        self._oracle(lambda: ck.expect_rejected_unchanged(
            self.oracle.model, lambda: mirrored.run(self.oracle.prune), entry.error, entry.clause,
            mirrored.source, atomic), f"to reject {mirrored.source}")
        self.context = atomic
        variables = [f"m{k}" for k in range(len(indices))] if entry.is_global else ["module"]
        self.lines += [f"{variable} = {expression(i)}"
                       for variable, i in zip(variables, indices, strict=True)]
        if invocation.preparation:
            self.lines.append(invocation.preparation)
        line = rejected_source(invocation.source, entry.error, entry.clause)
        self._act(line, lambda: ck.expect_rejected_unchanged(
            self.impl.model, lambda: invocation.run(self.impl.prune), entry.error, entry.clause,
            invocation.source, atomic), entry.clause)
