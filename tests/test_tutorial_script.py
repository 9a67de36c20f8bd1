"""scripts/tutorial (conformance.tutorial): the pruning tutorial replayed against an implementation.

The walkthrough prints names, shapes, counts and hook types, never values that depend on which
random numbers an implementation drew, so torch and the reference print identical text.
"""

from __future__ import annotations

import subprocess

import pytest
from support import ROOT

from conformance import tutorial

HEADINGS = [
    "== The model: LeNet, its first convolution conv1 ==",
    "== random_unstructured(conv1, name='weight', amount=0.3) ==",
    "== l1_unstructured(conv1, name='bias', amount=3) ==",
    "== Iterative pruning: ln_structured(conv1, name='weight', amount=0.5, n=2, dim=0) ==",
    "== Serializing a pruned model: state_dict keys ==",
    "== remove(conv1, 'weight'): making the pruning permanent ==",
    "== Pruning by layer type: l1_unstructured 20% of Conv2d, 40% of Linear weights ==",
    "== Global pruning: global_unstructured(L1Unstructured, amount=0.2) ==",
    "== A custom pruning method: FooBarPruningMethod on fc3.bias ==",
]


def walkthrough(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = tutorial.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def outputs() -> dict[str, str]:
    """The walkthrough's stdout per implementation (run once: a LeNet is not free)."""
    import io

    texts = {}
    for spec in ("torch", "reference"):
        out, err = io.StringIO(), io.StringIO()
        code = tutorial.main(["--impl", spec, "--seed", "0"], out=out, err=err)
        assert code == 0, out.getvalue() + err.getvalue()
        texts[spec] = out.getvalue()
    return texts


def test_torch_and_the_reference_print_the_same_walkthrough(outputs):
    torch_lines = outputs["torch"].splitlines()
    reference_lines = outputs["reference"].splitlines()
    assert [line for line in torch_lines if line.startswith("==")] == HEADINGS
    # Nothing printed depends on the implementation's random draws: the texts are identical.
    assert reference_lines == torch_lines


@pytest.mark.parametrize("spec", ["torch", "reference"])
def test_the_walkthrough_shows_what_the_tutorial_shows(outputs, spec):
    text = outputs[spec]
    for line in [
        "conv1 parameters: weight (6, 1, 5, 5), bias (6,)",
        "conv1 parameters: bias (6,), weight_orig (6, 1, 5, 5)",
        "conv1 buffers: weight_mask (6, 1, 5, 5) float32",
        "weight: a plain tensor attribute: yes; equal to weight_orig * weight_mask: yes; "
        "45 of 150 entries pruned",
        "conv1 forward pre-hooks: RandomUnstructured for 'weight'",
        "conv1 forward pre-hooks: RandomUnstructured for 'weight', L1Unstructured for 'bias'",
        "weight: 3 of 6 channels along dim 0 entirely pruned",
        "entries pruned by random_unstructured stay pruned: yes",
        "list(hook), the pruning history: [RandomUnstructured(amount=0.3), "
        "LnStructured(amount=0.5, n=2, dim=0)]",
        "after: conv1 parameters: bias_orig (6,), weight (6, 1, 5, 5)",
        "weight is a Parameter again: yes; holds the pruned values: yes",
        "dict(new_model.named_buffers()).keys(): conv1.weight_mask, conv2.weight_mask, "
        "fc1.weight_mask, fc2.weight_mask, fc3.weight_mask",
        "conv1.weight: 30 of 150 entries pruned (20.00%)",
        "fc1.weight: 19200 of 48000 entries pruned (40.00%)",
        "Global sparsity: 20.00%",
        "pruned 12294 of 61470 weights",
        "fc3.bias_mask: [0, 1, 0, 1, 0, 1, 0, 1, 0, 1]",
        "fc3 forward pre-hooks: FooBarPruningMethod for 'bias'",
    ]:
        assert line in text.splitlines(), f"missing {line!r} in\n{text}"
    keys = text.split("model.state_dict().keys():\n")[1].split("\n\n")[0].split()
    assert keys == ["conv1.weight_orig", "conv1.bias_orig", "conv1.weight_mask",
                    "conv1.bias_mask", "conv2.weight", "conv2.bias", "fc1.weight", "fc1.bias",
                    "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"]
    bias_mask = next(line for line in text.splitlines() if line.startswith("bias_mask: "))
    assert bias_mask.count("0") == 3  # l1_unstructured(bias, amount=3)
    per_layer = [line for line in text.splitlines() if line.startswith("Sparsity in ")]
    assert len(per_layer) == 5 and len(set(p.split(": ")[1] for p in per_layer)) > 1
    assert "0x" not in text  # no memory addresses


def test_the_implementation_and_seed_are_named_on_stderr(capsys):
    code, out, err = walkthrough(capsys, "--impl", "reference", "--seed", "3")
    assert code == 0
    assert err.startswith("prune-conformance tutorial: implementation reference (")
    assert "seed 3" in err
    assert "Global sparsity: 20.00%" in out


def test_an_unknown_implementation_exits_2_with_one_line(capsys):
    code, out, err = walkthrough(capsys, "--impl", "no_such_pruning_module")
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and "no_such_pruning_module" in err
    assert "Traceback" not in err


def test_an_unusable_device_exits_2(capsys):
    code, out, err = walkthrough(capsys, "--device", "no-such-device")
    assert code == 2
    assert out == "" and err.startswith("prune-conformance tutorial: error: ")


def test_an_implementation_that_fails_stops_at_its_section_and_exits_1(capsys, tmp_path):
    partial = tmp_path / "no_global.py"
    partial.write_text(
        "import torch.nn.utils.prune as _torch\n"
        "from conformance.impl import PUBLIC_NAMES\n"
        "globals().update({n: getattr(_torch, n) for n in PUBLIC_NAMES"
        " if n != 'global_unstructured'})\n")
    code, out, _ = walkthrough(capsys, "--impl", str(partial))
    assert code == 1
    lines = out.splitlines()
    assert lines[-2] == HEADINGS[-2]
    assert lines[-1].startswith("FAILED: MissingName: API-1:")
    assert "global_unstructured" in lines[-1]


def test_the_script_runs_the_module_with_the_projects_python():
    result = subprocess.run([str(ROOT / "scripts" / "tutorial"), "--impl", "no_such_module"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("prune-conformance tutorial: error: unknown implementation")
