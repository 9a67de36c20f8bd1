"""The kit on an accelerator in one command (`scripts/gpu-check`).

Probes the device (what it is, which dtypes it computes), runs the suite against torch and the
reference on it, slow properties included, through `prune-conformance compare`, then torch once
more on this machine's CPU: the baseline that tells a device departure (fails on the device, holds
on the CPU of the same torch) from a release departure (fails on both). Writes OUT/device-check.md:
the device, one summary row per run, every unexpected result with its verdict (device or release)
and the clause table, beside each run's report.json, report.md and junit.xml
(OUT/<implementation>/, OUT/torch-cpu/).

Sized for a GPU job of at most 5 minutes on one GPU and 16 cores: 12 xdist workers and the
`unshrunk` profile (20 examples per property, a failure reported as first found, unshrunk: shrinking
on a device is what made the first H200 run overrun, minutes per failure). `--profile default`
shrinks.

Exit status: 0 no unexpected result (torch with its expected departures); 1 a departure; 2 the
device is absent or unusable. Unlike `prune-conformance run`, which skips the device properties
of an absent device and exits 0, a device check without its device is a misconfigured machine,
not a green one.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import torch

from conformance.config import EXIT_USAGE, RunOptions, device_problem
from conformance.terminal import labels_for

DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


def probe(device: torch.device) -> dict[str, str]:
    """What the report says about the device: its name, memory and the dtypes it computes."""
    info = {"device": str(device), "torch": torch.__version__}
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        props = torch.cuda.get_device_properties(index)
        info["name"] = props.name
        info["memory"] = f"{props.total_memory / 2**30:.1f} GiB"
        info["compute capability"] = f"{props.major}.{props.minor}"
        info["CUDA"] = str(torch.version.cuda)
    for dtype in DTYPES:
        info[str(dtype).removeprefix("torch.")] = _computes(device, dtype)
    return info


def _computes(device: torch.device, dtype: torch.dtype) -> str:
    """'yes', or why not: the operations pruning needs (abs, a k-th value, a norm) in `dtype`."""
    try:
        t = torch.arange(6, dtype=dtype, device=device).reshape(2, 3) - 2
        torch.kthvalue(t.abs().flatten().float(), 2)
        torch.linalg.vector_norm(t, 2, dim=1)
    except Exception as exc:  # a backend says "not implemented" in many ways
        return f"no ({type(exc).__name__}: {str(exc).splitlines()[0][:80]})"
    return "yes"


BASELINE = "torch-cpu"


def compare_command(args: argparse.Namespace) -> list[str]:
    command = [sys.executable, "-m", "conformance.cli", "compare", *args.impls, "--device",
               args.device, "--profile", args.profile, "--report", str(args.out)]
    return command + RunOptions(args.workers, args.keyword, args.slow).words()


def baseline_command(args: argparse.Namespace) -> list[str]:
    """torch on this machine's CPU, same profile and properties: the release's own departures."""
    command = [sys.executable, "-m", "conformance.cli", "run", "torch", "--device", "cpu",
               "--profile", args.profile, "--report", str(args.out / BASELINE), "--quiet"]
    return command + RunOptions(args.workers, args.keyword, args.slow).words()


def _load(path: Path) -> dict | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _summary_row(label: str, run: dict | None, link: str) -> str:
    if run is None:
        return f"| {label} | no report | | | | | | |"
    counts = run["summary"]
    result = "conforms" if run["exit_code"] == 0 else f"exit {run['exit_code']}"
    return (f"| {label} | {result} | {counts['passed']} | {counts['failed']} | "
            f"{counts['expected']} | {counts['skipped']} | {run['duration']:.0f} s | "
            f"[report.md]({link}/report.md), [junit.xml]({link}/junit.xml) |")


def verdicts(device_run: dict, baseline: dict | None) -> list[tuple[str, str, str]]:
    """(property id, outcome, verdict) for each unexpected result of torch on the device: a
    *device* departure where the CPU baseline of the same torch conforms, a *release* departure
    where it departs there too, *unknown* without a baseline."""
    on_cpu = {p["id"]: p["outcome"] for p in (baseline or {}).get("properties", ())}
    rows = []
    for prop in device_run.get("properties", ()):
        if prop["outcome"] not in ("failed", "unexpected-pass"):
            continue
        cpu = on_cpu.get(prop["id"])
        if cpu is None:
            verdict = "unknown (not in the CPU baseline)"
        elif cpu == prop["outcome"]:
            verdict = f"release: {cpu} on the CPU too"
        else:
            verdict = f"device: {cpu} on the CPU"
        rows.append((prop["id"], prop["outcome"], verdict))
    return rows


def markdown(info: dict[str, str], impls: Sequence[str], out: Path, exit_code: int) -> str:
    """OUT/device-check.md from the probe and the reports the runs left in OUT."""
    verdict = {0: "no unexpected results", 1: "departures from the spec"}.get(
        exit_code, f"the run failed (exit {exit_code})")
    lines = [f"# Device check: {info.get('name', info['device'])}", "",
             "| | |", "|---|---|", *[f"| {key} | {value} |" for key, value in info.items()],
             f"| **result** | **{verdict}** |", "",
             "## Runs", "",
             "| run | result | passed | failed | expected | skipped | duration | report |",
             "|---|---|---:|---:|---:|---:|---:|---|"]
    labels = labels_for(impls)
    for label in labels:
        lines.append(_summary_row(f"{label} on {info['device']}",
                                  _load(out / label / "report.json"), label))
    baseline = _load(out / BASELINE / "report.json")
    lines.append(_summary_row("torch on cpu (baseline)", baseline, BASELINE))
    torch_run = _load(out / "torch" / "report.json") if "torch" in labels else None
    if torch_run is not None:
        rows = verdicts(torch_run, baseline)
        lines += ["", "## Unexpected results of torch: device or release?", ""]
        if rows:
            lines += ["| property | on the device | departure of |", "|---|---|---|"]
            lines += [f"| `{pid}` | {outcome} | {why} |" for pid, outcome, why in rows]
        else:
            lines.append("None: every result on the device is the spec's or a listed departure.")
    table = out / "compare.md"
    if table.is_file():
        body = table.read_text(encoding="utf-8").split("\n", 1)[1]
        lines += ["", "## Clauses by implementation", body.rstrip()]
    return "\n".join(lines) + "\n"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        allow_abbrev=False,
        prog="gpu-check", description="Run the conformance suite against torch and the reference "
        "on an accelerator and write a Markdown + JUnit report.")
    parser.add_argument("--device", default="cuda", help="torch device string (default: cuda)")
    parser.add_argument("--out", type=Path, default=Path("reports/gpu"),
                        help="report folder (default: reports/gpu)")
    parser.add_argument("--impl", dest="impls", action="append", metavar="IMPL",
                        help="implementation to check, repeatable (default: torch and reference)")
    parser.add_argument("--profile", default="unshrunk",
                        help="Hypothesis profile (default: unshrunk)")
    parser.add_argument("-n", dest="workers", metavar="N", default="12",
                        help="pytest-xdist workers (default: 12, for 16 cores)")
    parser.add_argument("--no-baseline", dest="baseline", action="store_false",
                        help="skip the run of torch on this machine's CPU")
    parser.add_argument("-k", dest="keyword", metavar="EXPR", default=None,
                        help="only properties matching the pytest -k expression")
    parser.add_argument("--no-slow", dest="slow", action="store_false",
                        help="leave out the large-tensor properties")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.impls = args.impls or ["torch", "reference"]
    try:
        device = torch.device(args.device)
    except RuntimeError as exc:
        print(f"gpu-check: bad --device {args.device!r}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    args.out.mkdir(parents=True, exist_ok=True)
    report = args.out / "device-check.md"
    problem = device_problem(device)
    if problem:
        report.write_text(f"# Device check: {device}\n\nNot run: {problem}.\n", encoding="utf-8")
        print(f"gpu-check: {problem}; nothing run (report: {report})", file=sys.stderr)
        return EXIT_USAGE
    info = probe(device)
    print("gpu-check: " + ", ".join(f"{key} {value}" for key, value in info.items()), flush=True)
    code = subprocess.run(compare_command(args), check=False).returncode
    if args.baseline:
        print("gpu-check: the CPU baseline of the same torch", flush=True)
        subprocess.run(baseline_command(args), check=False)
    report.write_text(markdown(info, args.impls, args.out, code), encoding="utf-8")
    print(f"report: {report}")
    return code


if __name__ == "__main__":
    sys.exit(main())
