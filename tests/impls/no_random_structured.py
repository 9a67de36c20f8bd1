"""The reference without `random_structured`: only the properties that call it may fail (API-1)."""

import reference.prune as _reference
from conformance.impl import PUBLIC_NAMES

globals().update({name: getattr(_reference, name) for name in PUBLIC_NAMES
                  if name != "random_structured"})
