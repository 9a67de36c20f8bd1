"""Stateful differential testing: a random pruning session run in lockstep on the implementation
under test and on the reference (the oracle, assumed correct), compared after every step.

Like zarr's `testing/stateful.py`, the state machine is a public, reusable part of the kit::

    from hypothesis import settings
    from conformance import stateful
    import my_pruning as prune

    stateful.run_session(prune, settings=settings(max_examples=50, stateful_step_count=20))

The model is a `ModuleDict` of a Linear, a Conv2d and a Holder (five tensors: two 2+-d weights,
two biases, a 0-d to 3-d raw parameter), built twice from the same construction and the same
tie-free values. Each step is applied to both sides: every registry method on a random tensor with
random arguments, bad calls of the catalogue (`conformance.bad_inputs`), `global_unstructured` over
a random subset, the tutorial's `FooBarPruningMethod`, `remove`, forward, backward plus an SGD
step, a `state_dict` loaded into a freshly built identically pruned model, a `torch.save` round
trip and `copy.deepcopy`. After every step the two sides must agree (names, hooks, histories,
masks, values, outputs); where the spec leaves a choice (random methods, ties in the scores), the
implementation's mask must be one the spec allows and the oracle adopts it, so that the sessions
stay comparable.

Known departures: `departures` is a set of clause ids the implementation is known to break (for
torch, `departed_clauses` of its expected-failures file). The machine does not generate the steps
that exercise them (a bool amount for AMOUNT-8, a bad call on a pruned tensor for ATOMIC-1, a
deepcopy for SERIAL-3, ...), so that a known departure does not fail the whole session.

A failure raises `SessionFailure`, whose message ends with a short runnable Python snippet that
reproduces it with the implementation alone (`.snippet`; `.repro` is the same without the imports
of torch, nn and prune, for the run report).
"""

from __future__ import annotations

import copy
import functools
import inspect
import io
import re
import textwrap
import types
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from hypothesis import Phase
from hypothesis import settings as Settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from torch import nn

from conformance import bad_inputs as bi
from conformance import checks as ck
from conformance import expected, models, parity, repro, session_snippet
from conformance import strategies as hh
from conformance.registry import METHODS, Call, Method
from conformance.source import literal

# The tensors of the session's model: (key in the ModuleDict, parameter name).
TARGETS: tuple[tuple[str, str], ...] = (
    ("fc", "weight"), ("fc", "bias"), ("conv", "weight"), ("conv", "bias"), ("holder", "weight"),
)
KEYS = ("fc", "conv", "holder")
# SGD learning rates of the train step: small steps, and steps large enough to reorder the
# values (distinct integers), so that ranking values left stale by the step shows (COMPOSE-3).
LEARNING_RATES = (0.05, 1.0, 4.0)

# The steps of a session, by name (`PruneSession(steps=...)` enables a subset).
STEPS = ("prune", "invalid", "global", "invalid_global", "custom", "remove", "forward", "train",
         "state_dict", "save", "deepcopy")

# The clauses the session's checks cite (the property's marks).
CLAUSES = (
    "AMOUNT-1", "AMOUNT-2", "SELECT-1", "SELECT-2", "SELECT-6", "STRUCT-1", "STRUCT-5",
    "COMPOSE-1", "COMPOSE-2", "COMPOSE-3", "COMPOSE-4", "REPARAM-1", "REPARAM-2", "REPARAM-3",
    "REPARAM-4", "HOOK-1", "HOOK-2", "REMOVE-1", "REMOVE-5", "GLOBAL-1", "GLOBAL-2", "GLOBAL-6",
    "GLOBAL-8", "CUSTOM-1", "CUSTOM-3", "CUSTOM-4", "AUTOGRAD-1", "AUTOGRAD-2", "SERIAL-1",
    "SERIAL-2", "SERIAL-3", "ATOMIC-1", "ATOMIC-2", "PRUNED-1",
)

# The clause a differing mask breaks, per method (a call on a tensor left stale by an optimizer
# step breaks COMPOSE-3 instead).
MASK_CLAUSES = {"identity": "CUSTOM-3", "random_unstructured": "SELECT-6",
                "l1_unstructured": "SELECT-1", "random_structured": "STRUCT-5",
                "ln_structured": "STRUCT-1", "custom_from_mask": "CUSTOM-4"}

_BY_CLASS = {m.class_name: m for m in METHODS.values()}

# Bad calls of the catalogue that prepare the module before the call: how the snippet does it.
_PREPARATIONS = {
    "none-tensor": f"module.register_parameter({bi.NONE_NAME!r}, None)",
    "not-a-tensor": f"module.{bi.NOT_A_TENSOR_NAME} = 0.5",
}
# Catalogue entries the session leaves out: remove is its own step; a user's failing method
# would need its class in the repro snippet (ATOMIC properties make those calls).
_OWN_STEPS = {"remove-unpruned", "user-method-raises-in-compute_mask",
              "user-method-raises-in-apply_mask"}


class SessionFailure(ck.SpecViolation):
    """A session step or invariant broke a clause. `snippet`: the steps up to the failing one, as
    a script that needs torch and the implementation alone (`conformance.session_snippet`), also
    attached as the exception's note for the run report; None where none reproduces the failure,
    or before Hypothesis' final replay of the shrunk session (only that one renders it)."""

    def __init__(self, clause: str, message: str, snippet: str | None) -> None:
        super().__init__(clause, message)
        self.snippet = snippet
        if snippet is not None:
            self.add_note(f"{repro.STANDALONE} a pruning session ({clause})\n{snippet}")


class OracleFailure(AssertionError):
    """The oracle (the reference) failed a step the session thought valid: a bug of the
    reference or of the session, not of the implementation under test."""


def departed_clauses(
    departures: Mapping[str, expected.Departure | None] | Iterable[str],
) -> frozenset[str]:
    """Clause ids from the expected-failures entries in force (the plugin's
    `expected_departures`), or ids. A `sometimes` entry is left out: the session still takes
    those steps, and the entry (a pattern with the stated failure) covers it if it meets one."""
    if isinstance(departures, Mapping):
        return frozenset(d.clause for d in departures.values()
                         if d is not None and not d.sometimes)
    return frozenset(departures)


# --- helpers the repro snippets call -----------------------------------------------------------

def compute_mask(self: Any, t: torch.Tensor, default_mask: torch.Tensor) -> torch.Tensor:
    """FooBarPruningMethod's: prune every other entry."""
    mask = default_mask.clone()
    mask.view(-1)[::2] = 0
    return mask


@functools.cache
def foobar_method(base: type) -> type:
    """The tutorial's `FooBarPruningMethod` (prunes every other entry) as a subclass of `base`, the
    implementation's BasePruningMethod. Registered in this module under a name of its own per
    base, so that pickle and torch.save find it (SERIAL-2)."""

    qualname = "FooBarPruningMethod_" + re.sub(r"\W", "_", f"{base.__module__}_{base.__name__}")
    cls = types.new_class("FooBarPruningMethod", (base,), {}, lambda ns: ns.update(
        PRUNING_TYPE="unstructured", compute_mask=compute_mask, __module__=__name__,
        __doc__="The tutorial's example: prune every other entry."))
    cls.__qualname__ = qualname
    globals()[qualname] = cls
    return cls


def forward_output(model: nn.Module, inputs: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """The outputs of the model's three modules, flattened into one float64 vector."""
    return torch.cat([model[key](inputs[key]).double().flatten() for key in KEYS])


def sgd_step(model: nn.Module, lr: float) -> None:
    """Plain SGD on every parameter that has a gradient, then the gradients cleared.

    What `torch.optim.SGD(model.parameters(), lr).step(); model.zero_grad()` does, without
    torch.optim, whose first use imports torch._dynamo (seconds)."""
    with torch.no_grad():
        for param in model.parameters():
            if param.grad is not None:
                param.sub_(param.grad, alpha=lr)
    model.zero_grad()


def parameter_objects(model: nn.Module) -> dict[tuple[str, str], nn.Parameter]:
    """The Parameter behind each tensor: `<name>_orig` when pruned, else `<name>`."""
    found = {}
    for key, name in TARGETS:
        params = model[key]._parameters
        found[(key, name)] = params[f"{name}_orig"] if f"{name}_orig" in params else params[name]
    return found


def describe_history(prune: Any, module: nn.Module, name: str) -> list[tuple[str, dict]]:
    """The tensor's hook history (COMPOSE-4): class names with the arguments they hold."""
    described = []
    for method in ck.history(prune, module, name):
        cls = type(method).__name__
        attributes = _BY_CLASS[cls].attributes if cls in _BY_CLASS else ()
        described.append((cls, {a: getattr(method, a, None) for a in attributes}))
    return described


def whole_channels(before: torch.Tensor, after: torch.Tensor, dim: int) -> bool:
    """Did a structured call change whole channels along `dim` only (each one it touched is now
    fully pruned)?"""
    before, after = before.detach().cpu().ne(0), after.detach().cpu().ne(0)
    dims = ck.channel_dims(before.dim(), dim)
    touched = (before != after).sum(dim=dims).ne(0)
    dead = after.sum(dim=dims).eq(0)
    return bool((dead | ~touched).all())


def _module_of(prune: Any) -> Any:
    """The module behind the kit's wrappers of an implementation (the snippet runs it bare)."""
    found = getattr(getattr(prune, "_impl", None), "module", None)
    return prune if found is None else found


# The helpers a session's snippet may call, as the source it carries (session_snippet).
SNIPPET_HELPERS = {
    "forward_output": lambda: f"KEYS = {KEYS!r}\n\n\n{inspect.getsource(forward_output)}",
    "sgd_step": lambda: inspect.getsource(sgd_step),
    "FooBarPruningMethod": lambda: (
        "class FooBarPruningMethod(prune.BasePruningMethod):\n    PRUNING_TYPE = 'unstructured'\n\n"
        + textwrap.indent(inspect.getsource(compute_mask), "    ")),
}


# --- the model --------------------------------------------------------------------------------

@dataclass(frozen=True)
class ModelSpec:
    """The session's model: its sizes, dtype and device."""

    linear: tuple[int, int]
    conv: tuple[int, int, int]
    holder: tuple[int, ...]
    dtype: torch.dtype
    device: torch.device

    def build(self) -> nn.ModuleDict:
        """The model, its construction seeded without moving torch's global generator."""
        with torch.random.fork_rng(devices=[]):
            # The CPU generator alone: torch.manual_seed would also queue a seed for every lazy
            # device backend, with a stack trace each time (slow, and the model is built on the
            # CPU anyway).
            torch.random.default_generator.manual_seed(0)
            model = nn.ModuleDict({"fc": nn.Linear(*self.linear), "conv": nn.Conv2d(*self.conv),
                                   "holder": models.Holder(*self.holder)})
        return model.to(device=self.device, dtype=self.dtype)

    def source(self) -> str:
        return ("def build():\n"
                "    torch.manual_seed(0)\n"
                f"    model = nn.ModuleDict({{'fc': nn.Linear{self.linear}, "
                f"'conv': nn.Conv2d{self.conv}, 'holder': Holder{self.holder}}})\n"
                f"    return model.to(device={str(self.device)!r}, dtype={self.dtype})\n")

    def input_shapes(self) -> dict[str, tuple[int, ...]]:
        cin, _, k = self.conv
        return {"fc": (2, self.linear[0]), "conv": (1, cin, k + 1, k + 1), "holder": self.holder}


@dataclass
class Side:
    """One side of the session: an implementation and its copy of the model."""

    prune: Any
    model: nn.ModuleDict
    label: str

    def module(self, index: int) -> nn.Module:
        return self.model[TARGETS[index][0]]

    def mask(self, index: int) -> torch.Tensor:
        """The tensor's mask as a CPU copy (ones when not pruned)."""
        return ck.mask_or_ones(self.module(index), TARGETS[index][1]).detach().cpu()

    def pruned(self, index: int) -> bool:
        return bool(ck.pruning_hooks(self.prune, self.module(index), TARGETS[index][1]))


def _expr(index: int, model: str = "model") -> str:
    return f"{model}[{TARGETS[index][0]!r}]"


def _label(index: int) -> str:
    return f"{_expr(index)}.{TARGETS[index][1]}"


def _source(function: str, module: str, name: str, kwargs: Mapping[str, Any],
            sources: Mapping[str, str]) -> str:
    args = "".join(f", {k}={sources.get(k) or literal(v)}" for k, v in kwargs.items())
    return f"prune.{function}({module}, {name!r}{args})"


def _rejected(call: str, error: type[BaseException], clause: str) -> str:
    """A bad call in a snippet: it must raise `error` (whether it changed nothing is asserted by
    the snippet's comparison with the reference at the end)."""
    message = f"{clause}: {call} must raise {error.__name__}"
    return (f"try:\n{textwrap.indent(call, '    ')}\nexcept {error.__name__}:\n    pass\n"
            f"else:\n    raise AssertionError({message!r})")


def _enabled(step: str) -> Callable[[PruneSession], bool]:
    return lambda self: self.ready and step in self.steps


# --- the state machine ------------------------------------------------------------------------

class PruneSession(RuleBasedStateMachine):
    """A pruning session on `prune` (the implementation under test) checked against `oracle`.

    `departures`: clauses the implementation is known to break, whose steps are not generated;
    `methods`: the registry methods the `prune` step draws from (default all); `steps`: the
    names of the enabled steps (default all of STEPS); `threads`: torch's intra-op threads
    during the session, restored by `teardown` (the tensors are tiny: one thread keeps small
    ops from waiting on busy cores, which costs 20 ms a convolution on a loaded machine; None
    leaves the setting alone).
    """

    def __init__(self, prune: Any, oracle: Any = None, *, device: torch.device | str = "cpu",
                 departures: Collection[str] = (), methods: Sequence[Method] | None = None,
                 steps: Collection[str] | None = None, threads: int | None = 1) -> None:
        super().__init__()
        self.threads_before = torch.get_num_threads()
        if threads is not None:
            torch.set_num_threads(threads)
        if oracle is None:
            import reference.prune as oracle
        self.prune_under_test = prune
        self.oracle_module = oracle
        self.device = torch.device(device)
        self.departures = frozenset(departures)
        self.methods = list(methods or METHODS.values())
        self.steps = frozenset(STEPS if steps is None else steps)
        unknown = self.steps - set(STEPS)
        if unknown:
            raise ValueError(f"unknown session steps {sorted(unknown)}; known: {STEPS}")
        self.ready = False

    def teardown(self) -> None:
        torch.set_num_threads(self.threads_before)

    # -- the snippet ----------------------------------------------------------------------------

    def _failure(self, clause: str, message: str, step: str | None = None) -> SessionFailure:
        """The failure, with its snippet on Hypothesis' final replay: the steps so far, and
        `step` (the failing one) if given."""
        snippet = None
        if repro.is_final_example():
            steps = [*self.lines, *([step] if step else [])]
            snippet = session_snippet.render(
                self.prune_under_test, _module_of(self.prune_under_test), self.oracle_module,
                self.setup, steps, self.spec.dtype, SNIPPET_HELPERS, clause, message)
        return SessionFailure(clause, message, snippet)

    def _check(self, check: Callable[[], object]) -> None:
        """Run a check on the implementation's side, after the last step."""
        try:
            check()
        except ck.SpecViolation as exc:
            raise self._failure(exc.clause, str(exc)[len(exc.clause) + 2:]) from None
        except Exception as exc:
            # The implementation broke the check itself (a forward that raises, a missing buffer).
            message = f"checking after the last step raised {type(exc).__name__}: {exc}"
            raise self._failure(self.context, message) from exc

    def _act(self, line: str, run: Callable[[], object], clause: str) -> object:
        """Make a step on the implementation's side, recorded in the snippet as `line`."""
        try:
            result = run()
        except ck.SpecViolation as exc:
            raise self._failure(exc.clause, str(exc)[len(exc.clause) + 2:], line) from None
        except Exception as exc:
            message = f"{line} must work, raised {type(exc).__name__}: {exc}"
            raise self._failure(clause, message, line) from exc
        self.lines.append(line)
        return result

    def _oracle(self, run: Callable[[], object], what: str) -> object:
        try:
            return run()
        except Exception as exc:
            raise OracleFailure(
                f"the oracle ({getattr(self.oracle_module, '__name__', self.oracle_module)}) "
                f"failed {what}: {type(exc).__name__}: {exc}\nsession so far:\n"
                + "\n".join(self.lines)) from exc

    # -- setting up -------------------------------------------------------------------------------

    @initialize(data=st.data())
    def build_models(self, data: st.DataObject) -> None:
        dtype = data.draw(hh.dtypes(self.device), label="dtype")
        sides = st.integers(1, 3)
        spec = ModelSpec(
            (data.draw(st.integers(1, 4), label="in"), data.draw(st.integers(1, 4), label="out")),
            (data.draw(sides, label="cin"), data.draw(sides, label="cout"),
             data.draw(st.integers(1, 2), label="kernel")),
            tuple(data.draw(st.lists(sides, max_size=3), label="holder shape")),
            dtype, self.device)
        self.spec = spec
        self.impl = Side(self.prune_under_test, spec.build(), "implementation")
        self.oracle = Side(self.oracle_module, spec.build(), "oracle")
        # Tie-free values over the whole model (global pruning ranks across tensors): distinct
        # magnitudes 1..n (exact in every dtype) in an order and with signs drawn from a seed,
        # which is far cheaper to draw and to shrink than a permutation of up to 90 entries.
        shapes = [tuple(getattr(self.impl.module(i), name).shape)
                  for i, (_, name) in enumerate(TARGETS)]
        sizes = [models.numel(s) for s in shapes]
        seed = data.draw(hh.seeds(), label="values and inputs seed")
        generator = torch.Generator().manual_seed(seed)
        count = sum(sizes)
        flat = (torch.randperm(count, generator=generator) + 1).double() * (
            torch.randint(0, 2, (count,), generator=generator) * 2 - 1)
        values = [part.reshape(shape).to(device=self.device, dtype=dtype)
                  for part, shape in zip(flat.split(sizes), shapes, strict=True)]
        self.inputs = {key: torch.randn(shape, generator=generator, dtype=torch.float64).to(
            device=self.device, dtype=dtype) for key, shape in spec.input_shapes().items()}
        with torch.no_grad():
            for side in (self.impl, self.oracle):
                for i, value in enumerate(values):
                    getattr(side.module(i), TARGETS[i][1]).copy_(value)
        self.setup = [
            spec.source(),
            "inputs = {" + ", ".join(f"{k!r}: {literal(v)}" for k, v in self.inputs.items()) + "}",
            "model = build()",
            "with torch.no_grad():",
            *(f"    {_label(i)}.copy_({literal(v)})" for i, v in enumerate(values)),
        ]
        self.lines: list[str] = []
        self.stale: set[int] = set()  # pruned tensors whose attribute predates an optimizer step
        self.last_masks: list[torch.Tensor | None] = [None] * len(TARGETS)
        self.params = parameter_objects(self.impl.model)
        self.replaced = False  # the model object was replaced (no parameter identity to keep)
        self.original: tuple[ck.ModuleSnapshot, nn.Module] | None = None  # of the last deepcopy
        self.context = "REPARAM-2"  # the clause the invariants cite after the last step
        self.ready = True

    # -- helpers of the steps ---------------------------------------------------------------------

    def _both(self, index: int) -> tuple[nn.Module, nn.Module, str]:
        return self.impl.module(index), self.oracle.module(index), TARGETS[index][1]

    def _scores_seen(self, indices: Iterable[int], given: Mapping[int, torch.Tensor],
                     ) -> dict[int, torch.Tensor]:
        """What a call ranks on the oracle's side (COMPOSE-3), float64 on the CPU."""
        seen = {}
        for i in indices:
            scores = given.get(i)
            if scores is None:
                module, name = self.oracle.module(i), TARGETS[i][1]
                scores = ck.original(module, name) * ck.mask_or_ones(module, name)
            seen[i] = scores.detach().to("cpu", torch.float64).contiguous()
        return seen

    def _subjects(self) -> list[models.Subject]:
        return [models.Subject(self.oracle.module(i), name, self.inputs[key], "")
                for i, (key, name) in enumerate(TARGETS)]

    def _refresh(self) -> None:
        """A forward on both sides, which brings every pruned attribute up to date."""
        with torch.no_grad():
            self._oracle(lambda: forward_output(self.oracle.model, self.inputs), "a forward")
            self._act("forward_output(model, inputs)",
                      lambda: forward_output(self.impl.model, self.inputs), "HOOK-2")
        self.stale.clear()

    def _after_optimizer_or_load(self) -> None:
        """Mark pruned attributes stale; an implementation known to rank stale values
        (COMPOSE-3) gets a forward first, so that later steps do not exercise that departure."""
        self.stale = {i for i in range(len(TARGETS)) if self.oracle.pruned(i)}
        if "COMPOSE-3" in self.departures:
            self._refresh()

    def _adopt(self, index: int, mask: torch.Tensor) -> None:
        """The oracle takes the implementation's (valid) mask and refreshes its attribute."""
        module, name = self.oracle.module(index), TARGETS[index][1]
        with torch.no_grad():
            module._buffers[f"{name}_mask"].copy_(mask)
        ck.pruning_hooks(self.oracle.prune, module, name)[0](module, ())

    def _compare_masks(self, indices: Sequence[int], before: Mapping[int, torch.Tensor],
                       free: list[torch.Tensor] | None, exact_clause: str, count_clause: str,
                       dim: int | None, what: str, together: bool = False) -> None:
        """The masks after a pruning step: equal to the oracle's where the scores decide them;
        where the spec leaves a choice (`free` entries), the same number of units, differences
        only among the free entries, whole channels for structured steps; then the oracle
        adopts the implementation's choice."""
        seen = {i: self.impl.mask(i) for i in indices}
        wanted = {i: self.oracle.mask(i) for i in indices}
        choice = free is not None and any(bool(free[i].any()) for i in indices)
        for i in indices:
            text = f"mask of {_label(i)} after {what}"
            if not choice:
                self._check(lambda i=i, text=text: ck.expect_same_mask(
                    seen[i], wanted[i], exact_clause, text))
        if not choice:
            return
        assert free is not None
        groups = [list(indices)] if together else [[i] for i in indices]
        for group in groups:
            units = sum(ck.remaining_units(wanted[i], dim) for i in group)
            got = sum(ck.remaining_units(seen[i], dim) for i in group)
            text = f"units remaining in {' + '.join(_label(i) for i in group)} after {what}"
            self._check(lambda got=got, units=units, text=text: ck.expect_equal(
                    got, units, count_clause, text))
        for i in indices:
            text = (f"mask of {_label(i)} after {what}, outside the entries the spec leaves to "
                    f"choice (drawn as kept)")
            either = free[i].cpu()
            self._check(lambda i=i, either=either, text=text: ck.expect_same_mask(
                    seen[i].ne(0) | either, wanted[i].ne(0) | either, exact_clause, text))
            if dim is not None:
                text = f"{what} must prune whole channels along dim={dim} of {_label(i)}"
                self._check(lambda i=i, text=text: ck.expect(
                        whole_channels(before[i], seen[i], dim), exact_clause, text))
        for i in indices:
            if not torch.equal(seen[i].ne(0), wanted[i].ne(0)):
                self._adopt(i, seen[i])

    def _targets(self, data: st.DataObject, allowed: Iterable[int] | None = None) -> int:
        pool = list(range(len(TARGETS)) if allowed is None else allowed)
        return data.draw(st.sampled_from(pool), label="tensor")

    def _placed(self, data: st.DataObject, name: str, value: torch.Tensor,
                dtype: torch.dtype | None) -> tuple[torch.Tensor, str | None]:
        """A tensor argument in a drawn dtype and memory layout where the implementation is not
        known to break on them (REPARAM-2, DEVICE-8); its source when not plain."""
        if dtype is not None and "REPARAM-2" not in self.departures and data.draw(
                st.booleans(), label=f"{name} in another dtype"):
            value = value.to(data.draw(hh.dtypes(self.device),
                                       label=f"{name} dtype"))
        layout = "contiguous"
        if value.dim() >= 2 and "DEVICE-8" not in self.departures:
            layout = data.draw(st.sampled_from(hh.LAYOUTS), label=f"{name} layout")
        if layout == "contiguous":
            return value, None
        laid_out = hh.with_layout(value, layout)
        return laid_out, literal(laid_out)

    def _mask_values(self, data: st.DataObject, mask: torch.Tensor) -> torch.Tensor:
        """A custom_from_mask mask as drawn (bool) or, unless the implementation is known to
        break CUSTOM-4 on them, in a float dtype with nonzero entries other than 1."""
        if "CUSTOM-4" in self.departures or not data.draw(st.booleans(), label="real mask"):
            return mask
        kept = mask.ne(0).cpu()
        values = data.draw(st.lists(st.sampled_from([1.0, 0.5, 2.0, -1.0]), min_size=kept.numel(),
                                    max_size=kept.numel()), label="nonzero mask values")
        real = torch.tensor(values, dtype=torch.float64).reshape(kept.shape) * kept
        dtype = data.draw(hh.dtypes(self.device), label="mask dtype")
        return real.to(device=mask.device, dtype=dtype)

    # -- pruning steps ----------------------------------------------------------------------------

    @precondition(_enabled("prune"))
    @rule(data=st.data())
    def prune_tensor(self, data: st.DataObject) -> None:
        """A registry method with random valid arguments on a random tensor."""
        shapes = [tuple(getattr(self.impl.module(i), n).shape) for i, (_, n) in enumerate(TARGETS)]
        usable = [i for i, s in enumerate(shapes) if any(m.applies_to(s) for m in self.methods)]
        if not usable:
            return
        i = self._targets(data, usable)
        module, other, name = self._both(i)
        subject = models.Subject(module, name, self.inputs[TARGETS[i][0]], "")
        call = data.draw(hh.calls(subject, self.methods), label=f"call on {_label(i)}")
        kwargs, sources = dict(call.kwargs), {}
        if call.method.function == "ln_structured" and "STRUCT-2" not in self.departures and \
                data.draw(st.booleans(), label="'fro'"):
            kwargs["n"] = "fro"
        if "mask" in kwargs:
            kwargs["mask"] = self._mask_values(data, kwargs["mask"])
        for key in ("importance_scores", "mask"):
            if key in kwargs:
                dtype = subject.param.dtype if key == "importance_scores" else None
                kwargs[key], source = self._placed(data, key, kwargs[key], dtype)
                if source:
                    sources[key] = source
        call = Call(call.method, kwargs)
        seed = data.draw(hh.seeds(), label="seed") if call.method.random else None
        line = _source(call.method.function, _expr(i), name, kwargs, sources)
        if seed is not None:
            line = f"torch.manual_seed({seed}); {line}"
        # A call that ranks the tensor's values, left stale by an optimizer step (COMPOSE-3).
        stale = i in self.stale and call.method.takes_importance_scores and \
            "importance_scores" not in kwargs
        before = {i: self.oracle.mask(i)}
        step = parity.Step.prune(call, target=i, seed=seed)
        scores = {i: kwargs["importance_scores"]} if "importance_scores" in kwargs else {}
        record = parity.Record(step, [self.oracle.mask(j) for j in range(len(TARGETS))], [],
                               self._scores_seen([i], scores))

        def run(side: Side, target: nn.Module) -> object:
            def made() -> object:
                return Call(call.method, kwargs)(side.prune, target, name)
            if seed is None:
                return made()
            with hh.seeded(seed, self.device):
                return made()

        self._oracle(lambda: run(self.oracle, other), line)
        exact = "COMPOSE-3" if stale else MASK_CLAUSES.get(call.method.function, "COMPOSE-2")
        self.context = exact
        # A valid call that raises: blamed on the layout of its tensors when they are not
        # contiguous (DEVICE-8), else on the method.
        self._act(line, lambda: run(self.impl, module), "DEVICE-8" if sources else exact)
        self.stale.discard(i)
        amount = call.amount
        count = "AMOUNT-1" if isinstance(amount, int) else "AMOUNT-2"
        self._compare_masks([i], before, parity.free_choice(record, self._subjects()), exact,
                            count, call.dim, line)

    @precondition(_enabled("custom"))
    @rule(data=st.data())
    def prune_with_user_method(self, data: st.DataObject) -> None:
        """The tutorial's FooBarPruningMethod, a subclass of each side's BasePruningMethod."""
        i = self._targets(data)
        module, other, name = self._both(i)
        before = {i: self.oracle.mask(i)}
        line = (f"FooBarPruningMethod.apply({_expr(i)}, {name!r})")
        self._oracle(lambda: foobar_method(self.oracle.prune.BasePruningMethod).apply(
            other, name), line)
        self.context = "CUSTOM-1"
        self._act(line, lambda: foobar_method(self.impl.prune.BasePruningMethod).apply(
            module, name), "CUSTOM-1")
        self.stale.discard(i)
        self._compare_masks([i], before, None, "CUSTOM-1", "CUSTOM-1", None, line)

    def _pairs_source(self, indices: Sequence[int], container: str) -> str:
        pairs = ", ".join(f"({_expr(i)}, {TARGETS[i][1]!r})" for i in indices)
        if container == "tuple":
            return f"({pairs},)"
        if container == "generator":
            return f"(p for p in [{pairs}])"
        return f"[{pairs}]"

    @staticmethod
    def _pairs(side: Side, indices: Sequence[int], container: str) -> Iterable[Any]:
        pairs = [(side.module(i), TARGETS[i][1]) for i in indices]
        if container == "tuple":
            return tuple(pairs)
        if container == "generator":
            return (p for p in pairs)
        return pairs

    @precondition(_enabled("global"))
    @rule(data=st.data())
    def prune_globally(self, data: st.DataObject) -> None:
        """global_unstructured over a random subset, with and without importance scores."""
        indices = data.draw(st.lists(st.integers(0, len(TARGETS) - 1), min_size=1,
                                     max_size=len(TARGETS), unique=True), label="tensors")
        method = data.draw(st.sampled_from(["L1Unstructured", "RandomUnstructured"]),
                           label="pruning_method")
        total = sum(ck.remaining_units(self.oracle.mask(i), None) for i in indices)
        amount = data.draw(hh.amounts(total), label="amount")
        scores: dict[int, torch.Tensor] = {}
        sources: dict[int, str] = {}
        laid_out = False
        for i in indices:
            if method == "L1Unstructured" and data.draw(st.booleans(), label="scored"):
                param = getattr(self.impl.module(i), TARGETS[i][1])
                drawn = data.draw(hh.score_tensors(tuple(param.shape), param.dtype, self.device),
                                  label="importance_scores")
                scores[i], source = self._placed(data, "importance_scores", drawn, param.dtype)
                sources[i] = source or literal(scores[i])
                laid_out = laid_out or source is not None
        containers = ["list", "tuple"] + (["generator"] if "GLOBAL-7" not in self.departures
                                          else [])
        container = data.draw(st.sampled_from(containers), label="parameters")
        seed = data.draw(hh.seeds(), label="seed") if method.startswith("Random") else None
        given = ", importance_scores={" + ", ".join(
            f"({_expr(i)}, {TARGETS[i][1]!r}): {sources[i]}" for i in scores) + "}"
        line = (f"prune.global_unstructured({self._pairs_source(indices, container)}, "
                f"prune.{method}{given if scores else ''}, amount={literal(amount)})")
        if seed is not None:
            line = f"torch.manual_seed({seed}); {line}"
        before = {i: self.oracle.mask(i) for i in indices}
        step = parity.Step.global_(indices, method, scores, seed, amount=amount)
        record = parity.Record(step, [self.oracle.mask(j) for j in range(len(TARGETS))], [],
                               self._scores_seen(indices, scores))

        def run(side: Side) -> object:
            def made() -> object:
                extra = {"importance_scores": {(side.module(i), TARGETS[i][1]): s
                                               for i, s in scores.items()}} if scores else {}
                return side.prune.global_unstructured(
                    self._pairs(side, indices, container), getattr(side.prune, method),
                    **extra, amount=amount)
            if seed is None:
                return made()
            with hh.seeded(seed, self.device):
                return made()

        stale = method == "L1Unstructured" and any(i in self.stale and i not in scores
                                                   for i in indices)
        exact = "COMPOSE-3" if stale else ("GLOBAL-2" if method == "L1Unstructured" else
                                           "GLOBAL-1")
        self._oracle(lambda: run(self.oracle), line)
        self.context = exact
        blamed = "DEVICE-8" if laid_out else "GLOBAL-7" if container == "generator" else exact
        self._act(line, lambda: run(self.impl), blamed)
        self.stale -= set(indices)
        self._compare_masks(indices, before, parity.free_choice(record, self._subjects()), exact,
                            "GLOBAL-1", None, line, together=True)

    # -- bad calls ---------------------------------------------------------------------------------

    def _bad_entries(self, index: int) -> list[bi.BadCall]:
        ndim = getattr(self.impl.module(index), TARGETS[index][1]).dim()
        fits = [b for b in bi.bad_calls(is_global=False)
                if b.id not in _OWN_STEPS and b.clause not in self.departures
                and (ndim <= b.max_dims if b.max_dims < 2 else ndim >= b.min_dims)]
        return fits

    def _may_reject(self, index: int, atomic: str) -> bool:
        """ATOMIC: a rejected call on a pruned tensor, unless known to break it."""
        return atomic not in self.departures or not self.oracle.pruned(index)

    @precondition(_enabled("invalid"))
    @rule(data=st.data())
    def reject_bad_call(self, data: st.DataObject) -> None:
        """A bad call of the catalogue: the spec's exception on both sides, nothing changed."""
        usable = [i for i in range(len(TARGETS))
                  if self._may_reject(i, "ATOMIC-1") and self._bad_entries(i)]
        if not usable:
            return
        i = self._targets(data, usable)
        entry = data.draw(st.sampled_from(self._bad_entries(i)), label="bad call")
        method = data.draw(st.sampled_from(entry.methods), label="method") if entry.methods \
            else None
        module, other, name = self._both(i)
        drawn: list[Any] = []

        def record(strategy: st.SearchStrategy, label: str | None = None) -> Any:
            drawn.append(data.draw(strategy, label=label))
            return drawn[-1]

        def replay(strategy: st.SearchStrategy, label: str | None = None) -> Any:
            return next(values)

        subject = models.Subject(module, name, self.inputs[TARGETS[i][0]], "")
        invocation = entry.build(record, [subject], method)
        values = iter(drawn)
        mirrored = entry.build(replay, [models.Subject(other, name, subject.inputs, "")], method)
        self._oracle(lambda: ck.expect_rejected_unchanged(
            self.oracle.model, lambda: mirrored.run(self.oracle.prune), entry.error, entry.clause,
            mirrored.source), f"to reject {mirrored.source}")
        self.context = "ATOMIC-1"
        self.lines.append(f"module = {_expr(i)}")
        if entry.id in _PREPARATIONS:
            self.lines.append(_PREPARATIONS[entry.id])
        line = _rejected(invocation.source, entry.error, entry.clause)
        self._act(line, lambda: ck.expect_rejected_unchanged(
            self.impl.model, lambda: invocation.run(self.impl.prune), entry.error, entry.clause,
            invocation.source), entry.clause)

    def _global_bad_kinds(self, total: int) -> list[tuple[str, object, type[BaseException], str]]:
        kinds: list[tuple[str, object, type[BaseException], str]] = [
            ("amount", bad.value if bad.clause != "AMOUNT-6" else total + 1, bad.error, bad.clause)
            for bad in hh.bad_amounts(total)]
        kinds += [("structured", None, TypeError, "GLOBAL-6"),
                  ("scores-not-a-dict", None, TypeError, "GLOBAL-6"),
                  ("empty", None, ValueError, "GLOBAL-8"),
                  ("duplicate", None, ValueError, "GLOBAL-8")]
        return [k for k in kinds if k[3] not in self.departures]

    @precondition(_enabled("invalid_global"))
    @rule(data=st.data())
    def reject_bad_global_call(self, data: st.DataObject) -> None:
        """A bad global_unstructured call: the spec's exception, none of its modules changed."""
        usable = [i for i in range(len(TARGETS)) if self._may_reject(i, "ATOMIC-2")]
        if not usable:
            return
        indices = data.draw(st.lists(st.sampled_from(usable), min_size=1, unique=True),
                            label="tensors")
        total = sum(ck.remaining_units(self.oracle.mask(i), None) for i in indices)
        kind, value, error, clause = data.draw(st.sampled_from(self._global_bad_kinds(total)),
                                               label="bad call")
        method, kwargs, extra = "L1Unstructured", {"amount": 0}, ""
        pairs = list(indices)
        if kind == "amount":
            kwargs = {"amount": value}
        elif kind == "structured":
            method = data.draw(st.sampled_from(["LnStructured", "RandomStructured"]),
                               label="method")
            kwargs = {"amount": 0, "dim": 0, **({"n": 1} if method == "LnStructured" else {})}
        elif kind == "scores-not-a-dict":
            extra = ", importance_scores=[]"
        elif kind == "empty":
            pairs = []
        else:
            pairs = [*indices, data.draw(st.sampled_from(indices), label="twice")]
        args = "".join(f", {k}={literal(v)}" for k, v in kwargs.items())
        call = f"prune.global_unstructured({self._pairs_source(pairs, 'list')}, prune.{method}" \
               f"{extra}{args})"

        def run(side: Side) -> Callable[[], object]:
            scores = {"importance_scores": []} if extra else {}
            return lambda: side.prune.global_unstructured(
                self._pairs(side, pairs, "list"), getattr(side.prune, method), **scores, **kwargs)

        self._oracle(lambda: ck.expect_rejected_unchanged(
            self.oracle.model, run(self.oracle), error, clause, call, "ATOMIC-2"),
            f"to reject {call}")
        self.context = "ATOMIC-2"
        line = _rejected(call, error, clause)
        self._act(line, lambda: ck.expect_rejected_unchanged(
            self.impl.model, run(self.impl), error, clause, call, "ATOMIC-2"), clause)

    # -- remove, forward, training -----------------------------------------------------------------

    @precondition(_enabled("remove"))
    @rule(data=st.data())
    def remove_pruning(self, data: st.DataObject) -> None:
        """remove() of a pruned tensor; of a tensor not pruned: ValueError, nothing changed."""
        i = self._targets(data)
        module, other, name = self._both(i)
        call = f"prune.remove({_expr(i)}, {name!r})"
        if self.oracle.pruned(i):
            self._oracle(lambda: self.oracle.prune.remove(other, name), call)
            self.context = "REMOVE-1"
            self._act(call, lambda: self.impl.prune.remove(module, name), "REMOVE-1")
            self.stale.discard(i)
            return
        if not self._may_reject(i, "ATOMIC-2"):
            return
        self._oracle(lambda: ck.expect_rejected_unchanged(
            self.oracle.model, lambda: self.oracle.prune.remove(other, name), ValueError,
            "REMOVE-5", call, "ATOMIC-2"), f"to reject {call}")
        self.context = "ATOMIC-2"
        line = _rejected(call, ValueError, "REMOVE-5")
        self._act(line, lambda: ck.expect_rejected_unchanged(
            self.impl.model, lambda: self.impl.prune.remove(module, name), ValueError,
            "REMOVE-5", call, "ATOMIC-2"), "REMOVE-5")

    @precondition(_enabled("forward"))
    @rule()
    def forward(self) -> None:
        """A forward: every hook brings its tensor up to date (HOOK-2)."""
        self.context = "HOOK-2"
        self._refresh()

    @precondition(_enabled("train"))
    @rule(lr=st.sampled_from(LEARNING_RATES))
    def train(self, lr: float) -> None:
        """Backward through the pruned tensors and one SGD step on both sides."""
        dtype = self.spec.dtype
        self._oracle(lambda: forward_output(self.oracle.model, self.inputs).sum().backward(),
                     "backward")
        self._act("forward_output(model, inputs).sum().backward()",
                  lambda: forward_output(self.impl.model, self.inputs).sum().backward(),
                  "AUTOGRAD-1")
        seen, wanted = parameter_objects(self.impl.model), parameter_objects(self.oracle.model)
        for i, key in enumerate(TARGETS):
            text = f"gradient of {_label(i)}'s parameter"
            self._check(lambda key=key, text=text: ck.expect(
                seen[key].grad is not None, "AUTOGRAD-1", text + " is missing"))
            expected_grad = wanted[key].grad.detach().double().cpu()
            self._check(lambda key=key, text=text, expected_grad=expected_grad:
                parity.expect_close_outputs(seen[key].grad.detach().double().cpu(),
                                            expected_grad, dtype, "AUTOGRAD-1", text))
            mask = self.oracle.mask(i)
            text = f"gradient of {_label(i)}'s parameter at pruned entries must be 0"
            self._check(lambda key=key, text=text, mask=mask: ck.expect(
                    bool(seen[key].grad.detach().cpu()[mask.eq(0)].eq(0).all()), "AUTOGRAD-1",
                    text))

        self._oracle(lambda: sgd_step(self.oracle.model, lr), "an SGD step")
        self._act(f"sgd_step(model, lr={lr})", lambda: sgd_step(self.impl.model, lr),
                  "AUTOGRAD-1")
        # Both sides computed the same step, up to the dtype's rounding; the oracle adopts the
        # implementation's values so that the sessions stay comparable entry for entry.
        for i, key in enumerate(TARGETS):
            expected_values = wanted[key].detach().double().cpu()
            text = f"{_label(i)}'s parameter after an SGD step"
            self._check(lambda key=key, text=text, expected_values=expected_values:
                parity.expect_close_outputs(seen[key].detach().double().cpu(), expected_values,
                                            dtype, "AUTOGRAD-1", text))
            with torch.no_grad():
                wanted[key].copy_(seen[key].detach())
        self.context = "AUTOGRAD-2"
        self._after_optimizer_or_load()

    # -- saving and copying ------------------------------------------------------------------------

    def _fresh_pruned(self, side: Side) -> tuple[nn.ModuleDict, list[str]]:
        """A freshly built model pruned with the same methods as the oracle's (amounts 0,
        masks of ones), and the snippet lines that build it as `fresh`."""
        fresh = self.spec.build()
        lines = ["fresh = build()"]
        for i, (_, name) in enumerate(TARGETS):
            module = fresh[TARGETS[i][0]]
            target = _expr(i, "fresh")
            for cls, attributes in describe_history(self.oracle.prune, self.oracle.module(i),
                                                    name):
                if cls == "FooBarPruningMethod":
                    foobar_method(side.prune.BasePruningMethod).apply(module, name)
                    lines.append(f"FooBarPruningMethod.apply("
                                 f"{target}, {name!r})")
                    continue
                method = _BY_CLASS[cls]
                kwargs: dict[str, Any] = {"amount": 0} if method.takes_amount else {}
                kwargs.update({a: v for a, v in attributes.items() if a != "amount"})
                sources = {}
                if method.function == "custom_from_mask":
                    shape = list(getattr(module, name).shape)
                    kwargs["mask"] = torch.ones(shape, device=self.device)
                    sources["mask"] = (f"torch.ones({shape}"
                                       + (f", device={str(self.device)!r})"
                                          if self.device.type != "cpu" else ")"))
                Call(method, kwargs)(side.prune, module, name)
                lines.append(_source(method.function, target, name, kwargs, sources))
        return fresh, lines

    @precondition(_enabled("state_dict"))
    @rule()
    def load_state_dict_into_fresh_model(self) -> None:
        """The state_dict loads strictly into a fresh model pruned with the same methods."""
        def load(side: Side) -> tuple[nn.ModuleDict, list[str]]:
            fresh, lines = self._fresh_pruned(side)
            fresh.load_state_dict(side.model.state_dict())
            return fresh, lines

        fresh, lines = self._oracle(lambda: load(self.oracle), "a state_dict round trip")
        self.context = "SERIAL-1"
        line = "\n".join([*lines, "fresh.load_state_dict(model.state_dict())", "model = fresh"])
        self.impl.model = self._act(line, lambda: load(self.impl)[0], "SERIAL-1")
        self.oracle.model = fresh
        self.replaced = True
        self._after_optimizer_or_load()

    @precondition(_enabled("save"))
    @rule()
    def save_and_load(self) -> None:
        """torch.save / torch.load of the whole pruned model (SERIAL-2)."""
        def round_trip(side: Side) -> nn.ModuleDict:
            buffer = io.BytesIO()
            torch.save(side.model, buffer)
            buffer.seek(0)
            return torch.load(buffer, weights_only=False)

        self.oracle.model = self._oracle(lambda: round_trip(self.oracle), "torch.save/load")
        self.context = "SERIAL-2"
        line = ("buffer = io.BytesIO(); torch.save(model, buffer); buffer.seek(0)\n"
                "model = torch.load(buffer, weights_only=False)")
        self.impl.model = self._act(line, lambda: round_trip(self.impl), "SERIAL-2")
        self.replaced = True

    @precondition(lambda self: _enabled("deepcopy")(self) and "SERIAL-3" not in self.departures)
    @rule()
    def deepcopy(self) -> None:
        """copy.deepcopy gives an independent model; the original must not change afterwards."""
        self.oracle.model = self._oracle(lambda: copy.deepcopy(self.oracle.model), "deepcopy")
        self.context = "SERIAL-3"
        original = self.impl.model
        snapshot = ck.ModuleSnapshot.take(original)
        line = "original = model\nmodel = copy.deepcopy(model)"
        self.impl.model = self._act(line, lambda: copy.deepcopy(original), "SERIAL-3")
        self.original = (snapshot, original)
        self.replaced = True
        text = "the copy's parameters must be new tensors with their own storage"
        self._check(lambda: ck.expect(all(
            p is not q and p.data_ptr() != q.data_ptr() for p, q in zip(
                parameter_objects(self.impl.model).values(),
                parameter_objects(original).values(), strict=True)), "SERIAL-3", text))

    # -- after every step --------------------------------------------------------------------------

    def _output(self, side: Side) -> torch.Tensor:
        """The forward output, leaving every pruned attribute as it was (a stale one stays stale,
        so that the session still exercises COMPOSE-3)."""
        saved = [(m, name, m.__dict__[name]) for i, (_, name) in enumerate(TARGETS)
                 for m in [side.module(i)] if name in m.__dict__]
        try:
            with torch.no_grad():
                return forward_output(side.model, self.inputs).detach().cpu()
        finally:
            for module, name, value in saved:
                module.__dict__[name] = value

    @invariant()
    def sides_agree(self) -> None:
        if not self.ready:
            return
        clause = self.context
        impl, oracle = self.impl, self.oracle
        for what, get, default in (
            ("parameter names", lambda m: sorted(n for n, _ in m.named_parameters()), "REPARAM-1"),
            ("buffer names", lambda m: sorted(n for n, _ in m.named_buffers()), "REPARAM-2"),
            ("state_dict keys", lambda m: sorted(m.state_dict()), "REPARAM-4"),
        ):
            cited = clause if clause.startswith(("SERIAL", "ATOMIC")) else default
            wanted = get(oracle.model)
            self._check(lambda get=get, wanted=wanted, cited=cited, what=what: ck.expect_equal(
                    get(impl.model), wanted, cited, what))
        pruned = oracle.prune.is_pruned(oracle.model)
        self._check(lambda: ck.expect_equal(impl.prune.is_pruned(impl.model), pruned, "PRUNED-1",
                                            "is_pruned(model)"))
        for i in range(len(TARGETS)):
            self._agree_on_tensor(i, clause)
        wanted_output = self._output(oracle)
        what = f"forward output (after the last step, {clause})"
        self._check(lambda: parity.expect_close_outputs(self._output(impl), wanted_output,
                                                self.spec.dtype, "HOOK-2", what))
        if self.original is not None:
            snapshot, original = self.original
            what = "changes to the original model after copy.deepcopy and work on the copy"
            self._check(lambda: ck.expect_equal(
                snapshot.differences(ck.ModuleSnapshot.take(original)), [], "SERIAL-3", what))
        self.last_masks = [impl.mask(i) if impl.pruned(i) else None for i in range(len(TARGETS))]
        self.params = parameter_objects(impl.model)
        self.replaced = False

    def _agree_on_tensor(self, i: int, clause: str) -> None:
        module, other, name = self._both(i)
        label, key = _label(i), TARGETS[i]
        pruned = self.oracle.pruned(i)
        what = f"pruning forward pre-hooks of {label}"
        self._check(lambda: ck.expect_equal(len(ck.pruning_hooks(self.impl.prune, module, name)),
                                            int(pruned), "HOOK-1", what))
        history = describe_history(self.oracle.prune, other, name)
        what = f"hook history of {label} (class, arguments)"
        self._check(lambda: ck.expect_equal(describe_history(self.impl.prune, module, name),
                                            history, "COMPOSE-4", what))
        if pruned:
            self._check(lambda: ck.expect_binary_mask(module._buffers[f"{name}_mask"],
                                                      module._parameters[f"{name}_orig"],
                                                      "REPARAM-2"))
        if pruned and i not in self.stale:
            what = f"{label} must equal {name}_orig * {name}_mask"
            self._check(lambda: ck.expect(torch.equal(
                    getattr(module, name).detach().nan_to_num(),
                    (module._parameters[f"{name}_orig"] * module._buffers[f"{name}_mask"])
                    .detach().nan_to_num()), "REPARAM-3", what))
        mask = self.impl.mask(i)
        previous = self.last_masks[i]
        if pruned and previous is not None:
            self._check(lambda: ck.expect_monotone(previous, mask, "COMPOSE-1"))
        wanted_mask = self.oracle.mask(i)
        what = f"mask of {label} (after the last step, {clause})"
        self._check(lambda: ck.expect_same_mask(mask, wanted_mask, clause, what))
        wanted = ck.original(other, name).cpu()
        cited = clause if clause.startswith(("SERIAL", "ATOMIC", "AUTOGRAD", "REMOVE")) \
            else "REPARAM-1"
        what = f"values of {label}'s parameter (after the last step, {clause})"
        self._check(lambda: ck.expect(torch.equal(ck.original(module, name).cpu().nan_to_num(),
                                                  wanted.nan_to_num()), cited, what))
        if not self.replaced:
            cited = "REPARAM-1" if pruned else "REMOVE-1"
            what = (f"the Parameter behind {label} must stay the same object (optimizers hold "
                    "it)")
            self._check(lambda: ck.expect(parameter_objects(self.impl.model)[key]
                                          is self.params[key], cited, what))


def session_machine(prune: Any, **options: Any) -> Callable[[], PruneSession]:
    """A factory of sessions on `prune`, for `run_state_machine_as_test` (options: those of
    PruneSession)."""
    return functools.partial(PruneSession, prune, **options)


def run_session(prune: Any, *, settings: Settings | None = None, **options: Any) -> None:
    """Run random sessions on `prune` against the reference; raise SessionFailure on the first
    (shrunk) failure.

    `settings` default to Hypothesis' current profile, without its explain phase (which replays
    a failing session hundreds of times to report the lines it always runs: minutes here, for
    little the repro snippet does not say). `options`: those of PruneSession.
    """
    settings = settings or Settings()
    settings = Settings(settings, phases=[p for p in settings.phases if p != Phase.explain])
    run_state_machine_as_test(session_machine(prune, **options), settings=settings)
