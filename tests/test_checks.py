"""The oracles the properties judge by (conformance.checks) and how failures draw masks."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from conformance import checks as ck
from conformance.render import masks_side_by_side

NAN, INF = math.nan, math.inf


def sorted_choice(values: list[float], alive: list[bool], k: int) -> list[int]:
    """SELECT-3 spelled out: sort the candidates by (NaN last, value, index), take k."""
    key = {i: (math.isnan(v), 0.0 if math.isnan(v) else v, i)
           for i, v in enumerate(values) if alive[i]}
    return sorted(sorted(key, key=key.get)[:k])


scores = st.lists(st.sampled_from([0.0, -0.0, 1.0, 2.0, INF, NAN]) | st.floats(-4, 4),
                  min_size=1, max_size=40)


@given(data=st.data(), values=scores)
def test_lowest_index_first_is_the_sorted_choice(data, values):
    alive = data.draw(st.lists(st.booleans(), min_size=len(values), max_size=len(values)))
    k = data.draw(st.integers(0, sum(alive)))
    # float64: in float32, torch.tensor would round a tiny drawn value to 0.0 and make a tie.
    scores_ = torch.tensor(values, dtype=torch.float64)
    chosen = ck.lowest_index_first(scores_, torch.tensor(alive), k)
    assert chosen.nonzero().flatten().tolist() == sorted_choice(values, alive, k)


def test_lowest_index_first_ranks_nan_last_and_signed_zeros_equal():
    values = torch.tensor([NAN, 1.0, -0.0, INF, 0.0, 1.0])
    chosen = ck.lowest_index_first(values, torch.ones(6, dtype=torch.bool), 4)
    assert chosen.tolist() == [False, True, True, False, True, True]


@pytest.mark.parametrize(("values", "pruned", "message"), [
    ([3.0, 1.0, 2.0, 1.0], [True, False, False, False], r"pruned entry 0 scores 3\.0, above the "
                                                          r"kept entry 1 scoring 1\.0"),
    ([NAN, INF, 0.0], [True, False, False], r"pruned entry 0 scores nan, above the kept entry 2"),
])
def test_expect_smallest_pruned_names_the_worst_pruned_and_best_kept(values, pruned, message):
    with pytest.raises(ck.SpecViolation, match=message):
        ck.expect_smallest_pruned(torch.tensor(values), torch.ones(len(values), dtype=torch.bool),
                                  torch.tensor(pruned), "SELECT-1", "call")


def test_expect_smallest_pruned_accepts_any_choice_among_ties_and_nan_last():
    values = torch.tensor([1.0, 1.0, INF, NAN, 1.0])
    for pruned in ([False, True, False, False, False], [True, True, False, False, True],
                   [True, True, True, False, True]):
        ck.expect_smallest_pruned(values, torch.ones(5, dtype=torch.bool), torch.tensor(pruned),
                                  "SELECT-1", "call")


def test_a_large_mask_is_summarised_with_its_first_difference():
    expected = torch.ones(4, 100)
    seen = expected.clone()
    seen[2, 7] = 0
    seen[3, 1] = 0
    drawn = masks_side_by_side(expected, seen)
    assert "4x100 mask, kept 398 of 400" in drawn
    assert "2 cells differ, the first at (2, 7), in rows [2, 3]" in drawn


def test_a_small_mask_is_drawn_cell_by_cell():
    drawn = masks_side_by_side(torch.tensor([[1, 0], [1, 1]]), torch.tensor([[1, 1], [0, 1]]))
    assert drawn.splitlines()[1:3] == ["#.         #X", "##         o#"]
