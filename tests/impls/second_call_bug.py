"""The reference with a defect that only a sequence of calls reveals: the second l1_unstructured
on a tensor prunes one remaining entry too many (the one of lowest flat index).

Every single-call property passes; the stateful session (conformance/stateful.py) catches it. It
wraps reference.prune without patching it, so it can be loaded in the same process as the
reference (tests/test_stateful.py runs the session on it directly).
"""

import torch

import reference.prune as _reference
from conformance.impl import PUBLIC_NAMES

globals().update({name: getattr(_reference, name) for name in PUBLIC_NAMES})


def _l1_calls(module, name):
    for hook in module._forward_pre_hooks.values():
        if isinstance(hook, _reference.BasePruningMethod) and hook._tensor_name == name:
            history = list(hook) if isinstance(hook, _reference.PruningContainer) else [hook]
            return sum(isinstance(m, _reference.L1Unstructured) for m in history), hook
    return 0, None


def l1_unstructured(module, name, amount, importance_scores=None):
    _reference.l1_unstructured(module, name, amount, importance_scores=importance_scores)
    calls, hook = _l1_calls(module, name)
    if calls == 2:
        mask = getattr(module, name + "_mask")
        flat = mask.detach().clone().reshape(-1)
        remaining = flat.nonzero().flatten()
        if remaining.numel():
            flat[remaining[0]] = 0
            with torch.no_grad():
                mask.copy_(flat.reshape(mask.shape))
            setattr(module, name, hook.apply_mask(module))
    return module
