"""The repro snippet of a failed pruning session (`conformance.stateful`): torch and the
implementation alone.

The snippet builds the session's model from literals, makes exactly the steps the session made up
to the failing one, then asserts that the model is what SPEC.md's reference leaves after the same
steps: the pruning hooks of each module, every tensor of its state_dict, the gradients, and the
forward output, within the dtype's rounding. The failing step (or check) gives the assertion's
clause and message. The snippet is run twice before it is offered: it must pass with the reference
and fail with the implementation; `render` returns None where it does not (a check of object
identity, say), and the run report then replays the property through the kit.

Helpers the steps call (`forward_output`, `sgd_step`, the tutorial's `FooBarPruningMethod`,
`Holder`) are the kit's own functions, copied by `inspect.getsource` into the snippets that use
them, so that they are written once.
"""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Callable, Sequence
from typing import Any

import torch

from conformance import models
from conformance.source import import_line, literal

# Where the dtype rounds: gradients and values after an SGD step may differ by a few steps of it.
_TOLERANCE = {torch.float16: 1e-2, torch.bfloat16: 5e-2, torch.float32: 1e-5}

DESCRIBED = '''def described(model):
    """What the snippet compares: pruning hooks, the state_dict, the gradients."""
    hooks = {k: [type(h).__name__ for h in m._forward_pre_hooks.values()]
             for k, m in model.named_children()}
    state = {k: v.detach().cpu().double() for k, v in model.state_dict().items()}
    grads = {n: p.grad.detach().cpu().double() for n, p in model.named_parameters()
             if p.grad is not None}
    return hooks, state, grads
'''


def helpers(body: str, sources: dict[str, Callable[[], str]]) -> list[str]:
    """The definitions of the helpers `body` names, in the order of `sources`."""
    return [sources[name]() for name in sources if f"{name}(" in body or f"{name}." in body]


def _expectations(space: dict[str, Any], dtype: torch.dtype, message: str) -> list[str]:
    """Asserts that the model is as the reference left it (its namespace after the steps)."""
    hooks, state, grads = space["described"](space["model"])
    tol = _TOLERANCE.get(dtype, 1e-9)
    close = f"rtol={tol!r}, atol={tol!r}, equal_nan=True"
    lines = [f"message = {message!r}",
             "hooks, state, grads = described(model)",
             f"assert hooks == {hooks!r}, f'{{message}}; pruning hooks: {{hooks}}'",
             f"assert sorted(state) == {sorted(state)!r}, f'{{message}}; state_dict: "
             "{sorted(state)}'",
             f"assert sorted(grads) == {sorted(grads)!r}, f'{{message}}; gradients of "
             "{sorted(grads)}'"]
    for part, values in (("state", state), ("grads", grads)):
        for key, value in values.items():
            lines.append(f"assert torch.allclose({part}[{key!r}], {literal(value)}, {close}), "
                         f"f'{{message}} ({key})'")
    output = space["forward_output"](space["model"], space["inputs"]).detach().cpu().double()
    lines.append("output = forward_output(model, inputs).detach().cpu().double()")
    lines.append(f"assert torch.allclose(output, {literal(output)}, {close}), "
                 "f'{message} (forward output)'")
    return lines


def _run(text: str, prune: Any) -> dict[str, Any] | BaseException:
    space: dict[str, Any] = {"prune": prune, "__name__": "snippet"}
    with torch.random.fork_rng(devices=[]):
        try:
            exec(text, space)
        except Exception as exc:
            return exc
    return space


def render(implementation: Any, module: Any, oracle: Any, setup: Sequence[str],
           steps: Sequence[str], dtype: torch.dtype, sources: dict[str, Callable[[], str]],
           clause: str, message: str) -> str | None:
    """The snippet (see the module docstring), or None where it does not reproduce."""
    sources = {"Holder": lambda: inspect.getsource(models.Holder), **sources}
    body = "\n".join([*setup, *steps])
    # The carried helpers keep their annotations (Mapping, ...): never evaluated.
    head = ["from __future__ import annotations", "", "import copy", "import io", "",
            "import torch", "from torch import nn"]
    prelude = [*helpers(body + " forward_output(", sources), DESCRIBED]
    replay = "\n".join([*head, *prelude, body])
    oracle_space = _run(replay, oracle)
    if isinstance(oracle_space, BaseException):
        return None
    first = message.splitlines()[0] if message else ""
    checks = _expectations(oracle_space, dtype, f"{clause}: {first}"[:300])
    text = "\n".join([replay, "# the model as SPEC.md's reference leaves it after these steps:",
                      *checks]) + "\n"
    if not isinstance(_run(text, oracle), dict) or isinstance(_run(text, module), dict):
        return None
    return "\n".join([*head, import_line(implementation), "",
                      *[textwrap.dedent(p).rstrip("\n") + "\n" for p in prelude],
                      *setup, *steps,
                      "# the model as SPEC.md's reference leaves it after these steps:",
                      *checks]) + "\n"
