"""The benchmark workloads, run the same way by torch.nn.utils.prune and by reference.prune.

Every case starts from tie-free values (distinct magnitudes): SELECT-2 lets implementations break
ties as they like, so only on tie-free data must both prune exactly the same entries, and their
masks are compared exactly. A case builds fresh modules from those values for every run, so the
timed call always finds the same state.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType

import torch
from torch import nn

Shape = tuple[int, ...]
SEED = 0
ITERATIVE_ROUNDS = 5

# The float32 bit pattern of 1.0: the int32 patterns above it are increasing, distinct, finite
# floats (about a billion of them), so a permutation of them is tie-free data.
_ONE_BITS = 0x3F800000


@dataclass
class Workload:
    """One implementation's modules, ready for the timed call."""

    run: Callable[[], None]
    # The tensors that must be equal across implementations after `run` (masks, or values).
    outcome: Callable[[], list[torch.Tensor]]


@dataclass(frozen=True)
class Case:
    """A benchmark: the tensors it prunes (full and --quick sizes) and the call it times."""

    name: str
    description: str
    full: tuple[Shape, ...]
    quick: tuple[Shape, ...]
    prepare: Callable[[ModuleType, list[nn.Module]], Workload]
    # How the shapes become modules: one module per shape, or one MLP for all of them.
    build: Callable[[Sequence[Shape], torch.Tensor, str], list[nn.Module]]
    # Timed runs per implementation unless --repeats says otherwise: more where one run is short
    # and the ratio close to 1 (noise), fewer where a torch run takes seconds and gigabytes.
    repeats: int = 5

    def shapes(self, quick: bool) -> tuple[Shape, ...]:
        return self.quick if quick else self.full

    def entries(self, quick: bool) -> int:
        return sum(math.prod(shape) for shape in self.shapes(quick))

    def values(self, quick: bool) -> torch.Tensor:
        """The tie-free float32 values of all the case's tensors, one flat CPU tensor."""
        return distinct_values(self.entries(quick), SEED)

    def workload(
        self, prune: ModuleType, values: torch.Tensor, quick: bool, device: str
    ) -> Workload:
        """Fresh modules holding a copy of `values`, prepared for `prune`'s call."""
        return self.prepare(prune, self.build(self.shapes(quick), values, device))


def distinct_values(count: int, seed: int) -> torch.Tensor:
    """`count` float32 values of distinct magnitudes, in random order and with random signs."""
    generator = torch.Generator().manual_seed(seed)
    # An int32 permutation: torch's default int64 one would double the memory for 100M entries.
    bits = torch.randperm(count, generator=generator, dtype=torch.int32).add_(_ONE_BITS)
    signs = torch.randint(0, 2, (count,), generator=generator, dtype=torch.int8)
    return bits.view(torch.float32).mul_(signs.mul_(2).sub_(1))


def resnet50_shapes(width: int = 64, classes: int = 1000) -> tuple[Shape, ...]:
    """The weight shapes of ResNet-50's 53 convolutions and its classifier (25,502,912 entries).

    torchvision's layout: a 7x7 stem, then stages of 3, 4, 6 and 3 bottlenecks (1x1, 3x3, 1x1
    convolutions, 4x expansion, a 1x1 projection in each stage's first block). `width` scales it
    down for --quick.
    """
    shapes: list[Shape] = [(width, 3, 7, 7)]
    inplanes = width
    for blocks, planes in ((3, width), (4, 2 * width), (6, 4 * width), (3, 8 * width)):
        for block in range(blocks):
            shapes += [(planes, inplanes, 1, 1), (planes, planes, 3, 3), (4 * planes, planes, 1, 1)]
            if block == 0:
                shapes.append((4 * planes, inplanes, 1, 1))
            inplanes = 4 * planes
    shapes.append((classes, inplanes))
    return tuple(shapes)


def mlp_shapes(width: int, layers: int) -> tuple[Shape, ...]:
    """Weight and bias shapes of an MLP of `layers` square Linear layers."""
    return tuple(shape for _ in range(layers) for shape in ((width, width), (width,)))


def weight_modules(shapes: Sequence[Shape], values: torch.Tensor, device: str) -> list[nn.Module]:
    """One bias-free Linear (2-d shape) or Conv2d (4-d shape) per shape, holding `values`."""
    modules = []
    for shape in shapes:
        if len(shape) == 2:
            module = nn.utils.skip_init(nn.Linear, shape[1], shape[0], bias=False, device=device)
        else:
            module = nn.utils.skip_init(
                nn.Conv2d, shape[1], shape[0], shape[2:], bias=False, device=device
            )
        modules.append(module)
    _fill([module.weight for module in modules], values)
    return modules


def mlp_modules(shapes: Sequence[Shape], values: torch.Tensor, device: str) -> list[nn.Module]:
    """The Linear layers of an MLP whose (weight, bias) shapes are `shapes`, holding `values`."""
    layers = [
        nn.utils.skip_init(nn.Linear, weight[1], weight[0], device=device)
        for weight in shapes[::2]
    ]
    _fill([p for layer in layers for p in (layer.weight, layer.bias)], values)
    return layers


def _fill(parameters: list[torch.Tensor], values: torch.Tensor) -> None:
    """Copy consecutive pieces of the flat `values` into `parameters`."""
    pieces = values.split([p.numel() for p in parameters])
    with torch.no_grad():
        for parameter, piece in zip(parameters, pieces, strict=True):
            parameter.copy_(piece.view_as(parameter))


def _masks(modules: list[nn.Module]) -> list[torch.Tensor]:
    return [buffer for module in modules for _, buffer in module.named_buffers()]


def l1_workload(prune: ModuleType, modules: list[nn.Module]) -> Workload:
    (module,) = modules
    return Workload(
        run=lambda: prune.l1_unstructured(module, "weight", amount=0.5),
        outcome=lambda: _masks(modules),
    )


def ln_workload(prune: ModuleType, modules: list[nn.Module]) -> Workload:
    (module,) = modules
    return Workload(
        run=lambda: prune.ln_structured(module, "weight", amount=0.5, n=2, dim=0),
        outcome=lambda: _masks(modules),
    )


def global_workload(prune: ModuleType, modules: list[nn.Module]) -> Workload:
    pairs = [(module, "weight") for module in modules]

    def run() -> None:
        prune.global_unstructured(pairs, pruning_method=prune.L1Unstructured, amount=0.5)

    return Workload(
        run=run,
        outcome=lambda: _masks(modules),
    )


def iterative_workload(prune: ModuleType, modules: list[nn.Module]) -> Workload:
    (module,) = modules

    def run() -> None:
        for _ in range(ITERATIVE_ROUNDS):
            prune.l1_unstructured(module, "weight", amount=0.2)

    return Workload(run=run, outcome=lambda: _masks(modules))


def remove_workload(prune: ModuleType, modules: list[nn.Module]) -> Workload:
    """Every tensor pruned (untimed) by a mask fixed by its values; the timed call removes all."""
    pairs = [(module, name) for module in modules for name, _ in module.named_parameters()]
    for module, name in pairs:
        # Even bit patterns are kept: about half of the entries, the same for both implementations.
        keep = getattr(module, name).detach().view(torch.int32).bitwise_and(1).eq(0)
        prune.custom_from_mask(module, name, mask=keep)

    def run() -> None:
        for module, name in pairs:
            prune.remove(module, name)

    return Workload(
        run=run, outcome=lambda: [getattr(module, name).detach() for module, name in pairs]
    )


_MLP_FULL = mlp_shapes(4096, 6)  # 100,687,872 parameters
_MLP_QUICK = mlp_shapes(32, 3)

CASES = (
    Case("l1_1M", "l1_unstructured, 1024x1024 Linear weight, amount 0.5",
         ((1024, 1024),), ((32, 32),), l1_workload, weight_modules, repeats=15),
    Case("l1_16M", "l1_unstructured, 4096x4096 Linear weight, amount 0.5",
         ((4096, 4096),), ((64, 64),), l1_workload, weight_modules),
    Case("l1_64M", "l1_unstructured, 8192x8192 Linear weight, amount 0.5",
         ((8192, 8192),), ((128, 64),), l1_workload, weight_modules, repeats=3),
    Case("ln_conv", "ln_structured n=2 dim=0, 512x512x3x3 Conv2d weight, amount 0.5",
         ((512, 512, 3, 3),), ((16, 16, 3, 3),), ln_workload, weight_modules, repeats=25),
    Case("ln_linear", "ln_structured n=2 dim=0, 16384x4096 Linear weight, amount 0.5",
         ((16384, 4096),), ((64, 32),), ln_workload, weight_modules, repeats=9),
    Case("global_resnet50", "global_unstructured L1, ResNet-50 conv+fc weights, amount 0.5",
         resnet50_shapes(), resnet50_shapes(width=2, classes=10), global_workload,
         weight_modules, repeats=3),
    Case("global_mlp_100M", "global_unstructured L1, weights of a 6x4096x4096 MLP, amount 0.5",
         _MLP_FULL, _MLP_QUICK, global_workload, mlp_modules, repeats=3),
    Case("iterative_l1_16M", "5 rounds of l1_unstructured amount 0.2, 4096x4096 weight",
         ((4096, 4096),), ((64, 64),), iterative_workload, weight_modules, repeats=3),
    Case("remove_100M", "remove() of every pruned tensor of a 100M-parameter MLP",
         _MLP_FULL, _MLP_QUICK, remove_workload, mlp_modules, repeats=3),
)
CASES_BY_NAME = {case.name: case for case in CASES}
