"""SPEC.md as data: the clauses every property cites and every report speaks of."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

_CLAUSE_LINE = re.compile(
    r"^- \*\*(?P<id>(?P<area>[A-Z]+)-\d+)\*\* "
    r"\[(?P<level>core|api|robust), (?P<word>MUST|SHOULD)\] "
    r"(?P<text>.*)$"
)
_TORCH_NOTE = "*torch 2.13:*"


@dataclass(frozen=True)
class Clause:
    id: str
    area: str
    level: str
    word: str
    text: str
    torch_note: str = ""

    @property
    def must(self) -> bool:
        return self.word == "MUST"


def spec_path() -> Path:
    """SPEC.md beside the package when installed from a wheel, at the repository root otherwise."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "SPEC.md", here.parent / "SPEC.md"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"SPEC.md not found beside {here} or in {here.parent}")


def parse(text: str) -> dict[str, Clause]:
    """Clauses in document order; continuation lines are indented by two spaces."""
    clauses: dict[str, Clause] = {}
    current: dict[str, str] | None = None

    def close() -> None:
        if current is not None:
            text, _, note = current["text"].partition(_TORCH_NOTE)
            clause = Clause(current["id"], current["area"], current["level"], current["word"],
                            " ".join(text.split()), " ".join(note.split()))
            if clause.id in clauses:
                raise ValueError(f"SPEC.md defines {clause.id} twice")
            clauses[clause.id] = clause

    for line in text.splitlines():
        match = _CLAUSE_LINE.match(line)
        if match:
            close()
            current = match.groupdict()
        elif current is not None and line.startswith("  ") and line.strip():
            current["text"] += " " + line.strip()
        else:
            close()
            current = None
    close()
    return clauses


@functools.cache
def clauses() -> dict[str, Clause]:
    return parse(spec_path().read_text(encoding="utf-8"))


def areas() -> list[str]:
    """Clause areas in the order SPEC.md introduces them."""
    return list(dict.fromkeys(clause.area for clause in clauses().values()))


_AREA_HEADING = re.compile(r"^## (?P<area>[A-Z]+): (?P<title>.+)$", re.MULTILINE)


@functools.cache
def area_titles() -> dict[str, str]:
    """Area -> the title of its SPEC.md section, e.g. AMOUNT -> 'how many units a call prunes'."""
    text = spec_path().read_text(encoding="utf-8")
    return {m["area"]: m["title"].strip() for m in _AREA_HEADING.finditer(text)}
