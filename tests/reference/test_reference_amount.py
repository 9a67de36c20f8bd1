"""AMOUNT clauses: what an amount means (reference/amount.py and through the methods)."""

from fractions import Fraction

import numpy as np
import pytest
import torch
from torch import nn

import reference.prune as prune
from reference.amount import is_count, units_to_prune, validate_amount


@pytest.mark.parametrize("amount", [0, 3, np.int64(3), np.int32(0)])
def test_int_amounts_are_counts(amount):  # AMOUNT-1
    validate_amount(amount)
    assert is_count(amount)
    assert units_to_prune(amount, 5) == int(amount)


@pytest.mark.parametrize(
    ("amount", "n", "k"),
    [
        (0.5, 5, 2),
        (0.5, 7, 4),
        (0.5, 3, 2),
        (0.0, 9, 0),
        (1.0, 9, 9),
        (0.3, 150, 45),
        (np.float32(0.5), 5, 2),
        (np.float64(0.25), 10, 2),
        (Fraction(1, 2), 5, 2),
    ],
)
def test_fractions_round_half_to_even(amount, n, k):  # AMOUNT-2
    validate_amount(amount)
    assert not is_count(amount)
    assert units_to_prune(amount, n) == k


@pytest.mark.parametrize(
    "amount", [True, False, "0.5", None, torch.tensor(0.5), [1], 1j, np.bool_(True)]
)
def test_non_amounts_are_type_errors(amount):  # AMOUNT-7, AMOUNT-8
    with pytest.raises(TypeError, match="amount="):
        validate_amount(amount)


@pytest.mark.parametrize(
    "amount", [-1, np.int64(-2), -0.1, 1.5, float("inf"), float("-inf"), float("nan")]
)
def test_out_of_range_amounts_are_value_errors(amount):  # AMOUNT-5, AMOUNT-9
    with pytest.raises(ValueError, match="amount="):
        validate_amount(amount)


def test_count_larger_than_remaining():  # AMOUNT-6
    assert units_to_prune(5, 5) == 5
    with pytest.raises(ValueError, match=r"amount=6 exceeds the 5 units"):
        units_to_prune(6, 5)


def test_fraction_of_what_remains():  # AMOUNT-3
    m = nn.Linear(10, 1)  # 10 entries
    prune.l1_unstructured(m, "weight", 0.5)  # prunes 5
    prune.l1_unstructured(m, "weight", 0.5)  # round(2.5) = 2 of the 5 left
    assert int((m.weight_mask == 0).sum()) == 7
    prune.random_unstructured(m, "weight", 1.0)
    assert int(m.weight_mask.sum()) == 0


def test_zero_amount_establishes_reparametrization():  # AMOUNT-4
    for amount in (0, 0.0):
        m = nn.Linear(3, 2)
        prune.l1_unstructured(m, "weight", amount)
        assert torch.equal(m.weight_mask, torch.ones(2, 3))
        assert "weight_orig" in dict(m.named_parameters())
