"""The suite's power: every mutant of tests/mutants/ (the reference with exactly one defect) is
caught by the properties of the SPEC area it targets, while the reference passes them all.

A kill runs only the area's properties (those citing one of its clauses), through the kit's CLI
with the derandomized `ci` profile, those citing the mutant's clause first; it stops at the first
failure and does not shrink it (the verdict is all a kill needs). It must fail a property that
cites the mutant's clause. The catalogue itself is checked too: at least 40 mutants, every area
covered, each a docstring naming its defect and a clause of SPEC.md, each exactly one replacement
of the current reference.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from conformance import spec

sys.path.insert(0, str(Path(__file__).resolve().parent / "mutants"))
import _catalogue
import _derive
import _runner

CATALOGUE = _catalogue.catalogue()
BY_NAME = pytest.mark.parametrize("mutant", CATALOGUE, ids=[m.name for m in CATALOGUE])


def test_catalogue_has_40_mutants_and_covers_every_spec_area():
    assert len(CATALOGUE) >= 40
    areas = {clause.area for clause in spec.clauses().values()}
    covered = {m.area for m in CATALOGUE}
    assert covered == areas, f"areas without a mutant: {sorted(areas - covered)}"
    numbers = [m.name.split("_")[0] for m in CATALOGUE]
    assert len(set(numbers)) == len(numbers), "each mutant has a number of its own"


@BY_NAME
def test_mutant_names_its_defect_and_a_clause_of_its_area(mutant):
    clauses = spec.clauses()
    assert mutant.clause in clauses, f"{mutant.clause} is not a clause of SPEC.md"
    assert clauses[mutant.clause].area == mutant.area
    assert len(mutant.doc.split()) >= 6, "the docstring says what the defect is"
    assert mutant.clause in mutant.doc, "the docstring names the clause that must catch it"


@BY_NAME
def test_mutant_is_one_replacement_of_the_reference(mutant):
    package = _derive.package_name(mutant.path)
    derived = _derive.derive(package, mutant.file, mutant.old, mutant.new)
    renamed = {name: _derive.rename_imports(text, package)
               for name, text in _derive.reference_sources().items()}
    assert derived.keys() == renamed.keys()
    changed = [name for name in derived if derived[name] != renamed[name]]
    assert changed == [mutant.file]
    assert renamed[mutant.file].count(mutant.old) == 1
    assert derived[mutant.file] == renamed[mutant.file].replace(mutant.old, mutant.new)
    compile(derived[mutant.file], mutant.file, "exec")


def test_a_mutant_offers_every_name_the_reference_offers():
    """Private helpers included (API-4): otherwise every mutant fails API properties that have
    nothing to do with its defect, and the kill matrix credits the API area with every kill."""
    import importlib.util

    import reference.prune

    mutant = CATALOGUE[0]
    loaded = importlib.util.spec_from_file_location(f"exported_{mutant.name}", mutant.path)
    module = importlib.util.module_from_spec(loaded)
    loaded.loader.exec_module(module)
    offered = {name for name in vars(reference.prune) if not name.startswith("__")}
    assert offered <= set(vars(module)), sorted(offered - set(vars(module)))


def test_derive_refuses_a_replacement_that_is_not_exactly_one():
    with pytest.raises(_derive.MutantError, match="occurs 0 times"):
        _derive.derive("prune_mutant_x", "amount.py", "no such text in the reference", "x")
    with pytest.raises(_derive.MutantError, match=r"occurs [2-9]"):
        _derive.derive("prune_mutant_x", "amount.py", "amount", "x")
    with pytest.raises(_derive.MutantError, match="changes nothing"):
        _derive.derive("prune_mutant_x", "amount.py", "import math", "import math")
    with pytest.raises(_derive.MutantError, match="does not exist"):
        _derive.derive("prune_mutant_x", "nowhere.py", "a", "b")


def test_catalogue_rejects_a_mutant_file_with_code_of_its_own(tmp_path):
    good = CATALOGUE[0].path.read_text(encoding="utf-8")
    sneaky = tmp_path / "m99_sneaky.py"
    sneaky.write_text(good + "\nimport os\nos.environ['X'] = '1'\n", encoding="utf-8")
    with pytest.raises(_catalogue.CatalogueError, match="unexpected statement"):
        _catalogue.read(sneaky)


@BY_NAME
def test_mutant_is_caught_in_its_area(mutant, tmp_path):
    run = _runner.run(str(mutant.path), tmp_path, areas=[mutant.area],
                      first_clause=mutant.clause, stop_first=True, no_shrink=True, timeout=600)
    assert run.returncode == 1, f"{mutant.name} survived its area {mutant.area}:\n{run.output}"
    assert run.properties, run.output
    outside = [p["id"] for p in run.properties if mutant.area not in p["areas"]]
    assert not outside, f"properties of other areas ran: {outside}"
    failed = run.failed()
    assert any(mutant.clause in p["clauses"] for p in failed), (
        f"{mutant.name} must fail a property citing {mutant.clause}; failed: "
        + "; ".join(f"{p['id']} {p['clauses']}: {p['message'][:200]}" for p in failed))


def test_reference_passes_every_area(tmp_path):
    """The same selections as the kills (all areas at once: each kill's selection is a subset,
    and the derandomized profile draws the same examples whatever else is selected)."""
    areas = sorted({m.area for m in CATALOGUE})
    run = _runner.run("reference", tmp_path, areas=areas, timeout=900)
    assert run.returncode == 0, run.output
    assert not run.failed()
    for area in areas:
        assert any(area in p["areas"] and p["outcome"] == "passed" for p in run.properties), area
