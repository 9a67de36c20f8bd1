"""The invariants of a session (`conformance.stateful`): after every step, the implementation's
side agrees with the oracle's.

In the style of zarr's stateful tests, each invariant is a small function that names what it
checks, declared with the clause it cites (`@cites`). Where the last step is the better witness
(a name a state_dict round trip lost, values a rejected call changed), the invariant cites that
step's own clause instead (`unless`: the areas of such steps; `STEP`: always the step's). They
run in order, and the first that fails ends the session: the model's names and pruned state
(`MODEL_STATE`), then each tensor in turn (`PER_TENSOR`), then the model's behaviour
(`MODEL_BEHAVIOUR`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from hypothesis.stateful import invariant

from conformance import checks as ck
from conformance import measure, parity
from conformance.session_core import SessionCore
from conformance.session_model import (
    TARGETS,
    Side,
    describe_history,
    forward_output,
    label,
    parameter_objects,
)

STEP = "the last step's clause"


@dataclass(frozen=True)
class Invariant:
    """One check after every step and the clause it cites. `check(session, clause)`, or
    `check(session, index, clause)` for a per-tensor invariant."""

    check: Callable[..., None]
    clause: str  # a SPEC.md clause id, or STEP
    unless: tuple[str, ...] = ()  # clause areas of last steps whose own clause is cited instead

    @property
    def name(self) -> str:
        return self.check.__name__

    def cited(self, step_clause: str) -> str:
        """The clause a failure cites after a step that cited `step_clause`."""
        if self.clause == STEP or step_clause.startswith(self.unless):
            return step_clause
        return self.clause


def cites(clause: str, unless: tuple[str, ...] = ()) -> Callable[[Callable[..., None]], Invariant]:
    return lambda check: Invariant(check, clause, unless)


# The steps whose clause a disagreement of names or of values is cited under.
_RENAMING_STEPS = ("SERIAL", "ATOMIC")
_VALUE_STEPS = ("SERIAL", "ATOMIC", "AUTOGRAD", "REMOVE")


def _names_agree(session: SessionCore, what: str, names: Callable[[torch.nn.Module], list[str]],
                 clause: str) -> None:
    wanted = names(session.oracle.model)
    ck.expect_equal(names(session.impl.model), wanted, clause, what)


# --- the model's names and pruned state ---------------------------------------------------------

@cites("REPARAM-1", unless=_RENAMING_STEPS)
def parameter_names_agree(session: SessionCore, clause: str) -> None:
    """The same parameter names (`<name>_orig` for a pruned tensor)."""
    _names_agree(session, "parameter names",
                 lambda m: sorted(n for n, _ in m.named_parameters()), clause)


@cites("REPARAM-2", unless=_RENAMING_STEPS)
def buffer_names_agree(session: SessionCore, clause: str) -> None:
    """The same buffer names (`<name>_mask` for a pruned tensor)."""
    _names_agree(session, "buffer names", lambda m: sorted(n for n, _ in m.named_buffers()),
                 clause)


@cites("REPARAM-4", unless=_RENAMING_STEPS)
def state_dict_keys_agree(session: SessionCore, clause: str) -> None:
    """The same state_dict keys."""
    _names_agree(session, "state_dict keys", lambda m: sorted(m.state_dict()), clause)


@cites("PRUNED-1")
def is_pruned_agrees(session: SessionCore, clause: str) -> None:
    """is_pruned(model) as the oracle's."""
    wanted = session.oracle.prune.is_pruned(session.oracle.model)
    ck.expect_equal(session.impl.prune.is_pruned(session.impl.model), wanted, clause,
                    "is_pruned(model)")


# --- each tensor ------------------------------------------------------------------------------

@cites("HOOK-1")
def one_hook_per_pruned_tensor(session: SessionCore, i: int, clause: str) -> None:
    """One pruning forward pre-hook on a pruned tensor, none on another."""
    hooks = measure.pruning_hooks(session.impl.prune, session.impl.module(i), TARGETS[i][1])
    ck.expect_equal(len(hooks), int(session.oracle.pruned(i)), clause,
                    f"pruning forward pre-hooks of {label(i)}")


@cites("COMPOSE-4")
def history_agrees(session: SessionCore, i: int, clause: str) -> None:
    """The tensor's hook history: the same classes holding the same arguments."""
    name = TARGETS[i][1]
    wanted = describe_history(session.oracle.prune, session.oracle.module(i), name)
    ck.expect_equal(describe_history(session.impl.prune, session.impl.module(i), name), wanted,
                    clause, f"hook history of {label(i)} (class, arguments)")


@cites("REPARAM-2")
def mask_is_binary(session: SessionCore, i: int, clause: str) -> None:
    """A pruned tensor's `<name>_mask` holds zeros and ones, beside its `<name>_orig`."""
    if session.oracle.pruned(i):
        module, name = session.impl.module(i), TARGETS[i][1]
        ck.expect_binary_mask(module._buffers[f"{name}_mask"],
                              module._parameters[f"{name}_orig"], clause)


@cites("REPARAM-3")
def attribute_is_orig_times_mask(session: SessionCore, i: int, clause: str) -> None:
    """A pruned tensor that no optimizer step left stale is `<name>_orig * <name>_mask`."""
    if session.oracle.pruned(i) and i not in session.stale:
        module, name = session.impl.module(i), TARGETS[i][1]
        product = module._parameters[f"{name}_orig"] * module._buffers[f"{name}_mask"]
        ck.expect(torch.equal(getattr(module, name).detach().nan_to_num(),
                              product.detach().nan_to_num()),
                  clause, f"{label(i)} must equal {name}_orig * {name}_mask")


@cites("COMPOSE-1")
def pruned_entries_stay_pruned(session: SessionCore, i: int, clause: str) -> None:
    """Entries of a pruned tensor pruned at the last check are still pruned."""
    previous = session.last_masks[i]
    if session.oracle.pruned(i) and previous is not None:
        ck.expect_monotone(previous, session.impl.mask(i), clause)


@cites(STEP)
def mask_agrees(session: SessionCore, i: int, clause: str) -> None:
    """The mask as the oracle's, under the clause of the step that made it."""
    ck.expect_same_mask(session.impl.mask(i), session.oracle.mask(i), clause,
                        f"mask of {label(i)} (after the last step, {session.context})")


@cites("REPARAM-1", unless=_VALUE_STEPS)
def values_agree(session: SessionCore, i: int, clause: str) -> None:
    """The values of the tensor's parameter (`<name>_orig` when pruned) as the oracle's."""
    name = TARGETS[i][1]
    wanted = measure.original(session.oracle.module(i), name).cpu()
    seen = measure.original(session.impl.module(i), name).cpu()
    ck.expect(torch.equal(seen.nan_to_num(), wanted.nan_to_num()), clause,
              f"values of {label(i)}'s parameter (after the last step, {session.context})")


def _parameter_kept(session: SessionCore, i: int, clause: str) -> None:
    # A step that replaced the model (a load, a copy) leaves no object to keep.
    if not session.replaced:
        key = TARGETS[i]
        ck.expect(parameter_objects(session.impl.model)[key] is session.params[key], clause,
                  f"the Parameter behind {label(i)} must stay the same object (optimizers "
                  "hold it)")


@cites("REPARAM-1")
def pruned_parameter_kept(session: SessionCore, i: int, clause: str) -> None:
    """Pruning keeps the Parameter object behind the tensor (as `<name>_orig`)."""
    if session.oracle.pruned(i):
        _parameter_kept(session, i, clause)


@cites("REMOVE-1")
def unpruned_parameter_kept(session: SessionCore, i: int, clause: str) -> None:
    """remove() (or no pruning at all) keeps the Parameter object behind the tensor."""
    if not session.oracle.pruned(i):
        _parameter_kept(session, i, clause)


# --- the model's behaviour ----------------------------------------------------------------------

def output_as_is(session: SessionCore, side: Side) -> torch.Tensor:
    """The forward output, leaving every pruned attribute as it was (a stale one stays stale,
    so that the session still exercises COMPOSE-3)."""
    saved = [(m, name, m.__dict__[name]) for i, (_, name) in enumerate(TARGETS)
             for m in [side.module(i)] if name in m.__dict__]
    try:
        with torch.no_grad():
            return forward_output(side.model, session.inputs).detach().cpu()
    finally:
        for module, name, value in saved:
            module.__dict__[name] = value


@cites("HOOK-2")
def forward_output_agrees(session: SessionCore, clause: str) -> None:
    """The forward output as the oracle's, within the dtype's rounding."""
    wanted = output_as_is(session, session.oracle)
    parity.expect_close_outputs(output_as_is(session, session.impl), wanted, session.spec.dtype,
                                clause, f"forward output (after the last step, "
                                f"{session.context})")


@cites("SERIAL-3")
def original_unchanged_by_its_copy(session: SessionCore, clause: str) -> None:
    """After copy.deepcopy, work on the copy leaves the original model as it was."""
    if session.original is not None:
        snapshot, original = session.original
        ck.expect_equal(snapshot.differences(ck.ModuleSnapshot.take(original)), [], clause,
                        "changes to the original model after copy.deepcopy and work on the copy")


MODEL_STATE = (parameter_names_agree, buffer_names_agree, state_dict_keys_agree,
               is_pruned_agrees)
PER_TENSOR = (one_hook_per_pruned_tensor, history_agrees, mask_is_binary,
              attribute_is_orig_times_mask, pruned_entries_stay_pruned, mask_agrees,
              values_agree, pruned_parameter_kept, unpruned_parameter_kept)
MODEL_BEHAVIOUR = (forward_output_agrees, original_unchanged_by_its_copy)
INVARIANTS = (*MODEL_STATE, *PER_TENSOR, *MODEL_BEHAVIOUR)


class SessionInvariants(SessionCore):
    """Runs the invariants after every step."""

    @invariant()
    def sides_agree(self) -> None:
        if not self.ready:
            return
        step_clause = self.context
        for inv in MODEL_STATE:
            self._check(lambda inv=inv: inv.check(self, inv.cited(step_clause)))
        for i in range(len(TARGETS)):
            for inv in PER_TENSOR:
                self._check(lambda inv=inv, i=i: inv.check(self, i, inv.cited(step_clause)))
        for inv in MODEL_BEHAVIOUR:
            self._check(lambda inv=inv: inv.check(self, inv.cited(step_clause)))
        # What the next step's invariants compare with.
        self.last_masks = [self.impl.mask(i) if self.impl.pruned(i) else None
                           for i in range(len(TARGETS))]
        self.params = parameter_objects(self.impl.model)
        self.replaced = False
