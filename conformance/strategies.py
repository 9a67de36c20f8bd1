"""Hypothesis strategies: dtypes, shapes, score tensors, layouts, modules, amounts and calls.

Every random choice is a Hypothesis draw, so each failure replays and shrinks. Sizes are bounded by
`limits.max_numel` (the `--max-numel` option) so the default run stays fast.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch
from hypothesis import strategies as st

from conformance import checks as ck
from conformance import models
from conformance.registry import METHODS, Call, Method


@dataclass
class Limits:
    """Size bounds for generated tensors; the plugin sets them from its options."""

    max_numel: int = 240
    max_side: int = 8


limits = Limits()

FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
# Magnitudes 1..n are exact in every float dtype up to 256 (bfloat16 has 8 significant bits).
_EXACT_INTS = 256


def dtypes() -> st.SearchStrategy[torch.dtype]:
    return st.sampled_from(FLOAT_DTYPES)


def shapes(
    min_dims: int = 1, max_dims: int = 5, min_side: int = 1,
) -> st.SearchStrategy[tuple[int, ...]]:
    """Shapes whose element count stays within the limits; size-1 dims included."""
    cap = min(limits.max_numel, _EXACT_INTS)
    return st.lists(
        st.integers(min_side, limits.max_side), min_size=min_dims, max_size=max_dims
    ).map(tuple).filter(lambda s: math.prod(s) <= cap)


# Value modes of `score_tensors`.
DISTINCT = "distinct"  # no two entries of equal magnitude: selection is fully determined
TIES = "ties"  # few magnitudes, zeros and signed zeros: many ties
SPECIAL = "special"  # ties plus NaN and +-inf


@st.composite
def score_values(draw: st.DrawFn, shape: tuple[int, ...], mode: str = DISTINCT) -> list[float]:
    n = math.prod(shape)
    if mode == DISTINCT:
        magnitudes = draw(st.permutations(range(1, n + 1)))
        signs = draw(st.lists(st.sampled_from((1.0, -1.0)), min_size=n, max_size=n))
        return [s * m for s, m in zip(signs, magnitudes, strict=True)]
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
def score_tensors(
    draw: st.DrawFn, shape: tuple[int, ...], dtype: torch.dtype, device: torch.device,
    mode: str = DISTINCT, layouts: tuple[str, ...] = ("contiguous",),
) -> torch.Tensor:
    values = draw(score_values(shape, mode))
    t = torch.tensor(values, dtype=torch.float64).reshape(shape).to(device=device, dtype=dtype)
    return with_layout(t, draw(st.sampled_from(layouts)))


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
    dtype = dtype or draw(dtypes())
    choices = kinds or ("Holder", *models.KINDS)
    kind = draw(st.sampled_from(choices))
    if kind == "Holder":
        subject = models.holder(draw(shapes(min_dims=max(min_dims, 0))), dtype, device)
    else:
        spec = models.KINDS[kind]
        sizes = tuple(draw(st.integers(lo, hi)) for lo, hi in spec.sizes)
        names = [n for n in spec.tensors]
        module, inputs = models.build(kind, sizes, draw(st.integers(0, 2**16)), dtype, device)
        names = [n for n in names if getattr(module, n).dim() >= min_dims
                 and getattr(module, n).numel() <= _EXACT_INTS]
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
        mask = ck.mask_or_ones(subject.module, subject.name)
        kwargs = {"amount": draw(amounts(ck.remaining_units(mask, kwargs.get("dim")))), **kwargs}
    if importance_scores and method.takes_importance_scores and draw(st.booleans()):
        kwargs["importance_scores"] = draw(
            score_tensors(shape, subject.param.dtype, device, mode))
    return Call(method, kwargs)
