"""The catalogue of mutants: every `tests/mutants/mNN_name.py`, read as data (never imported).

A mutant file may hold only its docstring, the import of `_derive.export`, the constants `AREA`,
`CLAUSE`, `FILE`, `OLD`, `NEW` (literals) and the final `globals().update(export(...))`; `read`
rejects anything else, so that a mutant cannot carry a second, hidden defect in code of its own.
"""

from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIELDS = ("AREA", "CLAUSE", "FILE", "OLD", "NEW")
# The statements of a mutant file besides its docstring and constants, as ast.unparse writes them.
BOILERPLATE = (
    "import sys",
    "from pathlib import Path",
    "sys.path.insert(0, str(Path(__file__).resolve().parent))",
    "from _derive import export",
    "globals().update(export(__file__, FILE, OLD, NEW))",
)


class CatalogueError(Exception):
    """A mutant file that is not pure data."""


@dataclass(frozen=True)
class Mutant:
    path: Path
    doc: str
    area: str
    clause: str
    file: str
    old: str
    new: str

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def definition(self) -> str:
        """A digest of what the mutant changes: a kill measured under another one is stale."""
        text = "\0".join((self.file, self.old, self.new)).encode("utf-8")
        return hashlib.sha256(text).hexdigest()[:16]


def read(path: Path) -> Mutant:
    """The mutant described by `path`; CatalogueError if the file holds anything but data."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    doc = ast.get_docstring(tree) or ""
    values: dict[str, object] = {}
    for node in tree.body[1 if doc else 0:]:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            names = target.elts if isinstance(target, ast.Tuple) else [target]
            if all(isinstance(n, ast.Name) and n.id in FIELDS for n in names):
                value = ast.literal_eval(node.value)
                items = value if isinstance(target, ast.Tuple) else (value,)
                if len(items) != len(names):
                    raise CatalogueError(f"{path.name}: {ast.unparse(node)} does not unpack")
                values.update({n.id: v for n, v in zip(names, items, strict=True)})  # type: ignore[attr-defined]
                continue
        if ast.unparse(node) not in BOILERPLATE:
            raise CatalogueError(f"{path.name}: unexpected statement {ast.unparse(node)!r}")
    missing = [f for f in FIELDS if not isinstance(values.get(f), str)]
    if missing:
        raise CatalogueError(f"{path.name}: no string {', '.join(missing)}")
    return Mutant(path, doc, *(str(values[f]) for f in FIELDS))


def paths() -> list[Path]:
    return sorted(HERE.glob("m[0-9][0-9]_*.py"))


def catalogue() -> list[Mutant]:
    """Every mutant, in file order."""
    return [read(path) for path in paths()]
