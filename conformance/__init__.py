"""prune-conformance: properties that check a pruning implementation against SPEC.md."""

__version__ = "0.1.0"
