"""SPEC.md and the properties agree both ways: no property without a clause, no MUST clause
without a property, no expected-failure entry that names nothing."""

from __future__ import annotations

import pytest

from conformance import expected, spec


def test_spec_parses_into_unique_clauses_of_every_area():
    clauses = spec.clauses()
    assert len(clauses) >= 60
    assert {"AMOUNT", "SELECT", "STRUCT", "COMPOSE", "REPARAM", "HOOK", "REMOVE", "GLOBAL",
            "CUSTOM", "AUTOGRAD", "SERIAL", "DEVICE", "ATOMIC", "ERRORS", "PRUNED"} <= set(
        spec.areas())
    for clause in clauses.values():
        assert clause.id.startswith(clause.area + "-")
        assert clause.level in {"core", "api", "robust"}
        assert clause.word in {"MUST", "SHOULD"}
        assert len(clause.text) > 20, clause.id


def test_parser_reads_levels_words_and_torch_notes():
    text = (
        "- **X-1** [core, MUST] First rule\n  continued.\n  *torch 2.13:* differs here.\n"
        "- **X-2** [robust, SHOULD] Second rule.\n\nprose\n"
    )
    parsed = spec.parse(text)
    assert list(parsed) == ["X-1", "X-2"]
    assert parsed["X-1"].text == "First rule continued."
    assert parsed["X-1"].torch_note == "differs here."
    assert not parsed["X-2"].must
    with pytest.raises(ValueError, match="X-1 twice"):
        spec.parse("- **X-1** [core, MUST] a\n- **X-1** [core, MUST] b\n")


def test_every_property_cites_known_clauses(inventory):
    assert inventory, "no properties collected"
    for prop in inventory:
        assert prop["clauses"], f"{prop['id']} cites no clause"
        unknown = set(prop["clauses"]) - set(spec.clauses())
        assert not unknown, f"{prop['id']} cites unknown clauses {unknown}"


def test_every_must_clause_has_a_property(inventory):
    cited = {c for prop in inventory for c in prop["clauses"]}
    missing = [c.id for c in spec.clauses().values() if c.must and c.id not in cited]
    assert not missing, f"MUST clauses without a property: {missing}"


def test_every_expected_failure_names_a_property_citing_its_clause(inventory):
    by_id = {prop["id"]: prop for prop in inventory}
    by_function: dict[str, set[str]] = {}
    for prop in inventory:
        by_function.setdefault(prop["id"].partition("[")[0], set()).update(prop["clauses"])
    for path in sorted(expected.EXPECTED_DIR.glob("*.txt")):
        for departure in expected.parse(path.read_text(), str(path)):
            test_id = departure.test_id
            if "*" in test_id:  # a pattern: some property it matches cites the clause
                matched = [p for p in inventory if expected.matches(test_id, p["id"])]
                assert any(departure.clause in p["clauses"] for p in matched), (
                    f"{path.name}:{departure.line}: no property matching {test_id} cites "
                    f"{departure.clause}")
                continue
            cited = by_id[test_id]["clauses"] if test_id in by_id else by_function.get(test_id)
            assert cited is not None, f"{path.name}:{departure.line}: {test_id} names no property"
            assert departure.clause in cited, (
                f"{path.name}:{departure.line}: {test_id} does not cite {departure.clause}")


def test_expected_failures_file_format_errors_name_the_line():
    with pytest.raises(expected.ExpectedFailuresError, match="<text>:2"):
        expected.parse("# ok\ntest_a.py::test_b | AMOUNT-1\n")
    with pytest.raises(expected.ExpectedFailuresError, match="unknown clause 'NOPE-1'"):
        expected.parse("test_a.py::test_b | NOPE-1 | why\n")
    with pytest.raises(expected.ExpectedFailuresError, match="listed twice"):
        expected.parse("t.py::a | AMOUNT-1 | x\nt.py::a | AMOUNT-1 | y\n")
