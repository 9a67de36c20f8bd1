"""Implementations used by the kit's own tests: deliberately incomplete or broken ones."""
