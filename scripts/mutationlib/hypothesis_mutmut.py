"""Pytest plugin for runs under mutmut: the `mutmut` Hypothesis profile, `ci` without health
checks and without shrinking.

A mutant of the reference can make drawing slow or filter much (the strategies prune with the
implementation to build already-pruned subjects); a health check failing then would count as a
kill that no property made. Deadlines are already off in every profile of the kit. A kill needs
the verdict only: shrinking the failing example took most of each killed mutant's time.
"""

from hypothesis import HealthCheck, settings

from conformance.config import PROFILES
from conformance.strategies import VERDICT_PHASES

settings.register_profile("mutmut", **{**PROFILES["ci"], "suppress_health_check": list(HealthCheck),
                                       "phases": VERDICT_PHASES})
