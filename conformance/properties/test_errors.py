"""ERRORS: what bad input gets.

Driven by the bad-call catalogue (`conformance.bad_inputs.BAD_CALLS`), on fresh subjects only:
the same calls on pruned tensors, and whether the module stays unchanged, are ATOMIC's. Bad
amounts get their error types and messages checked in test_amount.py; here their global form
gets its message checked.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance import bad_inputs as bi
from conformance import checks as ck
from conformance import strategies as hh

TYPED = bi.bad_calls(areas=["ERRORS"])
# Every entry whose message can be checked here: single-tensor bad amounts are test_amount's, and
# a user's failing method or hook (ATOMIC) raises its own message.
WORDED = [b for b in bi.bad_calls(exclude_areas=["ATOMIC"])
          if b.is_global or b.clause.partition("-")[0] != "AMOUNT"]


def _cases(entries: list[bi.BadCall], *clauses: str) -> list:
    return [pytest.param(entry, id=entry.id, marks=pytest.mark.clause(*clauses or (entry.clause,)))
            for entry in entries]


@pytest.mark.parametrize("entry", _cases(TYPED))
@hh.fewer_examples(5)
@given(data=st.data())
def test_bad_input_gets_the_error_the_spec_names(prune, device, entry, data):
    """ERRORS-1 names, ERRORS-2 dims, ERRORS-3 importance scores (single and global calls)."""
    drawn = data.draw(bi.drawn_bad_calls(prune, device, entry), label="call")
    ck.expect_raises(entry.clause, entry.error, lambda: drawn.invocation.run(prune),
                     drawn.invocation.source)


@pytest.mark.parametrize("entry", _cases(WORDED, "ERRORS-4"))
@hh.fewer_examples(20, floor=1)
@given(data=st.data())
def test_error_message_names_the_bad_value(prune, device, entry, data):
    drawn = data.draw(bi.drawn_bad_calls(prune, device, entry), label="call")
    try:
        drawn.invocation.run(prune)
    except Exception as exc:
        for value in drawn.invocation.names:
            ck.expect_message_names(exc, value, "ERRORS-4", drawn.invocation.source)
        return
    # Not rejected: the entry's own clause reports that; there is no message to judge.
    pytest.skip(f"{drawn.invocation.source} was accepted, so there is no error message to "
                f"judge here; {entry.clause} reports the acceptance itself")
