"""STRUCT: structured pruning.

Statistical checks here (they spend `statistics.FALSE_ALARM_PER_CHECK` each of the run's
budget of `statistics.FALSE_ALARM_PER_RUN` = 1e-6, at most
`statistics.STATISTICAL_CHECKS_PER_RUN` in the suite): the three
cases of `test_random_structured_chooses_channels_uniformly`. Reproducibility under
`torch.manual_seed` (STRUCT-5) is checked with SELECT-7 in test_select.py.
"""

from __future__ import annotations

import copy
import inspect
import math
from dataclasses import dataclass

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from conformance import capabilities, measure, models
from conformance import checks as ck
from conformance import strategies as hh
from conformance.registry import (
    METHODS,
    NORMS,
    PORTABLE_NORMS,
    Call,
    Method,
    method_ids,
    methods,
    python_literal,
)
from conformance.statistics import Uniformity, expect_uniform_choice, uniformity_params

STRUCTURED = methods(structured=True)
SCORED = methods(structured=True, random=False)  # ln_structured
RANDOM = methods(structured=True, random=True)  # random_structured
LN = METHODS["ln_structured"]
MODES = [pytest.param(hh.DISTINCT, id="distinct"), pytest.param(hh.TIES, id="ties")]


@dataclass
class ChannelSelection:
    """One structured call's effect: masks before/after, its dim, per-channel flags."""

    before: torch.Tensor
    after: torch.Tensor
    scores: torch.Tensor  # the scores the spec says the call ranks, in the tensor's shape
    dim: int
    candidates: torch.Tensor  # bool per channel: remaining before the call
    pruned: torch.Tensor  # bool per channel: remaining before, pruned by the call


def _maybe_pruned(prune, data, subject: models.Subject, mode: str) -> str:
    """Prune the subject once with a deterministic structured call, if Hypothesis says so."""
    if not data.draw(st.booleans(), label="already pruned"):
        return ""
    first = data.draw(hh.calls(subject, SCORED, mode=mode), label="first call")
    first(prune, subject.module, subject.name)
    return f" after {first}"


def _scores(subject: models.Subject, call: Call) -> torch.Tensor:
    """The scores `call` ranks: its importance scores, else the tensor as it is, orig * mask
    (COMPOSE-3)."""
    scores = call.kwargs.get("importance_scores")
    if scores is None:
        scores = measure.original(subject.module, subject.name) * measure.mask_or_ones(
            subject.module, subject.name)
    return scores.detach().clone()


def _select(prune, subject: models.Subject, call: Call, clause: str,
            what: str) -> ChannelSelection:
    """Apply `call`, which must succeed; what it pruned among the channels that remained."""
    module, name = subject.module, subject.name
    before = measure.mask_or_ones(module, name)
    scores = _scores(subject, call)
    try:
        call(prune, module, name)
    except Exception as exc:
        ck.fail(clause, f"{what} must prune, raised {type(exc).__name__}: {exc}")
    after = measure.mask_or_ones(module, name)
    candidates, pruned = measure.newly_pruned(before, after, call.dim)
    return ChannelSelection(before, after, scores, call.dim, candidates, pruned)


def _expect_whole_channels(s: ChannelSelection, amount: int | float, clause: str,
                           what: str) -> None:
    """Exactly k remaining channels zeroed whole; every other channel keeps its mask."""
    expected = s.before.clone()
    expected.index_fill_(s.dim % s.before.dim(), s.pruned.nonzero().flatten().to(expected.device),
                         0)
    ck.expect_same_mask(s.after, expected, clause,
                        f"{what} must zero whole channels along dim={s.dim} and leave the mask of "
                        f"every other channel as it was")
    remaining = int(s.candidates.sum())
    ck.expect_equal(int(s.pruned.sum()), measure.expected_count(amount, remaining), clause,
                    f"channels pruned among the {remaining} remaining along dim={s.dim} by {what}")


def _norms(scores: torch.Tensor, n: object, dim: int) -> torch.Tensor:
    """STRUCT-2's channel norms: torch.linalg.vector_norm of each flattened channel, float64."""
    order = 2.0 if n == "fro" else float(n)
    others = measure.channel_dims(scores.dim(), dim)
    return torch.linalg.vector_norm(scores.double(), ord=order, dim=others).cpu()


def _expect_smallest_norms(s: ChannelSelection, n: object, clause: str, what: str) -> None:
    """Pruned channels' norms <= kept channels' norms, up to the scores' precision.

    The exact norms are rounded to the scores' dtype (where a float16 norm may overflow to inf
    and distinct norms may become equal), and a pruned norm may exceed a kept one by a few
    rounding steps of that dtype, as an implementation that computes norms in it may.
    """
    dtype = s.scores.dtype
    norms = _norms(s.scores, n, s.dim).to(dtype).double()
    ck.expect_smallest_pruned(norms, s.candidates, s.pruned, clause,
                              f"L{n} channel norms along dim={s.dim}, {what}", unit="channel",
                              rel_tol=4 * torch.finfo(dtype).eps + 1e-5)


def _describe(subject: models.Subject, call: Call, history: str) -> str:
    return f"{call} on {subject.source}.{subject.name}{history}"


@pytest.mark.clause("STRUCT-1")
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("method", SCORED, ids=method_ids(SCORED))
@given(data=st.data())
def test_prunes_whole_channels_of_smallest_norm(prune, device, method, mode, data):
    subject = data.draw(hh.subjects(device, mode=mode, min_dims=method.min_dims()))
    history = _maybe_pruned(prune, data, subject, mode)
    call = data.draw(hh.calls(subject, [method], mode=mode), label="call")
    what = _describe(subject, call, history)
    s = _select(prune, subject, call, "STRUCT-1", what)
    _expect_whole_channels(s, call.amount, "STRUCT-1", what)
    _expect_smallest_norms(s, call.kwargs["n"], "STRUCT-1", what)


def _subjects_of_rank(device: torch.device, rank: str, mode: str):
    """Subjects with a tensor of 2-5 dims, or only 2-3 dims, or only 4-5 dims (where a norm over
    the other dims spans 3 or more of them)."""
    if rank == "4-5d":
        return hh.subjects(device, mode=mode, kinds=("Holder", "Conv2d", "Conv3d"), min_dims=4)
    subjects = hh.subjects(device, mode=mode, min_dims=2)
    return subjects if rank == "2-5d" else subjects.filter(lambda s: s.param.dim() <= 3)


def _norm_cases() -> list:
    """One case per norm order; a norm that torch cannot take over every rank (not in
    PORTABLE_NORMS: 'fro') gets a case per rank, so that its departure fails one case only."""
    cases = []
    for n in NORMS:
        ranks = ("2-5d",) if n in PORTABLE_NORMS else ("2-3d", "4-5d")
        cases += [pytest.param(n, r, id=str(n) if r == "2-5d" else f"{n}-{r}") for r in ranks]
    return cases


@pytest.mark.clause("STRUCT-2")
@pytest.mark.parametrize(("n", "rank"), _norm_cases())
@given(data=st.data())
def test_channel_norm_is_the_vector_norm(prune, device, n, rank, data):
    """Every norm order ranks channels by torch.linalg.vector_norm(channel, ord=n).

    DISTINCT values tell most orders apart; TIES values hold zeros, which the order 0 counts.
    For the order 0 they are rescaled so that sparser channels hold larger values: the count of
    nonzero entries then ranks channels against their other norms.
    """
    mode = data.draw(st.sampled_from([hh.DISTINCT, hh.TIES]), label="mode")
    subject = data.draw(_subjects_of_rank(device, rank, mode))
    drawn = data.draw(hh.calls(subject, [LN], mode=mode), label="call")
    call = Call(LN, {**drawn.kwargs, "n": n})
    what = _describe(subject, call, "")
    if n == 0 and mode == hh.TIES:
        scores = call.kwargs.get("importance_scores")
        _sparser_channels_larger(subject.param if scores is None else scores, call.dim)
        what += ", each channel's values times (1 + its number of zeros)**2"
    s = _select(prune, subject, call, "STRUCT-2", what)
    _expect_whole_channels(s, call.amount, "STRUCT-1", what)
    _expect_smallest_norms(s, n, "STRUCT-2", what)


# Orders p > 0 that a spread channel and a peaked one tell apart ('fro' is the order 2).
SPREAD_ORDERS = [n for n in NORMS
                 if n == "fro" or (isinstance(n, int | float) and 0 < n < math.inf)]
SPREAD = 4  # entries of the spread channel


@pytest.mark.clause("STRUCT-2")
@pytest.mark.parametrize("n", SPREAD_ORDERS, ids=str)
@pytest.mark.parametrize("peak", ["below", "above"])
def test_norm_order_decides_between_spread_and_peaked_channels(prune, device, n, peak):
    """A channel of SPREAD ones has the norm SPREAD**(1/p) in the order p; a channel holding one
    value 5% below (or above) that norm is pruned first (or kept). Any other order p' compares
    that value with SPREAD**(1/p'), more than 5% away, so one of the two cases tells p' from p,
    even where drawn values seldom do."""
    p = 2.0 if n == "fro" else float(n)
    value = SPREAD ** (1 / p) * (0.95 if peak == "below" else 1.05)
    weight = torch.zeros(2, SPREAD, device=device)
    weight[0] = 1.0
    weight[1, 0] = value
    subject = models.holder_of(weight)
    prune.ln_structured(subject.module, "weight", amount=1, n=n, dim=0)
    pruned = 1 if peak == "below" else 0
    kept = measure.mask_or_ones(subject.module, "weight").ne(0).any(dim=1).cpu().tolist()
    ck.expect(kept == [pruned == 1, pruned == 0], "STRUCT-2",
              f"ln_structured(amount=1, n={n!r}, dim=0) of [[1, 1, 1, 1], [{value:.4f}, 0, 0, 0]] "
              f"(norms {SPREAD ** (1 / p):.4f} and {value:.4f}) must prune channel {pruned}, "
              f"kept {kept}")


@pytest.mark.clause("STRUCT-2")
@pytest.mark.parametrize("n", [math.inf, -math.inf], ids=str)
def test_infinite_orders_rank_channels_by_magnitude(prune, device, n):
    """A channel of large negative entries, [-4, -4], has the norm 4 in the orders inf and -inf;
    [1, 2] has 2 and 1: the second channel is pruned. A norm that forgets abs() (max or min of
    the signed values) ranks -4 lowest and prunes the first; drawn values seldom tell."""
    weight = torch.tensor([[-4.0, -4.0], [1.0, 2.0]], device=device)
    subject = models.holder_of(weight)
    prune.ln_structured(subject.module, "weight", amount=1, n=n, dim=0)
    kept = measure.mask_or_ones(subject.module, "weight").ne(0).any(dim=1).cpu().tolist()
    ck.expect(kept == [True, False], "STRUCT-2",
              f"ln_structured(amount=1, n={n!r}, dim=0) of [[-4, -4], [1, 2]] (norms 4 and "
              f"{2 if n > 0 else 1}, by magnitude) must prune channel 1, kept {kept}")


def _sparser_channels_larger(t: torch.Tensor, dim: int) -> None:
    """Scale each channel of `t` in place by (1 + its number of zeros)**2, so that a channel with
    fewer nonzero entries holds larger values: an implementation that takes the order 0 for
    another norm (L1, L2, L-inf) then prunes other channels than the order 0 does."""
    zeros = (t == 0).sum(dim=measure.channel_dims(t.dim(), dim), keepdim=True)
    with torch.no_grad():
        t.mul_(((1 + zeros) ** 2).to(t.dtype))


# Norms computed exactly from the TIES values in any float dtype, so ties are real ties.
EXACT_NORMS = (1, 2, math.inf, -math.inf, 0)


@pytest.mark.clause("SELECT-3")
@pytest.mark.parametrize("method", SCORED, ids=method_ids(SCORED))
@given(data=st.data())
def test_tied_channels_prune_lowest_index_first(prune, device, method, data):
    """STRUCT-2 with SELECT-3's rule: among channels of equal norm the lowest index goes first."""
    subject = data.draw(hh.subjects(device, mode=hh.TIES, min_dims=method.min_dims()))
    drawn = data.draw(hh.calls(subject, [method], importance_scores=False), label="call")
    param = subject.param
    tied = data.draw(hh.tied_channel_tensors(tuple(param.shape), drawn.dim, param.dtype, device),
                     label="tied scores")
    kwargs = dict(drawn.kwargs)
    if data.draw(st.booleans(), label="as importance_scores"):
        kwargs["importance_scores"] = tied
    else:
        with torch.no_grad():
            param.copy_(tied)
    history = _maybe_pruned(prune, data, subject, hh.TIES)
    n = data.draw(st.sampled_from(EXACT_NORMS), label="n")
    # A count whose threshold splits a tie of norms, where the tie rule decides the mask.
    mask = measure.mask_or_ones(subject.module, subject.name)
    alive = measure.alive_channels(mask, drawn.dim).cpu()
    norms = _norms(_scores(subject, Call(method, kwargs)), n, drawn.dim)[alive].tolist()
    tied_count = data.draw(hh.tie_splitting_counts(norms), label="amount")
    call = Call(method, {**kwargs, "n": n, "amount": tied_count})
    what = _describe(subject, call, history)
    s = _select(prune, subject, call, "STRUCT-1", what)
    k = measure.expected_count(call.amount, int(s.candidates.sum()))
    chosen = ck.lowest_index_first(_norms(s.scores, call.kwargs["n"], s.dim), s.candidates, k)
    expected = s.before.clone()
    expected.index_fill_(s.dim % s.before.dim(), chosen.nonzero().flatten().to(expected.device), 0)
    ck.expect_same_mask(s.after, expected, "SELECT-3",
                        f"among channels of equal norm the lowest indices go first; mask after "
                        f"{what}")


@pytest.mark.clause("STRUCT-3")
@pytest.mark.parametrize("method", STRUCTURED, ids=method_ids(STRUCTURED))
@given(data=st.data())
def test_negative_dim_counts_from_the_end(prune, device, method, data):
    """dim=d-ndim prunes as dim=d (random methods under the same seed)."""
    mode = data.draw(st.sampled_from([hh.DISTINCT, hh.TIES]), label="mode")
    subject = data.draw(hh.subjects(device, mode=mode, min_dims=method.min_dims()))
    twin = models.Subject(copy.deepcopy(subject.module), subject.name, subject.inputs,
                          subject.source)
    drawn = data.draw(hh.calls(subject, [method], mode=mode), label="call")
    ndim = subject.param.dim()
    positive = Call(method, {**drawn.kwargs, "dim": drawn.dim % ndim})
    negative = Call(method, {**drawn.kwargs, "dim": drawn.dim % ndim - ndim})
    seed = data.draw(hh.seeds(), label="seed")
    with hh.seeded(seed, device):
        positive(prune, subject.module, subject.name)
    with hh.seeded(seed, device):
        negative(prune, twin.module, twin.name)
    ck.expect_same_mask(measure.mask_or_ones(twin.module, twin.name),
                        measure.mask_or_ones(subject.module, subject.name), "STRUCT-3",
                        f"{negative} (seen) must prune as {positive} (expected) on "
                        f"{subject.source}.{subject.name}, both after torch.manual_seed({seed})")


def _low_dim_subjects(device: torch.device):
    """Subjects whose tensor has 0 or 1 dims: raw parameters, biases of layers."""
    return hh.subjects(device, kinds=("Holder", "Linear", "Conv1d", "LSTM"), min_dims=0).filter(
        lambda s: s.param.dim() < 2)


@pytest.mark.clause("STRUCT-4")
@pytest.mark.parametrize("method", STRUCTURED, ids=method_ids(STRUCTURED))
@given(data=st.data())
def test_fewer_than_two_dims_is_rejected(prune, device, method, data):
    subject = data.draw(_low_dim_subjects(device))
    # Arguments as for a 2-d tensor, with a dim that also names the tensor's only dim.
    kwargs = dict(data.draw(method.extra((1, 1)), label="arguments"))
    kwargs["dim"] = data.draw(st.sampled_from([-1, 0]), label="dim")
    kwargs["amount"] = data.draw(st.sampled_from([0, 0.0, 0.5, 1.0]), label="amount")
    call = Call(method, kwargs)
    what = f"{call} on {subject.source}.{subject.name} of shape {tuple(subject.param.shape)}"
    ck.expect_raises("STRUCT-4", ValueError,
                     lambda: call(prune, subject.module, subject.name), what)


@pytest.mark.clause("STRUCT-5")
@pytest.mark.parametrize("method", RANDOM, ids=method_ids(RANDOM))
@given(data=st.data())
def test_random_zeroes_k_whole_remaining_channels(prune, device, method, data):
    subject = data.draw(hh.subjects(device, min_dims=method.min_dims()))
    history = _maybe_pruned(prune, data, subject, hh.DISTINCT)
    call = data.draw(hh.calls(subject, [method]), label="call")
    what = _describe(subject, call, history)
    with hh.seeded(data.draw(hh.seeds(), label="seed"), device):
        s = _select(prune, subject, call, "STRUCT-5", what)
    _expect_whole_channels(s, call.amount, "STRUCT-5", what)


# --- the distribution of random_structured -----------------------------------------------------

UNIFORMITY = [
    Uniformity((3, 5), 2, dim=-1, seed=2101),  # 5 channels, 10 subsets
    Uniformity((6, 2), 0.5, dim=0, seed=2102),  # 6 channels, 20 subsets of 3
    # ln_structured prunes channel 0 (smallest norm): 5 remaining, 10 subsets
    Uniformity((2, 6), 2, dim=1, seed=2103,
               before=(("ln_structured", {"amount": 1, "n": 1, "dim": 1}),)),
]


@pytest.mark.clause("STRUCT-5")
@pytest.mark.parametrize(("method", "case"), uniformity_params(RANDOM, UNIFORMITY))
def test_random_structured_chooses_channels_uniformly(prune, device, method, case):
    """Each remaining channel is pruned with frequency k/n, each k-subset with 1/C(n, k) (trials
    and bounds: conformance.statistics.expect_uniform_choice)."""
    expect_uniform_choice(prune, device, method, case, "STRUCT-5")


# Not norm orders of STRUCT-2 (which admits 0, p > 0, inf, -inf and 'fro').
BAD_NORMS = ["nuc", "l2", None, 1 + 2j, -1.0, math.nan]


@pytest.mark.clause("STRUCT-6")
@pytest.mark.parametrize("n", BAD_NORMS, ids=[repr(n) for n in BAD_NORMS])
@given(data=st.data())
def test_invalid_norm_order_is_rejected(prune, device, n, data):
    """ValueError naming n, on a fresh tensor, module unchanged (ATOMIC-1 owns pruned tensors)."""
    subject = data.draw(hh.subjects(device, min_dims=2))
    drawn = data.draw(hh.calls(subject, [LN]), label="call")
    call = Call(LN, {**drawn.kwargs, "n": n})
    what = f"{call} on {subject.source}.{subject.name}"
    before = ck.ModuleSnapshot.take(subject.module)
    exc = ck.expect_raises("STRUCT-6", ValueError,
                           lambda: call(prune, subject.module, subject.name), what)
    ck.expect_unchanged(before, subject.module, "STRUCT-6", what)
    ck.expect_message_names(exc, n, "STRUCT-6", what)


def _constructor_arguments(data, method: Method, subject: models.Subject) -> dict:
    drawn = data.draw(hh.calls(subject, [method], importance_scores=False), label="arguments")
    amount = data.draw(hh.amounts(subject.param.shape[-1]), label="amount")  # of the last dim
    return {**{k: v for k, v in drawn.kwargs.items() if k != "dim"}, "amount": amount}


@pytest.mark.clause("STRUCT-7")
@pytest.mark.parametrize("method", STRUCTURED, ids=method_ids(STRUCTURED))
@given(data=st.data())
def test_class_defaults_to_the_last_dim(prune, device, method, data):
    """`Cls(amount[, n])` has dim=-1, exposes its arguments, and prunes channels of the last dim."""
    cls = getattr(prune, method.class_name)
    default = inspect.signature(cls).parameters.get("dim")
    ck.expect_equal(None if default is None else default.default, -1, "STRUCT-7",
                    f"default of {method.class_name}(..., dim)")
    subject = data.draw(hh.subjects(device, min_dims=method.min_dims()))
    arguments = _constructor_arguments(data, method, subject)
    spelled = ", ".join(f"{k}={v!r}" for k, v in arguments.items())
    instance = cls(**arguments)
    for attribute, value in {**arguments, "dim": -1}.items():
        ck.expect_equal(getattr(instance, attribute, "<missing>"), value, "STRUCT-7",
                        f"{method.class_name}({spelled}).{attribute}")
    t = subject.param.detach()
    ones = torch.ones_like(t)
    with hh.seeded(data.draw(hh.seeds(), label="seed"), device):
        mask = instance.compute_mask(t, ones)
    candidates, pruned = measure.newly_pruned(ones, mask, -1)
    s = ChannelSelection(ones, mask, t, -1, candidates, pruned)
    _expect_whole_channels(s, arguments["amount"], "STRUCT-7",
                           f"{method.class_name}({spelled}).compute_mask on the values of "
                           f"{subject.source}.{subject.name}")


@pytest.mark.clause("SELECT-4", "STRUCT-1", "COMPOSE-2")
@pytest.mark.parametrize("n", [1, 2])
@hh.fewer_examples(2)
@given(data=st.data())
def test_nan_channels_go_last_on_a_pruned_tensor(prune, device, n, data):
    """A second ln_structured call whose importance scores give some remaining channels a NaN
    norm, with an amount above the channels of numeric norm: every one of those is pruned, and
    the rest of the k from the NaN channels that remain, not from the channels pruned before."""
    subject = data.draw(hh.subjects(device, min_dims=2), label="subject")
    module, name, param = subject.module, subject.name, subject.param
    dim = data.draw(st.integers(-param.dim(), param.dim() - 1), label="dim")
    channels = param.shape[dim]
    first = data.draw(st.integers(1, channels), label="channels pruned first")
    prune.ln_structured(module, name, amount=first - 1, n=n, dim=dim)
    alive = measure.alive_channels(measure.mask_or_ones(module, name), dim).cpu()
    nan_channels = torch.tensor(data.draw(
        st.lists(st.booleans(), min_size=channels, max_size=channels), label="NaN channels"))
    numeric = int((alive & ~nan_channels).sum())
    if numeric == int(alive.sum()):
        nan_channels = alive.clone()  # at least one remaining NaN channel
        numeric = 0
    amount = data.draw(st.integers(numeric + 1, int(alive.sum())), label="amount")
    scores = torch.ones(param.shape, dtype=param.dtype)
    scores.movedim(dim, 0)[nan_channels] = math.nan
    scores = scores.to(param.device)
    listed = nan_channels.nonzero().flatten().tolist()
    what = (f"module = {subject.source}\nprune.ln_structured(module, {name!r}, amount={first - 1}"
            f", n={n}, dim={dim})\nprune.ln_structured(module, {name!r}, amount={amount}, n={n}, "
            f"dim={dim}, importance_scores=<NaN in channels {listed}, else 1.0>)")
    prune.ln_structured(module, name, amount=amount, n=n, dim=dim, importance_scores=scores)
    left = measure.alive_channels(measure.mask_or_ones(module, name), dim).cpu()
    ck.expect_equal(int((alive & ~left).sum()), amount, "STRUCT-1",
                    f"remaining channels pruned by the second call of\n{what}\n")
    ck.expect(not bool((left & ~nan_channels).any()), "SELECT-4",
              f"a channel of numeric norm remains after\n{what}\n(NaN norms rank last)")


@pytest.mark.clause("STRUCT-2", "SELECT-5")
@pytest.mark.parametrize("n", [1, 2, math.inf, 0])
@hh.fewer_examples(4)
@given(data=st.data())
def test_integer_importance_scores_are_normed_exactly(prune, device, n, data):
    """int64 importance scores rank channels by the norms of their values (in float64, exact for
    these), as float scores of the same values would."""
    subject = data.draw(hh.subjects(device, min_dims=2), label="subject")
    module, name, param = subject.module, subject.name, subject.param
    dim = data.draw(st.integers(-param.dim(), param.dim() - 1), label="dim")
    scores = data.draw(hh.integer_score_tensors(tuple(param.shape), param.device),
                       label="scores")
    amount = data.draw(st.integers(0, param.shape[dim]), label="amount")
    what = (f"module = {subject.source}\nprune.ln_structured(module, {name!r}, amount={amount}, "
            f"n={n}, dim={dim}, importance_scores={python_literal(scores)})")
    prune.ln_structured(module, name, amount=amount, n=n, dim=dim, importance_scores=scores)
    dim %= param.dim()
    others = [d for d in range(param.dim()) if d != dim]
    norms = torch.linalg.vector_norm(scores.double().cpu(), ord=n, dim=others)
    pruned = ~measure.alive_channels(measure.mask_or_ones(module, name), dim).cpu()
    ck.expect_equal(int(pruned.sum()), amount, "STRUCT-1", f"channels pruned by\n{what}\n")
    ck.expect_smallest_pruned(norms, torch.ones_like(pruned), pruned, "STRUCT-2",
                              f"channels along dim {dim}, by the norms of the integer scores; "
                              f"{what}", unit="channel")


@pytest.mark.clause("STRUCT-2")
@pytest.mark.parametrize(("dtype", "bump"), [(torch.float16, 2.0**-10), (torch.bfloat16, 2.0**-7)],
                         ids=["float16", "bfloat16"])
@hh.fewer_examples(4)
@given(data=st.data())
def test_low_precision_norms_are_compared_in_float32(prune, device, dtype, bump, data):
    """Two channels of ones, the first with one entry raised by an ulp: their L1 norms differ in
    float32 but round to one value in the tensor's dtype, where the tie rule would prune the
    first. The second, of smaller norm, must go."""
    problem = capabilities.dtype_problem(device, dtype)
    if problem:
        pytest.skip(problem)
    entries = data.draw(st.integers(8, 16), label="entries per channel")
    values = torch.ones(2, entries, dtype=torch.float64)
    values[0, data.draw(st.integers(0, entries - 1), label="raised entry")] += bump
    module = models.holder_of(values.to(device=device, dtype=dtype)).module
    prune.ln_structured(module, "weight", amount=1, n=1, dim=0)
    what = (f"module = Holder holding {python_literal(values.to(dtype))}\n"
            f"prune.ln_structured(module, 'weight', amount=1, n=1, dim=0)")
    kept = measure.alive_channels(measure.mask_or_ones(module, "weight"), 0).cpu()
    ck.expect_equal(kept.tolist(), [True, False], "STRUCT-2",
                    f"channels kept (the norms compared in float32) after\n{what}\n")
