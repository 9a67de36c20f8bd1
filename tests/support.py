"""Helpers shared by the kit's own tests: paths and ways to run the kit in a fresh process.

A module of its own, not conftest.py: tests/reference has a conftest too, and `from conftest
import ...` would find whichever pytest imported first.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMPLS = Path(__file__).resolve().parent / "impls"


def run_kit(*args: str, timeout: float = 600, env: dict[str, str] | None = None,
            ) -> subprocess.CompletedProcess[str]:
    """Run `python -m ...` or `python -c ...` of the kit in a fresh process (no state shared with
    the test run), from the repository root, without colours."""
    environment = {k: v for k, v in os.environ.items() if k != "PRUNE_IMPL"}
    environment.update({"NO_COLOR": "1", **(env or {})})
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env=environment)


def run_suite(impl: str, *pytest_args: str) -> subprocess.CompletedProcess[str]:
    """The conformance suite against `impl`, derandomized, in its own process."""
    return run_kit("-m", "pytest", "--pyargs", "conformance", "--impl", impl,
                   "--hypothesis-profile", "ci", "-p", "no:cacheprovider", *pytest_args)
