"""Expected failures as data (conformance/expected.py): scopes by device and release, how a
departure fails, and which entry is in force for a run."""

from __future__ import annotations

import pytest

from conformance import checks as ck
from conformance import expected

ID = "test_amount.py::test_x"


def _one(line: str) -> expected.Departure:
    (entry,) = expected.parse(line + "\n", "f.txt")
    return entry


def test_an_entry_without_scope_holds_everywhere():
    entry = _one(f"{ID} | AMOUNT-1 | why")
    assert entry.scope.everywhere and str(entry.scope) == "everywhere"
    assert entry.scope.holds("cuda", "2.1.2") and entry.scope.holds("cpu", "2.14.1+cpu")
    assert entry.xfail_reason() == "AMOUNT-1: why"


@pytest.mark.parametrize(("scope", "device", "version", "holds"), [
    ("device=cuda", "cuda", "2.11.0+cu130", True),
    ("device=cuda", "cpu", "2.11.0+cu130", False),
    ("device=cuda,xpu", "xpu", "2.13.0", True),
    ("torch>=2.12", "cpu", "2.14.1+cpu", True),
    ("torch>=2.12", "cpu", "2.11.0+cu130", False),
    ("torch<2.6", "cpu", "2.5.1", True),
    ("torch<2.6", "cpu", "2.6.0", False),
    ("torch>=2.5,<2.14", "cpu", "2.13.0+cpu", True),  # the local suffix is ignored
    ("torch>=2.5 torch<2.14", "cpu", "2.14.0", False),  # two words: both hold
    ("torch>=2.15", "cpu", "2.15.0.dev20261130+cpu", True),  # a nightly counts
    ("device=cuda torch==2.11.*", "cuda", "2.11.0+cu130", True),
    ("device=cuda torch==2.11.*", "cuda", "2.12.0", False),
])
def test_scopes(scope, device, version, holds):
    entry = _one(f"{ID} | AMOUNT-1 | why | {scope}")
    assert entry.scope.holds(device, version) is holds
    assert "[expected where " in entry.xfail_reason()


@pytest.mark.parametrize(("field", "message"), [
    ("device=", "unknown word 'device='"),
    ("torch>>2", "bad torch release range 'torch>>2'"),
    ("gpu", "unknown word 'gpu'"),
    ("match='('", "bad match"),
    ("match='unclosed", "cannot read"),
])
def test_a_bad_scope_names_the_line_and_the_word(field, message):
    with pytest.raises(expected.ExpectedFailuresError, match=r"f\.txt:1: ") as caught:
        expected.parse(f"{ID} | AMOUNT-1 | why | {field}\n", "f.txt")
    assert message in str(caught.value)


def test_one_id_may_be_listed_for_disjoint_scopes_and_the_run_picks_one():
    entries = expected.parse(f"{ID} | AMOUNT-1 | cpu rule | device=cpu\n"
                             f"{ID} | AMOUNT-2 | cuda rule | device=cuda\n", "f.txt")
    assert expected.in_force(entries, "cpu", "2.13.0")[ID].reason == "cpu rule"
    assert expected.in_force(entries, "cuda", "2.13.0")[ID].reason == "cuda rule"
    assert expected.in_force(entries, "mps", "2.13.0") == {ID: None}


def test_the_same_id_and_scope_twice_is_an_error():
    with pytest.raises(expected.ExpectedFailuresError, match=r"f.txt:2: .* listed twice for "
                                                             r"device=cuda \(line 1\)"):
        expected.parse(f"{ID} | AMOUNT-1 | a | device=cuda\n{ID} | AMOUNT-1 | b | device=cuda\n",
                       "f.txt")


def test_overlapping_scopes_in_force_together_are_an_error():
    entries = expected.parse(f"{ID} | AMOUNT-1 | a | device=cuda\n{ID} | AMOUNT-1 | b | "
                             "torch>=2.12\n", "f.txt")
    assert expected.in_force(entries, "cuda", "2.11.0")[ID].reason == "a"
    with pytest.raises(expected.ExpectedFailuresError, match="both scopes"):
        expected.in_force(entries, "cuda", "2.13.0")


def test_the_most_specific_id_listed_decides():
    entries = expected.parse(f"{ID} | AMOUNT-1 | all\n{ID}[a] | AMOUNT-1 | a only | device=cuda\n")
    cpu = expected.in_force(entries, "cpu", "2.13.0")
    assert expected.lookup(cpu, f"{ID}[a]") is None
    assert expected.lookup(cpu, f"{ID}[b]").reason == "all"
    assert expected.lookup(expected.in_force(entries, "cuda", "2.13.0"), f"{ID}[a]").reason == (
        "a only")


def test_fails_as_stated():
    entry = _one(f"{ID} | AMOUNT-1 | why | raises=IndexError match='out of range'")
    assert entry.states_how and entry.how() == "raises=IndexError match='out of range'"
    assert entry.fails_as_stated([IndexError("index 0 is out of range")])
    # the kit's own wording for a wrong exception counts as raising it
    assert entry.fails_as_stated([ck.SpecViolation(
        "AMOUNT-1", "must raise ValueError, raised IndexError: list index out of range")])
    assert not entry.fails_as_stated([IndexError("something else")])
    assert not entry.fails_as_stated([KeyError("out of range")])
    subclass = _one(f"{ID} | AMOUNT-1 | why | raises=LookupError")
    assert subclass.fails_as_stated([IndexError("x")])
    assert not _one(f"{ID} | AMOUNT-1 | why").states_how


def test_unmatched_entries_are_limited_to_the_files_collected():
    entries = expected.parse(f"{ID} | AMOUNT-1 | listed\n"
                             "test_amount.py::test_gone | AMOUNT-1 | stale\n"
                             "test_amount.py::test_y[p] | AMOUNT-1 | a parametrization\n"
                             "test_struct.py::test_z | STRUCT-1 | another file\n")
    collected = [f"{ID}[l1]", "test_amount.py::test_y[p]"]
    assert [e.test_id for e in expected.unmatched(entries, collected)] == [
        "test_amount.py::test_gone"]


def test_a_version_torch_cannot_have_is_an_error():
    with pytest.raises(expected.ExpectedFailuresError, match="cannot read torch version"):
        expected.in_force([], "cpu", "not-a-version")


def test_sometimes_needs_a_stated_failure():
    assert _one(f"{ID} | AMOUNT-1 | why | sometimes raises=IndexError").sometimes
    with pytest.raises(expected.ExpectedFailuresError, match="'sometimes' needs raises= or match="):
        expected.parse(f"{ID} | AMOUNT-1 | why | sometimes\n")


def test_a_pattern_covers_any_property_it_matches_after_the_specific_entries():
    entries = expected.parse("test_*.py::* | COMPOSE-2 | one upstream bug | sometimes "
                             "match='dimension 0'\n"
                             f"{ID}[a] | AMOUNT-1 | its own reason\n")
    chosen = expected.in_force(entries, "cpu", "2.5.1")
    assert expected.lookup(chosen, f"{ID}[a]").reason == "its own reason"
    assert expected.lookup(chosen, f"{ID}[b]").reason == "one upstream bug"
    assert expected.lookup(chosen, "test_struct.py::test_y[fro-4-5d]").reason == "one upstream bug"
    assert expected.lookup(chosen, "conftest.py::x") is None
    assert expected.matches("test_amount.py::test_x[a-[b]]", "test_amount.py::test_x[a-[b]]")
    assert not expected.matches("test_a*.py::test_x", "test_struct.py::test_x")
    assert [e.test_id for e in expected.unmatched(entries, ["test_struct.py::test_y"])] == []
    assert [e.test_id for e in expected.unmatched(entries, ["other.py::test_y"])] == [
        "test_*.py::*"]
    assert expected.unmatched(entries, []) == []  # no property collected: nothing to say


def test_sources_combine_files_and_shipped_lists_by_name(tmp_path):
    mine = tmp_path / "mine.txt"
    mine.write_text(f"{ID}[mine] | AMOUNT-1 | my own departure\n")
    paths, entries = expected.load(f"torch,{mine}", "./my_prune.py")
    assert paths == [expected.EXPECTED_DIR / "torch.txt", mine]
    assert entries[-1].reason == "my own departure" and len(entries) > 100
    assert expected.describe(paths).endswith(f"torch.txt, {mine}")
    assert expected.load(None, "./my_prune.py") == ([], [])  # a file: no departures by default
    assert expected.load(None, "torch")[0] == [expected.EXPECTED_DIR / "torch.txt"]
    assert expected.load("none", "torch") == ([], [])


def test_an_unknown_source_or_a_repeated_entry_across_sources_is_an_error(tmp_path):
    with pytest.raises(expected.ExpectedFailuresError, match=r"'nosuch': no such file, and no "
                                                             r"shipped list .*shipped: torch"):
        expected.load("torch,nosuch", "x")
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text(f"{ID} | AMOUNT-1 | one\n")
    b.write_text(f"{ID} | AMOUNT-1 | two\n")
    with pytest.raises(expected.ExpectedFailuresError, match=rf"{b}:1: .* in {a}:1 too"):
        expected.load(f"{a},{b}", "x")
