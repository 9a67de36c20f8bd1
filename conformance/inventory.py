"""Which properties exist and which clauses each cites, read by collecting the suite (no test runs).

Used by `prune-conformance spec`, by the kit's own tests (every property cites a clause, every MUST
clause has a property, every expected-failure entry names a property) and by reports.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

import pytest

from conformance import spec

PROPERTIES_DIR = Path(__file__).resolve().parent / "properties"


def is_property(item: pytest.Item) -> bool:
    """Whether a collected test is one of the kit's properties (conformance/properties/)."""
    return PROPERTIES_DIR in Path(str(item.path)).resolve().parents


def property_id(item: pytest.Item) -> str:
    """The id of a property inside the properties package: `test_file.py::test_name[params]`."""
    relative = Path(str(item.path)).resolve().relative_to(PROPERTIES_DIR).as_posix()
    return f"{relative}::{item.name}"


@dataclass(frozen=True)
class Property:
    id: str  # test_file.py::test_name[params]
    clauses: tuple[str, ...]

    @property
    def function(self) -> str:
        """The id without its parametrization."""
        return self.id.partition("[")[0]


class _Collector:
    def __init__(self) -> None:
        self.properties: list[Property] = []
        self.errors: list[str] = []

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            if is_property(item):
                cited = tuple(dict.fromkeys(c for m in item.iter_markers("clause") for c in m.args))
                self.properties.append(Property(property_id(item), cited))

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.errors.append(f"{report.nodeid}: {report.longreprtext}")


def collect(extra_args: tuple[str, ...] = ()) -> list[Property]:
    """Every property of the suite with its clauses, in collection order."""
    collector = _Collector()
    with contextlib.redirect_stdout(io.StringIO()):
        code = pytest.main(
            ["--collect-only", "-q", "--pyargs", "conformance.properties", "-p", "no:cacheprovider",
             "-p", "no:xdist", *extra_args],
            plugins=[collector],
        )
    if collector.errors or code not in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        raise RuntimeError("collecting the properties failed:\n" + "\n".join(collector.errors))
    return collector.properties


def by_clause(properties: list[Property]) -> dict[str, list[str]]:
    """Clause id -> property functions citing it (parametrizations folded), for every clause."""
    table: dict[str, list[str]] = {clause: [] for clause in spec.clauses()}
    for prop in properties:
        for clause in prop.clauses:
            names = table.setdefault(clause, [])
            if prop.function not in names:
                names.append(prop.function)
    return table
