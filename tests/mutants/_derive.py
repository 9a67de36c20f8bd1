"""Mutants of the reference: a private copy of `reference/` with one textual replacement.

A mutant file (`tests/mutants/mNN_name.py`) is data: a docstring naming the defect and the clause
that must catch it, `AREA`, `CLAUSE`, and the replacement (`FILE`, `OLD`, `NEW`). It ends with
`globals().update(export(__file__, FILE, OLD, NEW))`, which makes it an implementation that
`--impl tests/mutants/mNN_name.py` loads like any other .py file.

`derive` copies the reference package into a package of the mutant's own name (so that it never
shadows the real `reference`, which the suite uses as its oracle), rewrites the copy's
`reference.` imports, and applies the replacement. OLD must occur exactly once in FILE: a refactor
of reference/ that moves the text makes the mutant fail loudly instead of silently deriving a
copy of the reference. Copies live in a cache directory keyed by their content, written
atomically, so that xdist workers loading the same mutant at once agree.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import re
import shutil
import sys
import tempfile
import types
from pathlib import Path

REFERENCE = Path(__file__).resolve().parents[2] / "reference"
CACHE_ENV = "PRUNE_MUTANTS_CACHE"
# `from reference.x import ...` and `import reference.x`: the only ways the package names itself.
_SELF_IMPORT = re.compile(r"^(\s*)(from|import) reference\.", re.MULTILINE)


class MutantError(Exception):
    """A mutant that is not exactly one replacement of the current reference."""


def package_name(mutant_file: str | Path) -> str:
    """The private package a mutant's copy of the reference is imported as."""
    return f"prune_mutant_{Path(mutant_file).stem}"


def reference_sources() -> dict[str, str]:
    """The reference package's Python files: name -> text."""
    return {path.name: path.read_text(encoding="utf-8")
            for path in sorted(REFERENCE.glob("*.py"))}


def rename_imports(source: str, package: str) -> str:
    """`source` with the reference's imports of itself pointing at `package`."""
    return _SELF_IMPORT.sub(rf"\1\2 {package}.", source)


def derive(package: str, file: str, old: str, new: str) -> dict[str, str]:
    """The sources of the mutant package: the reference renamed to `package`, with `old` replaced
    by `new` in `file` (MutantError unless `old` occurs there exactly once and differs from new).
    """
    sources = {name: rename_imports(text, package) for name, text in reference_sources().items()}
    if file not in sources:
        raise MutantError(f"reference/{file} does not exist (files: {', '.join(sources)})")
    if old == new:
        raise MutantError(f"the replacement in reference/{file} changes nothing")
    found = sources[file].count(old)
    if found != 1:
        raise MutantError(
            f"the text to replace occurs {found} times in reference/{file}, expected once "
            f"(has reference/ changed?): {old!r}")
    sources[file] = sources[file].replace(old, new)
    return sources


def materialize(package: str, sources: dict[str, str]) -> Path:
    """Write `sources` as `package` under the cache; return the directory to put on sys.path."""
    digest = hashlib.sha256(repr(sorted(sources.items())).encode()).hexdigest()[:16]
    cache = Path(os.environ.get(CACHE_ENV) or Path(tempfile.gettempdir()) /
                 f"prune-conformance-mutants-{os.getuid()}")
    root = cache / f"{package}-{digest}"
    if not (root / package / "__init__.py").is_file():
        cache.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f"{package}-", dir=cache))
        (staging / package).mkdir()
        for name, text in sources.items():
            (staging / package / name).write_text(text, encoding="utf-8")
        try:
            staging.rename(root)
        except OSError:  # another process (an xdist worker) wrote the same copy first
            shutil.rmtree(staging, ignore_errors=True)
            if not (root / package / "__init__.py").is_file():
                raise
    return root


def load(mutant_file: str | Path, file: str, old: str, new: str) -> types.ModuleType:
    """Import the mutant's `prune` module (its torch.nn.utils.prune)."""
    package = package_name(mutant_file)
    root = materialize(package, derive(package, file, old, new))
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return importlib.import_module(f"{package}.prune")


def export(mutant_file: str | Path, file: str, old: str, new: str) -> dict[str, object]:
    """The names of the mutant's prune module, for its file to re-export: the public API and the
    private helpers torch's users call (API-4), so that a mutant differs from the reference only
    by its one replacement."""
    prune = load(mutant_file, file, old, new)
    return {name: value for name, value in vars(prune).items() if not name.startswith("__")}
