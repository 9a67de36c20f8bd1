"""The bad-input catalogue (conformance/bad_inputs.py): what an entry's invocation says is the call
it makes. The source of a global call, run as written (after its preparation, with the subjects'
modules as m0, m1, ...), raises the entry's error with the reference, as the call itself does."""

from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reference.prune as reference
from conformance import bad_inputs as bi

# A user's failing hook (ATOMIC-3) is staged by the kit around the call, not by its source.
GLOBAL = bi.bad_calls(is_global=True, exclude_areas=["ATOMIC"])


@pytest.mark.parametrize("entry", GLOBAL, ids=[b.id for b in GLOBAL])
@settings(max_examples=3, derandomize=True, database=None, deadline=None,
          suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_global_call_source_runs_as_written(entry, data):
    drawn = data.draw(bi.drawn_bad_calls(reference, torch.device("cpu"), entry))
    source = drawn.invocation.source
    assert "..." not in source
    modules = {f"m{i}": s.module for i, s in enumerate(drawn.subjects)}
    with pytest.raises(entry.error):
        drawn.invocation.run(reference)
    with pytest.raises(entry.error):
        exec(source, {"prune": reference, "torch": torch, **modules})
