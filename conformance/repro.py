"""The repro snippet of a property failure: torch, the implementation, literals, the failing calls
and the clause's assertion; nothing of the kit.

While a property runs, its calls on the implementation are recorded (`conformance.recording`);
when its final, shrunk example fails, `standalone()` renders them: each module the calls received,
rebuilt as it was (construction, then every parameter and buffer as a literal tensor of its dtype,
device and layout), the calls in order (a random method after the `torch.manual_seed` it ran
under), then the failed check's own assertion (`conformance.expectations`). A check that cannot
spell its assertion gets the reference's outcome of the same calls instead: which calls raise,
then each module's state_dict. Before a snippet is attached it is run twice in this process: it
must pass with the reference and fail with the implementation; one that does not is dropped, and
the report falls back to replaying the property.

This module is also a pytest plugin (registered by `conformance.plugin`): it records every
property's examples and attaches the snippet of a failure to its exception as a note that starts
with `STANDALONE`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Iterator
from typing import Any

import pytest
import torch
from torch import nn

from conformance import models, recording
from conformance.recording import RecordedCall, Recording
from conformance.source import import_line, literal, python_literal

STANDALONE = "# repro (standalone):"
# Literal entries a snippet may spell; beyond, the failure is replayed through the kit instead.
MAX_ENTRIES = 4096
_CONTAINERS = (nn.Sequential, nn.ModuleList, nn.ModuleDict)


class Unrenderable(Exception):
    """The recording holds something a snippet cannot spell (the reason is the message)."""


# --- modules ------------------------------------------------------------------------------------

def construction(module: nn.Module) -> str:
    """Source that builds a module of the same kind and sizes (values are set afterwards)."""
    kind = type(module)
    if kind is nn.Linear:
        return (f"nn.Linear({module.in_features}, {module.out_features}, "
                f"bias={module.bias is not None})")
    if kind in (nn.Conv1d, nn.Conv2d, nn.Conv3d):
        groups = f", groups={module.groups}" if module.groups != 1 else ""
        return (f"nn.{kind.__name__}({module.in_channels}, {module.out_channels}, "
                f"{module.kernel_size}{groups}, bias={module.bias is not None})")
    if kind is nn.Embedding:
        return f"nn.Embedding({module.num_embeddings}, {module.embedding_dim})"
    if kind is nn.LSTM:
        return f"nn.LSTM({module.input_size}, {module.hidden_size}, {module.num_layers})"
    if kind is models.Holder:
        return "Holder()"
    if kind in _CONTAINERS:
        children = [(key, construction(child)) for key, child in module.named_children()]
        if kind is nn.ModuleDict:
            return "nn.ModuleDict({" + ", ".join(f"{k!r}: {c}" for k, c in children) + "})"
        return f"nn.{kind.__name__}(" + ("[" if kind is nn.ModuleList else "") + ", ".join(
            c for _, c in children) + ("]" if kind is nn.ModuleList else "") + ")"
    raise Unrenderable(f"a module of kind {kind.__name__}")


def _owner(name: str, qualified: str) -> tuple[str, str]:
    prefix, _, leaf = qualified.rpartition(".")
    return (f"{name}.get_submodule({prefix!r})" if prefix else name), leaf


def rebuild(name: str, state: recording.ModuleState) -> list[str]:
    """Lines that rebuild a recorded module as `name`, as it was before its first call."""
    if state.hooked:
        raise Unrenderable("a module pruned outside the recorded calls")
    lines = [f"{name} = {construction(state.module)}"]
    for qualified, value in state.parameters.items():
        owner, leaf = _owner(name, qualified)
        if value is None:
            lines.append(f"{owner}.register_parameter({leaf!r}, None)")
            continue
        grad = "" if state.requires_grad[qualified] else ", requires_grad=False"
        lines.append(f"{owner}.{leaf} = nn.Parameter({literal(value)}{grad})")
    for qualified, value in state.buffers.items():
        owner, leaf = _owner(name, qualified)
        lines.append(f"{owner}.register_buffer({leaf!r}, "
                     f"{'None' if value is None else literal(value)})")
    fresh = vars(eval(construction(state.module), {"nn": nn, "Holder": models.Holder}))
    for key, value in state.attributes.items():
        if key not in fresh or fresh[key] != value:
            lines.append(f"{name}.{key} = {python_literal(value)}")
    return lines


# --- calls --------------------------------------------------------------------------------------

class Spelling:
    """Names for the recorded modules and source for the values calls receive."""

    def __init__(self, rec: Recording) -> None:
        self.rec = rec
        self.names = {key: f"m{i}" for i, key in enumerate(rec.modules)}
        self.entries = 0

    def module(self, module: nn.Module) -> str | None:
        return self.names.get(id(module))

    def value(self, value: Any) -> str:
        if isinstance(value, nn.Module):
            name = self.module(value)
            if name is None:
                raise Unrenderable("a module no call received")
            return name
        if isinstance(value, torch.Tensor):
            self.entries += value.numel()
            return literal(value)
        if isinstance(value, type):
            if getattr(self.rec.implementation, value.__name__, None) is value:
                return f"prune.{value.__name__}"
            raise Unrenderable(f"the class {value.__qualname__}")
        if isinstance(value, list | tuple):
            inner = [self.value(v) for v in value]
            if isinstance(value, list):
                return "[" + ", ".join(inner) + "]"
            return "(" + ", ".join(inner) + ("," if len(inner) == 1 else "") + ")"
        if isinstance(value, dict):
            return "{" + ", ".join(f"{self.value(k)}: {self.value(v)}"
                                   for k, v in value.items()) + "}"
        if value is None or isinstance(value, bool | int | float | str):
            return python_literal(value)
        raise Unrenderable(f"an argument of type {type(value).__name__}")

    def call(self, call: RecordedCall) -> str:
        args = [self.value(a) for a in call.args]
        args += [f"{k}={self.value(v)}" for k, v in call.kwargs.items()]
        line = f"prune.{call.function}({', '.join(args)})"
        return f"torch.manual_seed({call.seed}); {line}" if call.seed is not None else line


def _indent(lines: list[str]) -> list[str]:
    return ["    " + line for line in lines]


def _calls(spelling: Spelling, calls: list[RecordedCall], failure: BaseException,
           expectation: Any) -> list[str]:
    """The calls in order; the checked ones inside the try the expectation closes."""
    lines: list[str] = []
    checked = [c for c in calls if c.checked]
    for call in calls:
        line = spelling.call(call)
        if call.checked and expectation is not None:
            if call is checked[0]:
                lines.append("try:")
            lines += _indent([line])
            if call is checked[-1]:
                rendered = expectation.render(spelling.module)
                if rendered is None:
                    raise Unrenderable("its check")
                lines += rendered
        elif call.raised is not None and call.raised is not failure:
            # The property expected this to raise and went on.
            lines += ["try:", *_indent([line]), "except Exception:",
                      f"    pass  # raised {type(call.raised).__name__} in the run"]
        else:
            lines.append(line)
    if checked and expectation is None:
        raise Unrenderable("a checked call without its check")
    return lines


def _spec_outcome(spelling: Spelling, setup: list[str], calls: list[RecordedCall],
                  message: str) -> list[str]:
    """The calls, each one's exception type kept, then asserts that they raised and left every
    module as the reference does with the same calls (for a check that cannot spell itself)."""
    body = []
    for index, call in enumerate(calls):
        body += ["try:", *_indent([spelling.call(call)]), "except Exception as exc:",
                 f"    raised[{index}] = type(exc).__name__"]
    body = ["raised = {}", *body]
    import reference.prune as oracle

    space: dict[str, Any] = {"torch": torch, "nn": nn, "prune": oracle, "Holder": models.Holder}
    with torch.random.fork_rng(devices=[]):
        exec("\n".join([*setup, *body]), space)
    asserts = [f"message = {message!r}",
               f"assert raised == {space['raised']!r}, f'{{message}}; raised: {{raised}}'"]
    for name in spelling.names.values():
        state = space[name].state_dict()
        asserts += [f"state = {name}.state_dict()",
                    f"assert sorted(state) == {sorted(state)!r}, f'{{message}}; {{sorted(state)}}'"]
        asserts += [f"assert torch.equal(state[{key!r}].cpu().nan_to_num(), "
                    f"{literal(value.cpu())}.nan_to_num()), f'{{message}} ({key})'"
                    for key, value in state.items()]
    return [*body, "# what SPEC.md's reference does with these calls:", *asserts]


def _body(rec: Recording, failure: BaseException, fallback: bool) -> tuple[list[str], bool]:
    spelling = Spelling(rec)
    setup = [line for key, state in rec.modules.items()
             for line in rebuild(spelling.names[key], state)]
    expectation = getattr(failure, "expectation", None)
    clause = getattr(failure, "clause", None)
    if fallback:
        if clause is None:
            raise Unrenderable("a failure that names no clause")
        message = str(failure).splitlines()[0][:300]
        lines = _spec_outcome(spelling, setup, rec.calls, message)
    else:
        lines = _calls(spelling, rec.calls, failure, expectation)
        if expectation is not None and not any(c.checked for c in rec.calls):
            rendered = expectation.render(spelling.module)
            if rendered is None:
                raise Unrenderable("its check")
            lines += rendered
        elif expectation is None and isinstance(failure, AssertionError):
            raise Unrenderable("a check without a snippet form")
    spelling.entries += sum(v.numel() for s in rec.modules.values()
                            for v in [*s.parameters.values(), *s.buffers.values()]
                            if v is not None)
    if spelling.entries > MAX_ENTRIES:
        raise Unrenderable(f"{spelling.entries} literal entries")
    uses_holder = any(type(s.module) is models.Holder or any(
        type(m) is models.Holder for m in s.module.modules()) for s in rec.modules.values())
    return ([*( [inspect.getsource(models.Holder)] if uses_holder else []), *setup, *lines],
            uses_holder)


def _reproduces(body: str, implementation: Any, oracle: Any) -> bool:
    """Passes with the reference, fails with the implementation."""
    def run(prune: Any) -> BaseException | None:
        with torch.random.fork_rng(devices=[]):
            try:
                exec(body, {"torch": torch, "nn": nn, "prune": prune, "__name__": "snippet"})
            except Exception as exc:
                return exc
        return None

    return run(oracle) is None and run(implementation) is not None


def standalone(rec: Recording, failure: BaseException, title: str) -> str | None:
    """The snippet of `failure` (see the module docstring), or None where none reproduces it."""
    import reference.prune as oracle

    if rec.unrecordable or not rec.calls:
        return None
    module = getattr(getattr(rec.implementation, "_impl", None), "module", rec.implementation)
    for fallback in (False, True):
        try:
            lines, _ = _body(rec, failure, fallback)
        except Unrenderable:
            continue
        except Exception:  # the reference failed the fallback's calls: no outcome to state
            continue
        body = "\n".join(lines)
        if _reproduces(body, module, oracle):
            return "\n".join([f"{STANDALONE} {title}", "import torch", "from torch import nn",
                              import_line(rec.implementation), "", body]) + "\n"
    return None


# --- the plugin ---------------------------------------------------------------------------------

def is_final_example() -> bool:
    """Is this Hypothesis' final replay of a failing example (or no Hypothesis example)?"""
    try:
        from hypothesis.control import current_build_context

        return bool(current_build_context().is_final)
    except Exception:  # not inside a Hypothesis example
        return True


def _attach(item: pytest.Item, rec: Recording, exc: BaseException) -> None:
    brings_its_own = getattr(exc, "snippet", None) is not None or getattr(exc, "repro", None)
    if isinstance(exc, pytest.skip.Exception) or brings_its_own or any(
            str(n).startswith(STANDALONE) for n in getattr(exc, "__notes__", ())):
        return  # a skip, or a failure that brings its own snippet (a session)
    clause = getattr(exc, "clause", None)
    title = item.nodeid.split("properties/", 1)[-1] + (f" ({clause})" if clause else "")
    text = standalone(rec, exc, title)
    if text is not None:
        exc.add_note(text)


def _recorded(item: pytest.Item, test: Any, implementation: Any) -> Any:
    # wraps: Hypothesis names the failing example after the function it calls (`test_x(...)`).
    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> Any:
        with recording.recording(implementation) as rec:
            try:
                return test(*args, **kwargs)
            except BaseException as exc:
                if is_final_example():
                    _attach(item, rec, exc)
                raise
    return run


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Record each example of a property that takes the `prune` fixture."""
    implementation = getattr(item, "funcargs", {}).get("prune")
    if implementation is None:
        return (yield)
    hypothesis = getattr(getattr(item, "obj", None), "hypothesis", None)
    if hypothesis is None:
        item.obj = _recorded(item, item.obj, implementation)
        return (yield)
    inner = hypothesis.inner_test
    hypothesis.inner_test = _recorded(item, inner, implementation)
    try:
        return (yield)
    finally:
        hypothesis.inner_test = inner
