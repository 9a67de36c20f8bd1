"""torch.nn.utils.prune with one defect, the way a user's package wraps it: ln_structured's L-inf
channel norm forgets abs(), so a channel of large negative entries ranks as small.

The scenario of a first run against one's own implementation: without naming departures, it also
fails wherever torch departs; with `--expected-failures torch` only where it differs from torch.
"""

from __future__ import annotations

import math

from torch.nn.utils.prune import *  # noqa: F403  (the wrapper re-exports torch's API)
from torch.nn.utils.prune import ln_structured as _torch_ln_structured


def ln_structured(module, name, amount, n, dim, importance_scores=None):
    if n == math.inf and importance_scores is None:
        # The defect: max(x) where the norm is max(|x|).
        importance_scores = getattr(module, name).detach().clamp(min=0)
    return _torch_ln_structured(module, name, amount, n, dim, importance_scores=importance_scores)
