"""Time and peak memory of one case under both implementations.

Time: in this process, the implementations alternate (torch first on even repeats, the reference
first on odd ones, so neither always runs on a warmer or a more fragmented heap), each run on
freshly built modules; the median is reported. On a GPU each implementation first runs once on
the --quick sizes, untimed, so that CUDA's lazy initialisation and kernel loading are not timed.

Peak memory on the CPU: one fresh subprocess per case and implementation, so that neither the
other implementation's allocations nor this process's history count: the growth of the peak
resident set (VmHWM, or ru_maxrss without /proc) over the resident set once the inputs are built,
with a fixed glibc mmap threshold so that freed blocks go back to the system
(`python -m benchlib.measure CASE IMPL [--quick] [--device D]` is that subprocess). On a GPU, in
this process: the caching allocator counts exactly the bytes allocated, so
torch.cuda.reset_peak_memory_stats before the call and max_memory_allocated after it give the
call's own peak, whatever ran before (a fresh process per case cost minutes there).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import torch

from benchlib.cases import CASES_BY_NAME, Case

IMPLEMENTATIONS = {"torch": "torch.nn.utils.prune", "reference": "reference.prune"}
_SCRIPTS = Path(__file__).resolve().parent.parent
_MMAP_THRESHOLD = 1 << 16


def implementation(impl: str) -> ModuleType:
    return importlib.import_module(IMPLEMENTATIONS[impl])


def time_case(case: Case, quick: bool, device: str, repeats: int) -> dict:
    """Median seconds per implementation over `repeats` alternating runs, and whether the
    outcomes (masks) of the two implementations are equal."""
    if _on_gpu(device):
        for impl in IMPLEMENTATIONS:
            case.workload(implementation(impl), case.values(True), True, device).run()
    values = case.values(quick)
    times: dict[str, list[float]] = {impl: [] for impl in IMPLEMENTATIONS}
    outcomes: dict[str, list[torch.Tensor]] = {}
    for repeat in range(repeats):
        order = list(IMPLEMENTATIONS) if repeat % 2 == 0 else list(reversed(IMPLEMENTATIONS))
        for impl in order:
            workload = case.workload(implementation(impl), values, quick, device)
            times[impl].append(_seconds(workload.run, device))
            if repeat == 0:
                outcomes[impl] = workload.outcome()
            del workload
            gc.collect()
    agree = len(outcomes["torch"]) == len(outcomes["reference"]) and all(
        torch.equal(a, b) for a, b in zip(outcomes["torch"], outcomes["reference"], strict=True)
    )
    return {
        "repeats": repeats,
        "masks_agree": agree,
        "times_s": times,
        "time_s": {impl: statistics.median(runs) for impl, runs in times.items()},
    }


def _seconds(run: Callable[[], None], device: str) -> float:
    _synchronize(device)
    start = time.perf_counter()
    run()
    _synchronize(device)
    return time.perf_counter() - start


def _synchronize(device: str) -> None:
    if _on_gpu(device):
        torch.cuda.synchronize()


def _on_gpu(device: str) -> bool:
    return device.startswith("cuda")


def peak_memory(case: Case, impl: str, quick: bool, device: str) -> dict:
    """Peak memory growth of one run: in this process on a GPU, else in a fresh subprocess
    (see the module doc)."""
    if _on_gpu(device):
        return _measure_one(case, impl, quick, device)
    command = [sys.executable, "-m", "benchlib.measure", case.name, impl, "--device", device]
    if quick:
        command.append("--quick")
    path = [str(_SCRIPTS), str(_SCRIPTS.parent), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in path if p)}
    # A fixed glibc mmap threshold: with the default dynamic one, whether a freed block of a few
    # MB goes back to the system depends on the allocation history, and the peak of the same
    # run varied by a whole tensor from one process to the next.
    env.setdefault("MALLOC_MMAP_THRESHOLD_", str(_MMAP_THRESHOLD))
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"memory run of {case.name} with {impl} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _measure_one(case: Case, impl: str, quick: bool, device: str) -> dict:
    """Build the inputs, then measure the growth during the call alone (in the subprocess on the
    CPU, in this process on a GPU)."""
    values = case.values(quick)
    workload = case.workload(implementation(impl), values, quick, device)
    del values  # the modules hold their own copies
    gc.collect()
    if _on_gpu(device):
        return {"peak_bytes": cuda_peak_growth(workload.run, device), "method": "cuda"}
    reset = _reset_peak_rss()
    baseline = _peak_rss_bytes()
    workload.run()
    method = "peak RSS, reset after setup" if reset else "peak RSS"
    # RSS counters are updated lazily by the kernel: a call that frees memory can read a few
    # pages below the baseline.
    return {"peak_bytes": max(_peak_rss_bytes() - baseline, 0), "method": method}


def cuda_peak_growth(run: Callable[[], None], device: str) -> int:
    """Bytes allocated on `device` at the peak of `run()` beyond those allocated before it."""
    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    baseline = torch.cuda.memory_allocated(device)
    run()
    torch.cuda.synchronize(device)
    return torch.cuda.max_memory_allocated(device) - baseline


def _reset_peak_rss() -> bool:
    """Lower the peak resident set to the current one (Linux >= 4.0), so that temporaries freed
    while the inputs were built do not hide the call's own peak. False where unsupported."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


def _peak_rss_bytes() -> int:
    """The process's peak resident set: VmHWM where /proc has it, else ru_maxrss.

    VmHWM first, because Linux carries ru_maxrss across exec: a child of a big parent reports
    at least the parent's peak, which would hide the child's own growth.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, else kilobytes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchlib.measure")
    parser.add_argument("case", choices=sorted(CASES_BY_NAME))
    parser.add_argument("impl", choices=sorted(IMPLEMENTATIONS))
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    print(json.dumps(_measure_one(CASES_BY_NAME[args.case], args.impl, args.quick, args.device)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
