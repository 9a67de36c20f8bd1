"""PRUNED: is_pruned.

1-3 subjects, each nested in 0-2 `nn.Sequential` layers, inside one `nn.Sequential` that also
carries a user's (non-pruning) forward pre-hook; a drawn sequence of prunes and removes of their
tensors, then removes of everything left. After every step `is_pruned` is asked of every module
of the tree and compared with the record of which tensors are pruned.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from conformance import checks as ck
from conformance import models
from conformance import strategies as hh


@pytest.mark.clause("PRUNED-1")
@given(data=st.data())
def test_is_pruned_over_nested_modules(prune, device, data):
    subjects = [data.draw(hh.subjects(device, min_dims=0), label=f"subject {i}")
                for i in range(data.draw(st.integers(1, 3), label="subjects"))]
    parts, steps = [], []
    for i, subject in enumerate(subjects):
        part, source = subject.module, f"m{i}"
        for _ in range(data.draw(st.integers(0, 2), label=f"nesting of m{i}")):
            part, source = nn.Sequential(part), f"nn.Sequential({source})"
        steps.append(f"m{i} = {subject.source}")
        parts.append((part, source))
    root = nn.Sequential(*(p for p, _ in parts))
    root.register_forward_pre_hook(lambda mod, inputs: None)
    steps += [f"root = nn.Sequential({', '.join(s for _, s in parts)})",
              "root.register_forward_pre_hook(lambda mod, inputs: None)"]
    tensors = [(i, n) for i, s in enumerate(subjects)
               for n, _ in s.module.named_parameters(recurse=False)]
    pruned: set[tuple[int, str]] = set()

    def expect_is_pruned_everywhere() -> None:
        holders = {id(subjects[i].module) for i, _ in pruned}
        what = "\n".join(steps)
        for path, module in root.named_modules():
            expected = any(id(m) in holders for m in module.modules())
            ck.expect_equal(prune.is_pruned(module), expected, "PRUNED-1",
                            f"is_pruned({'root' if not path else 'root.' + path}) after\n{what}")

    expect_is_pruned_everywhere()
    for _ in range(data.draw(st.integers(1, 6), label="steps")):
        if pruned and data.draw(st.booleans(), label="remove"):
            i, name = data.draw(st.sampled_from(sorted(pruned)), label="removed")
            prune.remove(subjects[i].module, name)
            pruned.discard((i, name))
            steps.append(f"prune.remove(m{i}, {name!r})")
        else:
            i, name = data.draw(st.sampled_from(tensors), label="pruned")
            target = models.Subject(subjects[i].module, name, subjects[i].inputs,
                                    subjects[i].source)
            [applied] = data.draw(hh.applied_calls(prune, target, 1, 1), label="call")
            pruned.add((i, name))
            steps.append(applied.source(f"m{i}", name))
        expect_is_pruned_everywhere()
    for i, name in sorted(pruned):
        prune.remove(subjects[i].module, name)
        pruned.discard((i, name))
        steps.append(f"prune.remove(m{i}, {name!r})")
        expect_is_pruned_everywhere()
