"""Reference implementation of the pruning API specified in SPEC.md.

`reference.prune` is a drop-in replacement for `torch.nn.utils.prune` (API-1); the other modules
each own one idea of the spec: `amount` (AMOUNT), `selection` (SELECT, STRUCT), `base`
(COMPOSE, REPARAM, HOOK, REMOVE, ATOMIC), `methods` (the built-in methods), `serial` (SERIAL-3)
and `errors` (ERRORS and the exception classes).
"""

__version__ = "0.1.0"
