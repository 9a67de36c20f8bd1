"""The parity machinery (conformance/parity.py) on the CPU alone: layouts and thread counts agree
for the reference, and a disagreeing implementation is caught."""

from __future__ import annotations

import types

import pytest
import torch

import reference.prune as reference
from conformance import checks as ck
from conformance import measure, models, parity
from conformance.registry import METHODS, Call

L1 = METHODS["l1_unstructured"]
LN = METHODS["ln_structured"]


def _subject(values: list[float], shape: tuple[int, ...],
             dtype: torch.dtype = torch.float32) -> models.Subject:
    subject = models.holder(shape, dtype, torch.device("cpu"))
    with torch.no_grad():
        subject.param.copy_(torch.tensor(values, dtype=torch.float64).reshape(shape))
    return subject


DISTINCT = _subject([float(v) for v in (5, -1, 7, 3, -12, 2, 9, -4, 11, 6, -8, 10)], (3, 4))
TIED = _subject([1.0] * 12, (3, 4))

PROGRAM = [
    parity.Step.prune(Call(L1, {"amount": 3})),
    parity.Step.prune(Call(LN, {"amount": 1, "n": 2, "dim": 0})),
    parity.Step.prune(Call(L1, {"amount": 0.5,
                                "importance_scores": torch.arange(12.0).reshape(3, 4)})),
]


class Wrapper(types.SimpleNamespace):
    """An implementation that is the reference except for what a test overrides."""

    def __getattr__(self, name: str) -> object:
        return getattr(reference, name)


def _flip_one_entry(module: torch.nn.Module, name: str) -> None:
    with torch.no_grad():
        mask = module._buffers[f"{name}_mask"]
        mask.view(-1)[0] = 1 - mask.view(-1)[0]


def _flips_when(condition):
    """l1_unstructured of the reference, with one mask entry flipped when `condition(param)`."""
    def l1_unstructured(module, name, amount, importance_scores=None):
        flip = condition(measure.original(module, name))
        reference.l1_unstructured(module, name, amount, importance_scores=importance_scores)
        if flip:
            _flip_one_entry(module, name)
        return module
    return Wrapper(l1_unstructured=l1_unstructured)


def test_reference_agrees_across_layouts():
    a = parity.run(reference, [DISTINCT], PROGRAM)
    for layout in ("transposed", "contiguous"):
        b = parity.run(reference, [DISTINCT], PROGRAM, parity.Config(layout=layout))
        assert b.error is None and len(b.records) == len(PROGRAM)
        parity.expect_parity(a, b, "DEVICE-8", ties="exact")


def test_reference_agrees_across_thread_counts():
    a = parity.run(reference, [DISTINCT], PROGRAM, parity.Config(threads=2))
    b = parity.run(reference, [DISTINCT], PROGRAM, parity.Config(threads=1))
    assert torch.get_num_threads() >= 1
    parity.expect_parity(a, b, "DEVICE-3", ties="exact")


def test_thread_count_is_restored():
    before = torch.get_num_threads()
    parity.run(reference, [DISTINCT], PROGRAM, parity.Config(threads=1))
    assert torch.get_num_threads() == before


def test_a_mask_that_differs_on_another_layout_is_caught():
    fake = _flips_when(lambda param: not param.is_contiguous())
    a = parity.run(fake, [DISTINCT], PROGRAM)
    b = parity.run(fake, [DISTINCT], PROGRAM, parity.Config(layout="transposed"))
    with pytest.raises(ck.SpecViolation, match=r"DEVICE-8: mask of m0 after step 1") as caught:
        parity.expect_parity(a, b, "DEVICE-8")
    assert "contiguous" in str(caught.value) and "transposed" in str(caught.value)


def test_a_mask_that_differs_with_one_thread_is_caught():
    fake = _flips_when(lambda param: torch.get_num_threads() == 1)
    a = parity.run(fake, [DISTINCT], PROGRAM, parity.Config(threads=2))
    b = parity.run(fake, [DISTINCT], PROGRAM, parity.Config(threads=1))
    with pytest.raises(ck.SpecViolation, match="DEVICE-3"):
        parity.expect_parity(a, b, "DEVICE-3")


def _breaks_ties_backwards_with_one_thread():
    """l1_unstructured that prunes the highest flat index first among ties when single-threaded:
    a legitimate choice under SELECT-2, not under the deterministic rule of DEVICE-4."""
    def l1_unstructured(module, name, amount, importance_scores=None):
        param = measure.original(module, name)
        if torch.get_num_threads() != 1 or importance_scores is not None:
            return reference.l1_unstructured(module, name, amount, importance_scores)
        flipped = param.detach().flip(list(range(param.dim())))
        reference.l1_unstructured(module, name, amount, importance_scores=flipped)
        with torch.no_grad():
            mask = module._buffers[f"{name}_mask"]
            mask.copy_(mask.flip(list(range(mask.dim()))))
        return module
    return Wrapper(l1_unstructured=l1_unstructured)


def test_another_choice_among_ties_is_valid_but_not_identical():
    fake = _breaks_ties_backwards_with_one_thread()
    program = [parity.Step.prune(Call(L1, {"amount": 5}))]
    a = parity.run(fake, [TIED], program, parity.Config(threads=2))
    b = parity.run(fake, [TIED], program, parity.Config(threads=1))
    assert not torch.equal(a.records[0].after[0], b.records[0].after[0])
    parity.expect_parity(a, b, "DEVICE-3")  # ties: any choice of 5 entries conforms
    with pytest.raises(ck.SpecViolation, match="DEVICE-4"):
        parity.expect_parity(a, b, "DEVICE-4", ties="exact")


def test_a_wrong_count_among_ties_is_caught():
    def l1_unstructured(module, name, amount, importance_scores=None):
        reference.l1_unstructured(module, name, amount, importance_scores)
        if torch.get_num_threads() == 1:
            _flip_one_entry(module, name)  # entry 0 is among the ties: one unit too many or few
        return module
    fake = Wrapper(l1_unstructured=l1_unstructured)
    program = [parity.Step.prune(Call(L1, {"amount": 5}))]
    a = parity.run(fake, [TIED], program, parity.Config(threads=2))
    b = parity.run(fake, [TIED], program, parity.Config(threads=1))
    with pytest.raises(ck.SpecViolation, match="units remaining"):
        parity.expect_parity(a, b, "DEVICE-3")


def test_close_channel_norms_count_as_ties_in_half_precision():
    # Row norms 1000 and 1000.5: a float16 backend summing in float16 may not tell them apart.
    values = [1000.0, 0.0, 1000.5, 0.0, 3000.0, 0.0]
    step = parity.Step.prune(Call(LN, {"amount": 1, "n": 1, "dim": 0}))
    half = parity.run(reference, [_subject(values, (3, 2), torch.float16)], [step])
    free = parity.free_choice(half.records[0], half.subjects)
    assert free is not None
    assert free[0].tolist() == [[True, True], [True, True], [False, False]]
    double = parity.run(reference, [_subject(values, (3, 2), torch.float64)], [step])
    assert parity.free_choice(double.records[0], double.subjects) is None


def test_an_error_on_one_side_only_is_a_parity_failure():
    def l1_unstructured(module, name, amount, importance_scores=None):
        if not measure.original(module, name).is_contiguous():
            raise RuntimeError("view size is not compatible with input tensor's size and stride")
        return reference.l1_unstructured(module, name, amount, importance_scores)
    fake = Wrapper(l1_unstructured=l1_unstructured)
    a = parity.run(fake, [DISTINCT], PROGRAM)
    b = parity.run(fake, [DISTINCT], PROGRAM, parity.Config(layout="transposed"))
    assert b.failed_step == 0 and a.error is None
    with pytest.raises(ck.SpecViolation, match="raised RuntimeError at step 1"):
        parity.expect_parity(a, b, "DEVICE-8")


def test_global_and_remove_steps_replay():
    subjects = [DISTINCT, _subject([3.0, -1.0, 4.0, 1.5, -5.0, 9.0], (6,))]
    program = [parity.Step.global_([0, 1], "L1Unstructured", amount=7),
               parity.Step.remove(1)]
    a = parity.run(reference, subjects, program)
    b = parity.run(reference, subjects, program, parity.Config(layout="transposed", threads=1))
    parity.expect_parity(a, b, "DEVICE-3", ties="exact")
    after = a.records[0].after
    assert measure.pruned_entries(after[0]) + measure.pruned_entries(after[1]) == 7
    assert a.outputs and "global_unstructured([(m0, 'weight'), (m1, 'weight')]" in a.program()


def _global_backwards_with_one_thread():
    """global_unstructured that, single-threaded, prunes tied entries of the last tensor first:
    a legitimate choice among ties that moves pruned entries from one tensor to another."""
    def global_unstructured(parameters, pruning_method, importance_scores=None, **kwargs):
        pairs = list(parameters)
        if torch.get_num_threads() == 1:
            count = len(pairs)
            scores = {pair: torch.full_like(measure.original(*pair), float(count - i))
                      for i, pair in enumerate(pairs)}
            return reference.global_unstructured(pairs, pruning_method, scores, **kwargs)
        return reference.global_unstructured(pairs, pruning_method, importance_scores, **kwargs)
    return Wrapper(global_unstructured=global_unstructured)


def test_global_ties_across_tensors_may_move_pruned_entries_between_them():
    """DEVICE-3 (the H200 run): three tensors of equal values, one entry pruned; the CPU prunes
    m0's, the device m2's. Each tensor's count differs, the total is the same: conforms."""
    fake = _global_backwards_with_one_thread()
    subjects = [_subject([1.0], (1,)), _subject([1.0], (1,)), _subject([1.0, 1.0], (2,))]
    program = [parity.Step.global_([0, 1, 2], "L1Unstructured", amount=0.25)]
    a = parity.run(fake, subjects, program, parity.Config(threads=2))
    b = parity.run(fake, subjects, program, parity.Config(threads=1))
    assert [measure.pruned_entries(m) for m in a.records[0].after] != [
        measure.pruned_entries(m) for m in b.records[0].after]
    parity.expect_parity(a, b, "DEVICE-3")
    with pytest.raises(ck.SpecViolation, match="DEVICE-4"):
        parity.expect_parity(a, b, "DEVICE-4", ties="exact")


def test_global_ties_with_a_wrong_total_are_caught():
    def global_unstructured(parameters, pruning_method, importance_scores=None, **kwargs):
        pairs = list(parameters)
        reference.global_unstructured(pairs, pruning_method, importance_scores, **kwargs)
        if torch.get_num_threads() == 1:
            _flip_one_entry(*pairs[-1])
    fake = Wrapper(global_unstructured=global_unstructured)
    subjects = [_subject([1.0], (1,)), _subject([1.0, 1.0, 1.0], (3,))]
    program = [parity.Step.global_([0, 1], "L1Unstructured", amount=2)]
    a = parity.run(fake, subjects, program, parity.Config(threads=2))
    b = parity.run(fake, subjects, program, parity.Config(threads=1))
    with pytest.raises(ck.SpecViolation, match="entries remaining over the tensors of step 1"):
        parity.expect_parity(a, b, "DEVICE-3")


class _ViewsItsWeight(torch.nn.Module):
    """A model that, like cuDNN's LSTM, `view`s its weight: it cannot run a transposed one."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.arange(1.0, 7.0).reshape(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.weight.view(-1).sum()


class _FailsOncePruned(_ViewsItsWeight):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if hasattr(self, "weight_mask"):
            raise RuntimeError("this forward breaks on pruned weights")
        return x * self.weight.sum()


def test_a_model_that_cannot_run_a_layout_unpruned_is_unsupported_there():
    subject = models.Subject(_ViewsItsWeight(), "weight", torch.ones(2), "_ViewsItsWeight()")
    program = [parity.Step.prune(Call(METHODS["identity"], {}))]
    assert parity.run(reference, [subject], program).error is None
    assert parity.unsupported([subject], parity.Config(layout="transposed")) is not None
    with pytest.raises(parity.UnsupportedConfig, match="cannot run its forward on "
                                                       "cpu/transposed, unpruned"):
        parity.run(reference, [subject], program, parity.Config(layout="transposed"))


def test_a_forward_that_fails_only_once_pruned_is_a_parity_failure():
    subject = models.Subject(_FailsOncePruned(), "weight", torch.ones(2), "_FailsOncePruned()")
    program = [parity.Step.prune(Call(METHODS["identity"], {}))]
    fine = parity.run(reference, [_subject([1.0] * 6, (2, 3))], program)
    broken = parity.run(reference, [subject], program)
    assert broken.failed_step == len(program) and fine.error is None
    with pytest.raises(ck.SpecViolation, match="in the forward after the last step"):
        parity.expect_parity(fine, broken, "DEVICE-3")
