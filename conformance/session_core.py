"""The core of a pruning session (`conformance.stateful`): its two sides, how a step is made on
each, and how a failure becomes a `SessionFailure` with its repro snippet.

`SessionCore` builds the model on both sides from the same drawn sizes and tie-free values, and
gives the steps three ways to act: `_oracle` (the reference; its failure is an `OracleFailure`,
a bug of the kit), `_act` (the implementation; the step is recorded as a snippet line) and
`_check` (a check of the implementation's side after a step). The steps themselves live in
`session_pruning`, `session_rejections` and `session_lifecycle`, the checks after every step in
`session_invariants`; `stateful.PruneSession` puts them together.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Any

import torch
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize
from torch import nn

from conformance import checks as ck
from conformance import models, repro, session_snippet
from conformance import strategies as hh
from conformance.registry import METHODS, Method
from conformance.session_model import (
    SNIPPET_HELPERS,
    TARGETS,
    ModelSpec,
    Side,
    forward_output,
    label,
    module_of,
    parameter_objects,
)
from conformance.source import literal

# The steps of a session, by name (`PruneSession(steps=...)` enables a subset).
STEPS = ("prune", "invalid", "global", "invalid_global", "custom", "remove", "forward", "train",
         "state_dict", "save", "deepcopy")


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


def enabled(step: str) -> Callable[[SessionCore], bool]:
    """The precondition of a step: the models are built and the step is enabled."""
    return lambda self: self.ready and step in self.steps


class SessionCore(RuleBasedStateMachine):
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

    # -- acting on each side, and failing with a snippet -------------------------------------------

    def _failure(self, clause: str, message: str, step: str | None = None) -> SessionFailure:
        """The failure, with its snippet on Hypothesis' final replay: the steps so far, and
        `step` (the failing one) if given."""
        snippet = None
        if repro.is_final_example():
            steps = [*self.lines, *([step] if step else [])]
            snippet = session_snippet.render(
                self.prune_under_test, module_of(self.prune_under_test), self.oracle_module,
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
            *(f"    {label(i)}.copy_({literal(v)})" for i, v in enumerate(values)),
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

    def _targets(self, data: st.DataObject, allowed: Iterable[int] | None = None) -> int:
        pool = list(range(len(TARGETS)) if allowed is None else allowed)
        return data.draw(st.sampled_from(pool), label="tensor")

    def _subject(self, side: Side, index: int) -> models.Subject:
        """A tensor of the model as the catalogue and the strategies take it."""
        key, name = TARGETS[index]
        return models.Subject(side.module(index), name, self.inputs[key], "")

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

    def _may_reject(self, index: int, atomic: str) -> bool:
        """ATOMIC: a rejected call on a pruned tensor, unless known to break it."""
        return atomic not in self.departures or not self.oracle.pruned(index)
