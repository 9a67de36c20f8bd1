"""AUTOGRAD: training through a pruned tensor.

Subjects of every kind (Linear, Conv1d/2d/3d, Embedding, LSTM, Holder) in float32 and float64, the
dtypes where gradients are compared numerically; pruned by 1-3 calls of any method. The loss is a
fixed random weighting of the forward output, so every output entry carries gradient.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from conformance import checks as ck
from conformance import models
from conformance import strategies as hh

GRAD_DTYPES = (torch.float32, torch.float64)


def _pruned_subject(prune, device, data) -> tuple[models.Subject, str]:
    """A subject pruned by 1-3 calls; the repro text."""
    dtype = data.draw(st.sampled_from(GRAD_DTYPES), label="dtype")
    subject = data.draw(hh.subjects(device, dtype=dtype, min_dims=0), label="subject")
    applied = data.draw(hh.applied_calls(prune, subject, 1, 3), label="calls")
    steps = [f"module = {subject.source}.to({dtype})", *(a.source(name=subject.name)
                                                       for a in applied)]
    return subject, "\n".join(steps)


def _loss(subject: models.Subject, seed: int) -> torch.Tensor:
    """sum(forward output * fixed random weights)."""
    out = subject.forward()
    generator = torch.Generator().manual_seed(seed)
    weights = torch.randn(out.shape, generator=generator, dtype=torch.float64)
    return (out * weights.to(device=out.device, dtype=out.dtype)).sum()


def _close(seen: torch.Tensor, expected: torch.Tensor) -> bool:
    tol = 1e-5 if seen.dtype == torch.float32 else 1e-12
    return bool(torch.allclose(seen, expected, rtol=tol, atol=tol * float(
        expected.abs().max().clamp(min=1)) if expected.numel() else tol))


@pytest.mark.clause("AUTOGRAD-1")
@given(data=st.data())
def test_gradient_reaches_orig_times_the_mask(prune, device, data):
    """orig.grad after backward equals d loss / d module.<name> (the tensor the forward used)
    times the mask, and is exactly zero at every pruned entry."""
    subject, what = _pruned_subject(prune, device, data)
    module, name = subject.module, subject.name
    orig = module._parameters[f"{name}_orig"]
    mask = module._buffers[f"{name}_mask"].detach().clone()
    loss = _loss(subject, data.draw(hh.seeds(), label="loss seed"))
    used = getattr(module, name)  # set by the hook before this forward
    (by_name,) = torch.autograd.grad(loss, [used], retain_graph=True, allow_unused=True)
    ck.expect(by_name is not None, "AUTOGRAD-1",
              f"{what}\nthe forward must compute through module.{name} as the hook set it")
    loss.backward()
    ck.expect(orig.grad is not None, "AUTOGRAD-1",
              f"{what}\nbackward must reach {name}_orig, its grad is None")
    grad = orig.grad.detach()
    pruned_grad = grad[mask.eq(0)]
    ck.expect(bool(pruned_grad.eq(0).all()), "AUTOGRAD-1",
              f"{what}\n{name}_orig.grad must be 0 at the {int(mask.eq(0).sum())} pruned "
              f"entries, holds {pruned_grad[pruned_grad.ne(0)][:8].tolist()} there")
    expected = by_name.detach() * mask
    ck.expect(_close(grad, expected), "AUTOGRAD-1",
              f"{what}\n{name}_orig.grad must equal d loss / d {name} * {name}_mask; largest "
              f"difference {float((grad - expected).abs().max()):.3g}")


OPTIMIZERS: dict[str, Callable[..., torch.optim.Optimizer]] = {
    "SGD-momentum-decay": lambda ps: torch.optim.SGD(ps, lr=1e-3, momentum=0.9,
                                                     weight_decay=0.1),
    "SGD-nesterov": lambda ps: torch.optim.SGD(ps, lr=1e-3, momentum=0.5, nesterov=True),
    "Adam-decay": lambda ps: torch.optim.Adam(ps, lr=1e-2, weight_decay=0.1),
    "AdamW": lambda ps: torch.optim.AdamW(ps, lr=1e-2),
}


@pytest.mark.clause("AUTOGRAD-2")
@given(data=st.data())
def test_training_never_revives_a_pruned_entry(prune, device, data):
    """1-3 optimizer steps (momentum and weight decay move orig even where the gradient is 0),
    then a forward: module.<name> is 0 at every pruned entry and the mask is unchanged.

    The optimizer is drawn rather than parametrized: the first torch.optim optimizer of a process
    imports torch._dynamo (seconds), which one test item pays once, on one xdist worker.
    """
    subject, what = _pruned_subject(prune, device, data)
    optimizer = data.draw(st.sampled_from(sorted(OPTIMIZERS)), label="optimizer")
    module, name = subject.module, subject.name
    mask = module._buffers[f"{name}_mask"].detach().clone()
    opt = OPTIMIZERS[optimizer](module.parameters())
    steps = data.draw(st.integers(1, 3), label="steps")
    seed = data.draw(hh.seeds(), label="loss seed")
    for _ in range(steps):
        opt.zero_grad()
        _loss(subject, seed).backward()
        opt.step()
    what = f"{what}\n{steps} steps of {optimizer}, then forward"
    subject.forward()
    ck.expect_same_mask(module._buffers[f"{name}_mask"], mask, "AUTOGRAD-2",
                        f"{name}_mask after {what}")
    used = getattr(module, name).detach()
    revived = used[mask.eq(0)]
    ck.expect(bool(revived.eq(0).all()), "AUTOGRAD-2",
              f"{what}\nmodule.{name} must hold 0 at the {int(mask.eq(0).sum())} pruned entries, "
              f"holds {revived[revived.ne(0)][:8].tolist()} there")


@pytest.mark.clause("AUTOGRAD-3")
@given(data=st.data())
def test_a_frozen_tensor_stays_frozen(prune, device, data):
    subject = data.draw(hh.subjects(device, min_dims=0), label="subject")
    subject.param.requires_grad_(False)
    applied = data.draw(hh.applied_calls(prune, subject, 1, 3), label="calls")
    steps = "\n".join([f"module = {subject.source}",
                       f"module.{subject.name}.requires_grad_(False)",
                       *(a.source(name=subject.name) for a in applied)])
    orig = getattr(subject.module, subject.name + "_orig")
    ck.expect(not orig.requires_grad, "AUTOGRAD-3",
              f"{subject.name}_orig must not require grad after\n{steps}")
    subject.forward()
    ck.expect(not subject.param.requires_grad, "AUTOGRAD-3",
              f"{subject.name} must not require grad after a forward, after\n{steps}")

