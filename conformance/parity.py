"""Parity: the same pruning program on two configurations must give the same masks and outputs.

A configuration is a device, a memory layout (of the pruned parameter and of the tensors given
to the calls: importance scores, custom masks) and a CPU thread count. `run` replays a program
(pruning calls, global calls, removes) on copies of the subjects placed in one configuration and
records every mask; `expect_parity` compares two such traces the way DEVICE-3, DEVICE-4 and
DEVICE-8 ask: identical masks where the scores leave no choice, and, where they do (ties, or
scores so close that the dtype cannot tell them apart), any choice with the same number of units,
after which the two runs may legitimately differ and are no longer compared. Forward outputs are
compared within the dtype's tolerance. The "other" side of a comparison defaults to the CPU.

Usable outside the suite, e.g. a backend vendor's own check::

    a = parity.run(prune, [subject], steps, parity.Config())            # contiguous, CPU
    b = parity.run(prune, [subject], steps, parity.Config("cuda"))
    parity.expect_parity(a, b, "DEVICE-3")
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch

from conformance import checks as ck
from conformance import measure, models
from conformance import strategies as hh
from conformance.registry import Call, python_literal

CPU = torch.device("cpu")

# Relative tolerances of forward outputs (float32 allows TF32 matmuls and convolutions on GPUs).
OUTPUT_RTOL = {torch.float16: 1e-2, torch.bfloat16: 4e-2, torch.float32: 5e-3,
               torch.float64: 1e-9}


def tie_tolerance(dtype: torch.dtype) -> float:
    """Scores closer than this (relative) may be ranked either way by a backend's arithmetic."""
    return 16 * torch.finfo(dtype).eps


@dataclass(frozen=True)
class Config:
    """Where a program runs: device, memory layout of the parameter and of the call's tensors
    (`scores_layout`, default: the parameter's layout) and the CPU thread count (None: as is)."""

    device: torch.device | str = CPU
    layout: str = "contiguous"
    threads: int | None = None
    scores_layout: str | None = None

    def __str__(self) -> str:
        parts = [str(torch.device(self.device)), self.layout]
        if self.scores_layout not in (None, self.layout):
            parts.append(f"scores {self.scores_layout}")
        if self.threads is not None:
            parts.append(f"{self.threads} threads")
        return "/".join(parts)

    def place(self, t: torch.Tensor) -> torch.Tensor:
        """A tensor argument of a call, moved to this configuration."""
        return hh.with_layout(t.to(torch.device(self.device)), self.scores_layout or self.layout)


@dataclass(frozen=True)
class Step:
    """One step of a program, acting on subject `target` (global: on `targets`)."""

    kind: str  # "call" | "global" | "remove"
    call: Call | None = None
    target: int = 0
    targets: tuple[int, ...] = ()
    method: str = ""  # global: the pruning method's class name
    kwargs: dict[str, Any] = field(default_factory=dict)  # global: amount
    scores: dict[int, torch.Tensor] = field(default_factory=dict)  # global: scores by target
    seed: int | None = None  # drawn by the caller, for random methods

    @classmethod
    def prune(cls, call: Call, target: int = 0, seed: int | None = None) -> Step:
        return cls("call", call=call, target=target, seed=seed)

    @classmethod
    def global_(cls, targets: Sequence[int], method: str,
                scores: dict[int, torch.Tensor] | None = None, seed: int | None = None,
                **kwargs: Any) -> Step:
        return cls("global", targets=tuple(targets), method=method, kwargs=kwargs,
                   scores=dict(scores or {}), seed=seed)

    @classmethod
    def remove(cls, target: int = 0) -> Step:
        return cls("remove", target=target)

    @property
    def random(self) -> bool:
        if self.kind == "call":
            return self.call is not None and self.call.method.random
        return self.kind == "global" and self.method.startswith("Random")

    def source(self, subjects: Sequence[models.Subject]) -> str:
        if self.kind == "call" and self.call is not None:
            return self.call.source(f"m{self.target}", subjects[self.target].name)
        if self.kind == "remove":
            return f"prune.remove(m{self.target}, {subjects[self.target].name!r})"
        pairs = ", ".join(f"(m{i}, {subjects[i].name!r})" for i in self.targets)
        scores = "".join(f", (m{i}, ...): {python_literal(s)}" for i, s in self.scores.items())
        args = "".join(f", {k}={python_literal(v)}" for k, v in self.kwargs.items())
        extra = f", importance_scores={{{scores[2:]}}}" if scores else ""
        return f"prune.global_unstructured([{pairs}], prune.{self.method}{extra}{args})"


@dataclass
class Record:
    """What one step saw and left: masks before and after it (CPU copies), and its scores."""

    step: Step
    before: list[torch.Tensor]
    after: list[torch.Tensor]
    scores: dict[int, torch.Tensor]  # float64 CPU copies of what the step ranks, by target


@dataclass
class Trace:
    """A program's run in one configuration."""

    config: Config
    subjects: list[models.Subject]
    records: list[Record] = field(default_factory=list)
    outputs: list[torch.Tensor] = field(default_factory=list)
    error: BaseException | None = None
    failed_step: int | None = None

    def program(self) -> str:
        lines = [f"m{i} = {s.source}  # pruning {s.name!r}, {s.param.dtype}"
                 for i, s in enumerate(self.subjects)]
        return "\n".join(lines + [r.step.source(self.subjects) for r in self.records])


@contextmanager
def _threads(count: int | None) -> Iterator[None]:
    if count is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def replicate(subject: models.Subject, config: Config) -> models.Subject:
    """A copy of an unpruned subject in `config`: same values, device and layout of `config`."""
    module = copy.deepcopy(subject.module).to(torch.device(config.device))
    param = module._parameters[subject.name]
    if param is not None:
        # Re-lay the same Parameter's storage; the module keeps its parameter object.
        param.data = hh.with_layout(param.data, config.layout)
    inputs = subject.inputs.to(torch.device(config.device))
    return models.Subject(module, subject.name, inputs, subject.source)


def _seen_scores(step: Step, subjects: list[models.Subject], config_scores: dict[int, Any],
                 ) -> dict[int, torch.Tensor]:
    """The scores a step ranks (COMPOSE-3, SELECT-5), as float64 CPU tensors."""
    seen = {}
    targets = step.targets if step.kind == "global" else (step.target,)
    for i in targets:
        given = config_scores.get(i)
        if given is None:
            module, name = subjects[i].module, subjects[i].name
            given = measure.original(module, name) * measure.mask_or_ones(module, name)
        seen[i] = given.detach().to(CPU, torch.float64).contiguous()
    return seen


def _execute(prune: Any, step: Step, subjects: list[models.Subject], config: Config) -> None:
    if step.kind == "remove":
        subject = subjects[step.target]
        prune.remove(subject.module, subject.name)
        return
    if step.kind == "call" and step.call is not None:
        kwargs = {k: config.place(v) if isinstance(v, torch.Tensor) else v
                  for k, v in step.call.kwargs.items()}
        subject = subjects[step.target]
        Call(step.call.method, kwargs)(prune, subject.module, subject.name)
        return
    pairs = [(subjects[i].module, subjects[i].name) for i in step.targets]
    extra = {}
    if step.scores:
        extra["importance_scores"] = {pairs[step.targets.index(i)]: config.place(s)
                                      for i, s in step.scores.items()}
    prune.global_unstructured(pairs, getattr(prune, step.method), **extra, **step.kwargs)


def _masks(subjects: list[models.Subject]) -> list[torch.Tensor]:
    return [measure.mask_or_ones(s.module, s.name).to(CPU) for s in subjects]


def run(prune: Any, subjects: Sequence[models.Subject], steps: Sequence[Step],
        config: Config | None = None) -> Trace:
    """Replay `steps` on copies of the (unpruned) `subjects` placed in `config`.

    An exception stops the program and is recorded, so that a configuration that fails where the
    other works is reported as a parity failure rather than an error of the check.
    """
    config = config or Config()
    copies = [replicate(s, config) for s in subjects]
    trace = Trace(config, copies)
    device = torch.device(config.device)
    with _threads(config.threads):
        for index, step in enumerate(steps):
            given = dict(step.scores)
            if step.kind == "call" and step.call is not None:
                scores = step.call.kwargs.get("importance_scores")
                given = {step.target: scores} if scores is not None else {}
            seen = {} if step.kind == "remove" else _seen_scores(step, copies, given)
            before = _masks(copies)
            try:
                if step.seed is not None:
                    with hh.seeded(step.seed, device):
                        _execute(prune, step, copies, config)
                else:
                    _execute(prune, step, copies, config)
            except Exception as exc:
                trace.error, trace.failed_step = exc, index
                trace.records.append(Record(step, before, before, seen))
                return trace
            trace.records.append(Record(step, before, _masks(copies), seen))
        try:
            trace.outputs = _outputs(copies)
        except Exception as exc:
            problem = unsupported(subjects, config)
            if problem:
                raise UnsupportedConfig(problem) from exc
            trace.error, trace.failed_step = exc, len(steps)
    return trace


class UnsupportedConfig(Exception):
    """The subjects' own forward fails in the configuration, unpruned: the model cannot run there
    (cuDNN's LSTM, for one, `view`s its weights and rejects a transposed one), so no pruning
    program can be compared there. Properties discard such examples."""


def _outputs(subjects: Sequence[models.Subject]) -> list[torch.Tensor]:
    with torch.no_grad():
        return [s.forward().detach().to(CPU, torch.float64) for s in subjects]


def unsupported(subjects: Sequence[models.Subject], config: Config) -> str | None:
    """Why the unpruned `subjects` cannot run their forward in `config`, or None."""
    for index, subject in enumerate(subjects):
        try:
            _outputs([replicate(subject, config)])
        except Exception as exc:
            return (f"m{index} = {subject.source} cannot run its forward on {config}, unpruned: "
                    f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
    return None


# --- which units a step may choose freely ------------------------------------------------------

def _near(scores: torch.Tensor, k: int, tol: float) -> torch.Tensor | None:
    """Units among `scores` (1-d, float64) that a k-smallest selection may swap: those as close
    to the threshold as the k-th and (k+1)-th smallest are to each other; None if none may."""
    n = scores.numel()
    if k <= 0 or k >= n:
        return None
    ordered = scores.nan_to_num(nan=math.inf).sort().values
    last_pruned, first_kept = float(ordered[k - 1]), float(ordered[k])
    if last_pruned == first_kept:
        return (scores == last_pruned) | (scores.isnan() & math.isinf(last_pruned))
    scale = max(abs(last_pruned), abs(first_kept))
    if not math.isfinite(scale) or first_kept - last_pruned > tol * scale:
        return None
    return (scores - last_pruned).abs().le(tol * scale) | (scores - first_kept).abs().le(
        tol * scale)


def _norm_order(n: object) -> float:
    return 2.0 if n == "fro" else float(n)  # type: ignore[arg-type]


def free_choice(record: Record, subjects: list[models.Subject]) -> list[torch.Tensor] | None:
    """Per target, a bool mask of entries the step may prune or keep at its discretion (entries
    of units tied at the threshold; all remaining ones for a random method), or None when the
    step's result is fully determined by its inputs."""
    step = record.step
    if step.kind == "remove":
        return None
    shapes = [m.shape for m in record.before]
    free = [torch.zeros(shape, dtype=torch.bool) for shape in shapes]
    if step.random:
        for i in (step.targets if step.kind == "global" else (step.target,)):
            free[i] = record.before[i].ne(0)
        return free
    if step.kind == "global":
        remaining = [record.before[i].ne(0).reshape(-1) for i in step.targets]
        flat = torch.cat([record.scores[i].abs().reshape(-1)[r]
                          for i, r in zip(step.targets, remaining, strict=True)])
        dtype = subjects[step.targets[0]].param.dtype
        near = _near(flat, measure.expected_count(step.kwargs["amount"], flat.numel()),
                     tie_tolerance(dtype))
        if near is None:
            return None
        for i, r, part in zip(step.targets, remaining,
                              near.split([int(r.sum()) for r in remaining]), strict=True):
            entries = torch.zeros(r.numel(), dtype=torch.bool)
            entries[r] = part
            free[i] = entries.reshape(shapes[i])
        return free
    call = step.call
    assert call is not None
    i = step.target
    tol = tie_tolerance(subjects[i].param.dtype)
    before, scores = record.before[i], record.scores[i]
    if call.method.function == "l1_unstructured":
        remaining = before.ne(0)
        near = _near(scores.abs()[remaining],
                     measure.expected_count(call.amount, int(remaining.sum())), tol)
        if near is None:
            return None
        free[i][remaining] = near
        return free
    if call.method.function == "ln_structured":
        dim = call.kwargs["dim"] % before.dim()
        alive = measure.alive_channels(before, dim)
        channels = scores.movedim(dim, 0).reshape(scores.shape[dim], -1)
        norms = torch.linalg.vector_norm(channels, ord=_norm_order(call.kwargs["n"]), dim=1)
        near = _near(norms[alive], measure.expected_count(call.amount, int(alive.sum())), tol)
        if near is None:
            return None
        channel_free = torch.zeros_like(alive)
        channel_free[alive] = near
        shape = [1] * before.dim()
        shape[dim] = -1
        free[i] = channel_free.reshape(shape).expand(before.shape).clone()
        return free
    return None  # identity, custom_from_mask: nothing to choose


# --- comparing two traces ----------------------------------------------------------------------

def _units(mask: torch.Tensor, step: Step) -> int:
    dim = step.call.dim if step.kind == "call" and step.call is not None else None
    return measure.remaining_units(mask, dim)


def expect_parity(other: Trace, seen: Trace, clause: str, *, ties: str = "free") -> None:
    """`seen` (e.g. the --device run) agrees with `other` (e.g. the CPU run) under `clause`.

    ties="free": where the scores leave a choice (see `free_choice`), any choice of the same
    number of units conforms and the comparison stops there (DEVICE-3, DEVICE-8); ties="exact":
    masks must be identical even then (DEVICE-4, deterministic tie rule).
    """
    program = other.program()
    where = f"on {seen.config} vs {other.config}"
    if (other.error is None) != (seen.error is None) or (
            other.error is not None and type(other.error) is not type(seen.error)):
        def said(trace: Trace) -> str:
            if trace.error is None:
                return "worked"
            at = ("in the forward after the last step" if trace.failed_step == len(trace.records)
                  else f"at step {trace.failed_step + 1}")
            return f"raised {type(trace.error).__name__} {at}: {trace.error}"
        ck.fail(clause, f"the same program {said(seen)} on {seen.config} but {said(other)} on "
                        f"{other.config}:\n{program}")
    for index, (a, b) in enumerate(zip(other.records, seen.records, strict=False)):
        if other.failed_step == index:
            return  # both failed here, the same way
        free = free_choice(a, other.subjects) if ties == "free" else None
        step_text = a.step.source(other.subjects)
        for target, (mask_a, mask_b) in enumerate(zip(a.after, b.after, strict=True)):
            what = f"mask of m{target} after step {index + 1} ({step_text}) {where}"
            if free is None or not bool(free[target].any()):
                ck.expect_same_mask(mask_b, mask_a, clause, f"{what}\n{program}\n")
                continue
            differs = mask_a.ne(0) != mask_b.ne(0)
            if bool((differs & ~free[target]).any()):
                ck.expect_same_mask(mask_b, mask_a, clause,
                                    f"{what}: they differ outside the units tied at the "
                                    f"threshold\n{program}\n")
            if a.step.kind != "global":
                ck.expect_equal(_units(mask_b, a.step), _units(mask_a, a.step), clause,
                                f"units remaining in the {what}")
        if free is not None and a.step.kind == "global":
            # Tied entries of several tensors: the choice may move pruned entries from one tensor
            # to another, so only the total over the call's tensors is fixed (GLOBAL-1).
            ck.expect_equal(sum(_units(b.after[i], a.step) for i in a.step.targets),
                            sum(_units(a.after[i], a.step) for i in a.step.targets), clause,
                            f"entries remaining over the tensors of step {index + 1} "
                            f"({step_text}) {where}")
        if free is not None and any(
                bool((x.ne(0) != y.ne(0)).any()) for x, y in zip(a.after, b.after, strict=True)):
            return  # a legitimate different choice: later steps and outputs may differ
    for target, (out_a, out_b) in enumerate(zip(other.outputs, seen.outputs, strict=True)):
        expect_close_outputs(out_b, out_a, other.subjects[target].param.dtype, clause,
                             f"forward output of m{target} {where}\n{program}\n")


def expect_close_outputs(seen: torch.Tensor, expected: torch.Tensor, dtype: torch.dtype,
                         clause: str, what: str) -> None:
    """Equal within the dtype's tolerance, relative to the output's scale; positions where either
    side overflowed are not compared (overflow is the dtype's matter, not pruning's)."""
    ck.expect_equal(tuple(seen.shape), tuple(expected.shape), clause, f"{what} shape")
    finite = seen.isfinite() & expected.isfinite()
    if not bool(finite.any()):
        return
    rtol = OUTPUT_RTOL.get(dtype, 1e-6)
    scale = max(1.0, float(expected[finite].abs().max()))
    error = float((seen[finite] - expected[finite]).abs().max())
    ck.expect(error <= rtol * scale, clause,
              f"{what}: largest difference {error:.3g} exceeds {rtol:g} x {scale:.3g}")

