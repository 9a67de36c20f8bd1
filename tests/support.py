"""Helpers shared by the kit's own tests: paths and ways to run the kit in a fresh process.

A module of its own, not conftest.py: tests/reference has a conftest too, and `from conftest
import ...` would find whichever pytest imported first.
"""

from __future__ import annotations

import ast
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


# What a repro snippet may import: torch, and importlib to load an implementation from its file
# (the implementation's own import line is checked by the tests).
SNIPPET_IMPORTS = {"__future__", "torch", "torch.nn", "importlib.util", "copy", "io"}


def snippet_imports(snippet: str) -> set[str]:
    """The modules a snippet imports."""
    found = set()
    for node in ast.walk(ast.parse(snippet)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            found.add(node.module or "")
    return found


def run_snippet(snippet: str, directory: Path, timeout: float = 120,
                ) -> subprocess.CompletedProcess[str]:
    """Run a repro snippet as a script in a fresh process from `directory` (not the repository);
    the repository root is on the path only for implementations imported by name
    (`reference.prune`) and for the mutants' own loader."""
    path = directory / "repro.py"
    path.write_text(snippet, encoding="utf-8")
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, str(path)], cwd=directory, capture_output=True,
                          text=True, timeout=timeout, env=environment)
