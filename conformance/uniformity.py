"""Statistical cases for random methods: do they choose uniformly among the remaining units?

SELECT-6 (random_unstructured, entries) and STRUCT-5 (random_structured, channels) are checked
the same way: TRIALS fresh tensors holding 1..n, pruned by the case's `before` calls and then the
method under the case's explicit seed, against exact binomial bounds (ck.expect_uniform_selection).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
import torch

from conformance import checks as ck
from conformance import strategies as hh
from conformance.registry import METHODS, Call, Method

TRIALS = 1000


@dataclass(frozen=True)
class Uniformity:
    """A Holder of `shape` holding 1..n, the `before` calls (registry function name, kwargs),
    then the random method with `amount`, and `dim` for a structured one."""

    shape: tuple[int, ...]
    amount: int | float
    seed: int  # explicit, so the check replays exactly
    dim: int | None = None
    before: tuple[tuple[str, dict], ...] = ()

    def __str__(self) -> str:
        steps = [f"after_{f}=" + ",".join(map(str, kw.values())) for f, kw in self.before]
        words = [f"{'x'.join(map(str, self.shape))}", *steps, f"amount={self.amount}"]
        return "-".join(words + ([f"dim={self.dim}"] if self.dim is not None else []))

    def units(self) -> int:
        """Entries, or channels along `dim`, before the `before` calls."""
        return math.prod(self.shape) if self.dim is None else self.shape[self.dim]


def uniformity_params(methods: Iterable[Method], cases: Sequence[Uniformity]) -> list[Any]:
    """pytest parameters (method, case) of a property that checks every case with each method."""
    return [pytest.param(m, case, id=f"{m.function}-{case}") for m in methods for case in cases]


def expect_uniform_choice(prune: Any, device: torch.device, method: Method, case: Uniformity,
                          clause: str) -> None:
    """Each remaining unit is pruned with frequency k/n, each k-subset with 1/C(n, k).

    TRIALS fresh tensors under the explicit seed of the case; exact binomial bounds that a
    conforming implementation breaks with probability below ck.FALSE_ALARM_PER_CHECK (1e-6 / 16),
    so below 1e-6 for the whole run with the suite's other statistical checks.
    """
    kwargs = {"amount": case.amount, **({"dim": case.dim} if case.dim is not None else {})}
    calls = [Call(METHODS[f], kw) for f, kw in case.before] + [Call(method, kwargs)]
    trial = ck.counting_trial(prune, case.shape, calls, device, case.dim)
    remaining = case.units() - sum(kw["amount"] for _, kw in case.before)
    k = ck.expected_count(case.amount, remaining)
    with hh.seeded(case.seed, device):
        ck.expect_uniform_selection(
            trial, k, TRIALS, clause,
            f"{'; '.join(map(repr, calls))} on Holder{case.shape} after "
            f"torch.manual_seed({case.seed})", unit="entry" if case.dim is None else "channel")
