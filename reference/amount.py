"""What an `amount` means and how many units it prunes (AMOUNT-1 .. AMOUNT-9)."""

from __future__ import annotations

import math
import numbers


def is_count(amount: object) -> bool:
    """True for an int amount, a count of units (AMOUNT-1); `bool` is not one (AMOUNT-8)."""
    return isinstance(amount, numbers.Integral) and not isinstance(amount, bool)


def validate_amount(amount: object) -> None:
    """Reject what is not an amount, before anything is computed.

    Spec: AMOUNT-5, AMOUNT-7, AMOUNT-8, AMOUNT-9.

    An amount is a non-negative int (a count) or a real number in [0, 1] (a fraction).
    """
    if isinstance(amount, bool) or not isinstance(amount, numbers.Real):
        raise TypeError(
            f"amount={amount!r} ({type(amount).__name__}) is not an amount: expected an int "
            "count or a float fraction in [0, 1]"
        )
    if is_count(amount):
        if amount < 0:
            raise ValueError(f"amount={amount!r} is a negative count: expected an int >= 0")
        return
    # NaN fails every comparison, so it is tested by name before the range check.
    if math.isnan(amount):
        raise ValueError(f"amount={amount!r} is NaN: expected a float fraction in [0, 1]")
    if not 0.0 <= amount <= 1.0:
        raise ValueError(
            f"amount={amount!r} is outside [0, 1]: expected a float fraction in [0, 1]"
        )


def units_for(amount: numbers.Real, remaining: int) -> int:
    """The arithmetic alone: a count as is, a fraction round(amount * remaining), Python's
    round-half-to-even on the float product (AMOUNT-1, AMOUNT-2)."""
    if is_count(amount):
        return int(amount)
    return round(amount * remaining)


def units_to_prune(amount: numbers.Real, remaining: int) -> int:
    """The number k of units to prune among `remaining` units.

    Spec: AMOUNT-1, AMOUNT-2, AMOUNT-3, AMOUNT-6.

    A count is taken as is and must not exceed what remains; a fraction prunes
    round(amount * remaining).
    """
    count = units_for(amount, remaining)
    if is_count(amount) and count > remaining:
        raise ValueError(
            f"amount={amount!r} exceeds the {remaining} units that remain to be pruned: "
            f"expected an int count <= {remaining}"
        )
    return count
