"""Known departures as data: one line per property, with its clause and the reason.

File format (`conformance/expected/torch.txt` is the example)::

    # comment
    test_amount.py::test_bad_amount_is_rejected[l1_unstructured-False] | AMOUNT-8 | False is 0

The id is the property's path inside `conformance/properties/` and its name, optionally with a
parametrization (`test_x[l1_unstructured]`); without one it covers every parametrization.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from conformance import spec

EXPECTED_DIR = Path(__file__).resolve().parent / "expected"


@dataclass(frozen=True)
class Departure:
    test_id: str
    clause: str
    reason: str
    line: int


class ExpectedFailuresError(ValueError):
    """The expected-failures file is malformed (a usage error)."""


def parse(text: str, source: str = "<text>") -> dict[str, Departure]:
    entries: dict[str, Departure] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) != 3 or not all(parts):
            raise ExpectedFailuresError(
                f"{source}:{number}: expected 'test_file.py::test_name | CLAUSE | reason', "
                f"got {raw!r}")
        test_id, clause, reason = parts
        if clause not in spec.clauses():
            raise ExpectedFailuresError(f"{source}:{number}: unknown clause {clause!r}")
        if test_id in entries:
            raise ExpectedFailuresError(f"{source}:{number}: {test_id} is listed twice")
        entries[test_id] = Departure(test_id, clause, reason, number)
    return entries


def default_file(impl_spec: str) -> Path | None:
    """The file shipped for a named implementation (`torch`), if any."""
    path = EXPECTED_DIR / f"{impl_spec}.txt"
    return path if path.is_file() else None


def load(option: str | None, impl_spec: str) -> tuple[Path | None, dict[str, Departure]]:
    """`option` is a path, 'none', or None for the shipped default of the implementation."""
    if option is not None and option.lower() == "none":
        return None, {}
    path = Path(option) if option else default_file(impl_spec)
    if path is None:
        return None, {}
    if not path.is_file():
        raise ExpectedFailuresError(f"expected-failures file {str(path)!r} does not exist")
    return path, parse(path.read_text(encoding="utf-8"), str(path))


def lookup(entries: dict[str, Departure], test_id: str) -> Departure | None:
    """An exact id first, then the id without its parametrization."""
    return entries.get(test_id) or entries.get(test_id.partition("[")[0])
