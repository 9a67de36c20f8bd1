"""`prune-conformance method module:Class`: does a user's pruning method keep the method contract?

A `BasePruningMethod` subclass written by a user (the tutorial's `FooBarPruningMethod`) is checked
against the clauses of SPEC.md that a method's own code can break: its `compute_mask` returns a
binary mask of the default mask's shape, dtype and device (CUSTOM-1, REPARAM-2), never revives an
entry (COMPOSE-1), honours its `PRUNING_TYPE` (COMPOSE-2, COMPOSE-5) and is reproducible under
`torch.manual_seed` (SELECT-7); and it works through `Cls.apply` on fresh and pruned tensors, when
applied repeatedly and with `remove` (CUSTOM-1, REPARAM, HOOK-1, COMPOSE-4, REMOVE).

Every check draws its inputs with Hypothesis, derandomized and with a small fixed budget, so two
runs print the same report; a failing check prints the clause it breaks, the masks drawn as grids
(conformance.render) and a snippet that replays the failing example.

The class is applied through its own (inherited) `apply`, and composed and removed by the pruning
module whose `BasePruningMethod` it subclasses: a subclass of torch's class checked with
`--impl reference` (or the reverse) is still checked, with a note saying so.

Known failures are data: `run_method_check(..., expected_failures={"seed": "reason"})`, or
`prune-conformance method ... --expected-failures '{"seed": "reason"}'`; the keys are the checks'
(`CHECKS`), and a listed check that passes fails the run.

The package: `contract` (the class under check, loaded with the kit's loader), `inputs` (what the
checks draw and call), `checks` (one `@check` each), `runner` (outcomes and the report).
"""

from conformance.method_contract.checks import CHECKS
from conformance.method_contract.contract import APPLY_EXAMPLES, MASK_EXAMPLES, Contract
from conformance.method_contract.runner import run_method_check

__all__ = ["APPLY_EXAMPLES", "CHECKS", "MASK_EXAMPLES", "Contract", "run_method_check"]
