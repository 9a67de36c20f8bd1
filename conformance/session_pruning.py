"""The pruning steps of a session (`conformance.stateful`): a registry method, the tutorial's
user-defined method and `global_unstructured`, each made on both sides, then the masks compared.

Where the spec leaves a choice (random methods, ties in the scores), the implementation's mask
must be one the spec allows (`parity.free_choice`: the same number of units, differences only
among the entries left to choice, whole channels for a structured call) and the oracle adopts it,
so that the two sides stay comparable entry for entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import torch
from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule
from torch import nn

from conformance import checks as ck
from conformance import measure, parity
from conformance import strategies as hh
from conformance.registry import Call
from conformance.session_core import SessionCore, enabled
from conformance.session_model import (
    TARGETS,
    Side,
    call_source,
    expression,
    foobar_method,
    label,
    whole_channels,
)
from conformance.source import literal

# The containers global_unstructured takes its (module, name) pairs in.
CONTAINERS = ("list", "tuple", "generator")


def pairs_source(indices: Sequence[int], container: str) -> str:
    """The (module, name) pairs of `indices` as the snippet spells them, in `container`."""
    pairs = ", ".join(f"({expression(i)}, {TARGETS[i][1]!r})" for i in indices)
    if container == "tuple":
        return f"({pairs},)"
    if container == "generator":
        return f"(p for p in [{pairs}])"
    return f"[{pairs}]"


def pairs_of(side: Side, indices: Sequence[int], container: str) -> Iterable[Any]:
    """The (module, name) pairs of `indices` on one side, in `container`."""
    pairs = [(side.module(i), TARGETS[i][1]) for i in indices]
    if container == "tuple":
        return tuple(pairs)
    if container == "generator":
        return (p for p in pairs)
    return pairs


class PruningSteps(SessionCore):
    """The steps that prune, and how their masks are compared."""

    def _scores_seen(self, indices: Iterable[int], given: Mapping[int, torch.Tensor],
                     ) -> dict[int, torch.Tensor]:
        """What a call ranks on the oracle's side (COMPOSE-3), float64 on the CPU."""
        seen = {}
        for i in indices:
            scores = given.get(i)
            if scores is None:
                module, name = self.oracle.module(i), TARGETS[i][1]
                scores = measure.original(module, name) * measure.mask_or_ones(module, name)
            seen[i] = scores.detach().to("cpu", torch.float64).contiguous()
        return seen

    def _free_choice(self, step: parity.Step, indices: Iterable[int],
                     scores: Mapping[int, torch.Tensor]) -> list[torch.Tensor] | None:
        """The entries of each tensor the spec leaves to choice in `step` (parity.free_choice)."""
        record = parity.Record(step, [self.oracle.mask(j) for j in range(len(TARGETS))], [],
                               self._scores_seen(indices, scores))
        return parity.free_choice(record, [self._subject(self.oracle, i)
                                           for i in range(len(TARGETS))])

    def _adopt(self, index: int, mask: torch.Tensor) -> None:
        """The oracle takes the implementation's (valid) mask and refreshes its attribute."""
        module, name = self.oracle.module(index), TARGETS[index][1]
        with torch.no_grad():
            module._buffers[f"{name}_mask"].copy_(mask)
        measure.pruning_hooks(self.oracle.prune, module, name)[0](module, ())

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
            text = f"mask of {label(i)} after {what}"
            if not choice:
                self._check(lambda i=i, text=text: ck.expect_same_mask(
                    seen[i], wanted[i], exact_clause, text))
        if not choice:
            return
        assert free is not None
        groups = [list(indices)] if together else [[i] for i in indices]
        for group in groups:
            units = sum(measure.remaining_units(wanted[i], dim) for i in group)
            got = sum(measure.remaining_units(seen[i], dim) for i in group)
            text = f"units remaining in {' + '.join(label(i) for i in group)} after {what}"
            self._check(lambda got=got, units=units, text=text: ck.expect_equal(
                    got, units, count_clause, text))
        for i in indices:
            text = (f"mask of {label(i)} after {what}, outside the entries the spec leaves to "
                    f"choice (drawn as kept)")
            either = free[i].cpu()
            self._check(lambda i=i, either=either, text=text: ck.expect_same_mask(
                    seen[i].ne(0) | either, wanted[i].ne(0) | either, exact_clause, text))
            if dim is not None:
                text = f"{what} must prune whole channels along dim={dim} of {label(i)}"
                self._check(lambda i=i, text=text: ck.expect(
                        whole_channels(before[i], seen[i], dim), exact_clause, text))
        for i in indices:
            if not torch.equal(seen[i].ne(0), wanted[i].ne(0)):
                self._adopt(i, seen[i])

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

    def _seeded(self, seed: int | None, make: Callable[[], object]) -> object:
        """`make()`, under torch's generator seeded with `seed` when a random method draws."""
        if seed is None:
            return make()
        with hh.seeded(seed, self.device):
            return make()

    # -- the steps ---------------------------------------------------------------------------------

    @precondition(enabled("prune"))
    @rule(data=st.data())
    def prune_tensor(self, data: st.DataObject) -> None:
        """A registry method with random valid arguments on a random tensor."""
        shapes = [tuple(getattr(self.impl.module(i), n).shape) for i, (_, n) in enumerate(TARGETS)]
        usable = [i for i, s in enumerate(shapes) if any(m.applies_to(s) for m in self.methods)]
        if not usable:
            return
        i = self._targets(data, usable)
        module, other, name = self._both(i)
        subject = self._subject(self.impl, i)
        call = data.draw(hh.calls(subject, self.methods), label=f"call on {label(i)}")
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
        line = call_source(call.method.function, expression(i), name, kwargs, sources)
        if seed is not None:
            line = f"torch.manual_seed({seed}); {line}"
        # A call that ranks the tensor's values, left stale by an optimizer step (COMPOSE-3).
        stale = i in self.stale and call.method.takes_importance_scores and \
            "importance_scores" not in kwargs
        before = {i: self.oracle.mask(i)}
        scores = {i: kwargs["importance_scores"]} if "importance_scores" in kwargs else {}
        free = self._free_choice(parity.Step.prune(call, target=i, seed=seed), [i], scores)

        def run(side: Side, target: nn.Module) -> object:
            return self._seeded(seed, lambda: call(side.prune, target, name))

        self._oracle(lambda: run(self.oracle, other), line)
        exact = "COMPOSE-3" if stale else call.method.mask_clause
        self.context = exact
        # A valid call that raises: blamed on the layout of its tensors when they are not
        # contiguous (DEVICE-8), else on the method.
        self._act(line, lambda: run(self.impl, module), "DEVICE-8" if sources else exact)
        self.stale.discard(i)
        count = "AMOUNT-1" if isinstance(call.amount, int) else "AMOUNT-2"
        self._compare_masks([i], before, free, exact, count, call.dim, line)

    @precondition(enabled("custom"))
    @rule(data=st.data())
    def prune_with_user_method(self, data: st.DataObject) -> None:
        """The tutorial's FooBarPruningMethod, a subclass of each side's BasePruningMethod."""
        i = self._targets(data)
        module, other, name = self._both(i)
        before = {i: self.oracle.mask(i)}
        line = (f"FooBarPruningMethod.apply({expression(i)}, {name!r})")
        self._oracle(lambda: foobar_method(self.oracle.prune.BasePruningMethod).apply(
            other, name), line)
        self.context = "CUSTOM-1"
        self._act(line, lambda: foobar_method(self.impl.prune.BasePruningMethod).apply(
            module, name), "CUSTOM-1")
        self.stale.discard(i)
        self._compare_masks([i], before, None, "CUSTOM-1", "CUSTOM-1", None, line)

    @precondition(enabled("global"))
    @rule(data=st.data())
    def prune_globally(self, data: st.DataObject) -> None:
        """global_unstructured over a random subset, with and without importance scores."""
        indices = data.draw(st.lists(st.integers(0, len(TARGETS) - 1), min_size=1,
                                     max_size=len(TARGETS), unique=True), label="tensors")
        method = data.draw(st.sampled_from(["L1Unstructured", "RandomUnstructured"]),
                           label="pruning_method")
        total = sum(measure.remaining_units(self.oracle.mask(i), None) for i in indices)
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
        containers = [c for c in CONTAINERS
                      if c != "generator" or "GLOBAL-7" not in self.departures]
        container = data.draw(st.sampled_from(containers), label="parameters")
        seed = data.draw(hh.seeds(), label="seed") if method.startswith("Random") else None
        given = ", importance_scores={" + ", ".join(
            f"({expression(i)}, {TARGETS[i][1]!r}): {sources[i]}" for i in scores) + "}"
        line = (f"prune.global_unstructured({pairs_source(indices, container)}, "
                f"prune.{method}{given if scores else ''}, amount={literal(amount)})")
        if seed is not None:
            line = f"torch.manual_seed({seed}); {line}"
        before = {i: self.oracle.mask(i) for i in indices}
        free = self._free_choice(parity.Step.global_(indices, method, scores, seed, amount=amount),
                                 indices, scores)

        def run(side: Side) -> object:
            def made() -> object:
                extra = {"importance_scores": {(side.module(i), TARGETS[i][1]): s
                                               for i, s in scores.items()}} if scores else {}
                return side.prune.global_unstructured(
                    pairs_of(side, indices, container), getattr(side.prune, method),
                    **extra, amount=amount)
            return self._seeded(seed, made)

        stale = method == "L1Unstructured" and any(i in self.stale and i not in scores
                                                   for i in indices)
        exact = "COMPOSE-3" if stale else ("GLOBAL-2" if method == "L1Unstructured" else
                                           "GLOBAL-1")
        self._oracle(lambda: run(self.oracle), line)
        self.context = exact
        blamed = "DEVICE-8" if laid_out else "GLOBAL-7" if container == "generator" else exact
        self._act(line, lambda: run(self.impl), blamed)
        self.stale -= set(indices)
        self._compare_masks(indices, before, free, exact, "GLOBAL-1", None, line, together=True)
