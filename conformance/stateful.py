"""Stateful differential testing: a random pruning session run in lockstep on the implementation
under test and on the reference (the oracle, assumed correct), compared after every step.

Like zarr's `testing/stateful.py`, the state machine is a public, reusable part of the kit::

    from hypothesis import settings
    from conformance import stateful
    import my_pruning as prune

    stateful.run_session(prune, settings=settings(max_examples=50, stateful_step_count=20))

The model is a `ModuleDict` of a Linear, a Conv2d and a Holder (five tensors: two 2+-d weights,
two biases, a 0-d to 3-d raw parameter), built twice from the same construction and the same
tie-free values. Each step is applied to both sides: every registry method on a random tensor with
random arguments, bad calls of the catalogue (`conformance.bad_inputs`), `global_unstructured` over
a random subset, the tutorial's `FooBarPruningMethod`, `remove`, forward, backward plus an SGD
step, a `state_dict` loaded into a freshly built identically pruned model, a `torch.save` round
trip and `copy.deepcopy`. After every step the two sides must agree (names, hooks, histories,
masks, values, outputs); where the spec leaves a choice (random methods, ties in the scores), the
implementation's mask must be one the spec allows and the oracle adopts it, so that the sessions
stay comparable.

Known departures: `departures` is a set of clause ids the implementation is known to break (for
torch, `departed_clauses` of its expected-failures file). The machine does not generate the steps
that exercise them (a bool amount for AMOUNT-8, a bad call on a pruned tensor for ATOMIC-1, a
deepcopy for SERIAL-3, ...), so that a known departure does not fail the whole session.

A failure raises `SessionFailure`, whose `.snippet` reproduces it with torch and the
implementation alone (`conformance.session_snippet`).

The session is written in rooms of one idea each: its model and the helpers both sides share
(`session_model`), its two sides and how a step acts on each (`session_core`), the steps that
prune (`session_pruning`), that make a bad call (`session_rejections`) and that use a pruned model
(`session_lifecycle`), and the invariants checked after every step (`session_invariants`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from hypothesis import Phase
from hypothesis import settings as Settings
from hypothesis.stateful import run_state_machine_as_test

from conformance import expected
from conformance.session_core import STEPS, OracleFailure, SessionCore, SessionFailure
from conformance.session_invariants import SessionInvariants
from conformance.session_lifecycle import LifecycleSteps
from conformance.session_model import TARGETS
from conformance.session_pruning import PruningSteps
from conformance.session_rejections import RejectionSteps

__all__ = ["CLAUSES", "STEPS", "TARGETS", "OracleFailure", "PruneSession", "SessionFailure",
           "departed_clauses", "run_session", "session_machine"]

# The clauses the session's checks cite (the property's marks).
CLAUSES = (
    "AMOUNT-1", "AMOUNT-2", "SELECT-1", "SELECT-2", "SELECT-6", "STRUCT-1", "STRUCT-5",
    "COMPOSE-1", "COMPOSE-2", "COMPOSE-3", "COMPOSE-4", "REPARAM-1", "REPARAM-2", "REPARAM-3",
    "REPARAM-4", "HOOK-1", "HOOK-2", "REMOVE-1", "REMOVE-5", "GLOBAL-1", "GLOBAL-2", "GLOBAL-6",
    "GLOBAL-8", "CUSTOM-1", "CUSTOM-3", "CUSTOM-4", "AUTOGRAD-1", "AUTOGRAD-2", "SERIAL-1",
    "SERIAL-2", "SERIAL-3", "ATOMIC-1", "ATOMIC-2", "PRUNED-1",
)


class PruneSession(PruningSteps, RejectionSteps, LifecycleSteps, SessionInvariants):
    """A pruning session on `prune` (the implementation under test) checked against `oracle`,
    the reference by default: every step of STEPS, the invariants after each. Options: those of
    `SessionCore`."""


def departed_clauses(
    departures: Mapping[str, expected.Departure | None] | Iterable[str],
) -> frozenset[str]:
    """Clause ids from the expected-failures entries in force (the plugin's
    `expected_departures`), or ids. A `sometimes` entry is left out: the session still takes
    those steps, and the entry (a pattern with the stated failure) covers it if it meets one."""
    if isinstance(departures, Mapping):
        return frozenset(d.clause for d in departures.values()
                         if d is not None and not d.sometimes)
    return frozenset(departures)


def session_machine(prune: Any, **options: Any) -> Callable[[], SessionCore]:
    """A factory of sessions on `prune`, for `run_state_machine_as_test` (options: those of
    PruneSession)."""
    return functools.partial(PruneSession, prune, **options)


def run_session(prune: Any, *, settings: Settings | None = None, **options: Any) -> None:
    """Run random sessions on `prune` against the reference; raise SessionFailure on the first
    (shrunk) failure.

    `settings` default to Hypothesis' current profile, without its explain phase (which replays
    a failing session hundreds of times to report the lines it always runs: minutes here, for
    little the repro snippet does not say). `options`: those of PruneSession.
    """
    settings = settings or Settings()
    settings = Settings(settings, phases=[p for p in settings.phases if p != Phase.explain])
    run_state_machine_as_test(session_machine(prune, **options), settings=settings)
