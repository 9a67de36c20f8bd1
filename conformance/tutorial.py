"""The pruning tutorial, replayed against any implementation: `scripts/tutorial --impl IMPL`.

Walks the steps of PyTorch's pruning tutorial ("Pruning Tutorial" in the PyTorch tutorials; this
project grew from a Russian translation of it, which the repository does not ship): a LeNet, random
and L1 pruning of conv1, its parameters, buffers and hooks, iterative pruning and the container's
history, state_dict keys, `remove`, pruning by layer type, global pruning with per-layer and global
sparsity, and the tutorial's own `FooBarPruningMethod`.

Where the tutorial prints tensors, this prints what they show: names, shapes, dtypes, counts of
pruned entries and channels, hook types with their tensor names (never memory addresses or hook
ids). Every model is built right after `torch.manual_seed(seed)`, so the output depends on the
implementation's behaviour only, not on how many random numbers it drew: torch and a conforming
implementation print identical text, and `diff` of two runs shows where they differ. The
implementation, device and seed are named on stderr, so that stdout can be diffed as it is.

Exit status: 0 the walkthrough ran, 1 the implementation raised during it (the error is printed
under its section), 2 usage error (an unknown implementation or device).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import IO, Any

import torch
import torch.nn.functional as F
from torch import nn

from conformance import config, impl

PROG = "prune-conformance tutorial"
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
# Attributes a method object holds its arguments in (COMPOSE-4); others (a mask) are not printed.
METHOD_ARGUMENTS = ("amount", "n", "dim")


class LeNet(nn.Module):
    """The tutorial's model, as it defines it."""

    def __init__(self) -> None:
        super().__init__()
        # 1 input image channel, 6 output channels, 5x5 square conv kernel
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)  # 5x5 image dimension
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.view(-1, int(x.nelement() / x.shape[0]))
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


# --- how the tutorial's printouts are described ------------------------------------------------

def shape(t: torch.Tensor) -> str:
    return str(tuple(t.shape))


def tensors(pairs: Iterable[tuple[str, torch.Tensor]], dtype: bool = False) -> str:
    """`weight (6, 1, 5, 5), bias (6,)`: what `list(module.named_parameters())` shows, without
    the values."""
    described = [f"{name} {shape(t)}" + (f" {str(t.dtype).removeprefix('torch.')}" if dtype
                                         else "") for name, t in pairs]
    return ", ".join(described) if described else "(none)"


def zeros(t: torch.Tensor) -> int:
    return int((t == 0).sum())


def sparsity(count: int, total: int) -> str:
    return f"{100.0 * count / total:.2f}%"


def yes(condition: bool) -> str:
    return "yes" if condition else "NO"


def method_text(method: object) -> str:
    """`LnStructured(amount=0.5, n=2, dim=0)`: a method object's type and arguments."""
    args = [f"{a}={getattr(method, a)!r}" for a in METHOD_ARGUMENTS if hasattr(method, a)]
    return f"{type(method).__name__}({', '.join(args)})"


def hooks_text(prune: Any, module: nn.Module) -> str:
    """What `print(module._forward_pre_hooks)` shows, as types and tensor names, in order."""
    described = []
    for hook in module._forward_pre_hooks.values():
        name = getattr(hook, "_tensor_name", None)
        described.append(f"{type(hook).__name__} for {name!r}"
                         if isinstance(hook, prune.BasePruningMethod) else type(hook).__name__)
    return ", ".join(described) if described else "(none)"


def pruned_attribute(module: nn.Module, name: str) -> str:
    """`module.<name>` of a pruned tensor: what it is and whether it is orig * mask."""
    value = getattr(module, name)
    plain = (isinstance(value, torch.Tensor) and not isinstance(value, nn.Parameter)
             and name not in module._parameters and name not in module._buffers)
    orig, mask = getattr(module, f"{name}_orig"), getattr(module, f"{name}_mask")
    return (f"{name}: a plain tensor attribute: {yes(plain)}; equal to {name}_orig * {name}_mask:"
            f" {yes(torch.equal(value.detach(), (orig * mask).detach()))}; "
            f"{zeros(mask)} of {mask.numel()} entries pruned")


# --- the walkthrough ------------------------------------------------------------------------

class Walkthrough:
    """The tutorial's steps, in its order; `out` receives what it prints."""

    def __init__(self, prune: Any, device: torch.device, seed: int, out: IO[str]) -> None:
        self.prune = prune
        self.device = device
        self.seed = seed
        self.out = out
        self.model: LeNet | None = None

    def print(self, *lines: str) -> None:
        for line in lines:
            print(line, file=self.out)

    def heading(self, title: str, first: bool = False) -> None:
        self.print(*([] if first else [""]), f"== {title} ==")

    def lenet(self) -> LeNet:
        """A fresh LeNet drawn right after torch.manual_seed(seed): the same weights whatever the
        implementation drew before."""
        torch.manual_seed(self.seed)
        return LeNet().to(device=self.device)

    def sections(self) -> list[tuple[str, Callable[[], None]]]:
        return [
            ("The model: LeNet, its first convolution conv1", self.model_and_conv1),
            ("random_unstructured(conv1, name='weight', amount=0.3)", self.random_weight),
            ("l1_unstructured(conv1, name='bias', amount=3)", self.l1_bias),
            ("Iterative pruning: ln_structured(conv1, name='weight', amount=0.5, n=2, dim=0)",
             self.iterative),
            ("Serializing a pruned model: state_dict keys", self.state_dict),
            ("remove(conv1, 'weight'): making the pruning permanent", self.remove),
            ("Pruning by layer type: l1_unstructured 20% of Conv2d, 40% of Linear weights",
             self.by_layer_type),
            ("Global pruning: global_unstructured(L1Unstructured, amount=0.2)",
             self.global_pruning),
            ("A custom pruning method: FooBarPruningMethod on fc3.bias", self.custom_method),
        ]

    def model_and_conv1(self) -> None:
        self.model = self.lenet()
        module = self.model.conv1
        self.print(f"conv1 parameters: {tensors(module.named_parameters())}",
                   f"conv1 buffers: {tensors(module.named_buffers())}")

    def random_weight(self) -> None:
        module = self.conv1()
        self.prune.random_unstructured(module, name="weight", amount=0.3)
        self.print(f"conv1 parameters: {tensors(module.named_parameters())}",
                   f"conv1 buffers: {tensors(module.named_buffers(), dtype=True)}",
                   pruned_attribute(module, "weight"),
                   f"conv1 forward pre-hooks: {hooks_text(self.prune, module)}")

    def l1_bias(self) -> None:
        module = self.conv1()
        self.prune.l1_unstructured(module, name="bias", amount=3)
        self.print(f"conv1 parameters: {tensors(module.named_parameters())}",
                   f"conv1 buffers: {tensors(module.named_buffers(), dtype=True)}",
                   pruned_attribute(module, "bias"),
                   # L1 on the seeded bias: which entries go depends on the values alone.
                   f"bias_mask: {module.bias_mask.int().tolist()}",
                   f"conv1 forward pre-hooks: {hooks_text(self.prune, module)}")

    def iterative(self) -> None:
        module = self.conv1()
        before = module.weight_mask.detach().clone()
        self.prune.ln_structured(module, name="weight", amount=0.5, n=2, dim=0)
        mask = module.weight_mask.detach()
        channels = int((mask.sum(dim=(1, 2, 3)) == 0).sum())
        # Which entries and channels go depends on the random draws of random_unstructured, so
        # only counts and facts are printed.
        self.print(f"weight: {channels} of {mask.shape[0]} channels along dim 0 entirely pruned",
                   "entries pruned by random_unstructured stay pruned: "
                   + yes(bool((mask[before == 0] == 0).all())))
        hook = next(h for h in module._forward_pre_hooks.values()
                    if getattr(h, "_tensor_name", None) == "weight")
        self.print(f"the 'weight' hook: {type(hook).__name__}",
                   f"list(hook), the pruning history: [{', '.join(map(method_text, hook))}]",
                   f"conv1 forward pre-hooks: {hooks_text(self.prune, module)}")

    def state_dict(self) -> None:
        assert self.model is not None
        self.print("model.state_dict().keys():",
                   *(f"  {key}" for key in self.model.state_dict()))

    def remove(self) -> None:
        module = self.conv1()
        pruned = module.weight.detach().clone()
        self.print(f"before: conv1 parameters: {tensors(module.named_parameters())}",
                   f"before: conv1 buffers: {tensors(module.named_buffers())}")
        self.prune.remove(module, "weight")
        weight = module._parameters.get("weight")
        self.print(f"after: conv1 parameters: {tensors(module.named_parameters())}",
                   f"after: conv1 buffers: {tensors(module.named_buffers())}",
                   f"weight is a Parameter again: {yes(isinstance(weight, nn.Parameter))}; "
                   f"holds the pruned values: "
                   f"{yes(weight is not None and torch.equal(weight.detach(), pruned))}",
                   f"conv1 forward pre-hooks: {hooks_text(self.prune, module)}",
                   f"is_pruned(model): {self.prune.is_pruned(self.model)}")

    def by_layer_type(self) -> None:
        new_model = self.lenet()
        for _, module in new_model.named_modules():
            # prune 20% of connections in all 2D-conv layers
            if isinstance(module, torch.nn.Conv2d):
                self.prune.l1_unstructured(module, name="weight", amount=0.2)
            # prune 40% of connections in all linear layers
            elif isinstance(module, torch.nn.Linear):
                self.prune.l1_unstructured(module, name="weight", amount=0.4)
        self.print("dict(new_model.named_buffers()).keys(): "
                   + ", ".join(dict(new_model.named_buffers())))
        for name, module in new_model.named_children():
            mask = module.weight_mask
            self.print(f"{name}.weight: {zeros(mask)} of {mask.numel()} entries pruned "
                       f"({sparsity(zeros(mask), mask.numel())})")

    def global_pruning(self) -> None:
        model = self.lenet()
        parameters_to_prune = (
            (model.conv1, "weight"),
            (model.conv2, "weight"),
            (model.fc1, "weight"),
            (model.fc2, "weight"),
            (model.fc3, "weight"),
        )
        self.prune.global_unstructured(
            parameters_to_prune,
            pruning_method=self.prune.L1Unstructured,
            amount=0.2,
        )
        names = {id(m): n for n, m in model.named_children()}
        pruned = total = 0
        for module, name in parameters_to_prune:
            weight = getattr(module, name)
            pruned, total = pruned + zeros(weight), total + weight.nelement()
            self.print(f"Sparsity in {names[id(module)]}.{name}: "
                       f"{sparsity(zeros(weight), weight.nelement())}")
        self.print(f"Global sparsity: {sparsity(pruned, total)}",
                   f"pruned {pruned} of {total} weights")
        for module, _ in parameters_to_prune:
            self.print(f"{names[id(module)]} forward pre-hooks: {hooks_text(self.prune, module)}")

    def custom_method(self) -> None:
        prune = self.prune

        class FooBarPruningMethod(prune.BasePruningMethod):
            """Prune every other entry in a tensor"""

            PRUNING_TYPE = "unstructured"

            def compute_mask(self, t: torch.Tensor, default_mask: torch.Tensor) -> torch.Tensor:
                mask = default_mask.clone()
                mask.view(-1)[::2] = 0
                return mask

        def foobar_unstructured(module: nn.Module, name: str) -> nn.Module:
            FooBarPruningMethod.apply(module, name)
            return module

        model = self.lenet()
        foobar_unstructured(model.fc3, name="bias")
        self.print(f"fc3.bias_mask: {model.fc3.bias_mask.int().tolist()}",
                   f"fc3 forward pre-hooks: {hooks_text(prune, model.fc3)}")

    def conv1(self) -> nn.Module:
        assert self.model is not None, "the walkthrough's first section builds the model"
        return self.model.conv1

    def run(self) -> int:
        for index, (title, section) in enumerate(self.sections()):
            self.heading(title, first=index == 0)
            try:
                section()
            except Exception as exc:
                self.print(f"FAILED: {type(exc).__name__}: {exc}")
                return EXIT_FAILED
        return EXIT_OK


# --- the command line -----------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        allow_abbrev=False,
        prog="scripts/tutorial",
        description="Replay the PyTorch pruning tutorial against an implementation and print "
                    "what it shows (names, shapes, counts, hooks), comparable across "
                    "implementations with diff.")
    parser.add_argument("--impl", default=None,
                        help="torch, reference, a dotted module or a .py file "
                             f"(default: ${impl.ENV_VAR}, else {config.DEFAULT_IMPL})")
    parser.add_argument("--device", default="cpu", help="torch device string (default: cpu)")
    parser.add_argument("--seed", type=int, default=0,
                        help="torch.manual_seed before each model is built (default: 0)")
    return parser


def main(argv: Sequence[str] | None = None, out: IO[str] | None = None,
         err: IO[str] | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse has printed the usage error (or --help)
        return int(exc.code or 0)
    try:
        implementation = impl.load(config.chosen_impl(args.impl))
        device = config.usable_device(args.device)
    except config.UsageError as exc:
        print(f"{PROG}: error: {exc}", file=err)
        return EXIT_USAGE
    print(f"{PROG}: implementation {implementation.name} ({implementation.version}, "
          f"{implementation.file}), device {device}, seed {args.seed}", file=err)
    # The caller's random state is left as it was (main runs in-process in tests).
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        code = Walkthrough(implementation.namespace(), device, args.seed, out).run()
    out.flush()
    return code


if __name__ == "__main__":
    sys.exit(main())
