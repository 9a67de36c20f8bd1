"""Stateful differential session: random sequences of pruning steps, run in lockstep on the
implementation under test and on the reference, compared after every step (conformance.stateful).

Steps that exercise a clause the implementation is known to break (the clauses of its
expected-failures entries) are not generated, so that a known departure, which fails its own
dedicated property, does not fail the session. Budget: the profile's max_examples and
stateful_step_count (default: 20 sessions of up to 12 steps).
"""

from __future__ import annotations

import pytest
from hypothesis import settings

from conformance import stateful


@pytest.mark.clause(*stateful.CLAUSES)
def test_session_agrees_with_the_reference(prune, device, expected_departures):
    stateful.run_session(prune, device=device,
                         departures=stateful.departed_clauses(expected_departures),
                         settings=settings())
