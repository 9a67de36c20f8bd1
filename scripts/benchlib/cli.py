"""scripts/bench: time and peak memory of reference.prune against torch.nn.utils.prune.

Each case runs both implementations on the same tie-free inputs, checks that their masks agree
(exit status 1 if not: that is a correctness failure) and reports reference / torch ratios.
Timings are information, never pass/fail.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from benchlib import report
from benchlib.cases import CASES, CASES_BY_NAME
from benchlib.measure import IMPLEMENTATIONS, peak_memory, time_case


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--cases", nargs="+", metavar="CASE",
        help="cases to run, space- or comma-separated (default: all): " + ", ".join(CASES_BY_NAME),
    )
    parser.add_argument(
        "--repeats", type=int,
        help="timed runs per implementation, for every case (default: per case, 3 for the "
        "biggest, 9 to 25 for the shortest, else 5)",
    )
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda[:N]")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test")
    parser.add_argument("--json", type=Path, default=Path("reports/bench.json"),
                        help="where to write the JSON report (default reports/bench.json)")
    parser.add_argument("--markdown", type=Path, help="also write the table as Markdown here")
    args = parser.parse_args(argv)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error(f"--device {args.device}: torch {torch.__version__} sees no CUDA device")
    if args.repeats is not None and args.repeats < 1:
        parser.error(f"--repeats={args.repeats}: expected at least 1")
    names = [n for item in args.cases or [] for n in item.split(",") if n]
    unknown = [n for n in names if n not in CASES_BY_NAME]
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}: expected {', '.join(CASES_BY_NAME)}")
    args.selected = [CASES_BY_NAME[n] for n in names] if names else list(CASES)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    info = report.machine(args.device)
    results = []
    for case in args.selected:
        repeats = args.repeats or case.repeats
        print(f"{case.name}: {case.description} ...", file=sys.stderr, flush=True)
        timing = time_case(case, args.quick, args.device, repeats)
        memory = {impl: peak_memory(case, impl, args.quick, args.device)
                  for impl in IMPLEMENTATIONS}
        peak = {impl: m["peak_bytes"] for impl, m in memory.items()}
        results.append({
            "name": case.name,
            "description": case.description,
            "entries": case.entries(args.quick),
            **timing,
            "time_ratio": report.ratio(timing["time_s"]["reference"], timing["time_s"]["torch"]),
            "peak_bytes": peak,
            "memory_ratio": report.ratio(peak["reference"], peak["torch"]),
            "memory_method": memory["reference"]["method"],
        })
    full = {
        "machine": {**info, "load_average_end": report.load_average()},
        "settings": {"quick": args.quick, "repeats": args.repeats, "device": args.device},
        "cases": results,
    }
    print(report.text_table(results))
    report.write(full, args.json, args.markdown)
    print(f"wrote {args.json}" + (f" and {args.markdown}" if args.markdown else ""),
          file=sys.stderr)
    disagree = [r["name"] for r in results if not r["masks_agree"]]
    if disagree:
        print(f"masks differ between torch and the reference in: {', '.join(disagree)}",
              file=sys.stderr)
        return 1
    return 0
