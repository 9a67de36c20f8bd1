"""Fixtures shared by the kit's own tests."""

from __future__ import annotations

import json

import pytest
from support import run_kit


@pytest.fixture(scope="session")
def inventory() -> list[dict]:
    """Every property with the clauses it cites, collected in a separate process."""
    result = run_kit("-c", "import json, dataclasses; from conformance import inventory; "
                           "properties = [dataclasses.asdict(p) for p in inventory.collect()]; "
                           "print(json.dumps(properties))")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])
