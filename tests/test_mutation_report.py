"""scripts/mutationlib/report.py: the equivalence file and the mutation score it feeds."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from support import ROOT

sys.path.insert(0, str(ROOT / "scripts" / "mutationlib"))
sys.path.insert(0, str(ROOT / "tests" / "mutants"))

import _catalogue
import state
from report import OBSERVABLE, markdown, read_equivalent, read_matrix, summarise


def test_shared_reasons_are_written_once_and_cited_by_label(tmp_path):
    path = tmp_path / "equivalent.txt"
    path.write_text("# comment\n\n@wording = message wording only\n"
                    "reference.a.x_f__mutmut_1 | @wording\n"
                    "reference.a.x_f__mutmut_2 | its own reason\n")
    assert read_equivalent(path) == {"reference.a.x_f__mutmut_1": "message wording only",
                                     "reference.a.x_f__mutmut_2": "its own reason"}


@pytest.mark.parametrize(("text", "error"), [
    ("reference.a.x_f__mutmut_1 | @nowhere\n", r"equivalent.txt:1: @nowhere is not defined"),
    ("reference.a.x_f__mutmut_1\n", r"equivalent.txt:1: expected `mutant name \| reason`"),
    ("@label\n", r"equivalent.txt:1: expected `@label = reason`"),
])
def test_a_malformed_line_is_named(tmp_path, text, error):
    path = tmp_path / "equivalent.txt"
    path.write_text(text)
    with pytest.raises(SystemExit, match=error):
        read_equivalent(path)


def test_the_score_leaves_out_equivalent_uncovered_and_unfinished_mutants():
    statuses = {"reference.a.f_1": "killed", "reference.a.f_2": "killed",
                "reference.a.f_3": "timeout", "reference.a.f_4": "survived",
                "reference.b.g_1": "survived", "reference.b.g_2": "no tests",
                "reference.b.g_3": "not checked"}
    summary = summarise(statuses, {"reference.a.f_4": "same behaviour"})
    assert summary["checked"] == 6 and summary["generated"] == 7
    assert summary["detected"] == 3 and summary["non_equivalent"] == 4
    assert summary["score"] == 0.75
    assert summary["unexplained_survivors"] == ["reference.b.g_1"]
    assert summary["not_covered"] == ["reference.b.g_2"]
    assert summary["by_file"]["a"] == {"killed": 2, "survived": 1, "timeout": 1}


def test_the_report_lists_unexplained_survivors_first_and_equivalent_ones_by_reason():
    statuses = {"reference.a.f_1": "survived", "reference.a.f_2": "survived",
                "reference.a.f_3": "survived", "reference.a.f_4": "killed"}
    summary = summarise(statuses, {"reference.a.f_1": "same", "reference.a.f_3": "same"})
    text = markdown([], summary, "a scope", {"reference.a.f_2": "-old\n+new"})
    assert text.index("Not explained") < text.index("reference.a.f_2") < text.index("Equivalent")
    assert text.count("Equivalent (2): same.") == 1
    assert "  -old\n  +new" in text
    assert "1 detected of 2 = **50.0%**" in text


def test_observable_survivors_are_listed_with_how_and_count_against_the_score():
    statuses = {"reference.a.f_1": "killed", "reference.a.f_2": "survived",
                "reference.a.f_3": "survived", "reference.a.f_4": "survived"}
    summary = summarise(statuses, {"reference.a.f_2": "same"},
                        {"reference.a.f_3": "a replaced buffer shows it",
                         "reference.a.f_9": "killed since"})
    assert summary["unexplained_survivors"] == ["reference.a.f_4"]
    assert summary["observable"] == {"reference.a.f_3": "a replaced buffer shows it"}
    assert summary["score"] == 1 / 3 and summary["stale_equivalent"] == ["reference.a.f_9"]
    text = markdown([], summary, "a scope", {})
    assert (text.index("Not explained") < text.index("Observable (1): a replaced buffer shows it.")
            < text.index("`reference.a.f_3`") < text.index("Equivalent (1): same."))


def test_both_scores_are_reported_and_stale_verdicts_named():
    statuses = {"reference.a.f_1": "killed", "reference.a.f_2": "survived",
                "reference.a.f_3": "survived", "reference.a.f_4": "killed",
                "reference.a.f_5": "not checked"}
    equivalent = {"reference.a.f_2": "same", "reference.a.f_4": "once equivalent, now killed",
                  "reference.a.f_5": "not run this time", "reference.gone_1": "no longer generated"}
    summary = summarise(statuses, equivalent)
    assert summary["score_all"] == 0.5 and summary["score"] == 2 / 3
    assert summary["stale_equivalent"] == ["reference.a.f_4", "reference.gone_1"]
    text = markdown([], summary, "a scope", {})
    assert "2 detected of 4 = **50.0%**" in text and "2 detected of 3 = **66.7%**" in text
    assert "### Stale equivalence verdicts" in text and "- `reference.gone_1`" in text


def test_every_equivalence_verdict_names_a_survivor_of_the_committed_report():
    """equivalent.txt and docs/mutation.json agree: a mutant killed since, or no longer generated,
    is not kept as 'equivalent' (the committed report is the last full run's)."""
    survivors = set(json.loads((ROOT / "docs" / "mutation.json").read_text())["mutmut"]
                    ["survivors"])
    for path in (None, OBSERVABLE):
        named = read_equivalent() if path is None else read_equivalent(path)
        stale = sorted(set(named) - survivors)
        assert not stale, f"{path or 'equivalent.txt'} names mutants that are no survivors: {stale}"


def test_mutmut_runs_the_suite_with_arguments_the_kit_accepts():
    """scripts/mutation's runs start from pyproject's [tool.mutmut]: its pytest arguments must run
    a property on the reference (a profile the kit does not know stops mutmut before any mutant)."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mutmut"]
    command = [sys.executable, "-m", "pytest", "-q", *config["pytest_add_cli_args_test_selection"],
               *config["pytest_add_cli_args"], "-k", "test_int_amount_is_a_count"]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert " passed" in run.stdout


def test_saved_verdicts_fill_a_fresh_mutants_folder_and_never_overwrite_it(tmp_path):
    saved, live = tmp_path / "saved", tmp_path / "mutants" / "reference"
    saved.mkdir()
    (saved / "amount.py.meta").write_text("saved amount")
    (saved / "base.py.meta").write_text("saved base")
    (saved / "notes.txt").write_text("not a verdict file")
    live.mkdir(parents=True)
    (live / "base.py.meta").write_text("live base")
    assert state.restore(saved, live) == ["amount.py.meta"]
    assert (live / "amount.py.meta").read_text() == "saved amount"
    assert (live / "base.py.meta").read_text() == "live base"
    assert not (live / "notes.txt").exists()


def test_saving_replaces_every_saved_verdict_file(tmp_path):
    saved, live = tmp_path / "saved", tmp_path / "live"
    saved.mkdir()
    live.mkdir()
    (saved / "gone.py.meta").write_text("a file mutmut no longer has")
    (live / "base.py.meta").write_text("live base")
    assert state.save(live, saved) == ["base.py.meta"]
    assert sorted(p.name for p in saved.iterdir()) == ["base.py.meta"]
    assert state.save(tmp_path / "empty", saved) == []
    assert (saved / "base.py.meta").read_text() == "live base"


def test_a_matrix_row_not_rerun_is_carried_unless_its_mutant_changed(tmp_path):
    first, second, third = _catalogue.catalogue()[:3]
    fresh = {"mutant": first.name, "definition": first.definition, "killed_in": ["AMOUNT"]}
    (tmp_path / first.name).mkdir()
    (tmp_path / first.name / "kill.json").write_text(json.dumps(fresh))
    earlier = [{"mutant": first.name, "killed_in": []},
               {"mutant": second.name, "definition": second.definition, "killed_in": ["X"]},
               {"mutant": third.name, "definition": "another definition", "killed_in": ["X"]},
               {"mutant": "m99_no_longer_in_the_catalogue", "killed_in": ["X"]}]
    rows = read_matrix(tmp_path, earlier)
    assert [row["mutant"] for row in rows] == [first.name, second.name]
    assert rows[0] == fresh
    assert rows[1]["carried"] is True
