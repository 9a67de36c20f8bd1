"""Statistics of random methods: do they choose uniformly among the remaining units?

SELECT-6 (random_unstructured, entries) and STRUCT-5 (random_structured, channels) are checked
the same way: TRIALS fresh tensors holding 1..n, pruned by the case's `before` calls and then the
method under the case's explicit seed, against exact binomial bounds (expect_uniform_selection).
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import pytest
import torch
from torch import nn

from conformance import measure, models
from conformance import strategies as hh
from conformance.checks import expect_equal, fail
from conformance.measure import mask_or_ones, newly_pruned
from conformance.registry import METHODS, Call, Method

# --- statistics of random methods (SELECT-6, STRUCT-5) ------------------------------------------

# All statistical checks of a run share one false-alarm budget: a conforming implementation fails a
# run through them with probability below FALSE_ALARM_PER_RUN. Each check spends its share,
# FALSE_ALARM_PER_CHECK, Bonferroni-split over the counts it tests; the suite holds at most
# STATISTICAL_CHECKS_PER_RUN of them (test_select.py and test_struct.py list theirs).
FALSE_ALARM_PER_RUN = 1e-6
STATISTICAL_CHECKS_PER_RUN = 16
FALSE_ALARM_PER_CHECK = FALSE_ALARM_PER_RUN / STATISTICAL_CHECKS_PER_RUN


@functools.cache
def binomial_acceptance(trials: int, p: Fraction, tail: float) -> tuple[int, int]:
    """Counts [low, high] such that Binomial(trials, p) falls below low, or above high, each with
    probability <= `tail`.

    Exact: the tails are summed in integers, weight C(trials, j) a^j (b-a)^(trials-j) out of
    b^trials for p = a/b; no normal approximation.
    """
    a, b = p.numerator, p.denominator
    if a == 0 or a == b:
        return (0, 0) if a == 0 else (trials, trials)
    rest = b - a
    tail_num, tail_den = Fraction(tail).as_integer_ratio()
    bound = tail_num * b**trials  # compare count_weights * tail_den against it
    low, weight, total = 0, rest**trials, 0
    while (total + weight) * tail_den <= bound:
        total += weight
        weight = weight * (trials - low) * a // ((low + 1) * rest)
        low += 1
    high, weight, total = trials, a**trials, 0
    while (total + weight) * tail_den <= bound:
        total += weight
        weight = weight * high * rest // ((trials - high + 1) * a)
        high -= 1
    return low, high


def expect_binomial_counts(
    counts: Sequence[tuple[str, int]], trials: int, p: Fraction, false_alarm: float,
    clause: str, what: str,
) -> None:
    """Each count is Binomial(trials, p) for a conforming implementation; fail on any count outside
    the exact two-sided acceptance range, Bonferroni over the counts, so that a conforming
    implementation fails with probability <= `false_alarm`.
    """
    tail = false_alarm / (2 * len(counts))
    low, high = binomial_acceptance(trials, p, tail)
    outside = [(label, c) for label, c in counts if not low <= c <= high]
    if outside:
        fail(clause, f"{what}: each of {len(counts)} outcomes must occur with probability {p}, "
                     f"about {float(p * trials):.1f} times in {trials} trials; a conforming "
                     f"implementation keeps every count within [{low}, {high}] except with "
                     f"probability {false_alarm:.1e}; outside: "
                     + ", ".join(f"{label}: {c}" for label, c in outside[:8])
                     + (f" and {len(outside) - 8} more" if len(outside) > 8 else ""))


def counting_trial(
    prune: Any, shape: tuple[int, ...], calls: Sequence[Callable[[Any, nn.Module, str], Any]],
    device: torch.device, dim: int | None,
) -> Callable[[], tuple[torch.Tensor, torch.Tensor]]:
    """A trial for `expect_uniform_selection`: a fresh Holder of `shape` holding 1, 2, ... n in
    row-major order, pruned by `calls`; what the last call pruned, per unit (`newly_pruned`)."""

    def trial() -> tuple[torch.Tensor, torch.Tensor]:
        subject = models.holder(shape, torch.float32, device)
        with torch.no_grad():
            subject.param.copy_(torch.arange(1.0, subject.param.numel() + 1).reshape(shape))
        for call in calls[:-1]:
            call(prune, subject.module, subject.name)
        before = mask_or_ones(subject.module, subject.name)
        calls[-1](prune, subject.module, subject.name)
        return newly_pruned(before, mask_or_ones(subject.module, subject.name), dim)

    return trial


def expect_uniform_selection(
    trial: Callable[[], tuple[torch.Tensor, torch.Tensor]], k: int, trials: int, clause: str,
    what: str, *, unit: str = "entry", false_alarm: float = FALSE_ALARM_PER_CHECK,
    max_subsets: int = 64,
) -> None:
    """A random method prunes exactly k of the remaining units, every k-subset equally likely.

    `trial()` prunes a fresh tensor once and returns `newly_pruned(...)`; the caller seeds the
    generators, so the check replays. Every trial must prune exactly k remaining units. Then each
    remaining unit must be pruned with frequency k/n and, where there are at most `max_subsets`
    k-subsets, each subset with frequency 1/C(n, k): exact binomial bounds, `false_alarm` split
    evenly between the two families and Bonferroni within each.
    """
    units = unit[:-1] + "ies" if unit.endswith("y") else unit + "s"
    reference: torch.Tensor | None = None
    ids: list[int] = []
    subsets: dict[tuple[int, ...], int] = {}
    for index in range(trials):
        candidates, pruned = trial()
        if reference is None:
            reference, ids = candidates, candidates.nonzero().flatten().tolist()
        elif not torch.equal(candidates, reference):
            fail(clause, f"{what}: the remaining {units} before the call differ between trials "
                         f"({reference.nonzero().flatten().tolist()} in the first, "
                         f"{candidates.nonzero().flatten().tolist()} in trial {index})")
        gone = pruned.tolist()
        chosen = tuple(i for i in ids if gone[i])
        expect_equal(len(chosen), k, clause,
                     f"remaining {units} pruned by {what} (trial {index} of {trials})")
        subsets[chosen] = subsets.get(chosen, 0) + 1
    n = len(ids)
    if not 0 < k < n:
        return  # a single possible outcome, checked by the count above
    families = [("positions", Fraction(k, n),
                 [(f"{unit} {i}", sum(c for s, c in subsets.items() if i in s)) for i in ids])]
    if math.comb(n, k) <= max_subsets:
        families.append(("subsets", Fraction(1, math.comb(n, k)),
                         [(f"{units} {s}", subsets.get(s, 0))
                          for s in itertools.combinations(ids, k)]))
    for family, p, counts in families:
        expect_binomial_counts(counts, trials, p, false_alarm / len(families), clause,
                               f"{what}, {family} of the {k} pruned among {n} remaining {units}")


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
    conforming implementation breaks with probability below FALSE_ALARM_PER_CHECK (1e-6 / 16),
    so below 1e-6 for the whole run with the suite's other statistical checks.
    """
    kwargs = {"amount": case.amount, **({"dim": case.dim} if case.dim is not None else {})}
    calls = [Call(METHODS[f], kw) for f, kw in case.before] + [Call(method, kwargs)]
    trial = counting_trial(prune, case.shape, calls, device, case.dim)
    remaining = case.units() - sum(kw["amount"] for _, kw in case.before)
    k = measure.expected_count(case.amount, remaining)
    with hh.seeded(case.seed, device):
        expect_uniform_selection(
            trial, k, TRIALS, clause,
            f"{'; '.join(map(repr, calls))} on Holder{case.shape} after "
            f"torch.manual_seed({case.seed})", unit="entry" if case.dim is None else "channel")
