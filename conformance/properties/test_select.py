"""SELECT: which entries unstructured methods prune.

Statistical checks here (they spend `statistics.FALSE_ALARM_PER_CHECK` each of the run's
budget of `statistics.FALSE_ALARM_PER_RUN` = 1e-6, at most
`statistics.STATISTICAL_CHECKS_PER_RUN` in the suite): the three
cases of `test_random_unstructured_chooses_uniformly`.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from conformance import checks as ck
from conformance import measure, models
from conformance import strategies as hh
from conformance.registry import GLOBAL, Call, Method, method_ids, methods
from conformance.statistics import Uniformity, expect_uniform_choice, uniformity_params

# The methods that rank entries by |score| (l1_unstructured), and the random ones.
SCORED = methods(structured=False, random=False, takes_importance_scores=True)
RANDOM = methods(random=True)
RANDOM_UNSTRUCTURED = methods(random=True, structured=False)
# Calls that leave a tensor already pruned before the call under test: deterministic, so the
# example replays, and unstructured (structured after unstructured is COMPOSE's).
FIRST_CALLS = methods(structured=False, random=False)


@dataclass
class Selection:
    """One call's effect on the entries: masks before/after, scores, per-entry flags."""

    before: torch.Tensor
    after: torch.Tensor
    scores: torch.Tensor  # flat, the scores the spec says the call ranks
    candidates: torch.Tensor  # flat bool: remaining before the call
    pruned: torch.Tensor  # flat bool: remaining before, pruned by the call

    @property
    def k(self) -> int:
        return int(self.pruned.sum())


def _maybe_pruned(prune, data, subject: models.Subject, pool: list[Method], mode: str) -> str:
    """Prune the subject once first if Hypothesis says so; a phrase saying how, for messages."""
    if not data.draw(st.booleans(), label="already pruned"):
        return ""
    first = data.draw(hh.calls(subject, pool, mode=mode), label="first call")
    first(prune, subject.module, subject.name)
    return f" after {first}"


def _scores(subject: models.Subject, call: Call) -> torch.Tensor:
    """The scores `call` ranks, flat on the CPU: its importance scores, else the tensor as it is,
    orig * mask (COMPOSE-3)."""
    scores = call.kwargs.get("importance_scores")
    if scores is None:
        scores = measure.original(subject.module, subject.name) * measure.mask_or_ones(
            subject.module, subject.name)
    return scores.detach().flatten().cpu().clone()


def _select(prune, subject: models.Subject, call: Call) -> Selection:
    """Apply `call`; what it pruned among the entries that remained, and the scores it ranked."""
    module, name = subject.module, subject.name
    before = measure.mask_or_ones(module, name)
    scores = _scores(subject, call)
    call(prune, module, name)
    after = measure.mask_or_ones(module, name)
    candidates, pruned = measure.newly_pruned(before, after, None)
    return Selection(before, after, scores, candidates, pruned)


def _describe(subject: models.Subject, call: Call, history: str) -> str:
    return f"{call} on {subject.source}.{subject.name}{history}"


@pytest.mark.clause("SELECT-1", "SELECT-5")
@pytest.mark.parametrize("mode", [
    pytest.param(hh.DISTINCT, id="distinct"),
    pytest.param(hh.TIES, id="ties", marks=pytest.mark.clause("SELECT-2")),
])
@pytest.mark.parametrize("method", SCORED, ids=method_ids(SCORED))
@given(data=st.data())
def test_prunes_k_entries_of_smallest_magnitude(prune, device, method, mode, data):
    """Exactly k remaining entries, none scoring above a kept one; with ties, any choice passes."""
    subject = data.draw(hh.subjects(device, mode=mode, min_dims=method.min_dims()))
    history = _maybe_pruned(prune, data, subject, FIRST_CALLS, mode)
    call = data.draw(hh.calls(subject, [method], mode=mode), label="call")
    what = _describe(subject, call, history)
    s = _select(prune, subject, call)
    remaining = int(s.candidates.sum())
    ck.expect_equal(s.k, measure.expected_count(call.amount, remaining), "SELECT-1",
                    f"entries pruned among the {remaining} remaining by {what}")
    ck.expect_smallest_pruned(s.scores.abs(), s.candidates, s.pruned, "SELECT-1", what,
                              shape=tuple(s.before.shape))


@pytest.mark.clause("SELECT-3")
@pytest.mark.parametrize("method", SCORED, ids=method_ids(SCORED))
@given(data=st.data())
def test_ties_prune_lowest_flat_index_first(prune, device, method, data):
    """The mask is the one SELECT-3 defines: sort by (|score|, NaN last, flat index), prune k.

    The values hold many ties, signed zeros among them (-0.0 and 0.0 are one score, SELECT-4).
    """
    mode = data.draw(st.sampled_from([hh.TIES, hh.SPECIAL]), label="mode")
    subject = data.draw(hh.subjects(device, mode=mode, min_dims=method.min_dims()))
    history = _maybe_pruned(prune, data, subject, FIRST_CALLS, mode)
    drawn = data.draw(hh.calls(subject, [method], mode=mode), label="call")
    # A count whose threshold splits a tie, where the tie rule decides the mask.
    alive = measure.mask_or_ones(subject.module, subject.name).flatten().ne(0).cpu()
    tied = data.draw(hh.tie_splitting_counts(_scores(subject, drawn).abs()[alive].tolist()),
                     label="amount")
    call = Call(method, {**drawn.kwargs, "amount": tied})
    s = _select(prune, subject, call)
    k = measure.expected_count(call.amount, int(s.candidates.sum()))
    expected = s.before.flatten().clone()
    expected[ck.lowest_index_first(s.scores.abs(), s.candidates, k).to(expected.device)] = 0
    ck.expect_same_mask(s.after, expected.reshape(s.before.shape), "SELECT-3",
                        f"among equal |scores| the lowest flat indices go first; mask after "
                        f"{_describe(subject, call, history)}")


@pytest.mark.clause("SELECT-4")
@pytest.mark.parametrize("method", SCORED, ids=method_ids(SCORED))
@given(data=st.data())
def test_nan_ranks_above_infinity(prune, device, method, data):
    """Scores with NaN, +-inf and signed zeros: NaN entries go last, inf just before them.

    Some calls prune into the NaN entries: every number and some NaNs, where the threshold
    itself is NaN.
    """
    subject = data.draw(hh.subjects(device, mode=hh.SPECIAL, min_dims=method.min_dims()))
    history = _maybe_pruned(prune, data, subject, FIRST_CALLS, hh.SPECIAL)
    call = data.draw(hh.calls(subject, [method], mode=hh.SPECIAL), label="call")
    alive = measure.mask_or_ones(subject.module, subject.name).flatten().ne(0).cpu()
    nans = int(_scores(subject, call)[alive].isnan().sum())
    count = int(alive.sum())
    if 0 < nans < count:
        # A threshold next to the NaNs: into them, or just below them (some numbers pruned, every
        # NaN kept), where a NaN read as any number would be pruned before some number.
        into = data.draw(st.booleans(), label="into the NaNs")
        amount = data.draw(st.integers(count - nans + 1, count) if into
                           else st.integers(1, count - nans), label="amount")
        call = Call(method, {**call.kwargs, "amount": amount})
    what = _describe(subject, call, history)
    s = _select(prune, subject, call)
    remaining = int(s.candidates.sum())
    ck.expect_equal(s.k, measure.expected_count(call.amount, remaining), "SELECT-1",
                    f"entries pruned among the {remaining} remaining by {what}")
    ck.expect_smallest_pruned(s.scores.abs(), s.candidates, s.pruned, "SELECT-4", what,
                              shape=tuple(s.before.shape))


SCORE_METHODS = methods(takes_importance_scores=True)


def _scored_call(data, subject: models.Subject, method: Method, mode: str) -> Call:
    call = data.draw(hh.calls(subject, [method], importance_scores=False, mode=mode))
    param = subject.param
    scores = data.draw(hh.score_tensors(tuple(param.shape), param.dtype, param.device, mode),
                       label="importance_scores")
    return Call(method, {**call.kwargs, "importance_scores": scores})


@pytest.mark.clause("SELECT-5")
@pytest.mark.parametrize("method", SCORE_METHODS, ids=method_ids(SCORE_METHODS))
@given(data=st.data())
def test_mask_depends_on_the_scores_alone(prune, device, method, data):
    """Two tensors with other values, pruned with the same importance scores, get the same mask."""
    mode = data.draw(st.sampled_from([hh.DISTINCT, hh.TIES]), label="mode")
    subject = data.draw(hh.subjects(device, mode=mode, min_dims=method.min_dims()))
    twin = copy.deepcopy(subject.module)
    param = subject.param
    other = data.draw(hh.score_tensors(tuple(param.shape), param.dtype, param.device, mode),
                      label="other values")
    with torch.no_grad():
        getattr(twin, subject.name).copy_(other)
    done = ""
    for _ in range(data.draw(st.integers(1, 2), label="calls")):
        call = _scored_call(data, subject, method, mode)
        call(prune, subject.module, subject.name)
        call(prune, twin, subject.name)
        done += f"{call}; "
        ck.expect_same_mask(measure.mask_or_ones(twin, subject.name),
                            measure.mask_or_ones(subject.module, subject.name), "SELECT-5",
                            f"{done}on {subject.source}.{subject.name}: a twin holding "
                            f"other values (seen) must get the mask of the original (expected)")


@pytest.mark.clause("SELECT-6")
@pytest.mark.parametrize("method", RANDOM_UNSTRUCTURED, ids=method_ids(RANDOM_UNSTRUCTURED))
@given(data=st.data())
def test_random_prunes_k_remaining_entries(prune, device, method, data):
    subject = data.draw(hh.subjects(device, min_dims=method.min_dims()))
    history = _maybe_pruned(prune, data, subject, FIRST_CALLS, hh.DISTINCT)
    call = data.draw(hh.calls(subject, [method]), label="call")
    with hh.seeded(data.draw(hh.seeds(), label="seed"), device):
        s = _select(prune, subject, call)
    remaining = int(s.candidates.sum())
    ck.expect_equal(s.k, measure.expected_count(call.amount, remaining), "SELECT-6",
                    f"entries pruned among the {remaining} remaining by "
                    f"{_describe(subject, call, history)}")


def _reproducibility_cases() -> list:
    return [pytest.param(m, id=m.function,
                         marks=[pytest.mark.clause("STRUCT-5")] if m.structured else [])
            for m in RANDOM]


@pytest.mark.clause("SELECT-7")
@pytest.mark.parametrize("method", _reproducibility_cases())
@given(data=st.data())
def test_random_methods_are_reproducible(prune, device, method, data):
    """The same call after the same torch.manual_seed gives the same mask, fresh or pruned."""
    subject = data.draw(hh.subjects(device, min_dims=method.min_dims()))
    twin = copy.deepcopy(subject.module)
    history = ""
    if data.draw(st.booleans(), label="already pruned"):
        first = data.draw(hh.calls(subject, methods(structured=method.structured, random=False)),
                          label="first call")
        first(prune, subject.module, subject.name)
        first(prune, twin, subject.name)
        history = f" after {first}"
    call = data.draw(hh.calls(subject, [method]), label="call")
    seed = data.draw(hh.seeds(), label="seed")
    for module in (subject.module, twin):
        with hh.seeded(seed, device):
            call(prune, module, subject.name)
    ck.expect_same_mask(measure.mask_or_ones(twin, subject.name),
                        measure.mask_or_ones(subject.module, subject.name), "SELECT-7",
                        f"twice torch.manual_seed({seed}); {_describe(subject, call, history)}")


# --- the distribution of random_unstructured ---------------------------------------------------

UNIFORMITY = [
    Uniformity((2, 3), 2, seed=1101),  # 6 positions, 15 subsets
    Uniformity((3, 4), 0.5, seed=1102),  # 12 positions, half of them
    Uniformity((2, 4), 3, seed=1103,  # 6 remaining positions, 20 subsets
               before=(("l1_unstructured", {"amount": 2}),)),
]


@pytest.mark.clause("SELECT-6")
@pytest.mark.parametrize(("method", "case"), uniformity_params(RANDOM_UNSTRUCTURED, UNIFORMITY))
def test_random_unstructured_chooses_uniformly(prune, device, method, case):
    """Each remaining entry is pruned with frequency k/n, each k-subset with 1/C(n, k) (trials
    and bounds: conformance.statistics.expect_uniform_choice)."""
    expect_uniform_choice(prune, device, method, case, "SELECT-6")


# --- selection at large sizes --------------------------------------------------------------------

# Implementations switch selection algorithms with the number of scores (torch's topk does; the
# reference ranks 2**20 scores and more by a radix select): the rules hold on both sides of the
# switch. These properties build tensors of LARGE entries and more whatever --max-numel says, a
# few examples each.
LARGE = 2**20
LARGE_CASES = [
    pytest.param("l1_unstructured", "order", id="l1_unstructured-order",
                 marks=pytest.mark.clause("SELECT-1", "SELECT-4", "SELECT-5")),
    pytest.param("l1_unstructured", "ties", id="l1_unstructured-ties",
                 marks=pytest.mark.clause("SELECT-1", "SELECT-3")),
    pytest.param(GLOBAL, "order", id="global-order",
                 marks=pytest.mark.clause("GLOBAL-1", "GLOBAL-2", "GLOBAL-3")),
    pytest.param(GLOBAL, "ties", id="global-ties",
                 marks=pytest.mark.clause("GLOBAL-1", "SELECT-3")),
    pytest.param("random_unstructured", "count", id="random_unstructured-count",
                 marks=pytest.mark.clause("SELECT-6")),
    pytest.param("l1_unstructured", "integers", id="l1_unstructured-integers",
                 marks=pytest.mark.clause("SELECT-1", "SELECT-5")),
    pytest.param(GLOBAL, "integers", id="global-integers",
                 marks=pytest.mark.clause("GLOBAL-2", "SELECT-5")),
]


def _large_values(data, numel: int, dtype: torch.dtype, label: str, tied: bool | None = None,
                  ) -> torch.Tensor:
    """`numel` values: a few drawn values (NaN, infinities and signed zeros among them) repeated at
    seeded places, so that every threshold splits a tie; or (unless `tied`) seeded values spread
    over 40 binades, so that the scores differ in every bit of their patterns."""
    generator = torch.Generator().manual_seed(data.draw(hh.seeds(), label=f"{label} seed"))
    if tied or (tied is None and data.draw(st.booleans(), label=f"{label} tied")):
        pool = data.draw(st.lists(st.floats(width=16), min_size=1, max_size=32), label=label)
        picks = torch.randint(len(pool), (numel,), generator=generator)
        return torch.tensor(pool, dtype=torch.float64)[picks].to(dtype)
    binades = torch.randint(-20, 20, (numel,), generator=generator, dtype=torch.float64)
    return (torch.randn(numel, generator=generator, dtype=torch.float64) * 2.0**binades).to(dtype)


def _large_integer_scores(data, numel: int) -> torch.Tensor:
    """`numel` integer scores of distinct magnitudes above 2**30, with seeded signs: neighbours
    that float32 cannot tell apart, so that only an exact ranking passes (SELECT-5)."""
    generator = torch.Generator().manual_seed(data.draw(hh.seeds(), label="integer scores seed"))
    dtype = data.draw(st.sampled_from([torch.int32, torch.int64]), label="integer scores dtype")
    magnitudes = 2**30 + torch.randperm(numel, generator=generator)
    signs = torch.randint(0, 2, (numel,), generator=generator) * 2 - 1
    return (magnitudes * signs).to(dtype)


def _large_subjects(data, device: torch.device, target: str, tied: bool | None,
                    ) -> list[models.Subject]:
    """One tensor of LARGE entries and more, or, for global pruning, up to three that share them,
    each of its own float dtype, perhaps beside an empty one."""
    total = LARGE + data.draw(st.integers(0, 64), label="entries over 2**20")
    cuts = data.draw(st.lists(st.integers(1, total - 1), max_size=2 if target == GLOBAL else 0,
                              unique=True), label="cuts")
    bounds = [0, *sorted(cuts), total]
    sizes = [hi - lo for lo, hi in itertools.pairwise(bounds)]
    if target == GLOBAL and data.draw(st.booleans(), label="an empty tensor too"):
        sizes.insert(data.draw(st.integers(0, len(sizes)), label="its place"), 0)
    values = _large_values(data, total, torch.float64, "values", tied)
    return [models.holder_of(piece.to(dtype=data.draw(hh.dtypes(device), label="dtype"),
                                      device=device, copy=True))
            for piece in values.split(sizes)]


def _large_call_text(target: str, kwargs: dict, subjects: list[models.Subject]) -> str:
    arguments = ", ".join("importance_scores=..." if key == "importance_scores" else
                          f"{key}={value!r}" for key, value in kwargs.items())
    return f"{target}({arguments}) on " + " + ".join(f"{s.source} of {s.param.dtype}"
                                                    for s in subjects)


@pytest.mark.parametrize(("target", "rule"), LARGE_CASES)
@hh.fewer_examples(5, shrink=False)
@given(data=st.data())
def test_selection_holds_at_large_sizes(prune, device, target, rule, data):
    """Exact counts, the order (NaN last) and, where SELECT-3 asks, the lowest flat indices first,
    over more than 2**20 scores, fresh or already pruned, with or without importance scores;
    global pruning ranks the concatenation of up to three tensors.

    The tie rule is checked on tied values and a fraction well inside (0, 1): hundreds of
    thousands of tied entries, only some of them pruned. A failure is reported unshrunk: each
    example ranks millions of scores, and its draws are seeds and a small pool of values.
    """
    ties = rule == "ties"
    subjects = _large_subjects(data, device, target, tied=ties or None)
    history = ""
    if data.draw(st.booleans(), label="already pruned"):
        first = data.draw(st.floats(0.0, 1.0), label="first amount")
        for s in subjects:
            prune.l1_unstructured(s.module, s.name, amount=first)
        history = f" after l1_unstructured(amount={first!r}) of each"
    before = [measure.mask_or_ones(s.module, s.name).flatten().cpu() for s in subjects]
    candidates = torch.cat(before).ne(0)
    remaining = int(candidates.sum())
    amount = data.draw(st.floats(0.05, 0.95) if ties else hh.amounts(remaining), label="amount")
    own = [(measure.original(s.module, s.name) * measure.mask_or_ones(s.module, s.name)).flatten()
           for s in subjects]
    scores = own
    kwargs: dict = {"amount": amount}
    if rule == "integers":
        numels = [s.param.numel() for s in subjects]
        scores = list(_large_integer_scores(data, sum(numels)).split(numels))
    elif target != "random_unstructured" and data.draw(st.booleans(), label="importance scores"):
        scores = [_large_values(data, s.param.numel(), s.param.dtype, "importance scores",
                                ties or None) for s in subjects]
    if scores is not own:
        given_scores = [x.reshape(s.param.shape).to(device) for x, s in zip(scores, subjects,
                                                                             strict=True)]
        kwargs["importance_scores"] = (
            {(s.module, s.name): x for s, x in zip(subjects, given_scores, strict=True)}
            if target == GLOBAL else given_scores[0])
    what = _large_call_text(target, kwargs, subjects) + history
    with hh.seeded(data.draw(hh.seeds(), label="seed"), device):
        if target == GLOBAL:
            prune.global_unstructured([(s.module, s.name) for s in subjects], prune.L1Unstructured,
                                      **kwargs)
        else:
            getattr(prune, target)(subjects[0].module, subjects[0].name, **kwargs)
    after = torch.cat([measure.mask_or_ones(s.module, s.name).flatten().cpu() for s in subjects])
    _, pruned = measure.newly_pruned(torch.cat(before), after, None)
    count_clause = {"l1_unstructured": "SELECT-1", GLOBAL: "GLOBAL-1"}.get(target, "SELECT-6")
    ck.expect_equal(int(pruned.sum()), measure.expected_count(amount, remaining), count_clause,
                    f"entries pruned among the {remaining} remaining by {what}")
    magnitudes = torch.cat([x.detach().flatten().cpu() for x in scores]).abs()
    if rule in ("order", "integers"):
        clause = {"integers": "SELECT-5"}.get(rule, "SELECT-1" if target != GLOBAL else "GLOBAL-2")
        ck.expect_smallest_pruned(magnitudes, candidates, pruned, clause, what)
    elif rule == "ties":
        chosen = ck.lowest_index_first(magnitudes, candidates,
                                       measure.expected_count(amount, remaining))
        ck.expect_same_mask(after, candidates & ~chosen, "SELECT-3",
                            f"among equal |scores| the lowest flat indices (of the "
                            f"concatenation) go first; mask after {what}")
