"""The reference with one defect: fractions are floored instead of rounded half to even (AMOUNT-2).

0.5 of 3 units prunes 1 instead of 2. Patches the reference in the process that loads it: use it
only in a process of its own (the CLI tests run it in a subprocess).
"""

import math

import reference.methods as _methods
import reference.prune as _reference
from conformance.impl import PUBLIC_NAMES

globals().update({name: getattr(_reference, name) for name in PUBLIC_NAMES})
# Kept on the patched module so that loading this file twice (the CLI validates the implementation
# before pytest loads it again) still wraps the reference's own function, not the floor one.
_exact = getattr(_methods, "_exact_units_to_prune", _methods.units_to_prune)
_methods._exact_units_to_prune = _exact


def _floor(amount, units):
    if isinstance(amount, float):
        return math.floor(amount * units)
    return _exact(amount, units)


_methods.units_to_prune = _floor
