"""The reference with one defect: fractions round half up instead of half to even (AMOUNT-2).

Patches the reference in the process that loads it: use it only in a process of its own.
"""

import math

import reference.methods as _methods
import reference.prune as _reference
from conformance.impl import PUBLIC_NAMES

globals().update({name: getattr(_reference, name) for name in PUBLIC_NAMES})
_units_to_prune = _methods.units_to_prune


def _half_up(amount, units):
    if isinstance(amount, float):
        return math.floor(amount * units + 0.5)
    return _units_to_prune(amount, units)


_methods.units_to_prune = _half_up
