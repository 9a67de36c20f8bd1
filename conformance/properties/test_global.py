"""GLOBAL: global_unstructured.

The targets (`hh.global_targets`) are 1-4 modules of one dtype, sometimes two tensors of one
module, each tensor pruned by 0-2 earlier calls of any method, so that existing masks take part.
Invalid calls are made on fresh targets only: a bad call on pruned tensors is ATOMIC-2's
(test_atomic.py), so that torch's deleted hooks fail there alone.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from conformance import capabilities, measure, models, statistics
from conformance import checks as ck
from conformance import strategies as hh
from conformance.registry import python_literal
from conformance.statistics import TRIALS

# The unstructured methods global_unstructured accepts, by class name (GLOBAL-6).
GLOBAL_METHODS = ("L1Unstructured", "RandomUnstructured")
# How failure messages number entries: one flat index over all tensors.
FLAT_INDEX = "entries numbered flat over the tensors in the order of the pairs; "


@dataclass
class GlobalRun:
    """One global_unstructured call: per tensor the masks before and after it and the scores the
    spec says it ranks; flat over all tensors in the order of the pairs."""

    source: str
    before: list[torch.Tensor]
    after: list[torch.Tensor]
    scores: torch.Tensor  # flat on the CPU: importance scores, else orig * mask (COMPOSE-3)

    @property
    def candidates(self) -> torch.Tensor:
        return torch.cat([m.ne(0).flatten().cpu() for m in self.before])

    @property
    def pruned(self) -> torch.Tensor:
        return self.candidates & torch.cat([m.eq(0).flatten().cpu() for m in self.after])

    @property
    def remaining(self) -> int:
        return int(self.candidates.sum())


def _scores_of(subject: models.Subject, given: torch.Tensor | None) -> torch.Tensor:
    if given is not None:
        return given.detach().flatten().cpu().double()
    mask = measure.mask_or_ones(subject.module, subject.name)
    return (measure.original(subject.module, subject.name) * mask).flatten().cpu().double()


def _source(targets: hh.GlobalTargets, method_name: str, amount: object,
            scores: dict[tuple[nn.Module, str], torch.Tensor] | None, pairs_source: str = "",
            ) -> str:
    given = ""
    if scores:
        given = ", importance_scores={" + ", ".join(
            f"({targets.labels[id(m)]}, {n!r}): {python_literal(t)}"
            for (m, n), t in scores.items()) + "}"
    return (f"{targets!r}\nprune.global_unstructured({pairs_source or targets.pairs_source()}, "
            f"prune.{method_name}{given}, amount={amount!r})")


def _run(prune: Any, targets: hh.GlobalTargets, method_name: str, amount: object, seed: int,
         scores: dict[tuple[nn.Module, str], torch.Tensor] | None = None,
         parameters: object = None, pairs_source: str = "") -> GlobalRun:
    """Make the call (under `seed`, for the random method); `parameters` replaces the list of
    pairs (GLOBAL-7)."""
    subjects = targets.subjects
    before = [measure.mask_or_ones(s.module, s.name) for s in subjects]
    flat = torch.cat([_scores_of(s, (scores or {}).get((s.module, s.name))) for s in subjects])
    extra = {} if scores is None else {"importance_scores": scores}
    source = _source(targets, method_name, amount, scores, pairs_source)
    with hh.seeded(seed, subjects[0].param.device):
        prune.global_unstructured(targets.pairs if parameters is None else parameters,
                                  getattr(prune, method_name), amount=amount, **extra)
    after = [measure.mask_or_ones(s.module, s.name) for s in subjects]
    return GlobalRun(source, before, after, flat)


def _amounts(units: int) -> st.SearchStrategy[int | float]:
    return st.one_of(hh.amounts(units), hh.half_way_fractions(units))


def _expect_count(run: GlobalRun, amount: object, clause: str) -> None:
    expected = measure.expected_count(amount, run.remaining)
    ck.expect_equal(int(run.pruned.sum()), expected, clause,
                    f"entries pruned among the {run.remaining} remaining in all tensors "
                    f"(k = {expected} from amount={amount!r}) by\n{run.source}\n")


def _prune_earlier(prune: Any, targets: hh.GlobalTargets, data: st.DataObject,
                   mode: str = hh.DISTINCT, min_calls: int = 0) -> None:
    """The earlier calls of targets drawn with `earlier=False`, made after the property set the
    modules up."""
    hh.prune_earlier(data.draw, prune, targets.subjects, targets.labels, targets.earlier,
                     min_calls=min_calls, mode=mode)


@pytest.mark.clause("GLOBAL-1", "GLOBAL-3", "REPARAM-5")
@pytest.mark.parametrize("method_name", GLOBAL_METHODS)
@given(data=st.data())
def test_prunes_k_of_all_remaining_entries(prune, device, method_name, data):
    """k from the amount over the remaining entries of all tensors together; earlier zeros stay,
    and the mask tensors the modules held before the call keep their values (REPARAM-5)."""
    targets = data.draw(hh.global_targets(prune, device), label="targets")
    held = [(s, mask, mask.clone()) for s in targets.subjects
            if (mask := measure.current_mask(s.module, s.name)) is not None]
    amount = data.draw(_amounts(targets.remaining()), label="amount")
    run = _run(prune, targets, method_name, amount, data.draw(hh.seeds(), label="seed"))
    for before, after in zip(run.before, run.after, strict=True):
        ck.expect_monotone(before, after, "GLOBAL-3")
    _expect_count(run, amount, "GLOBAL-1")
    for subject, mask, values in held:
        ck.expect(torch.equal(mask.nan_to_num(), values.nan_to_num()), "REPARAM-5",
                  f"the {targets.label(subject)}_mask tensor held from before\n{run.source}\n"
                  f"was written into by the call")


@pytest.mark.clause("GLOBAL-2")
@pytest.mark.parametrize("mode", [
    pytest.param(hh.DISTINCT, id="distinct"),
    pytest.param(hh.TIES, id="ties", marks=pytest.mark.clause("SELECT-2")),
])
@hh.fewer_examples(2)
@given(data=st.data())
def test_l1_has_one_threshold_across_tensors(prune, device, mode, data):
    """Every entry the call pruned, in any tensor, scores <= every remaining entry of every
    tensor; among equal scores any choice passes."""
    targets = data.draw(hh.global_targets(prune, device, mode=mode), label="targets")
    amount = data.draw(_amounts(targets.remaining()), label="amount")
    run = _run(prune, targets, "L1Unstructured", amount, 0)
    _expect_count(run, amount, "GLOBAL-1")
    ck.expect_smallest_pruned(run.scores.abs(), run.candidates, run.pruned, "GLOBAL-2",
                              f"{FLAT_INDEX}{run.source}")


@pytest.mark.clause("SELECT-3", "GLOBAL-2")
@hh.fewer_examples(2)
@given(data=st.data())
def test_ties_across_tensors_prune_the_lowest_flat_index_first(prune, device, data):
    """Among equal |scores| the entries of lowest index in the concatenation of the tensors (in
    the order of the pairs) go first, whichever tensor they lie in: a tie at the first entry of
    a later tensor is pruned only after every tied entry of the tensors before it."""
    targets = data.draw(hh.global_targets(prune, device, mode=hh.TIES, earlier=False),
                        label="targets")
    if data.draw(st.booleans(), label="every entry tied"):
        # Then the surplus ties given back span whole tensors, the first entry of each included.
        value = data.draw(st.sampled_from([1.0, -2.0]), label="value")
        for s in targets.subjects:
            with torch.no_grad():
                s.param.fill_(value)
            targets.earlier.append(f"{targets.label(s)}.data.fill_({value})")
    _prune_earlier(prune, targets, data, hh.TIES)
    run_scores = torch.cat([_scores_of(s, None) for s in targets.subjects])
    candidates = torch.cat([measure.mask_or_ones(s.module, s.name).ne(0).flatten().cpu()
                            for s in targets.subjects])
    amount = data.draw(hh.tie_splitting_counts(run_scores.abs()[candidates].tolist()),
                       label="amount")
    run = _run(prune, targets, "L1Unstructured", amount, 0)
    k = measure.expected_count(amount, run.remaining)
    expected = ck.lowest_index_first(run.scores.abs(), run.candidates, k)
    ck.expect_same_mask(run.pruned, expected, "SELECT-3",
                        f"{FLAT_INDEX}entries pruned by the call (the lowest flat indices of "
                        f"equal |scores| first) after\n{run.source}")


@pytest.mark.clause("GLOBAL-2")
@pytest.mark.parametrize("narrow", [torch.float16, torch.bfloat16], ids=["float16", "bfloat16"])
@hh.fewer_examples(4)
@given(data=st.data())
def test_mixed_dtypes_rank_in_the_promoted_dtype(prune, device, narrow, data):
    """A wide tensor first, then a narrow one holding each of its magnitudes shrunk by less than
    half an ulp of the narrow dtype, so that the magnitudes sorted alternate narrow, wide, narrow,
    ...; an odd k splits a pair, of which the narrow entry must go. Compared in the narrow dtype
    the pair would tie, and the tie rule would prune the wide tensor's entry first."""
    wide = data.draw(st.sampled_from([torch.float32, torch.float64]), label="wide dtype")
    for dtype in (narrow, wide):
        problem = capabilities.dtype_problem(device, dtype)
        if problem:
            pytest.skip(problem)
    count = data.draw(st.integers(1, 8), label="entries")
    narrow_values = torch.tensor(data.draw(hh.distinct_values(count, narrow), label="values"),
                                 dtype=torch.float64).to(narrow)
    wide_values = (narrow_values.to(torch.float64) * (1 + 2.0**-12)).to(wide)
    k = 2 * data.draw(st.integers(0, count - 1), label="pairs below the split") + 1
    subjects = [models.holder_of(values.to(device)) for values in (wide_values, narrow_values)]
    what = (f"global_unstructured(L1Unstructured, amount={k}) over a {wide} tensor "
            f"{python_literal(wide_values)} and a {narrow} tensor "
            f"{python_literal(narrow_values)}")
    prune.global_unstructured([(s.module, "weight") for s in subjects], prune.L1Unstructured,
                              amount=k)
    magnitudes = torch.cat([wide_values.double(), narrow_values.double()]).abs()
    kept = torch.ones(2 * count)
    kept[magnitudes.argsort()[:k]] = 0
    seen = torch.cat([measure.mask_or_ones(s.module, "weight").cpu() for s in subjects])
    ck.expect_same_mask(seen, kept, "GLOBAL-2",
                        f"{FLAT_INDEX}the k smallest magnitudes, compared exactly; mask after "
                        f"{what}")


def _reversed_ranks(t: torch.Tensor) -> torch.Tensor:
    """Distinct positive scores of t's shape, dtype and device that rank its entries in the
    reverse order of their magnitudes (NaN last): the largest magnitude scores 1."""
    flat = t.detach().abs().flatten().nan_to_num(nan=math.inf).cpu().double()
    ranks = torch.empty_like(flat)
    ranks[flat.argsort(stable=True)] = torch.arange(flat.numel(), 0, -1, dtype=flat.dtype)
    return ranks.reshape(t.shape).to(device=t.device, dtype=t.dtype)


@pytest.mark.clause("GLOBAL-4", "SELECT-5")
@given(data=st.data())
def test_importance_scores_dict_scores_its_tensors(prune, device, data):
    """A dict for some of the tensors: those are ranked by their scores (drawn independently of
    their values, or ranking the entries in the reverse order of their magnitudes, so that an
    implementation that ignores the scores prunes the entries they keep), the others by their
    own values, all against one threshold. Or integer scores for every tensor, ranked as
    integers (SELECT-5): no score is NaN, so the entries pruned earlier cannot be set aside as
    NaN scores; the ranking must leave them out (every tensor is pruned before then)."""
    integers = data.draw(st.booleans(), label="integer scores for every tensor")
    targets = data.draw(hh.global_targets(prune, device, earlier=False), label="targets")
    _prune_earlier(prune, targets, data, min_calls=1 if integers else 0)
    chosen = [True] * len(targets.subjects) if integers else data.draw(
        st.lists(st.booleans(), min_size=len(targets.subjects), max_size=len(targets.subjects)),
        label="scored tensors")
    reversed_ranks = data.draw(st.booleans(), label="scores reverse the magnitudes' order")
    scores = {}
    for subject, scored in zip(targets.subjects, chosen, strict=True):
        param = subject.param
        if integers:
            scores[(subject.module, subject.name)] = data.draw(
                hh.integer_score_tensors(tuple(param.shape), param.device),
                label="integer scores")
        elif scored:
            scores[(subject.module, subject.name)] = (
                _reversed_ranks(param) if reversed_ranks else data.draw(
                    hh.score_tensors(tuple(param.shape), param.dtype, param.device),
                    label="scores"))
    amount = data.draw(_amounts(targets.remaining()), label="amount")
    run = _run(prune, targets, "L1Unstructured", amount, 0, scores)
    _expect_count(run, amount, "GLOBAL-4")
    ck.expect_smallest_pruned(run.scores.abs(), run.candidates, run.pruned, "GLOBAL-4",
                              f"{FLAT_INDEX}{run.source}")


@pytest.mark.clause("GLOBAL-5")
@pytest.mark.parametrize("method_name", GLOBAL_METHODS)
@hh.fewer_examples(2)
@given(data=st.data())
def test_each_tensor_is_pruned_as_by_custom_from_mask(prune, device, method_name, data):
    """Each tensor's history is its earlier history plus a CustomFromMask; _orig is the
    Parameter the tensor had from the start, _mask and the attribute as REPARAM says."""
    targets = data.draw(hh.global_targets(prune, device), label="targets")
    params = [module._parameters.get(f"{name}_orig", module._parameters.get(name))
              for module, name in targets.pairs]
    histories = [measure.history(prune, module, name) for module, name in targets.pairs]
    amount = data.draw(_amounts(targets.remaining()), label="amount")
    run = _run(prune, targets, method_name, amount, data.draw(hh.seeds(), label="seed"))
    for subject, param, earlier in zip(targets.subjects, params, histories, strict=True):
        module, name = subject.module, subject.name
        what = f"{targets.label(subject)} after\n{run.source}\n"
        ck.expect_reparametrized(prune, module, name, param, "GLOBAL-5", what)
        seen = measure.history(prune, module, name)
        ck.expect_equal([type(m).__name__ for m in seen],
                        [*(type(m).__name__ for m in earlier), "CustomFromMask"], "GLOBAL-5",
                        f"{what}hook history of {targets.label(subject)}")
        ck.expect(isinstance(seen[-1], prune.CustomFromMask)
                  and all(a is b for a, b in zip(seen[:-1], earlier, strict=True)), "GLOBAL-5",
                  f"{what}the history must keep the earlier method objects and end with the "
                  f"implementation's CustomFromMask")


@pytest.mark.clause("GLOBAL-5")
@pytest.mark.parametrize("method_name", GLOBAL_METHODS)
@hh.fewer_examples(2)
@given(data=st.data())
def test_each_share_is_the_new_mask_in_the_masks_dtype(prune, device, method_name, data):
    """The CustomFromMask each tensor records holds that tensor's share of the global mask: its
    new mask (zero where pruned by this call or before), contiguous, on its device, in the dtype
    torch.cat gives all the masks: each module has a dtype of its own before its earlier calls,
    so that a float16 tensor's share beside a float64 tensor is promoted."""
    targets = data.draw(hh.global_targets(prune, device, earlier=False), label="targets")
    for module in {id(s.module): s.module for s in targets.subjects}.values():
        dtype = data.draw(hh.dtypes(device), label="module dtype")
        module.to(dtype)
        targets.earlier.append(f"{targets.labels[id(module)]}.to({dtype})")
    _prune_earlier(prune, targets, data)
    dtype = functools.reduce(torch.promote_types,
                             [measure.mask_or_ones(s.module, s.name).dtype
                              for s in targets.subjects])
    amount = data.draw(_amounts(targets.remaining()), label="amount")
    run = _run(prune, targets, method_name, amount, data.draw(hh.seeds(), label="seed"))
    _expect_shares(prune, targets, run, dtype)


@pytest.mark.clause("GLOBAL-5", "DEVICE-8")
@hh.fewer_examples(4)
@given(data=st.data())
def test_shares_of_channels_last_masks_are_row_major(prune, device, data):
    """Pruned Conv2d modules moved to channels_last, masks included (`module.to(memory_format=
    torch.channels_last)`), then pruned together: each share is still the new mask, row-major."""
    count = data.draw(st.integers(1, 3), label="modules")
    dtype = data.draw(hh.dtypes(device), label="dtype")
    subjects = [data.draw(hh.subjects(device, kinds=("Conv2d",), dtype=dtype), label=f"m{i}")
                for i in range(count)]
    labels = {id(s.module): f"m{i}" for i, s in enumerate(subjects)}
    targets = hh.GlobalTargets(subjects, [], labels)
    _prune_earlier(prune, targets, data, min_calls=1)
    for s in subjects:
        s.module.to(memory_format=torch.channels_last)
        targets.earlier.append(f"{labels[id(s.module)]}.to(memory_format=torch.channels_last)")
    amount = data.draw(_amounts(targets.remaining()), label="amount")
    run = _run(prune, targets, "L1Unstructured", amount, 0)
    _expect_shares(prune, targets, run, dtype)


def _expect_shares(prune: Any, targets: hh.GlobalTargets, run: GlobalRun,
                   dtype: torch.dtype) -> None:
    """GLOBAL-5: each tensor's recorded CustomFromMask holds its new mask, row-major, on its
    device, in `dtype`."""
    for subject, after in zip(targets.subjects, run.after, strict=True):
        share = measure.history(prune, subject.module, subject.name)[-1].mask
        what = f"the mask of the CustomFromMask recorded for {targets.label(subject)} by\n" \
               f"{run.source}\n"
        ck.expect_equal(share.dtype, dtype, "GLOBAL-5", f"dtype of {what}")
        ck.expect_on_device(share, subject.param.device, "GLOBAL-5", what)
        ck.expect(share.is_contiguous(), "GLOBAL-5", f"{what}is not contiguous")
        ck.expect_same_mask(share, after, "GLOBAL-5", f"{what}against the tensor's new mask")


# --- invalid calls (fresh targets) ---------------------------------------------------------

def _other_method(prune: Any, kind: str, param: torch.Tensor) -> tuple[object, dict[str, Any]]:
    """A pruning_method that is not 'unstructured', with the keyword arguments it needs."""
    if kind == "no-PRUNING_TYPE":
        class Untyped(prune.BasePruningMethod):  # a user's method that forgot its PRUNING_TYPE
            def __init__(self, amount: int) -> None:
                self.amount = amount

            def compute_mask(self, t: torch.Tensor, default_mask: torch.Tensor) -> torch.Tensor:
                return default_mask

        return Untyped, {"amount": 0}
    if kind == "not-a-BasePruningMethod":
        class DuckTyped:  # unstructured and with a compute_mask, but no BasePruningMethod
            PRUNING_TYPE = "unstructured"

            def __init__(self, amount: int) -> None:
                self.amount = amount

            def compute_mask(self, t: torch.Tensor, default_mask: torch.Tensor) -> torch.Tensor:
                return default_mask

        return DuckTyped, {"amount": 0}
    if kind == "LnStructured":
        return prune.LnStructured, {"amount": 0, "n": 1, "dim": -1}
    if kind == "RandomStructured":
        return prune.RandomStructured, {"amount": 0, "dim": -1}
    return prune.CustomFromMask, {"mask": torch.ones_like(param.detach())}


def _not_a_dict(kind: str, targets: hh.GlobalTargets) -> object:
    subject = targets.subjects[0]
    scores = subject.param.detach().clone()
    if kind == "tensor":
        return scores
    if kind == "list":
        return [scores]
    return [((subject.module, subject.name), scores)]  # what dict(...) would take


@pytest.mark.clause("GLOBAL-6", "ERRORS-4")
@pytest.mark.parametrize("kind", ["LnStructured", "RandomStructured", "CustomFromMask",
                                  "no-PRUNING_TYPE", "not-a-BasePruningMethod", "scores-tensor",
                                  "scores-list", "scores-list-of-items"])
@hh.fewer_examples(4)
@given(data=st.data())
def test_other_method_types_and_non_dict_scores_are_rejected(prune, device, kind, data):
    targets = data.draw(hh.global_targets(prune, device, earlier=False), label="targets")
    amount = data.draw(_amounts(targets.remaining()), label="amount")
    kwargs: dict[str, Any] = {"amount": amount}
    if kind.startswith("scores-"):
        method = getattr(prune, data.draw(st.sampled_from(GLOBAL_METHODS), label="method"))
        kwargs["importance_scores"] = _not_a_dict(kind.removeprefix("scores-"), targets)
        what = f"importance_scores of type {type(kwargs['importance_scores']).__name__}"
    else:
        method, kwargs = _other_method(prune, kind, targets.subjects[0].param)
        what = f"pruning_method {kind} (PRUNING_TYPE {getattr(method, 'PRUNING_TYPE', None)!r})"
    modules = nn.ModuleList(s.module for s in targets.subjects)
    source = (f"{targets!r}\nprune.global_unstructured({targets.pairs_source()}, ...) "
              f"with {what}")
    exc = ck.expect_rejected_unchanged(
        modules, lambda: prune.global_unstructured(targets.pairs, method, **kwargs), TypeError,
        "GLOBAL-6", source, atomic_clause="GLOBAL-6")
    if kind == "not-a-BasePruningMethod":
        ck.expect_message_names(exc, method.__name__, "ERRORS-4", source)


def _iterable(kind: str, pairs: list[tuple[nn.Module, str]]) -> object:
    if kind == "list":
        return list(pairs)
    if kind == "tuple":
        return tuple(pairs)
    if kind == "generator":
        return (pair for pair in pairs)
    if kind == "iterator":
        return iter(pairs)
    return dict.fromkeys(pairs).keys()


@pytest.mark.clause("GLOBAL-7")
@pytest.mark.parametrize("kind", ["list", "tuple", "generator", "iterator", "dict_keys"])
@hh.fewer_examples(4)
@given(data=st.data())
def test_any_iterable_of_pairs_is_read_once(prune, device, kind, data):
    """A one-shot iterable (generator, iterator) prunes as the list of its pairs would."""
    targets = data.draw(hh.global_targets(prune, device), label="targets")
    method_name = data.draw(st.sampled_from(GLOBAL_METHODS), label="method")
    amount = data.draw(_amounts(targets.remaining()), label="amount")
    parameters = _iterable(kind, targets.pairs)
    try:
        run = _run(prune, targets, method_name, amount, data.draw(hh.seeds(), label="seed"),
                   parameters=parameters, pairs_source=f"<{kind} of {targets.pairs_source()}>")
    except Exception as exc:
        ck.fail("GLOBAL-7", f"global_unstructured must accept a {kind} of (module, name) "
                            f"pairs, raised {type(exc).__name__}: {exc}")
    _expect_count(run, amount, "GLOBAL-7")
    for subject in targets.subjects:
        last = (measure.history(prune, subject.module, subject.name) or [None])[-1]
        ck.expect(isinstance(last, prune.CustomFromMask), "GLOBAL-7",
                  f"{targets.label(subject)} must be pruned by the call given a {kind} of pairs, "
                  f"its hook history ends with {type(last).__name__}")


@pytest.mark.clause("GLOBAL-8")
@pytest.mark.parametrize("kind", ["empty", "duplicate"])
@hh.fewer_examples(4)
@given(data=st.data())
def test_empty_or_repeated_pairs_are_rejected(prune, device, kind, data):
    targets = data.draw(hh.global_targets(prune, device, earlier=False), label="targets")
    method_name = data.draw(st.sampled_from(GLOBAL_METHODS), label="method")
    amount = data.draw(_amounts(targets.remaining()), label="amount")
    if kind == "empty":
        pairs: list[tuple[nn.Module, str]] = []
        pairs_source = "[]"
    else:
        index = data.draw(st.integers(0, len(targets.pairs) - 1), label="repeated pair")
        module, name = targets.pairs[index]
        # A new tuple equal to the first: the pair is the (module, name), not the tuple object.
        pairs = [*targets.pairs, (module, name)]
        pairs_source = f"{targets.pairs_source()[:-1]}, ({targets.labels[id(module)]}, {name!r})]"
    modules = nn.ModuleList(s.module for s in targets.subjects)
    method = getattr(prune, method_name)
    what = (f"{targets!r}\nprune.global_unstructured({pairs_source}, prune.{method_name}, "
            f"amount={amount!r})")
    exc = ck.expect_rejected_unchanged(
        modules, lambda: prune.global_unstructured(pairs, method, amount=amount), ValueError,
        "GLOBAL-8", what, atomic_clause="GLOBAL-8")
    # "Naming the problem": the argument that is empty, or the tensor given twice.
    ck.expect_message_names(exc, "parameters" if kind == "empty" else name, "GLOBAL-8", what)


@pytest.mark.clause("GLOBAL-9")
def test_random_global_pruning_is_uniform_across_tensors(prune, device):
    """Holders of 2 and 4 entries holding 1..6, 3 of the 6 pruned at random: each entry with
    frequency 1/2, each of the 20 subsets with 1/20 (exact binomial bounds, as SELECT-6). A method
    that ranked by magnitude would always prune the whole first tensor."""
    shapes, seed = ((2,), (4,)), 2201

    def trial() -> tuple[torch.Tensor, torch.Tensor]:
        subjects = [models.holder(shape, torch.float32, device) for shape in shapes]
        start = 1.0
        for subject in subjects:
            numel = subject.param.numel()
            with torch.no_grad():
                subject.param.copy_(torch.arange(start, start + numel))
            start += numel
        prune.global_unstructured([(s.module, s.name) for s in subjects],
                                  prune.RandomUnstructured, amount=3)
        pruned = torch.cat([measure.mask_or_ones(s.module, s.name).eq(0).flatten().cpu()
                            for s in subjects])
        return torch.ones_like(pruned), pruned

    with hh.seeded(seed, device):
        statistics.expect_uniform_selection(
            trial, 3, TRIALS, "GLOBAL-9",
            "prune.global_unstructured([(m0, 'weight'), (m1, 'weight')], "
            f"prune.RandomUnstructured, amount=3) on Holder(2) and Holder(4) holding 1..6 after "
            f"torch.manual_seed({seed})")

