"""The modules properties prune: torch's layers and a plain module holding a raw parameter.

Every module is built from a few ints and a seed, so a failing example can be rebuilt in a repro
snippet from its `source` text alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn


class Holder(nn.Module):
    """A plain module with one raw parameter of any shape (0-d to 5-d); forward scales its input."""

    def __init__(self, *shape: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.weight


@dataclass(frozen=True)
class Kind:
    """A module kind: how to build it from sizes, which tensors it has, what input it takes."""

    name: str
    build: Callable[..., nn.Module]
    sizes: tuple[tuple[int, int], ...]  # (min, max) of each size argument
    tensors: tuple[str, ...]
    input_shape: Callable[..., tuple[int, ...]]
    source: Callable[..., str]


def _conv(n: int) -> Kind:
    cls = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}[n]
    return Kind(
        f"Conv{n}d",
        lambda cin, cout, k: cls(cin, cout, k),
        ((1, 4), (1, 6), (1, 3)),
        ("weight", "bias"),
        lambda cin, cout, k: (2, cin, *([k + 1] * n)),
        lambda cin, cout, k: f"nn.Conv{n}d({cin}, {cout}, {k})",
    )


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("Linear", lambda i, o: nn.Linear(i, o), ((1, 12), (1, 12)), ("weight", "bias"),
             lambda i, o: (3, i), lambda i, o: f"nn.Linear({i}, {o})"),
        _conv(1),
        _conv(2),
        _conv(3),
        Kind("Embedding", lambda n, d: nn.Embedding(n, d), ((1, 12), (1, 8)), ("weight",),
             lambda n, d: (4,), lambda n, d: f"nn.Embedding({n}, {d})"),
        Kind("LSTM", lambda i, h: nn.LSTM(i, h), ((1, 4), (1, 4)),
             ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"),
             lambda i, h: (2, 1, i), lambda i, h: f"nn.LSTM({i}, {h})"),
    )
}


class SelfAttention(nn.MultiheadAttention):
    """Self-attention over one input, so that it runs like the other kinds: `module(x)`. Its
    tensors are MultiheadAttention's own (`in_proj_weight`, `in_proj_bias`), read inside its
    forward after the pruning hook ran (unlike `out_proj.weight`, pytorch#69353)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return super().forward(x, x, x, need_weights=False)[0]


# Kinds drawn only where a property names them (`subjects(kinds=...)`): the WORKFLOW area's zoo
# has attention; the other areas' properties were written and timed without it.
EXTRA_KINDS: dict[str, Kind] = {
    "SelfAttention": Kind(
        "SelfAttention", lambda heads, width: SelfAttention(heads * width, heads),
        ((1, 2), (1, 4)), ("in_proj_weight", "in_proj_bias"),
        lambda heads, width: (3, 2, heads * width),
        lambda heads, width: f"SelfAttention({heads * width}, {heads})",
    ),
}


def kind_named(name: str) -> Kind:
    """A kind of KINDS or EXTRA_KINDS by name."""
    found = KINDS.get(name) or EXTRA_KINDS.get(name)
    if found is None:
        raise KeyError(f"no module kind {name!r}; kinds: {sorted({**KINDS, **EXTRA_KINDS})}")
    return found


@dataclass
class Subject:
    """A module with the tensor a property prunes, and a fixed input for its forward."""

    module: nn.Module
    name: str
    inputs: torch.Tensor
    source: str  # Python that rebuilds the module (before its values were set)

    @property
    def param(self) -> torch.Tensor:
        return getattr(self.module, self.name)

    def forward(self) -> torch.Tensor:
        out = self.module(self.inputs)
        return out[0] if isinstance(out, tuple) else out


def build(kind: str, sizes: tuple[int, ...], seed: int, dtype: torch.dtype,
          device: torch.device) -> tuple[nn.Module, torch.Tensor]:
    """The module and a matching input, both drawn from `seed` on the CPU then moved."""
    spec = kind_named(kind)
    generator_state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        module = spec.build(*sizes)
        shape = spec.input_shape(*sizes)
        embedding = kind == "Embedding"
        inputs = torch.randint(0, sizes[0], shape) if embedding else torch.randn(shape)
    finally:
        # Properties own their randomness: building a module must not move the global generator.
        torch.random.set_rng_state(generator_state)
    module = module.to(device=device, dtype=dtype)
    inputs = inputs.to(device) if kind == "Embedding" else inputs.to(device=device, dtype=dtype)
    return module, inputs


def holder(shape: tuple[int, ...], dtype: torch.dtype, device: torch.device) -> Subject:
    module = Holder(*shape).to(device=device, dtype=dtype)
    inputs = torch.ones(shape, dtype=dtype, device=device)
    return Subject(module, "weight", inputs, f"Holder{tuple(shape)!r}".replace(",)", ")"))


def holder_of(values: torch.Tensor) -> Subject:
    """A Holder whose weight is `values` as given (shape, dtype, device): for properties that build
    large tensors themselves rather than draw them."""
    module = Holder(1).to(device=values.device, dtype=values.dtype)
    module.weight = nn.Parameter(values)
    return Subject(module, "weight", torch.ones_like(values),
                   f"Holder{tuple(values.shape)!r}".replace(",)", ")"))


def numel(shape: tuple[int, ...]) -> int:
    return math.prod(shape)
