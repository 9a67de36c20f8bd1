"""One torch release against the spec (`scripts/release-check VERSION`).

The script makes a venv with that torch and the kit; this module runs inside it. It runs the suite
against torch (with the departures of `conformance/expected/torch.txt` in force for this release on
the CPU) and against the reference, each in its own process, and writes OUT/VERSION.md and
OUT/VERSION.json: the totals, every unexpected result, and the departures in force counted per SPEC
area. `--table` prints the README's table of releases from the JSON files in OUT.

Failures are reported as first found (the `unshrunk` profile), so that a release with many
departures takes minutes, not half an hour; `--shrink` shrinks them.

Exit status: 0 torch has no unexpected result and the reference is clean; 1 otherwise; 2 usage.
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

import conformance
from conformance import expected, spec
from conformance.config import EXIT_DEPARTS, EXIT_OK, EXIT_USAGE, RunOptions

IMPLS = ("torch", "reference")
DEFAULT_OUT = Path("docs/releases")


def run_command(impl: str, out: Path, args: argparse.Namespace) -> list[str]:
    command = [sys.executable, "-m", "conformance.cli", "run", impl, "--device", "cpu",
               "--profile", args.profile, "--report", str(out), "--quiet"]
    if args.seed is not None:
        command += ["--seed", str(args.seed)]
    return command + RunOptions(args.workers, args.keyword).words()


def departures_in_force() -> list[expected.Departure]:
    _, entries = expected.load(None, "torch")
    chosen = expected.in_force(entries, "cpu", torch.__version__)
    return [d for d in chosen.values() if d is not None]


def summarize(version: str, runs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """What VERSION.json holds: the release, each run's totals and unexpected results, and torch's
    expected failures (known departures that failed as listed) counted per area."""
    torch_run = runs.get("torch", {})
    per_area = {area: row["expected"] for area, row in torch_run.get("areas", {}).items()
                if row.get("expected")}
    return {
        "release": version, "torch": torch.__version__, "python": platform.python_version(),
        "kit": conformance.__version__,
        "date": datetime.date.today().isoformat(),
        "runs": {impl: {"exit_code": run["exit_code"], "summary": run["summary"],
                        "duration": run["duration"], "command": run["command"],
                        "unexpected": [{"id": p["id"], "outcome": p["outcome"],
                                        "clause": p.get("clause"),
                                        "message": (p.get("message") or p.get("reason")
                                                    or "").splitlines()[:1]}
                                       for p in run["properties"]
                                       if p["outcome"] in ("failed", "unexpected-pass")]}
                 for impl, run in runs.items()},
        "departures_by_area": per_area,
        "in_force": [{"id": d.test_id, "clause": d.clause, "reason": d.reason,
                      "scope": str(d.scope), "how": d.how()} for d in departures_in_force()],
    }


def clean(summary: dict[str, Any]) -> bool:
    return all(run["exit_code"] == EXIT_OK for run in summary["runs"].values())


def markdown(summary: dict[str, Any]) -> str:
    lines = [f"# torch {summary['release']} against SPEC.md", "",
             f"torch {summary['torch']} on the CPU, Python {summary['python']}, kit "
             f"{summary['kit']}, {summary['date']}; written by `scripts/release-check "
             f"{summary['release']}`.", "",
             f"**{'no unexpected results' if clean(summary) else 'unexpected results'}**", "",
             "| implementation | exit | passed | failed | expected | unexpected pass | skipped "
             "| duration |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for impl, run in summary["runs"].items():
        c = run["summary"]
        lines.append(f"| {impl} | {run['exit_code']} | {c['passed']} | {c['failed']} | "
                     f"{c['expected']} | {c['unexpected-pass']} | {c['skipped']} | "
                     f"{run['duration']:.0f} s |")
    for impl, run in summary["runs"].items():
        lines += ["", f"## Unexpected results: {impl}", ""]
        lines += [f"- `{u['id']}` ({u['outcome']}"
                  + (f", {u['clause']}" if u["clause"] else "") + ")"
                  + (f": {u['message'][0][:300]}" if u["message"] else "")
                  for u in run["unexpected"]] or ["None."]
        lines += ["", f"Command: `{run['command']}`"]
    lines += ["", "## Departures of torch in force for this release", "",
              "Known departures that failed as listed, per SPEC area: "
              + (", ".join(f"{area} {n}" for area, n in summary["departures_by_area"].items())
                 or "none") + ".", "",
              "| property | clause | scope | reason |", "|---|---|---|---|"]
    lines += [f"| `{d['id']}` | {d['clause']} | {d['scope']}"
              + (f", {d['how']}" if d["how"] else "") + f" | {d['reason']} |"
              for d in summary["in_force"]]
    return "\n".join(lines) + "\n"


def table(out: Path) -> str:
    """The README's table: one row per release report in `out`, departures per SPEC area."""
    reports = [json.loads(p.read_text(encoding="utf-8")) for p in out.glob("*.json")]
    reports.sort(key=lambda r: expected.release(r["release"]))
    areas = [a for a in spec.areas()
             if any(r["departures_by_area"].get(a) for r in reports)]
    lines = ["| torch | torch run | reference run | " + " | ".join(areas) + " |",
             "|---|---|---|" + "---:|" * len(areas)]
    for r in reports:
        verdict = {impl: ("clean" if run["exit_code"] == 0 else
                          f"{len(run['unexpected'])} unexpected")
                   for impl, run in r["runs"].items()}
        lines.append(f"| [{r['release']}](docs/releases/{r['release']}.md) | "
                     f"{verdict.get('torch', '-')} | {verdict.get('reference', '-')} | "
                     + " | ".join(str(r["departures_by_area"].get(a, 0)) for a in areas) + " |")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        allow_abbrev=False,
        prog="release-check", description="Run torch (this venv's) and the reference against "
        "the spec and write OUT/VERSION.md and OUT/VERSION.json.")
    parser.add_argument("version", nargs="?", default=None,
                        help="the release, as named in the report (default: this torch's)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"report folder (default: {DEFAULT_OUT})")
    parser.add_argument("--profile", default="unshrunk",
                        help="Hypothesis profile (default: unshrunk, failures as first found)")
    parser.add_argument("--shrink", dest="profile", action="store_const", const="default",
                        help="shrink failures: the default profile")
    parser.add_argument("--seed", type=int, default=None, help="Hypothesis seed")
    parser.add_argument("-n", dest="workers", metavar="N", default="2",
                        help="pytest-xdist workers (default: 2)")
    parser.add_argument("-k", dest="keyword", metavar="EXPR", default=None,
                        help="only properties matching the pytest -k expression")
    parser.add_argument("--table", action="store_true",
                        help="print the README's table of releases from OUT/*.json and exit")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.table:
        print(table(args.out))
        return EXIT_OK
    version = args.version or expected.release(torch.__version__).public
    if expected.release(version) != expected.release(torch.__version__):
        print(f"release-check: this venv has torch {torch.__version__}, not {version}",
              file=sys.stderr)
        return EXIT_USAGE
    runs = {}
    with tempfile.TemporaryDirectory(prefix="release-check-") as scratch:
        for impl in IMPLS:
            print(f"==== {impl} on torch {torch.__version__} ====", flush=True)
            out = Path(scratch) / impl
            subprocess.run(run_command(impl, out, args), check=False)
            path = out / "report.json"
            if not path.is_file():
                print(f"release-check: the run of {impl} wrote no report", file=sys.stderr)
                return EXIT_DEPARTS
            runs[impl] = json.loads(path.read_text(encoding="utf-8"))
    summary = summarize(version, runs)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{version}.json").write_text(json.dumps(summary, indent=2) + "\n",
                                              encoding="utf-8")
    (args.out / f"{version}.md").write_text(markdown(summary), encoding="utf-8")
    print(f"report: {args.out / f'{version}.md'}")
    return EXIT_OK if clean(summary) else EXIT_DEPARTS


if __name__ == "__main__":
    sys.exit(main())
