"""Hypothesis strategies: dtypes, shapes, score tensors, layouts, modules, amounts and calls.

Every random choice is a Hypothesis draw, so each failure replays and shrinks. Sizes are bounded by
`limits.max_numel` (the `--max-numel` option) so the default run stays fast.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch
from hypothesis import Phase, settings
from hypothesis import strategies as st

from conformance import capabilities, measure, models
from conformance.registry import METHODS, Call, Method


@dataclass
class Limits:
    """Size bounds for generated tensors; the plugin sets them from its options."""

    max_numel: int = 240
    max_side: int = 8

    def set_max_numel(self, value: int) -> None:
        """--max-numel, checked: 1..MAX_NUMEL."""
        self.check_max_numel(value)
        self.max_numel = value

    @staticmethod
    def check_max_numel(value: int) -> None:
        if not 1 <= value <= MAX_NUMEL:
            raise ValueError(
                f"--max-numel {value} is outside 1..{MAX_NUMEL}: distinct values of more entries "
                f"span more than 2**30 in bfloat16, where channel norms overflow and tie")


limits = Limits()

FLOAT_DTYPES = capabilities.FLOAT_DTYPES
# The largest --max-numel: DISTINCT values of that many entries stay within 2**30 in bfloat16
# (128 values per binade past the 256 exact integers), so norms and products stay finite.
MAX_NUMEL = 4096


def dtypes(device: torch.device | str | None = None) -> st.SearchStrategy[torch.dtype]:
    """The float dtypes; with `device`, those it computes (`conformance.capabilities`)."""
    if device is None:
        return st.sampled_from(FLOAT_DTYPES)
    supported = capabilities.supported_dtypes(device)
    if not supported:
        raise RuntimeError(f"{device} computes none of the float dtypes {FLOAT_DTYPES}: "
                           + "; ".join(capabilities.dtype_problems(device)))
    return st.sampled_from(supported)


def shapes(
    min_dims: int = 1, max_dims: int = 5, min_side: int = 1,
) -> st.SearchStrategy[tuple[int, ...]]:
    """Shapes whose element count stays within the limits; size-1 dims included."""
    cap = limits.max_numel
    return st.lists(
        st.integers(min_side, limits.max_side), min_size=min_dims, max_size=max_dims
    ).map(tuple).filter(lambda s: math.prod(s) <= cap)


# Value modes of `score_tensors`.
DISTINCT = "distinct"  # no two entries of equal magnitude: selection is fully determined
TIES = "ties"  # few magnitudes, zeros and signed zeros: many ties
SPECIAL = "special"  # ties plus NaN and +-inf


def exact_magnitudes(n: int, dtype: torch.dtype) -> list[float]:
    """n distinct positive magnitudes that `dtype` represents exactly, so that they stay distinct
    once cast: the integers 1..n where the dtype holds them all (up to 256 in bfloat16, 2048 in
    float16), else the n consecutive representable values from 1.0 up."""
    # eps = 2**-(stored mantissa bits): integers are exact up to 2**(bits + 1).
    if n <= 2 / torch.finfo(dtype).eps:
        return [float(i) for i in range(1, n + 1)]
    one = torch.ones(1, dtype=dtype)
    as_int = {2: torch.int16, 4: torch.int32, 8: torch.int64}[one.element_size()]
    # Positive floats order like their bit patterns: consecutive patterns, consecutive values.
    bits = one.view(as_int) + torch.arange(n, dtype=as_int)
    return bits.view(dtype).double().tolist()


@st.composite
def distinct_values(draw: st.DrawFn, n: int, dtype: torch.dtype = torch.float64) -> list[float]:
    """n signed values whose magnitudes are pairwise distinct in `dtype` (`exact_magnitudes`)."""
    magnitudes = draw(st.permutations(exact_magnitudes(n, dtype)))
    signs = draw(st.lists(st.sampled_from((1.0, -1.0)), min_size=n, max_size=n))
    return [s * m for s, m in zip(signs, magnitudes, strict=True)]


def make_jointly_distinct(draw: Callable[..., Any], params: Sequence[torch.Tensor]) -> None:
    """Give the tensors of one global call magnitudes distinct over all of them, in their dtype:
    each tensor's own DISTINCT values repeat the others' (1..n each), which ties the
    concatenated scores that global pruning ranks."""
    total = sum(p.numel() for p in params)
    coarsest = max((p.dtype for p in params), key=lambda d: torch.finfo(d).eps)
    values = torch.tensor(draw(distinct_values(total, coarsest), label="joint values"),
                          dtype=torch.float64)
    with torch.no_grad():
        for param, part in zip(params, values.split([p.numel() for p in params]), strict=True):
            param.copy_(part.reshape(param.shape))


@st.composite
def score_values(draw: st.DrawFn, shape: tuple[int, ...], mode: str = DISTINCT,
                 dtype: torch.dtype = torch.bfloat16) -> list[float]:
    """Values for a tensor of `shape`; DISTINCT ones are distinct in `dtype` (by default the
    coarsest float dtype, so in every one)."""
    n = math.prod(shape)
    if mode == DISTINCT:
        return draw(distinct_values(n, dtype))
    pool = [0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5]
    if mode == SPECIAL:
        pool += [math.nan, math.inf, -math.inf]
    return draw(st.lists(st.sampled_from(pool), min_size=n, max_size=n))


# Layouts are drawn only by the DEVICE-8 properties; the others use contiguous tensors so that a
# layout bug is reported once, under its own clause, instead of failing every property.
LAYOUTS = ("contiguous", "transposed", "channels_last")


def with_layout(t: torch.Tensor, layout: str) -> torch.Tensor:
    """The same logical values in another memory layout."""
    if layout == "transposed" and t.dim() >= 2:
        return t.transpose(0, -1).contiguous().transpose(0, -1)
    if layout == "channels_last" and t.dim() == 4:
        return t.contiguous(memory_format=torch.channels_last)
    if layout == "channels_last" and t.dim() == 5:
        return t.contiguous(memory_format=torch.channels_last_3d)
    return t.contiguous()


@st.composite
def integer_score_tensors(draw: st.DrawFn, shape: tuple[int, ...], device: torch.device,
                          ) -> torch.Tensor:
    """int64 importance scores of `shape`, small enough to tie now and then (SELECT-3)."""
    numel = math.prod(shape)
    values = draw(st.lists(st.integers(-20, 20), min_size=numel, max_size=numel))
    return torch.tensor(values, dtype=torch.int64, device=device).reshape(shape)


@st.composite
def score_tensors(
    draw: st.DrawFn, shape: tuple[int, ...], dtype: torch.dtype, device: torch.device,
    mode: str = DISTINCT, layouts: tuple[str, ...] = ("contiguous",),
) -> torch.Tensor:
    values = draw(score_values(shape, mode, dtype))
    t = torch.tensor(values, dtype=torch.float64).reshape(shape).to(device=device, dtype=dtype)
    return with_layout(t, draw(st.sampled_from(layouts)))


@st.composite
def tied_channel_tensors(
    draw: st.DrawFn, shape: tuple[int, ...], dim: int, dtype: torch.dtype, device: torch.device,
) -> torch.Tensor:
    """TIES values whose channels along `dim` repeat a few patterns, each copy shuffled: channels
    with equal norms of every order, where tie-breaking decides a structured mask (SELECT-3)."""
    dim = dim % len(shape)
    inner = shape[:dim] + shape[dim + 1:]
    count = draw(st.integers(1, max(1, shape[dim] // 2)), label="patterns")
    patterns = [draw(score_values(inner, TIES)) for _ in range(count)]
    channels = [
        torch.tensor(draw(st.permutations(patterns[draw(st.integers(0, count - 1))])),
                     dtype=torch.float64).reshape(inner)
        for _ in range(shape[dim])
    ]
    return torch.stack(channels, dim=dim).to(device=device, dtype=dtype)


@st.composite
def subjects(
    draw: st.DrawFn, device: torch.device, *, mode: str = DISTINCT,
    dtype: torch.dtype | None = None, kinds: tuple[str, ...] | None = None,
    min_dims: int = 1, layouts: tuple[str, ...] = ("contiguous",),
) -> models.Subject:
    """A module with one tensor to prune, its values set by `mode`.

    Kinds are torch's layers (Linear, Conv1d/2d/3d, Embedding, LSTM) and `Holder`, a plain module
    with a raw parameter of any shape. `min_dims=0` admits 0-d parameters.
    """
    dtype = dtype or draw(dtypes(device))
    choices = kinds or ("Holder", *models.KINDS)
    kind = draw(st.sampled_from(choices))
    if kind == "Holder":
        subject = models.holder(draw(shapes(min_dims=max(min_dims, 0))), dtype, device)
    else:
        spec = models.kind_named(kind)
        sizes = tuple(draw(st.integers(lo, hi)) for lo, hi in spec.sizes)
        names = [n for n in spec.tensors]
        module, inputs = models.build(kind, sizes, draw(st.integers(0, 2**16)), dtype, device)
        names = [n for n in names if getattr(module, n).dim() >= min_dims
                 and getattr(module, n).numel() <= limits.max_numel]
        if not names:
            subject = models.holder(draw(shapes(min_dims=max(min_dims, 1))), dtype, device)
        else:
            subject = models.Subject(module, draw(st.sampled_from(names)), inputs,
                                     spec.source(*sizes))
    param = subject.param
    values = draw(score_tensors(tuple(param.shape), dtype, device, mode, layouts=("contiguous",)))
    with torch.no_grad():
        param.copy_(values)
    layout = draw(st.sampled_from(layouts))
    if layout != "contiguous" and param.dim() >= 2:
        # Re-lay the same Parameter object's storage; the module keeps its parameter.
        param.data = with_layout(param.data, layout)
    return subject


def relaid_subjects(device: torch.device, layout: str, dtype: torch.dtype | None = None,
                    ) -> st.SearchStrategy[models.Subject]:
    """Contiguous subjects whose tensor `with_layout(..., layout)` really re-lays (size-1 dims can
    leave a transposed or channels_last tensor contiguous); the caller applies the layout."""
    if layout == "channels_last":
        strategy = subjects(device, dtype=dtype, kinds=("Holder", "Conv2d", "Conv3d"), min_dims=4)
    else:
        strategy = subjects(device, dtype=dtype, min_dims=2)
    return strategy.filter(lambda s: not with_layout(s.param.detach(), layout).is_contiguous())


def seeds() -> st.SearchStrategy[int]:
    """Seeds for `torch.manual_seed`, drawn by Hypothesis so that a failure replays."""
    return st.integers(0, 2**32 - 1)


@contextmanager
def seeded(seed: int, device: torch.device) -> Iterator[None]:
    """Run the block with torch's generators seeded by `seed` (the CPU's and `device`'s).

    The generators' states are restored afterwards: a property leaves no trace in torch's random
    state, so no other property depends on the order they run in.
    """
    devices = [] if device.type == "cpu" else [device]
    with torch.random.fork_rng(devices=devices, device_type=device.type):
        torch.manual_seed(seed)
        yield


# A run for its verdict only, without shrinking: known departures (array-api-tests spent minutes
# shrinking known failures; the example budget stays, so that strictness does not flake), mutants,
# and the properties over millions of entries, whose draws are seeds and small pools.
VERDICT_PHASES = (Phase.explicit, Phase.reuse, Phase.generate)


def fewer_examples(divisor: int, floor: int = 3, *, shrink: bool = True) -> settings:
    """The current profile with its example budget divided by `divisor` (at least `floor`).

    For a property parametrized over many catalogue entries where each parametrization checks one
    cheap rule: the profiles keep their meaning (thorough still means more) within the time budget.
    Use as a decorator beside @given; it reads the profile when the test module is imported, which
    is after the plugin loaded it. With `shrink=False` a failure is reported as first found.
    """
    budget = max(floor, settings.default.max_examples // divisor)
    return settings(max_examples=budget, **({} if shrink else {"phases": VERDICT_PHASES}))


def amounts(units: int) -> st.SearchStrategy[int | float]:
    """Valid amounts for `units` remaining units: boundaries, exact half-way fractions, the rest."""
    ints = st.one_of(st.sampled_from(sorted({0, min(1, units), units})), st.integers(0, units))
    floats = st.one_of(
        st.sampled_from([0.0, 1.0]),
        st.floats(0.0, 1.0, allow_nan=False),
    )
    if units > 0:
        halves = st.integers(0, units - 1).map(lambda j: (j + 0.5) / units)
        floats = st.one_of(floats, halves)
    return st.one_of(ints, floats)


def half_way_fractions(units: int) -> st.SearchStrategy[float]:
    """Float amounts a with a * units exactly j + 0.5: with j even, half-to-even rounds down where
    half-up rounds up (0.5 of 5); with j odd it rounds up where a floor rounds down (0.5 of 3).
    0.0 when `units` admits none."""
    candidates = [(j + 0.5) / units for j in range(units)] if units else []
    exact = [a for a in candidates if a <= 1.0 and (a * units) % 1 == 0.5]
    return st.sampled_from(exact) if exact else st.just(0.0)


def interior_counts(units: int) -> st.SearchStrategy[int]:
    """Int amounts that prune some but not all of `units`, so a threshold can split a tie (a count
    of 0 or `units` leaves no choice to make); 0 where there is no such count."""
    return st.integers(1, units - 1) if units >= 2 else st.just(0)


def tie_splitting_counts(scores: list[float]) -> st.SearchStrategy[int]:
    """Int amounts whose threshold falls inside a group of equal `scores` (one per remaining unit,
    NaN ranking largest), where tie-breaking decides the mask; else `interior_counts`."""
    keys = sorted((math.isnan(v), 0.0 if math.isnan(v) else v) for v in scores)
    splits = [k for k in range(1, len(keys)) if keys[k - 1] == keys[k]]
    return st.sampled_from(splits) if splits else interior_counts(len(keys))


@dataclass(frozen=True)
class BadAmount:
    """An amount the spec rejects, the error it gets and the clause that says so."""

    value: Any
    error: type[BaseException]
    clause: str
    note: str = field(default="", compare=False)


def bad_amounts(units: int) -> list[BadAmount]:
    return [
        BadAmount(-1, ValueError, "AMOUNT-5"),
        BadAmount(-0.25, ValueError, "AMOUNT-5"),
        BadAmount(1.5, ValueError, "AMOUNT-5"),
        BadAmount(math.inf, ValueError, "AMOUNT-5"),
        BadAmount(-math.inf, ValueError, "AMOUNT-5"),
        BadAmount(units + 1, ValueError, "AMOUNT-6"),
        BadAmount("0.5", TypeError, "AMOUNT-7"),
        BadAmount(None, TypeError, "AMOUNT-7"),
        BadAmount([0.5], TypeError, "AMOUNT-7"),
        BadAmount(True, TypeError, "AMOUNT-8"),
        BadAmount(False, TypeError, "AMOUNT-8"),
        BadAmount(math.nan, ValueError, "AMOUNT-9"),
    ]


@st.composite
def calls(
    draw: st.DrawFn, subject: models.Subject, methods: list[Method] | None = None,
    importance_scores: bool = True, mode: str = DISTINCT,
) -> Call:
    """A valid call of a method that applies to the subject's tensor, given its current mask."""
    shape = tuple(subject.param.shape)
    pool = [m for m in (methods or list(METHODS.values())) if m.applies_to(shape)]
    method = draw(st.sampled_from(pool))
    kwargs: dict[str, Any] = dict(draw(method.extra(shape)))
    device = subject.param.device
    if "mask" in kwargs:
        kwargs["mask"] = kwargs["mask"].to(device)
    if method.takes_amount:
        mask = measure.mask_or_ones(subject.module, subject.name)
        remaining = measure.remaining_units(mask, kwargs.get("dim"))
        kwargs = {"amount": draw(amounts(remaining)), **kwargs}
    if importance_scores and method.takes_importance_scores and draw(st.booleans()):
        kwargs["importance_scores"] = draw(
            score_tensors(shape, subject.param.dtype, device, mode))
    return Call(method, kwargs)


@dataclass(frozen=True)
class Applied:
    """A call made on a subject under `torch.manual_seed(seed)` (random methods replay)."""

    call: Call
    seed: int

    def source(self, module: str = "module", name: str = "weight") -> str:
        return f"torch.manual_seed({self.seed}); {self.call.source(module, name)}"

    def __repr__(self) -> str:
        return self.source()

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        # Hypothesis prints draws with its pretty printer, which would spell out the dataclass.
        printer.text(repr(self))


@st.composite
def applied_calls(
    draw: st.DrawFn, prune: Any, subject: models.Subject, min_calls: int = 1, max_calls: int = 3,
    *, methods: list[Method] | None = None, mode: str = DISTINCT,
) -> list[Applied]:
    """Prune the subject's tensor by min..max valid calls (any registry method by default, each
    drawn for the mask the previous ones left), each under a drawn seed; the calls made."""
    done = []
    for _ in range(draw(st.integers(min_calls, max_calls), label="calls")):
        applied = Applied(draw(calls(subject, methods, mode=mode), label="call"),
                          draw(seeds(), label="seed"))
        with seeded(applied.seed, subject.param.device):
            applied.call(prune, subject.module, subject.name)
        done.append(applied)
    return done


@dataclass
class GlobalTargets:
    """The tensors of one `global_unstructured` call: 1-4 modules of one dtype, perhaps two
    tensors of one module (a Linear's weight and bias), never one (module, name) pair twice; some
    pruned by earlier calls (`earlier`, as source)."""

    subjects: list[models.Subject]
    earlier: list[str]
    labels: dict[int, str]  # id(module) -> its name in repro text, m0, m1, ...

    @property
    def pairs(self) -> list[tuple[torch.nn.Module, str]]:
        return [(s.module, s.name) for s in self.subjects]

    def remaining(self) -> int:
        """Remaining entries over all the tensors: the n of GLOBAL-1."""
        return sum(measure.remaining_units(measure.mask_or_ones(s.module, s.name), None)
                   for s in self.subjects)

    def label(self, subject: models.Subject) -> str:
        return f"{self.labels[id(subject.module)]}.{subject.name}"

    def pairs_source(self) -> str:
        return "[" + ", ".join(f"({self.labels[id(s.module)]}, {s.name!r})"
                               for s in self.subjects) + "]"

    def __repr__(self) -> str:
        built: dict[int, str] = {}
        for s in self.subjects:
            built.setdefault(id(s.module), f"{self.labels[id(s.module)]} = {s.source}")
        return "\n".join([*built.values(), *self.earlier])

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


@st.composite
def global_targets(
    draw: st.DrawFn, prune: Any, device: torch.device, *, mode: str = DISTINCT,
    dtype: torch.dtype | None = None, max_count: int = 4, earlier: bool = True,
) -> GlobalTargets:
    """Targets for `global_unstructured`; with `earlier`, each tensor pruned by 0-2 valid calls
    of any method (random ones under a drawn seed) before, so existing masks come into play."""
    dtype = dtype or draw(dtypes(device), label="dtype")
    count = draw(st.integers(1, max_count), label="modules")
    chosen = [draw(subjects(device, mode=mode, dtype=dtype, min_dims=0), label=f"m{i}")
              for i in range(count)]
    if draw(st.booleans(), label="a second tensor of one module"):
        host = draw(st.sampled_from(chosen))
        others = [n for n, p in host.module.named_parameters(recurse=False)
                  if n != host.name and p.numel() <= limits.max_numel]
        if others:
            second = models.Subject(host.module, draw(st.sampled_from(others)), host.inputs,
                                    host.source)
            with torch.no_grad():
                second.param.copy_(draw(score_tensors(
                    tuple(second.param.shape), dtype, device, mode)))
            chosen.append(second)
    if mode == DISTINCT:
        make_jointly_distinct(draw, [s.param for s in chosen])
    labels: dict[int, str] = {}
    for s in chosen:
        labels.setdefault(id(s.module), f"m{len(labels)}")
    done: list[str] = []
    if earlier:
        prune_earlier(draw, prune, chosen, labels, done, mode=mode)
    order = draw(st.permutations(chosen), label="order of the pairs")
    return GlobalTargets(list(order), done, labels)


def prune_earlier(draw: st.DrawFn, prune: Any, subjects: list[models.Subject],
                  labels: dict[int, str], done: list[str], *, min_calls: int = 0,
                  mode: str = DISTINCT) -> None:
    """Each subject pruned by min_calls-2 valid calls (global_targets' earlier calls, or a
    property's after it set the modules up), their source appended to `done`."""
    for s in subjects:
        done += pruned_by_calls(draw, prune, s, min_calls, 2, labels[id(s.module)], mode=mode)


def pruned_by_calls(draw: st.DrawFn, prune: Any, subject: models.Subject, min_calls: int,
                    max_calls: int, module: str = "module", *, mode: str = DISTINCT,
                    ) -> list[str]:
    """The subject pruned by min..max valid calls (applied_calls); their source, the module
    named `module`."""
    return [a.source(module, subject.name)
            for a in draw(applied_calls(prune, subject, min_calls, max_calls, mode=mode),
                          label="earlier calls")]
