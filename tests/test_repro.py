"""Repro snippets of property failures (conformance/repro.py): for each kind of check, the snippet
runs in a fresh process from another directory with nothing but torch and the implementation, fails
on a broken implementation and passes on the reference.

The checks run here as a property runs them (the `prune` fixture's recorder, the check helpers of
conformance.checks) on hand-picked examples, so that each kind costs a second, not a shrink.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import support
import torch
from torch import nn

import reference.prune as reference
from conformance import checks as ck
from conformance import impl, measure, models, recording, repro, source

MUTANTS = Path(__file__).resolve().parent / "mutants"


def _failure_snippet(mutant: str, prop: Callable[[object], None]) -> tuple[str, ck.SpecViolation]:
    """Run `prop(prune)` against the mutant, recorded; its failure's standalone snippet."""
    path = str(MUTANTS / f"{mutant}.py")
    prune = recording.Recorder(impl.load(path).namespace())
    with recording.recording(prune) as rec:
        with pytest.raises(ck.SpecViolation) as failure:
            prop(prune)
        snippet = repro.standalone(rec, failure.value, f"{mutant} ({failure.value.clause})")
    assert snippet is not None, str(failure.value)
    return snippet, failure.value


def _runs_alone(snippet: str, mutant: str, clause: str, tmp_path: Path) -> None:
    """Imports torch and the implementation only; fails with the clause on the mutant and passes
    with the reference, run as a script from tmp_path."""
    assert support.snippet_imports(snippet) <= support.SNIPPET_IMPORTS
    broken = support.run_snippet(snippet, tmp_path)
    assert broken.returncode == 1 and f"AssertionError: {clause}" in broken.stderr, broken.stderr
    mutant_import = source.import_line(str(MUTANTS / f"{mutant}.py"))
    assert mutant_import in snippet and str(MUTANTS) in mutant_import  # an absolute path
    fixed = snippet.replace(mutant_import, "import reference.prune as prune")
    passed = support.run_snippet(fixed, tmp_path)
    assert passed.returncode == 0, passed.stderr


def _holder(values: list) -> nn.Module:
    module = models.Holder(1)
    module.weight = nn.Parameter(torch.tensor(values))
    return module


def test_mask_check(tmp_path):
    """AMOUNT-2 through expect_same_mask: 0.5 of 5 entries prunes round(2.5) = 2."""
    def prop(prune):
        module = _holder([3.0, -1.0, 5.0, 2.0, -4.0])
        prune.l1_unstructured(module, "weight", amount=0.5)
        expected = torch.tensor([True, False, True, False, True])
        ck.expect_same_mask(measure.mask_or_ones(module, "weight"), expected, "AMOUNT-2",
                            "mask after l1_unstructured(amount=0.5)")

    snippet, _ = _failure_snippet("m02_half_up_fraction", prop)
    assert "expected = torch.tensor([True, False, True, False, True]" in snippet
    _runs_alone(snippet, "m02_half_up_fraction", "AMOUNT-2", tmp_path)


def test_error_check(tmp_path):
    """AMOUNT-5 through expect_raises: a negative count must be a ValueError."""
    def prop(prune):
        module = nn.Linear(2, 2)
        ck.expect_raises("AMOUNT-5", ValueError,
                         lambda: prune.l1_unstructured(module, "weight", amount=-1),
                         "l1_unstructured(amount=-1)")

    snippet, _ = _failure_snippet("m05_negative_count_accepted", prop)
    assert "except ValueError:" in snippet and "m0 = nn.Linear(2, 2, bias=True)" in snippet
    _runs_alone(snippet, "m05_negative_count_accepted", "AMOUNT-5", tmp_path)


def test_channel_selection_check(tmp_path):
    """STRUCT-1 through expect_smallest_pruned: the channel of smallest L1 norm along dim=1 goes;
    the message shows the tensor and its mask."""
    def prop(prune):
        # Column norms 12, 14, 18: column 0 goes; the mutant ranks rows (17, 4, 23): column 1.
        module = _holder([[5.0, 3.0, 9.0], [1.0, 2.0, 1.0], [6.0, 9.0, 8.0]])
        before = measure.mask_or_ones(module, "weight")
        prune.ln_structured(module, "weight", amount=1, n=1, dim=1)
        after = measure.mask_or_ones(module, "weight")
        candidates, pruned = measure.newly_pruned(before, after, 1)
        norms = measure.channel_norms(measure.original(module, "weight"), 1, 1)
        ck.expect_smallest_pruned(norms, candidates, pruned, "STRUCT-1", "L1 norms along dim=1",
                                  unit="channel")

    snippet, failure = _failure_snippet("m15_norm_over_wrong_dims", prop)
    message = str(failure)
    assert "[[5.0, 3.0, 9.0], [1.0, 2.0, 1.0], [6.0, 9.0, 8.0]]" in message  # the tensor
    assert "\n#.#\n#.#\n#.#" in message  # its mask
    _runs_alone(snippet, "m15_norm_over_wrong_dims", "STRUCT-1", tmp_path)


def test_check_without_a_snippet_form_gets_the_references_outcome(tmp_path):
    """A count compared by expect_equal: the snippet asserts the reference's state instead."""
    def prop(prune):
        module = _holder([3.0, -1.0, 5.0, 2.0, -4.0])
        prune.l1_unstructured(module, "weight", amount=0.5)
        mask = measure.mask_or_ones(module, "weight")
        ck.expect_equal(measure.pruned_entries(mask), 2, "AMOUNT-2", "entries pruned")

    snippet, _ = _failure_snippet("m02_half_up_fraction", prop)
    assert "what SPEC.md's reference does with these calls" in snippet
    _runs_alone(snippet, "m02_half_up_fraction", "AMOUNT-2", tmp_path)


def test_no_snippet_where_none_reproduces():
    """A failure the recorded calls do not reproduce gets no snippet (the report replays the
    property instead)."""
    prune = recording.Recorder(impl.load("reference").namespace())
    with recording.recording(prune) as rec:
        module = _holder([1.0, 2.0])
        prune.l1_unstructured(module, "weight", amount=1)
        failure = ck.SpecViolation("AMOUNT-1", "a failure the calls do not show")
        assert repro.standalone(rec, failure, "t") is None
    assert reference.is_pruned(module)
