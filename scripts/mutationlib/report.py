"""docs/mutation.md and docs/mutation.json from a scripts/mutation run.

Inputs: the kill matrix (OUT/matrix/<mutant>/kill.json, from matrix.py), mutmut's results (the
.meta files under ./mutants/reference/) and the survivors judged equivalent
(scripts/mutationlib/equivalent.txt: `mutant name | why no conforming behaviour tells it apart`).

    python scripts/mutationlib/report.py --matrix OUT/matrix --scope TEXT [--mutmut-minutes M]
    python scripts/mutationlib/report.py --rejudge   # the committed run, current verdicts
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "mutants"))
import _catalogue  # noqa: E402

from conformance import spec  # noqa: E402

EQUIVALENT = Path(__file__).resolve().parent / "equivalent.txt"
# Survivors a user can tell apart, each with how: no property kills them yet, so they count
# against the score; the file says why each one is not "unexplained".
OBSERVABLE = Path(__file__).resolve().parent / "observable.txt"
TARGET = 0.99
REJUDGED = (" Re-judged since (report.py --rejudge): the same verdicts of mutmut, survivors "
            "counted against the equivalence verdicts of scripts/mutationlib/equivalent.txt as "
            "committed beside this report; no mutant was run again.")
# mutmut's statuses that mean the suite detected the mutant.
DETECTED = ("killed", "timeout", "caught by type check", "segfault")


def read_equivalent(path: Path = EQUIVALENT) -> dict[str, str]:
    """Mutant name -> reason, from `name | reason` lines (# comments and blank lines skipped);
    equivalent.txt and observable.txt share the format.

    A reason many mutants share is written once, `@label = reason`, and cited as `name | @label`.
    """
    table, labels = {}, {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.startswith("@"):
            label, equals, reason = line.partition("=")
            if not equals or not reason.strip():
                raise SystemExit(f"{path}:{number}: expected `@label = reason`")
            labels[label.strip()] = reason.strip()
            continue
        name, bar, reason = line.partition("|")
        reason = reason.strip()
        if not bar or not reason:
            raise SystemExit(f"{path}:{number}: expected `mutant name | reason`")
        if reason.startswith("@"):
            if reason not in labels:
                raise SystemExit(f"{path}:{number}: {reason} is not defined above")
            reason = labels[reason]
        table[name.strip()] = reason
    return table


def read_matrix(directory: Path, earlier: list[dict] = ()) -> list[dict]:
    """The kill summaries of matrix.py, in catalogue order. A mutant this run left out keeps its
    row of the `earlier` report, marked `carried`, unless its definition changed since (a row
    from before definitions were recorded is carried too: the report says it is older)."""
    before = {row["mutant"]: row for row in earlier}
    rows = []
    for mutant in _catalogue.catalogue():
        kill = directory / mutant.name / "kill.json"
        if kill.is_file():
            rows.append(json.loads(kill.read_text()))
        elif mutant.name in before and before[mutant.name].get(
                "definition", mutant.definition) == mutant.definition:
            rows.append({**before[mutant.name], "carried": True})
    return rows


def read_mutmut(mutants_dir: Path = ROOT / "mutants") -> dict[str, str]:
    """mutmut mutant name -> status, for every mutant mutmut generated."""
    from mutmut.stats import status_by_exit_code

    statuses = {}
    for meta in sorted((mutants_dir / "reference").glob("*.py.meta")):
        for name, code in json.loads(meta.read_text())["exit_code_by_key"].items():
            statuses[name] = status_by_exit_code[code]
    return statuses


def mutmut_diff(name: str) -> str:
    done = subprocess.run([sys.executable, "-m", "mutmut", "show", name], cwd=ROOT,
                          capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith(("-", "+"))
             and not line.startswith(("---", "+++"))]
    return "\n".join(lines)


def summarise(statuses: dict[str, str], equivalent: dict[str, str],
              observable: dict[str, str] | None = None) -> dict:
    observable = observable or {}
    # A mutant interrupted at the budget has no verdict: it counts as not checked.
    unfinished = ("not checked", "check was interrupted by user")
    checked = {n: s for n, s in statuses.items() if s not in unfinished}
    counts = Counter(checked.values())
    survivors = sorted(n for n, s in checked.items() if s in ("survived", "suspicious"))
    equivalent_survivors = [n for n in survivors if n in equivalent]
    detected = sum(counts[s] for s in DETECTED)
    covered = sum(counts.values()) - counts["no tests"] - counts["skipped"]
    non_equivalent = covered - len(equivalent_survivors)
    score = detected / non_equivalent if non_equivalent else None
    return {
        "score_all": detected / covered if covered else None,
        "stale_equivalent": stale_equivalent(statuses, {**equivalent, **observable}),
        "generated": len(statuses), "checked": len(checked), "counts": dict(sorted(counts.items())),
        "by_file": {f: dict(sorted(Counter(s for n, s in checked.items()
                                           if n.split(".")[1] == f).items()))
                    for f in sorted({n.split(".")[1] for n in checked})},
        "detected": detected, "non_equivalent": non_equivalent, "score": score,
        "target": TARGET, "survivors": survivors,
        "equivalent": {n: equivalent[n] for n in equivalent_survivors},
        "observable": {n: observable[n] for n in survivors
                       if n in observable and n not in equivalent},
        "unexplained_survivors": [n for n in survivors
                                  if n not in equivalent and n not in observable],
        "not_covered": sorted(n for n, s in checked.items() if s == "no tests"),
    }


def stale_equivalent(statuses: dict[str, str], equivalent: dict[str, str]) -> list[str]:
    """Names judged (equivalent, or observable) that are not survivors of this run: killed now,
    or no longer generated (the reference changed). Mutants this run did not check keep their
    verdict."""
    unchecked = ("not checked", "check was interrupted by user")
    return sorted(n for n in equivalent
                  if n not in statuses
                  or statuses[n] not in (*unchecked, "survived", "suspicious"))


def markdown(matrix: list[dict], mutmut: dict, scope: str, diffs: dict[str, str]) -> str:
    areas = list(dict.fromkeys(c.area for c in spec.clauses().values()))
    out = ["# Mutation report", "",
           "Written by `scripts/mutation` (not part of CI). Two measures of the conformance "
           "suite's power: the curated mutants of `tests/mutants/` against the whole suite, and "
           "mutmut's mutants of `reference/` against the suite run on the mutated reference.", ""]
    out += ["## Curated mutants: kill matrix", ""]
    if not matrix:
        out += ["Not run in the session that wrote this report (step (a) of scripts/mutation). "
                "Every curated mutant is checked against its own area by tests/test_mutants.py "
                "on every test run.", ""]
    else:
        killed = sum(1 for row in matrix if row["killed_in"])
        targeted = sum(1 for row in matrix if row["area"] in row["killed_in"])
        carried = [row["mutant"] for row in matrix if row.get("carried")]
        out += [f"{len(matrix)} mutants run against every property (derandomized `ci` profile, "
                f"failures unshrunk); {killed} killed, {targeted} of them in their targeted area. "
                "X: a property citing a clause of that area failed; (X): the targeted area.", ""]
        if carried:
            out += [f"{len(carried)} rows (marked *) are carried from an earlier report: their "
                    "mutants were not rerun by the session that wrote this one and were measured "
                    "on an earlier reference and suite. tests/test_mutants.py checks every "
                    "mutant against its own area on every test run.", ""]
        out.append("| mutant | target | " + " | ".join(areas) + " |")
        out.append("|---|---|" + "---|" * len(areas))
        for row in matrix:
            cells = []
            for area in areas:
                hit = area in row["killed_in"]
                cells.append(("(X)" if hit else "( )") if area == row["area"] else
                             ("X" if hit else ""))
            star = "*" if row.get("carried") else ""
            out.append(f"| {row['mutant']}{star} | {row['clause']} | " + " | ".join(cells) + " |")
        out.append("")
    out += ["## mutmut over reference/", "", f"Scope run: {scope}", "",
            "The suite's oracle for differential checks (the stateful session) is the reference "
            "itself, mutated too under mutmut: the score measures the properties that check "
            "SPEC.md directly. Equivalence verdicts are a reviewer's judgement, each with its "
            "reason, kept in scripts/mutationlib/equivalent.txt.", ""]
    if not mutmut["checked"]:
        out += ["No mutant was checked.", ""]
        return "\n".join(out)
    counts = mutmut["counts"]
    out += [f"{mutmut['generated']} mutants generated over reference/, {mutmut['checked']} "
            "checked in this scope:", "",
            "| status | count |", "|---|---|"]
    out += [f"| {status} | {count} |" for status, count in counts.items()]
    out += ["", "| file | " + " | ".join(sorted(counts)) + " |",
            "|---|" + "---|" * len(counts)]
    for file, by in mutmut["by_file"].items():
        out.append(f"| {file}.py | " + " | ".join(str(by.get(s, 0)) for s in sorted(counts)) + " |")
    score = mutmut["score"]
    covered = mutmut["non_equivalent"] + len(mutmut["equivalent"])
    score_all = mutmut.get("score_all")
    out += ["", f"Mutation score over every mutant some property executes: {mutmut['detected']} "
            f"detected of {covered} = " + (f"**{score_all:.1%}**" if score_all is not None else
                                          "n/a") + ", equivalent survivors counted as survivors.",
            "", f"Mutation score over the non-equivalent mutants that some property executes: "
            f"{mutmut['detected']} detected of {mutmut['non_equivalent']} = "
            + (f"**{score:.1%}**" if score is not None else "n/a")
            + f" (target {TARGET:.0%}"
            + (f", {TARGET - score:.1%} short" if score is not None and score < TARGET else "")
            + "). Timeouts count as detected. `no tests`: code no selected property runs "
              "(listed below, outside the score).", ""]
    if mutmut.get("stale_equivalent"):
        out += ["### Stale equivalence verdicts", "",
                "Listed in scripts/mutationlib/equivalent.txt or observable.txt but not "
                "survivors of this run "
                "(killed, or no longer generated): remove them.", "",
                *(f"- `{name}`" for name in mutmut["stale_equivalent"]), ""]
    out += ["### Survivors", ""]
    if not mutmut["survivors"]:
        out += ["None.", ""]

    def listed(names: list[str]) -> list[str]:
        return [line for name in names for line in (
            f"- `{name}`", "", "  ```diff",
            *(f"  {diff}" for diff in diffs.get(name, "").splitlines()), "  ```", "")]

    if mutmut["unexplained_survivors"]:
        out += ["**Not explained: a property should kill these.**", "",
                *listed(mutmut["unexplained_survivors"])]
    observed: dict[str, list[str]] = {}
    for name, how in mutmut.get("observable", {}).items():
        observed.setdefault(how, []).append(name)
    if observed:
        out += ["**A user can tell these apart; no property kills them yet** (counted as "
                "survivors; scripts/mutationlib/observable.txt):", ""]
    for how, names in observed.items():
        out += [f"Observable ({len(names)}): {how}.", "", *listed(names)]
    by_reason: dict[str, list[str]] = {}
    for name, reason in mutmut["equivalent"].items():
        by_reason.setdefault(reason, []).append(name)
    for reason, names in by_reason.items():
        out += [f"Equivalent ({len(names)}): {reason}.", "", *listed(names)]
    if mutmut["not_covered"]:
        out += ["### Not executed by any selected property", "",
                ", ".join(f"`{n}`" for n in mutmut["not_covered"]), ""]
    return "\n".join(out)


def rejudge(report: dict, equivalent: dict[str, str],
            observable: dict[str, str] | None = None) -> dict:
    """The mutmut part of a committed report with today's equivalence verdicts, without running
    anything: its killed and timed-out mutants stay detected, its survivors are judged again."""
    old = report["mutmut"]
    statuses = {name: "survived" for name in old["survivors"]}
    detected_by_status = {s: n for s, n in old["counts"].items() if s in DETECTED}
    for status, count in detected_by_status.items():
        statuses.update({f"reference.{status}.#{i}": status for i in range(count)})
    summary = summarise(statuses, equivalent, observable)
    # The placeholder names carry no file: the per-file table is the run's own.
    return {**summary, "by_file": old["by_file"], "generated": old["generated"],
            "checked": old["checked"], "counts": old["counts"],
            "stale_equivalent": sorted(set(equivalent) | set(observable or {})
                                       - set(old["survivors"]))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matrix", type=Path)
    parser.add_argument("--scope", help="what mutmut ran, in words")
    parser.add_argument("--rejudge", action="store_true",
                        help="rewrite the committed report with today's equivalence verdicts")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args(argv)
    if args.rejudge:
        report = json.loads((args.out / "mutation.json").read_text())
        matrix, diffs = report["matrix"], report["mutmut"]["survivor_diffs"]
        mutmut = rejudge(report, read_equivalent(), read_equivalent(OBSERVABLE))
        args.scope = report["mutmut"]["scope"].split(REJUDGED)[0] + REJUDGED
    elif args.matrix is None or args.scope is None:
        parser.error("--matrix and --scope are required unless --rejudge")
    else:
        committed = args.out / "mutation.json"
        earlier = json.loads(committed.read_text())["matrix"] if committed.is_file() else []
        matrix = read_matrix(args.matrix, earlier)
        mutmut = summarise(read_mutmut(), read_equivalent(), read_equivalent(OBSERVABLE))
        diffs = {name: mutmut_diff(name) for name in mutmut["survivors"]}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "mutation.json").write_text(json.dumps(
        {"matrix": matrix, "mutmut": {**mutmut, "scope": args.scope, "survivor_diffs": diffs}},
        indent=2) + "\n", encoding="utf-8")
    (args.out / "mutation.md").write_text(markdown(matrix, mutmut, args.scope, diffs),
                                          encoding="utf-8")
    print(f"wrote {args.out / 'mutation.md'} and {args.out / 'mutation.json'}")
    if mutmut["stale_equivalent"]:
        print(f"{len(mutmut['stale_equivalent'])} stale entries in {EQUIVALENT.name} or "
              f"{OBSERVABLE.name}: "
              + ", ".join(mutmut["stale_equivalent"]), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
