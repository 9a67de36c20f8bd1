"""With PRUNE_SWAP_IN_REFERENCE=1, the reference stands in for torch.nn.utils.prune for the whole
session, as the README's conftest snippet does it for a user's own test suite."""

from __future__ import annotations

import os

if os.environ.get("PRUNE_SWAP_IN_REFERENCE") == "1":
    import sys

    import torch.nn.utils

    import reference.prune

    sys.modules["torch.nn.utils.prune"] = reference.prune
    torch.nn.utils.prune = reference.prune


def pytest_report_header() -> str:
    import torch.nn.utils.prune as prune

    return f"torch.nn.utils.prune is {prune.__name__}"
