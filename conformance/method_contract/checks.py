"""The checks of the method contract, in report order: one `@check` each, with its key (the name
`expected_failures` uses), the clause it reports under and its title. Checks on compute_mask come
first, then checks through `Cls.apply`, a PruningContainer and `remove`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from hypothesis import reject
from hypothesis import strategies as st

from conformance import checks as ck
from conformance import measure, models
from conformance import strategies as hh
from conformance.method_contract.contract import MISSING, NAME, PRUNING_TYPES, Contract, Skipped
from conformance.method_contract.inputs import (
    MaskInput,
    Steps,
    apply_method,
    compute,
    earlier_masks,
    examples,
    mask_inputs,
    quiet,
    start,
)
from conformance.render import beside_default, draw, masks_side_by_side


def _entries(n: int) -> str:
    return f"{n} {'entry' if n == 1 else 'entries'}"


def _values(mask: torch.Tensor) -> list[float]:
    return sorted({float(v) for v in mask.detach().flatten().cpu().tolist()})[:8]



# --- the checks -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Check:
    """One line of the report. `needs` names checks whose failure makes this one moot (a mask of
    the wrong shape fails every apply; a structured method without `dim` fails every container):
    it is then not run, so the report shows the cause once."""

    key: str
    clause: str
    title: str
    run: Callable[[Contract], None]
    needs: tuple[str, ...] = ()


CHECKS: list[Check] = []

# Checks that a call through a PruningContainer needs (the second call on a tensor).
CONTAINER = ("type", "dim")


def check(key: str, clause: str, title: str, needs: tuple[str, ...] = (),
          ) -> Callable[[Callable[[Contract], None]], Callable[[Contract], None]]:
    def register(run: Callable[[Contract], None]) -> Callable[[Contract], None]:
        CHECKS.append(Check(key, clause, title, run, needs))
        return run

    return register


@check("type", "COMPOSE-5", "PRUNING_TYPE is 'unstructured', 'structured' or 'global'")
def _pruning_type(c: Contract) -> None:
    given = "is not set" if c.pruning_type is MISSING else f"is {c.pruning_type!r}"
    ck.expect(c.pruning_type in PRUNING_TYPES, "COMPOSE-5",
              f"{c.cls.__name__}.PRUNING_TYPE {given}: a PruningContainer needs it to choose "
              f"what the method acts on and fails on the second call on a tensor; expected one "
              f"of {', '.join(map(repr, PRUNING_TYPES))}")


@check("dim", "COMPOSE-5",
       "a 'structured' method has an int `dim` attribute naming its channels' dim")
def _structured_dim(c: Contract) -> None:
    if not c.structured:
        raise Skipped(f"PRUNING_TYPE {c.type_text}")
    ck.expect(c.dim is not MISSING, "COMPOSE-5",
              f"{c.call} has PRUNING_TYPE 'structured' but no `dim` attribute: a "
              "PruningContainer needs it to find the remaining channels and raises "
              "AttributeError on the second call on a tensor (set self.dim in __init__)")
    ck.expect(c.has_dim, "COMPOSE-5",
              f"{c.call}.dim is {c.dim!r} ({type(c.dim).__name__}): expected an int")


def mask_check(key: str, clause: str, title: str, needs: tuple[str, ...] = (), *,
               pruned: bool | None = None, same_shape: bool = False,
               applies: Callable[[Contract], None] | None = None,
               ) -> Callable[[Callable[[Contract, MaskInput, torch.Tensor], None]], None]:
    """A check of single compute_mask calls: `body(c, x, mask)` over drawn inputs `x` (with a
    pruned entry if `pruned`), skipping masks of another shape where `same_shape` (CUSTOM-1's
    finding). `applies` raises Skipped for a method the check does not concern."""
    def register(body: Callable[[Contract, MaskInput, torch.Tensor], None]) -> None:
        def run(c: Contract) -> None:
            if applies is not None:
                applies(c)

            @examples(c.examples)
            def each(data: Any) -> None:
                x = data.draw(mask_inputs(c, pruned=pruned))
                mask = compute(c, x, clause)
                if same_shape and mask.shape != x.default.shape:
                    reject()
                body(c, x, mask)

            each()

        check(key, clause, title, needs)(run)

    return register


def apply_check(key: str, clause: str, title: str, needs: tuple[str, ...] = (),
                ) -> Callable[[Callable[[Contract, Any], None]], None]:
    """A check through `Cls.apply`: `body(c, data)` over `c.apply_examples` examples, drawing
    its module and calls from Hypothesis' `data`."""
    def register(body: Callable[[Contract, Any], None]) -> None:
        def run(c: Contract) -> None:
            @examples(c.apply_examples)
            def each(data: Any) -> None:
                body(c, data)

            each()

        check(key, clause, title, needs)(run)

    return register


def _with_dim(c: Contract) -> None:
    if not c.has_dim:
        raise Skipped("no int `dim` attribute (see COMPOSE-5 above)")


def _structured_with_dim(c: Contract) -> None:
    if not c.structured:
        raise Skipped(f"PRUNING_TYPE {c.type_text}")
    _with_dim(c)


@mask_check("shape", "CUSTOM-1",
            "compute_mask(t, default_mask) returns a tensor of default_mask's shape")
def _mask_shape(c: Contract, x: MaskInput, mask: torch.Tensor) -> None:
    ck.expect(tuple(mask.shape) == tuple(x.default.shape), "CUSTOM-1",
              f"mask shape: expected {tuple(x.default.shape)} (default_mask's), seen "
              f"{tuple(mask.shape)}\n{x.replay(c)}")


@mask_check("dtype", "REPARAM-2", "compute_mask's mask has default_mask's dtype")
def _mask_dtype(c: Contract, x: MaskInput, mask: torch.Tensor) -> None:
    ck.expect(mask.dtype == x.default.dtype, "REPARAM-2",
              f"mask dtype: expected {x.default.dtype} (default_mask's, the parameter's), "
              f"seen {mask.dtype}\n{x.replay(c)}")


@mask_check("device", "REPARAM-2", "compute_mask's mask is on default_mask's device")
def _mask_device(c: Contract, x: MaskInput, mask: torch.Tensor) -> None:
    ck.expect(mask.device == x.default.device, "REPARAM-2",
              f"mask device: expected {x.default.device} (default_mask's), seen "
              f"{mask.device}\n{x.replay(c)}")


@mask_check("binary", "REPARAM-2", "compute_mask's mask holds only 0 and 1")
def _mask_binary(c: Contract, x: MaskInput, mask: torch.Tensor) -> None:
    binary = bool(((mask == 0) | (mask == 1)).all())
    ck.expect(binary, "REPARAM-2",
              f"the mask must hold only 0 and 1, holds {_values(mask)}\n"
              f"{beside_default(x.default, mask, ('default_mask', 'mask'))}\n{x.replay(c)}")


@mask_check("monotone", "COMPOSE-1",
            "compute_mask never revives an entry that default_mask prunes", needs=("shape",),
            pruned=True, same_shape=True)
def _mask_monotone(c: Contract, x: MaskInput, mask: torch.Tensor) -> None:
    revived = x.default.eq(0) & mask.ne(0)
    ck.expect(not bool(revived.any()), "COMPOSE-1",
              f"{_entries(int(revived.sum()))} pruned in default_mask kept by the mask "
              f"(start from default_mask.clone(), never from ones):\n"
              f"{beside_default(x.default, mask, ('default_mask', 'mask'))}\n{x.replay(c)}")


def _partial_channels(before: torch.Tensor, after: torch.Tensor, dim: int) -> list[int]:
    """Channels along `dim` that `after` neither keeps as in `before` nor zeroes entirely."""
    dim = dim % before.dim()
    bad = []
    for i in range(before.shape[dim]):
        old, new = before.select(dim, i).ne(0), after.select(dim, i).ne(0)
        if not (torch.equal(old, new) or not bool(new.any())):
            bad.append(i)
    return bad


@mask_check("channels", "COMPOSE-2",
            "a 'structured' compute_mask prunes whole channels along dim: each channel keeps "
            "default_mask's entries or is all zero", needs=("dim", "shape"), same_shape=True,
            applies=_structured_with_dim)
def _whole_channels(c: Contract, x: MaskInput, mask: torch.Tensor) -> None:
    bad = _partial_channels(x.default, mask, int(c.dim))  # type: ignore[call-overload]
    ck.expect(not bad, "COMPOSE-2",
              f"channels {bad} along dim={c.dim} are partly pruned: a structured method "
              f"keeps a channel as default_mask has it or zeroes all of it\n"
              f"{beside_default(x.default, mask, ('default_mask', 'mask'))}\n{x.replay(c)}")


@check("seed", "SELECT-7",
       "compute_mask is reproducible: the same torch.manual_seed gives the same mask")
def _deterministic(c: Contract) -> None:
    # No shrinking: an unseeded method fails at random, and shrinking would chase that to an
    # example that passes half the time.
    @examples(c.examples, shrink=False)
    def run(data: Any) -> None:
        x = data.draw(mask_inputs(c))
        first = compute(c, x, "SELECT-7")
        for attempt in range(2):
            again = compute(c, x, "SELECT-7")
            same = again.shape == first.shape and torch.equal(
                again.detach().cpu().nan_to_num(), first.detach().cpu().nan_to_num())
            ck.expect(same, "SELECT-7",
                      f"two calls under torch.manual_seed({x.seed}) gave different masks (call "
                      f"{attempt + 2} differs from the first; draw random numbers from torch's "
                      f"default generator of t's device, e.g. torch.rand_like(t), not from a "
                      f"private torch.Generator or Python's random):\n"
                      f"{masks_side_by_side(first, again, 'first call', f'call {attempt + 2}')}"
                      f"\n"
                      f"{x.replay(c)}")

    run()


@check("prune", "CUSTOM-2",
       "method.prune(t, default_mask) is t * compute_mask(t, default_mask)",
       needs=("shape", "seed"))
def _prune_method(c: Contract) -> None:
    @examples(c.examples)
    def run(data: Any) -> None:
        x = data.draw(mask_inputs(c))
        mask = compute(c, x, "CUSTOM-2")
        try:
            with hh.seeded(x.seed, c.device), quiet():
                pruned = c.new().prune(x.t.clone(), default_mask=x.default.clone())
        except Exception as exc:
            ck.fail("CUSTOM-2", f"prune raised {type(exc).__name__}: {exc}\n"
                                f"{x.replay(c, f'{c.call}.prune(t, default_mask)')}")
        try:
            expected = x.t * mask
        except RuntimeError:
            reject()  # a mask of another shape: CUSTOM-1's finding
        same = (isinstance(pruned, torch.Tensor) and pruned.shape == expected.shape
                and torch.equal(pruned.detach().nan_to_num(), expected.detach().nan_to_num()))
        ck.expect(same, "CUSTOM-2",
                  f"prune(t, default_mask) must return t * compute_mask(t, default_mask), "
                  f"returned {pruned!r}\n{x.replay(c, f'{c.call}.prune(t, default_mask)')}")

    run()


@check("container", "COMPOSE-2",
       "inside a PruningContainer the method acts only on what remains (its PRUNING_TYPE's "
       "units) and the combined mask is binary and monotone",
       needs=(*CONTAINER, "binary", "monotone"))
def _in_container(c: Contract) -> None:
    if c.structured:
        _with_dim(c)

    @examples(c.examples)
    def run(data: Any) -> None:
        x = data.draw(mask_inputs(c, pruned=True))
        source = (f"import {c.family_name} as prune\n"
                  f"    first = prune.Identity(); first._tensor_name = {NAME!r}\n"
                  f"    method = {c.call}; method._tensor_name = {NAME!r}\n"
                  f"    container = prune.PruningContainer(first)\n"
                  f"    container.add_pruning_method(method)\n"
                  f"    mask = container.compute_mask(t, default_mask)")
        try:
            first = c.family.Identity()
            first._tensor_name = NAME
            container = c.family.PruningContainer(first)
            method = c.new()
            method._tensor_name = NAME
            container.add_pruning_method(method)
            with hh.seeded(x.seed, c.device):
                combined = container.compute_mask(x.t.clone(), x.default.clone())
        except Exception as exc:
            if isinstance(exc, ValueError) and c.rejects(*c.view(x.t, x.default), x.seed):
                reject()
            ck.fail("COMPOSE-2", f"{c.family_name}.PruningContainer.compute_mask raised "
                                 f"{type(exc).__name__}: {exc}\n{x.replay(c, source)}")
        ck.expect(isinstance(combined, torch.Tensor)
                  and tuple(combined.shape) == tuple(x.default.shape), "COMPOSE-2",
                  f"the combined mask must have default_mask's shape {tuple(x.default.shape)}, "
                  f"is {getattr(combined, 'shape', combined)!r}\n{x.replay(c, source)}")
        binary = bool(((combined == 0) | (combined == 1)).all())
        ck.expect(binary, "REPARAM-2", f"the combined mask must hold only 0 and 1, holds "
                                       f"{_values(combined)}\n{x.replay(c, source)}")
        revived = x.default.eq(0) & combined.ne(0)
        ck.expect(not bool(revived.any()), "COMPOSE-1",
                  f"the combined mask revives {_entries(int(revived.sum()))}:\n"
                  f"{beside_default(x.default, combined, ('default_mask', 'combined'))}\n"
                  f"{x.replay(c, source)}")
        if c.structured:
            bad = _partial_channels(x.default, combined, int(c.dim))  # type: ignore[call-overload]
            ck.expect(not bad, "COMPOSE-2",
                      f"channels {bad} along dim={c.dim} are partly pruned by a structured "
                      f"method:\n"
                      f"{beside_default(x.default, combined, ('default_mask', 'combined'))}\n"
                      f"{x.replay(c, source)}")

    run()



def _hooks(c: Contract, module: torch.nn.Module, name: str) -> list[Any]:
    return measure.pruning_hooks(c.family, module, name)


def _expect_reparametrized(c: Contract, subject: models.Subject, param: torch.Tensor,
                           steps: Steps, clause: str) -> None:
    """The kit's REPARAM-1..3 and HOOK-1 check (conformance.checks), the replay under it."""
    try:
        ck.expect_reparametrized(c.family, subject.module, subject.name, param, clause,
                                 f"after {c.apply_source(name=subject.name)}")
    except ck.SpecViolation as exc:
        ck.fail(clause, f"{str(exc).removeprefix(f'{clause}: ')}\n{steps}")


@apply_check("apply", "CUSTOM-1",
             "Cls.apply(module, name, **kwargs) on a fresh tensor: name_orig is the very "
             "Parameter, name a plain tensor equal to name_orig * name_mask", needs=("shape",))
def _apply_fresh(c: Contract, data: Any) -> None:
    subject, steps = start(c, data)
    param = subject.param
    apply_method(c, data, subject, steps, "CUSTOM-1")
    _expect_reparametrized(c, subject, param, steps, "CUSTOM-1")


@apply_check("buffer", "REPARAM-2",
             "Cls.apply stores name_mask: a persistent buffer of the parameter's shape, dtype and "
             "device, holding 0 and 1, not requiring grad", needs=("shape",))
def _apply_mask_buffer(c: Contract, data: Any) -> None:
    subject, steps = start(c, data)
    module, name, param = subject.module, subject.name, subject.param
    apply_method(c, data, subject, steps, "REPARAM-2")
    mask = module._buffers.get(f"{name}_mask")
    ck.expect(isinstance(mask, torch.Tensor)
              and f"{name}_mask" not in module._non_persistent_buffers_set, "REPARAM-2",
              f"{name}_mask must be a registered persistent buffer, is {mask!r}\n{steps}")
    for what, seen, expected in (("shape", tuple(mask.shape), tuple(param.shape)),
                                 ("dtype", mask.dtype, param.dtype),
                                 ("device", mask.device, param.device)):
        ck.expect(seen == expected, "REPARAM-2",
                  f"{name}_mask {what}: expected {expected} (the parameter's), seen "
                  f"{seen}\n{steps}")
    binary = bool(((mask == 0) | (mask == 1)).all())
    ck.expect(binary, "REPARAM-2",
              f"{name}_mask must hold only 0 and 1, holds {_values(mask)}\n{steps}")
    ck.expect(not mask.requires_grad, "REPARAM-2",
              f"{name}_mask must not require grad\n{steps}")


@apply_check("hook", "HOOK-1",
             "Cls.apply registers one forward pre-hook for the tensor, the method object itself, "
             "and returns it (HOOK-3)", needs=("shape",))
def _apply_hook(c: Contract, data: Any) -> None:
    subject, steps = start(c, data)
    module, name = subject.module, subject.name
    hook = apply_method(c, data, subject, steps, "HOOK-1")
    hooks = _hooks(c, module, name)
    ck.expect(len(hooks) == 1, "HOOK-1",
              f"pruning forward pre-hooks for {name!r}: expected 1, seen {len(hooks)}\n"
              f"{steps}")
    ck.expect(type(hooks[0]) is c.cls, "HOOK-1",
              f"after one call the hook must be the {c.cls.__name__} object itself, is "
              f"{type(hooks[0]).__name__}\n{steps}")
    ck.expect(hooks[0]._tensor_name == name, "HOOK-1",
              f"the hook's _tensor_name must be {name!r}, is "
              f"{getattr(hooks[0], '_tensor_name', None)!r}\n{steps}")
    ck.expect(hook is hooks[0], "HOOK-3",
              f"{c.cls.__name__}.apply must return the hook now registered, returned "
              f"{hook!r}\n{steps}")



def _expect_history(c: Contract, module: torch.nn.Module, name: str, expected: list[str],
                    steps: Steps, clause: str = "COMPOSE-4") -> None:
    seen = [type(m).__name__ for m in measure.history(c.family, module, name)]
    ck.expect(seen == expected, clause,
              f"the hook's history (COMPOSE-4): expected {expected}, seen {seen}\n{steps}")


def _expect_no_revival(before: torch.Tensor, module: torch.nn.Module, name: str, steps: Steps,
                       clause: str) -> None:
    after = module._buffers.get(f"{name}_mask")
    if not isinstance(after, torch.Tensor) or after.shape != before.shape:
        ck.fail(clause, f"{name}_mask must keep the parameter's shape {tuple(before.shape)}, is "
                        f"{getattr(after, 'shape', after)!r}\n{steps}")
    revived = before.eq(0) & after.ne(0)
    ck.expect(not bool(revived.any()), clause,
              f"{_entries(int(revived.sum()))} pruned before the call kept after it "
              f"(COMPOSE-1):\n{beside_default(before, after, ('before', 'after'))}\n{steps}")


def _apply_on_a_pruned_tensor(c: Contract, data: Any, subject: models.Subject, steps: Steps,
                              when: str = "") -> tuple[Any, Any, torch.Tensor]:
    """One more `Cls.apply` on a tensor already pruned, held to one pruning hook (HOOK-1):
    the hook apply returned, the hook registered and the mask before the call."""
    module, name = subject.module, subject.name
    before = measure.current_mask(module, name).detach().clone()
    hook = apply_method(c, data, subject, steps, "COMPOSE-4")
    hooks = _hooks(c, module, name)
    ck.expect(len(hooks) == 1, "HOOK-1",
              f"pruning forward pre-hooks for {name!r}{when}: expected 1, seen {len(hooks)}\n"
              f"{steps}")
    return hook, hooks[0], before


@apply_check("pruned", "COMPOSE-4",
             "Cls.apply on a tensor already pruned (custom_from_mask): one hook, a "
             "PruningContainer holding [CustomFromMask, Cls], no entry revived",
             needs=("shape", *CONTAINER))
def _apply_on_pruned(c: Contract, data: Any) -> None:
    subject, steps = start(c, data)
    module, name = subject.module, subject.name
    earlier = data.draw(earlier_masks(c, subject.param), label="earlier mask")
    steps.add(f"prune.custom_from_mask(module, {name!r}, mask=mask)  # mask:\n        "
              + "\n        ".join(draw(earlier)))
    c.family.CustomFromMask.apply(module, name, mask=earlier)
    hook, registered, before = _apply_on_a_pruned_tensor(c, data, subject, steps)
    ck.expect(isinstance(registered, c.family.PruningContainer), "COMPOSE-4",
              f"after the second call the hook must be a PruningContainer, is "
              f"{type(registered).__name__}\n{steps}")
    _expect_history(c, module, name, ["CustomFromMask", c.cls.__name__], steps)
    ck.expect(hook is registered, "HOOK-3",
              f"{c.cls.__name__}.apply must return the hook now registered (the "
              f"container), returned {hook!r}\n{steps}")
    _expect_no_revival(before, module, name, steps, "COMPOSE-1")


@apply_check("repeated", "COMPOSE-4",
             "Cls.apply three times: the second call makes a PruningContainer, the third appends "
             "to that same container; no entry revived", needs=("shape", *CONTAINER))
def _apply_repeated(c: Contract, data: Any) -> None:
    subject, steps = start(c, data)
    module, name = subject.module, subject.name
    apply_method(c, data, subject, steps, "COMPOSE-4")
    container = None
    for call in (2, 3):
        hook, registered, before = _apply_on_a_pruned_tensor(c, data, subject, steps,
                                                              f" after call {call}")
        _expect_history(c, module, name, [c.cls.__name__] * call, steps)
        if container is not None:
            ck.expect(registered is container, "COMPOSE-4",
                      f"call {call} must append to the container of call 2, the hook is "
                      f"another object\n{steps}")
        container = registered
        ck.expect(hook is container, "HOOK-3",
                  f"{c.cls.__name__}.apply must return the hook now registered\n{steps}")
        _expect_no_revival(before, module, name, steps, "COMPOSE-1")


@dataclass
class Removed:
    """A subject pruned by 1-2 calls of the method, then `remove`d."""

    subject: models.Subject
    steps: Steps
    param: torch.Tensor  # the Parameter, as before pruning
    keys: list[str]  # the state_dict keys before pruning
    pruned: torch.Tensor  # orig * mask just before remove

    @property
    def module(self) -> torch.nn.Module:
        return self.subject.module

    @property
    def name(self) -> str:
        return self.subject.name


def _pruned_then_removed(c: Contract, data: Any, clause: str) -> Removed:
    subject, steps = start(c, data)
    module, name, param = subject.module, subject.name, subject.param
    keys = list(module.state_dict())
    for _ in range(data.draw(st.integers(1, 2), label="calls before remove")):
        apply_method(c, data, subject, steps, clause)
    mask = module._buffers.get(f"{name}_mask")
    try:
        pruned = (param.detach() * mask).clone()
    except Exception:
        reject()  # a broken mask: the apply checks report it
    steps.add(f"prune.remove(module, {name!r})")
    try:
        with quiet():
            c.family.remove(module, name)
    except Exception as exc:
        ck.fail(clause, f"remove raised {type(exc).__name__}: {exc}\n{steps}")
    return Removed(subject, steps, param, keys, pruned)


def removed_check(key: str, clause: str, title: str,
                  ) -> Callable[[Callable[[Contract, Any, Removed], None]], None]:
    """A check after `remove`: `body(c, data, removed)` (see `_pruned_then_removed`)."""
    def register(body: Callable[[Contract, Any, Removed], None]) -> None:
        @apply_check(key, clause, title, needs=("shape", *CONTAINER))
        def run(c: Contract, data: Any) -> None:
            body(c, data, _pruned_then_removed(c, data, clause))

    return register


@removed_check("remove", "REMOVE-1",
               "remove(module, name) after one or two calls puts back the same Parameter, "
               "holding orig * mask, with its requires_grad")
def _remove_restores(c: Contract, data: Any, removed: Removed) -> None:
    param, name, steps = removed.param, removed.name, removed.steps
    ck.expect(removed.module._parameters.get(name) is param, "REMOVE-1",
              f"after remove, {name} must be the original Parameter again\n{steps}")
    ck.expect(torch.equal(param.detach().nan_to_num(), removed.pruned.nan_to_num()), "REMOVE-1",
              f"after remove, {name} must hold {name}_orig * {name}_mask\n{steps}")
    ck.expect(param.requires_grad, "REMOVE-1",
              f"after remove, {name} must still require grad\n{steps}")


@removed_check("cleanup", "REMOVE-2",
               "after remove: no name_orig, name_mask or pruning hook; the state_dict keys of "
               "the unpruned module")
def _remove_cleans(c: Contract, data: Any, removed: Removed) -> None:
    module, name, steps = removed.module, removed.name, removed.steps
    ck.expect(f"{name}_orig" not in module._parameters
              and f"{name}_mask" not in module._buffers, "REMOVE-2",
              f"after remove, {name}_orig and {name}_mask must be gone\n{steps}")
    ck.expect(not _hooks(c, module, name), "REMOVE-2",
              f"after remove, the pruning hook of {name!r} must be gone\n{steps}")
    seen = list(module.state_dict())
    # As sets: torch re-registers the parameter last, so the order may change.
    ck.expect(sorted(seen) == sorted(removed.keys), "REMOVE-2",
              f"state_dict keys after remove: expected {removed.keys} (before pruning), seen "
              f"{seen}\n{steps}")


@removed_check("fresh", "REMOVE-4",
               "Cls.apply after remove starts fresh: a new name_orig/name_mask pair and the "
               "method alone as the hook")
def _apply_after_remove(c: Contract, data: Any, removed: Removed) -> None:
    apply_method(c, data, removed.subject, removed.steps, "REMOVE-4")
    orig = removed.module._parameters.get(f"{removed.name}_orig")
    ck.expect(orig is removed.param, "REMOVE-4",
              f"{removed.name}_orig must again be the Parameter\n{removed.steps}")
    _expect_history(c, removed.module, removed.name, [c.cls.__name__], removed.steps, "REMOVE-4")
