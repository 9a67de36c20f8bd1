"""scripts/suite-timings: how long the default-profile conformance run takes, and where.

For each implementation it runs `prune-conformance run IMPL` twice with the same seed, without
xdist (`-n 0`) and with `-n N`, and reports the wall times, the xdist speedup and the properties
that take the largest share of the run (the sum of the per-property durations in report.json).
Timings are information, never pass/fail.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Run:
    workers: str
    wall: float
    exit_code: int
    durations: dict[str, float]  # property id -> seconds (setup, call and teardown)


def run_suite(impl: str, workers: str, seed: int, profile: str, keyword: str | None = None,
              ) -> Run:
    with tempfile.TemporaryDirectory(prefix="suite-timings-") as out:
        command = [sys.executable, "-m", "conformance.cli", "run", impl, "-n", workers,
                   "--profile", profile, "--seed", str(seed), "--report", out, "--quiet"]
        command += ["-k", keyword] if keyword else []
        env = {key: value for key, value in os.environ.items() if key != "PRUNE_IMPL"}
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        wall = time.perf_counter() - started
        report = Path(out) / "report.json"
        if not report.is_file():
            raise SystemExit(f"suite-timings: {impl} -n {workers} left no report "
                             f"(exit {done.returncode}):\n{done.stdout[-2000:]}{done.stderr}")
        properties = json.loads(report.read_text(encoding="utf-8"))["properties"]
    return Run(workers, wall, done.returncode,
               {p["id"]: float(p.get("duration") or 0.0) for p in properties})


def markdown(results: dict[str, tuple[Run, Run]], top: int, profile: str, seed: int) -> str:
    workers = next(iter(results.values()))[1].workers
    lines = [f"Profile `{profile}`, seed {seed}, {os.cpu_count()} CPUs.", "",
             f"| implementation | properties | wall, -n 0 | wall, -n {workers} | speedup "
             "| largest share |",
             "|---|---:|---:|---:|---:|---|"]
    for impl, (serial, parallel) in results.items():
        total = sum(serial.durations.values())
        name, slowest = max(serial.durations.items(), key=lambda item: item[1])
        lines.append(f"| {impl} | {len(serial.durations)} | {serial.wall:.1f} s | "
                     f"{parallel.wall:.1f} s | {serial.wall / parallel.wall:.2f}x | "
                     f"{100 * slowest / total:.1f}% (`{name}`) |")
    for impl, (serial, _) in results.items():
        total = sum(serial.durations.values())
        ranked = sorted(serial.durations.items(), key=lambda item: -item[1])[:top]
        lines += ["", f"Slowest properties against {impl} (-n 0, sum of durations "
                      f"{total:.1f} s):", "", "| property | seconds | share |", "|---|---:|---:|"]
        lines += [f"| `{name}` | {seconds:.2f} | {100 * seconds / total:.1f}% |"
                  for name, seconds in ranked]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/suite-timings",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("impls", nargs="*", default=["torch", "reference"], metavar="IMPL")
    parser.add_argument("-n", dest="workers", default="2", help="xdist workers (default: 2)")
    parser.add_argument("--profile", default="default", help="Hypothesis profile")
    parser.add_argument("--seed", type=int, default=None, help="default: a random one")
    parser.add_argument("-k", dest="keyword", default=None, help="only matching properties")
    parser.add_argument("--top", type=int, default=10, help="slowest properties listed")
    parser.add_argument("--markdown", type=Path, default=None, help="also write the tables here")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 2**31)
    results = {}
    for impl in args.impls:
        print(f"{impl}: -n 0 ...", file=sys.stderr, flush=True)
        serial = run_suite(impl, "0", seed, args.profile, args.keyword)
        print(f"{impl}: -n {args.workers} ...", file=sys.stderr, flush=True)
        results[impl] = (serial, run_suite(impl, args.workers, seed, args.profile, args.keyword))
    text = markdown(results, args.top, args.profile, seed)
    print(text)
    if args.markdown:
        args.markdown.write_text(text, encoding="utf-8")
    failed = [impl for impl, runs in results.items() if any(r.exit_code for r in runs)]
    if failed:  # the timings of a failing run say little: say so, with the status
        print(f"suite-timings: unexpected results in {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
