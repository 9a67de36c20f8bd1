"""The kill matrix: every curated mutant (tests/mutants/) against the whole suite.

Each mutant runs every property (xdist, derandomized `ci` profile, failures unshrunk: the matrix
needs verdicts only); a mutant is killed in an area when a property citing a clause of that area
fails. Each run's report.json stays under OUT/<mutant>/ for `report.py`.

    python scripts/mutationlib/matrix.py OUT [--workers N] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "mutants"))
import _catalogue  # noqa: E402
import _runner  # noqa: E402


def killed_areas(properties: list[dict]) -> list[str]:
    """The areas in which some property failed, in order of first failure."""
    failed = [p for p in properties if p["outcome"] == "failed"]
    return list(dict.fromkeys(a for p in failed for a in p["areas"]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--workers", default="2")
    parser.add_argument("--only", nargs="*", default=None, help="mutant names (file stems)")
    args = parser.parse_args(argv)
    mutants = [m for m in _catalogue.catalogue() if not args.only or m.name in args.only]
    for number, mutant in enumerate(mutants, 1):
        started = time.monotonic()
        run = _runner.run(str(mutant.path), args.out / mutant.name, no_shrink=True,
                          workers=args.workers)
        if not run.properties:
            print(run.output, file=sys.stderr)
            raise SystemExit(f"{mutant.name}: the suite did not run (exit {run.returncode})")
        areas = killed_areas(run.properties)
        summary = {"mutant": mutant.name, "definition": mutant.definition,
                   "area": mutant.area, "clause": mutant.clause,
                   "exit_code": run.returncode, "killed_in": areas,
                   "seconds": round(time.monotonic() - started, 1)}
        (args.out / mutant.name / "kill.json").write_text(json.dumps(summary) + "\n")
        print(f"[{number}/{len(mutants)}] {mutant.name}: "
              f"{'killed in ' + ', '.join(areas) if areas else 'SURVIVED'} "
              f"({summary['seconds']} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
