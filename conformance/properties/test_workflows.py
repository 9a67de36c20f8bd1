"""WORKFLOW-1 to 7: a pruned module transformed by the rest of PyTorch (compile, export,
functional_call, meta and to_empty, dtype and device moves, TorchScript). Parametrizations,
checkpoints and data-parallel wrappers are test_workflows_composed.py's.

Subjects come from the whole model zoo, attention included (`workflows.ZOO`), pruned by 1-2 calls
of any registered method, in float32 or float64 where outputs and gradients are compared.
Compiling is costly: torch.compile draws a few examples (more under the `thorough` profile, which
also adds the inductor backend), and torch._dynamo's caches are reset per example, so that no
example falls back to eager because an earlier one filled the recompile limit.

The module is named test_workflows.py, not test_workflow.py, so that it never shares a basename
with the kit's own tests/test_workflow.py (which checks the CI workflow file).
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from conformance import capabilities, measure, models
from conformance import checks as ck
from conformance import strategies as hh
from conformance import workflows as wf

# Tracing, scripting and compiling warn about LSTMs, traced control flow and their own deprecation.
pytestmark = pytest.mark.filterwarnings("ignore")

THOROUGH = settings.get_current_profile_name() == "thorough"
# inductor's first compile of a module takes about 15 s on a 2-core CPU (eager: about 1 s).
BACKENDS = ("eager", "aot_eager", *(("inductor",) if THOROUGH else ()))


# --- WORKFLOW-1: torch.compile -----------------------------------------------------------------

def _output_and_grads(module: Callable[..., Any], subject: models.Subject,
                      params: list[torch.Tensor], seed: int,
                      ) -> tuple[torch.Tensor, list[torch.Tensor | None]]:
    out = wf.out(module, subject.inputs)
    grads = torch.autograd.grad(wf.weighted_sum(out, seed), params, allow_unused=True)
    return out.detach(), list(grads)


CHANGES = ("prune again", "edit the mask", "remove")


@pytest.mark.clause("WORKFLOW-1")
@hh.fewer_examples(10, floor=2)
@given(data=st.data())
def test_compiled_module_computes_the_eager_forward_and_gradients(prune, device, data):
    """Compiled and eager agree on output and gradients; after a drawn change to the pruning
    (another call, a hand edit of the mask, remove), the compiled module's next call gives the
    eager module's output. The compiled module always runs first, so that an eager forward cannot
    refresh a stale attribute for it."""
    torch._dynamo.reset()
    subject, _, lines = wf.pruned(prune, device, data)
    module, name = subject.module, subject.name
    backend = data.draw(st.sampled_from(BACKENDS), label="backend")
    seed = data.draw(hh.seeds(), label="loss seed")
    compiled = torch.compile(module, backend=backend)
    lines.append(f"compiled = torch.compile(module, backend={backend!r})")
    what = "\n".join(lines)
    params = [p for p in module.parameters() if p.requires_grad]
    names = [n for n, p in module.named_parameters() if p.requires_grad]
    seen, seen_grads = _output_and_grads(compiled, subject, params, seed)
    expected, expected_grads = _output_and_grads(module, subject, params, seed)
    wf.close(seen, expected, "WORKFLOW-1", f"{what}\ncompiled(x) against module(x)")
    for pname, g_seen, g_expected in zip(names, seen_grads, expected_grads, strict=True):
        ck.expect((g_seen is None) == (g_expected is None), "WORKFLOW-1",
                  f"{what}\ngradient of {pname}: compiled {g_seen is not None}, eager "
                  f"{g_expected is not None}")
        if g_seen is not None:
            wf.close(g_seen, g_expected, "WORKFLOW-1", f"{what}\ngradient of {pname}")
    change = data.draw(st.sampled_from(CHANGES), label="change")
    if change == "prune again":
        further = data.draw(hh.calls(subject), label="further call")
        call_seed = data.draw(hh.seeds(), label="seed")
        with hh.seeded(call_seed, device):
            further(prune, module, name)
        lines.append(f"torch.manual_seed({call_seed}); {further.source(name=name)}")
    elif change == "edit the mask":
        lines.append(wf.zero_one_remaining_entry(data, module, name))
    else:
        prune.remove(module, name)
        lines.append(f"prune.remove(module, {name!r})")
    what = "\n".join(lines)
    with torch.no_grad():
        seen = wf.out(compiled, subject.inputs)
        expected = wf.out(module, subject.inputs)
    wf.close(seen, expected, "WORKFLOW-1",
           f"{what}\ncompiled(x) against module(x) after the change (a stale compiled graph "
           f"still applies the old mask)")


# --- WORKFLOW-2: torch.export ------------------------------------------------------------------

class _AssignsInAPreHook(nn.Module):
    """Not pruning: a module whose forward pre-hook assigns a tensor attribute, as pruning does."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(2))
        self.register_forward_pre_hook(_assign_scaled)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scaled


def _assign_scaled(module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
    module.scaled = module.scale * 2


@functools.cache
def _export_problem() -> str | None:
    """Why this torch's export cannot export a pruned module of any implementation, or None:
    torch 2.5 refuses every module whose forward pre-hook assigns a tensor attribute."""
    try:
        torch.export.export(_AssignsInAPreHook(), (torch.ones(2),))
    except Exception as exc:
        return (f"torch {torch.__version__}'s export cannot export a module whose forward "
                f"pre-hook assigns a tensor attribute, pruned or not ({type(exc).__name__}: "
                f"{str(exc).splitlines()[0][:120]})")
    return None


@pytest.mark.clause("WORKFLOW-2")
@hh.fewer_examples(4)
@given(data=st.data())
def test_exported_program_holds_orig_and_mask_and_computes_the_pruned_forward(
        prune, device, data):
    if _export_problem():
        pytest.skip(_export_problem())
    subject, _, lines = wf.pruned(prune, device, data)
    module, name = subject.module, subject.name
    lines.append("program = torch.export.export(module, (x,))")
    what = "\n".join(lines)
    try:
        program = torch.export.export(module, (subject.inputs,))
    except Exception as exc:
        ck.fail("WORKFLOW-2", f"{what} raised {type(exc).__name__}: {str(exc)[:300]}")
    signature = program.graph_signature
    ck.expect(f"{name}_orig" in signature.parameters, "WORKFLOW-2",
              f"{what}\nthe program's parameters must include {name}_orig: {signature.parameters}")
    ck.expect(f"{name}_mask" in signature.buffers, "WORKFLOW-2",
              f"{what}\nthe program's buffers must include {name}_mask: {signature.buffers}")
    ck.expect(name not in signature.parameters and name not in signature.buffers, "WORKFLOW-2",
              f"{what}\n{name} must be computed in the graph, not held by the program")
    for suffix in ("_orig", "_mask"):
        held = program.state_dict[name + suffix]
        ck.expect(torch.equal(held.detach().nan_to_num(),
                              getattr(module, name + suffix).detach().nan_to_num()),
                  "WORKFLOW-2", f"{what}\nprogram.state_dict[{name + suffix!r}] must hold the "
                                f"module's values")
    with torch.no_grad():
        seen = wf.out(program.module(), subject.inputs)
        expected = wf.out(module, subject.inputs)
    wf.close(seen, expected, "WORKFLOW-2", f"{what}\nprogram.module()(x) against module(x)")


# --- WORKFLOW-3: torch.func.functional_call ----------------------------------------------------

@pytest.mark.clause("WORKFLOW-3")
@hh.fewer_examples(2)
@given(data=st.data())
def test_functional_call_computes_with_the_given_orig_and_mask(prune, device, data):
    """With the module's own tensors: its forward. With a drawn `<name>_orig` and binary
    `<name>_mask`: the forward of the unpruned module holding their product, and the gradient of
    the given orig is the gradient of that product times the given mask."""
    subject, twin, lines = wf.pruned(prune, device, data)
    module, name = subject.module, subject.name
    shape, dtype = tuple(subject.param.shape), subject.param.dtype
    own = {**dict(module.named_parameters()), **dict(module.named_buffers())}
    lines.append("tensors = {**dict(module.named_parameters()), **dict(module.named_buffers())}")
    what = "\n".join(lines)
    with torch.no_grad():
        seen = wf.out(lambda x: torch.func.functional_call(module, own, (x,)), subject.inputs)
        expected = wf.out(module, subject.inputs)
    wf.close(seen, expected, "WORKFLOW-3",
           f"{what}\ntorch.func.functional_call(module, tensors, (x,)) against module(x)")
    orig_before = module._parameters[f"{name}_orig"]
    values_before = orig_before.detach().clone(), module._buffers[f"{name}_mask"].detach().clone()
    new_orig = data.draw(hh.score_tensors(shape, dtype, device), label="given orig")
    bits = data.draw(st.lists(st.booleans(), min_size=new_orig.numel(),
                              max_size=new_orig.numel()), label="given mask")
    new_mask = torch.tensor(bits, dtype=dtype, device=device).reshape(shape)
    new_orig.requires_grad_(True)
    seed = data.draw(hh.seeds(), label="loss seed")
    given = {**own, f"{name}_orig": new_orig, f"{name}_mask": new_mask}
    out = wf.out(lambda x: torch.func.functional_call(module, given, (x,)), subject.inputs)
    (grad,) = torch.autograd.grad(wf.weighted_sum(out, seed), [new_orig])
    what += (f"\ntensors[{name + '_orig'!r}] = {new_orig.detach()}\n"
             f"tensors[{name + '_mask'!r}] = {new_mask}\n"
             f"torch.func.functional_call(module, tensors, (x,))")
    with torch.no_grad():
        getattr(twin, name).copy_(new_orig.detach() * new_mask)
    twin_out = wf.out(twin, subject.inputs)
    (twin_grad,) = torch.autograd.grad(wf.weighted_sum(twin_out, seed), [getattr(twin, name)])
    wf.close(out, twin_out, "WORKFLOW-3",
           f"{what}\nagainst the unpruned module holding {name} = given orig * given mask")
    wf.close(grad, twin_grad * new_mask, "WORKFLOW-3",
           f"{what}\ngradient of the given {name}_orig against d loss / d {name} * given mask")
    ck.expect(module._parameters.get(f"{name}_orig") is orig_before
              and torch.equal(orig_before.detach().nan_to_num(), values_before[0].nan_to_num())
              and torch.equal(module._buffers[f"{name}_mask"], values_before[1]), "WORKFLOW-3",
              f"{what}\nmust leave module.{name}_orig and module.{name}_mask as they were")


# --- WORKFLOW-4: meta device and to_empty -----------------------------------------------------

@pytest.mark.clause("WORKFLOW-4")
@hh.fewer_examples(4)
@given(data=st.data())
def test_meta_then_to_empty_loads_a_pruned_checkpoint(prune, device, data):
    """Two ways to a module without values that takes a pruned checkpoint: the pruned module
    moved to meta, and the unpruned one moved to meta and pruned by identity. Both, after
    to_empty and a strict load of the pruned state_dict, compute the pruned forward."""
    subject, unpruned, lines = wf.pruned(prune, device, data)
    module, name = subject.module, subject.name
    state = {k: v.detach().clone() for k, v in module.state_dict().items()}
    with torch.no_grad():
        expected = wf.out(module, subject.inputs)
    mask = module._buffers[f"{name}_mask"].detach().clone()
    hooks = measure.pruning_hooks(prune, module, name)
    built = unpruned.to("meta")
    prune.identity(built, name)
    module.to("meta")
    what = "\n".join(lines) + "\nstate = module.state_dict()\nmodule.to('meta')"
    for suffix in ("_orig", "_mask"):
        ck.expect(getattr(module, name + suffix).device.type == "meta", "WORKFLOW-4",
                  f"{what}\n{name}{suffix} must be on meta, is on "
                  f"{getattr(module, name + suffix).device}")
    ck.expect(measure.pruning_hooks(prune, module, name) == hooks, "WORKFLOW-4",
              f"{what}\nthe pruning hook of {name} must stay")
    built_steps = (f"{lines[0]}\nbuilt = the module before pruning, .to('meta')\n"
                   f"prune.identity(built, {name!r})")
    for target, steps in ((module, what), (built, built_steps)):
        steps += f"\n.to_empty(device={str(device)!r})\n.load_state_dict(state, strict=True)"
        target.to_empty(device=device)
        try:
            target.load_state_dict(state, strict=True)
        except Exception as exc:
            ck.fail("WORKFLOW-4", f"{steps} raised {type(exc).__name__}: {str(exc)[:300]}")
        with torch.no_grad():
            seen = wf.out(target, subject.inputs)
        ck.expect_same_mask(target._buffers[f"{name}_mask"], mask, "WORKFLOW-4",
                            f"{name}_mask after\n{steps}")
        wf.close(seen, expected, "WORKFLOW-4", f"{steps}\nforward against the pruned module's")


# --- WORKFLOW-5: dtype and device moves --------------------------------------------------------

DTYPE_METHODS = {torch.float16: "half", torch.bfloat16: "bfloat16", torch.float32: "float",
                 torch.float64: "double"}
MOVES = ("dtype method", ".to(dtype)", ".to(device)", ".to(device, dtype)")


@pytest.mark.clause("WORKFLOW-5")
@hh.fewer_examples(2)
@given(data=st.data())
def test_a_moved_module_converts_orig_and_mask_and_the_next_forward_uses_them(
        prune, device, data):
    """After the move: the same orig Parameter and the mask in the new dtype and device, the mask
    on the same entries, the hook in place; module.<name> is the last value or the new product;
    after the next forward it is orig * mask in the new dtype and device."""
    subject, _, lines = wf.pruned(prune, device, data,
                                dtypes=capabilities.supported_dtypes(device))
    module, name = subject.module, subject.name
    if data.draw(st.booleans(), label="forward before the move"):
        subject.forward()
        lines.append("module(x)")
    dtype = data.draw(hh.dtypes(device), label="target dtype")
    target = torch.device(data.draw(st.sampled_from(sorted({"cpu", str(device)})),
                                    label="target device"))
    move = data.draw(st.sampled_from(MOVES), label="move")
    if move == "dtype method":
        call, target = f".{DTYPE_METHODS[dtype]}()", subject.param.device
    elif move == ".to(dtype)":
        call, target = f".to({dtype})", subject.param.device
    elif move == ".to(device)":
        call, dtype = f".to({str(target)!r})", subject.param.dtype
    else:
        call = f".to({str(target)!r}, {dtype})"
    orig, mask = module._parameters[f"{name}_orig"], module._buffers[f"{name}_mask"].clone()
    last = getattr(module, name)
    hooks = measure.pruning_hooks(prune, module, name)
    if move == "dtype method":
        getattr(module, DTYPE_METHODS[dtype])()
    else:
        module.to(device=target, dtype=dtype)
    lines.append(f"module{call}")
    what = "\n".join(lines)
    ck.expect(module._parameters.get(f"{name}_orig") is orig, "WORKFLOW-5",
              f"{what}\n{name}_orig must stay the same Parameter object")
    moved_mask = module._buffers[f"{name}_mask"]
    for suffix, t in (("_orig", orig), ("_mask", moved_mask)):
        ck.expect(t.dtype == dtype and t.device.type == target.type, "WORKFLOW-5",
                  f"{what}\n{name}{suffix} must be {dtype} on {target}, is {t.dtype} on {t.device}")
    ck.expect_binary_mask(moved_mask, orig, "WORKFLOW-5")
    ck.expect_same_mask(moved_mask, mask, "WORKFLOW-5", f"{name}_mask after\n{what}")
    ck.expect(measure.pruning_hooks(prune, module, name) == hooks, "WORKFLOW-5",
              f"{what}\nthe pruning hook of {name} must stay")
    product = (orig.detach() * moved_mask).nan_to_num()
    before = getattr(module, name)
    ck.expect(before is last or (before.dtype == dtype and before.device.type == target.type
                                 and torch.equal(before.detach().nan_to_num(), product)),
              "WORKFLOW-5", f"{what}\nbefore the next forward module.{name} must be the last "
                            f"value or {name}_orig * {name}_mask")
    inputs = subject.inputs.to(target) if subject.inputs.dtype == torch.long else (
        subject.inputs.to(device=target, dtype=dtype))
    module(inputs)
    after = getattr(module, name).detach()
    ck.expect(after.dtype == dtype and after.device.type == target.type
              and torch.equal(after.nan_to_num(), product), "WORKFLOW-5",
              f"{what}\nmodule(x)\nmodule.{name} must then be {name}_orig * {name}_mask in {dtype} "
              f"on {target}, is {after.dtype} on {after.device}")


# --- WORKFLOW-6 and 7: TorchScript -------------------------------------------------------------

@pytest.mark.clause("WORKFLOW-6")
@hh.fewer_examples(4)
@given(data=st.data())
def test_a_trace_computes_the_pruned_forward_from_the_modules_orig_and_mask(prune, device, data):
    subject, _, lines = wf.pruned(prune, device, data)
    module, name = subject.module, subject.name
    lines.append("traced = torch.jit.trace(module, (x,))")
    what = "\n".join(lines)
    try:
        traced = torch.jit.trace(module, (subject.inputs,), check_trace=False)
    except Exception as exc:
        ck.fail("WORKFLOW-6", f"{what} raised {type(exc).__name__}: {str(exc)[:300]}")
    held = {**dict(traced.named_parameters()), **dict(traced.named_buffers())}
    for suffix in ("_orig", "_mask"):
        own = getattr(module, name + suffix)
        ck.expect(name + suffix in held and held[name + suffix].data_ptr() == own.data_ptr(),
                  "WORKFLOW-6", f"{what}\nthe trace must hold the module's own {name}{suffix}")
    with torch.no_grad():
        seen, expected = wf.out(traced, subject.inputs), wf.out(module, subject.inputs)
    wf.close(seen, expected, "WORKFLOW-6", f"{what}\ntraced(x) against module(x)")
    if data.draw(st.booleans(), label="a training step, else a mask edit"):
        with torch.no_grad():
            module._parameters[f"{name}_orig"].mul_(-2)
        lines.append(f"module.{name}_orig.mul_(-2)")
    else:
        lines.append(wf.zero_one_remaining_entry(data, module, name))
    what = "\n".join(lines)
    with torch.no_grad():
        seen, expected = wf.out(traced, subject.inputs), wf.out(module, subject.inputs)
    wf.close(seen, expected, "WORKFLOW-6", f"{what}\ntraced(x) against module(x) after the change")


def _scripted_output(module: nn.Module, inputs: torch.Tensor,
                     ) -> tuple[torch.Tensor | None, BaseException | None]:
    """The output of `torch.jit.script(module)` on `inputs`, or the exception of either step (an
    LSTM scripts in torch 2.13 into a module without `forward`, pruned or not)."""
    try:
        with torch.no_grad():
            return wf.out(torch.jit.script(module), inputs), None
    except Exception as exc:
        return None, exc


@pytest.mark.clause("WORKFLOW-7")
@hh.fewer_examples(4)
@given(data=st.data())
def test_script_computes_the_pruned_forward_or_raises_changing_nothing(prune, device, data):
    """A scripted pruned module computes the pruned forward, or scripting raises and the module
    is unchanged, still pruned and computing the same; after remove, the module scripts wherever
    its unpruned kind does (TorchScript cannot call super(): the attention subclass never
    scripts; nor does an LSTM's forward)."""
    subject, unpruned, lines = wf.pruned(prune, device, data)
    module, name = subject.module, subject.name
    with torch.no_grad():
        expected = wf.out(module, subject.inputs)
    before = wf.snapshot(module, wf.SCRIPT_BOOKKEEPING)
    scripted, error = _scripted_output(module, subject.inputs)
    lines.append("torch.jit.script(module)(x)")
    what = "\n".join(lines) + (f"  # raised {type(error).__name__}: {error}" if error else "")
    wf.expect_unchanged(before, module, "WORKFLOW-7", what, wf.SCRIPT_BOOKKEEPING)
    ck.expect(prune.is_pruned(module), "WORKFLOW-7", f"{what}\nthe module must still be pruned")
    if scripted is not None:
        wf.close(scripted, expected, "WORKFLOW-7", f"{what}\nscripted(x) against module(x)")
    with torch.no_grad():
        wf.close(wf.out(module, subject.inputs), expected, "WORKFLOW-7",
               f"{what}\nmodule(x) against module(x) before scripting")
    kind_scripts = _scripted_output(unpruned, subject.inputs)[1] is None
    prune.remove(module, name)
    after_remove, error = _scripted_output(module, subject.inputs)
    what += f"\nprune.remove(module, {name!r})\ntorch.jit.script(module)(x)"
    ck.expect(after_remove is not None or not kind_scripts, "WORKFLOW-7",
              f"{what} must work as for the unpruned {subject.source}, raised "
              f"{type(error).__name__}: {error}")
    if after_remove is not None:
        with torch.no_grad():
            wf.close(after_remove, wf.out(module, subject.inputs), "WORKFLOW-7",
                   f"{what}\nscripted(x) against module(x)")
