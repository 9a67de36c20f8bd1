"""The benchmark results as a text table, JSON and Markdown, with the machine they ran on."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path

import torch

COLUMNS = (
    "case", "entries", "torch time", "ref time", "time ratio",
    "torch peak", "ref peak", "mem ratio", "masks",
)


def machine(device: str) -> dict:
    """What the numbers depend on: cores, CPU, RAM, torch, threads, and the GPU if used."""
    info = {
        "nproc": os.cpu_count(),
        "cpu": _cpuinfo_model(),
        "ram_gib": round(_meminfo_total_bytes() / 2**30, 1),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "threads": torch.get_num_threads(),
        "device": device,
        # Other processes' load skews the timings (not the masks): recorded with them.
        "load_average": load_average(),
    }
    if device.startswith("cuda"):
        info["gpu"] = torch.cuda.get_device_name(torch.device(device))
    return info


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages."""
    return [round(x, 2) for x in os.getloadavg()]


def _cpuinfo_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _meminfo_total_bytes() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def ratio(reference: float, torch_value: float) -> float | None:
    """reference / torch; None when torch's value is 0 (nothing to compare with)."""
    return reference / torch_value if torch_value > 0 else None


def rows(results: list[dict]) -> list[tuple[str, ...]]:
    """One row of formatted cells per case, in COLUMNS order."""
    return [
        (
            r["name"],
            _count(r["entries"]),
            _time(r["time_s"]["torch"]),
            _time(r["time_s"]["reference"]),
            _ratio(r["time_ratio"]),
            _bytes(r["peak_bytes"]["torch"]),
            _bytes(r["peak_bytes"]["reference"]),
            _ratio(r["memory_ratio"]),
            "agree" if r["masks_agree"] else "DIFFER",
        )
        for r in results
    ]


def text_table(results: list[dict]) -> str:
    table = [COLUMNS, *rows(results)]
    widths = [max(len(row[i]) for row in table) for i in range(len(COLUMNS))]
    return "\n".join(
        "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in
                  enumerate(zip(row, widths, strict=True)))
        for row in table
    )


def markdown(report: dict) -> str:
    m = report["machine"]
    lines = [
        f"Machine: {m['nproc']} cores ({m['cpu']}), {m['ram_gib']} GiB RAM, torch {m['torch']}, "
        f"Python {m['python']}, {m['threads']} threads, device {m['device']}"
        + (f" ({m['gpu']})" if "gpu" in m else "")
        + f"; load average {m['load_average'][0]} at the start, "
        f"{m['load_average_end'][0]} at the end.",
        "",
        "Ratios are reference / torch (below 1: the reference is faster or smaller). Time: median "
        "of alternating runs; peak: growth of the peak memory during the call, "
        + ("torch.cuda.max_memory_allocated after reset_peak_memory_stats, in one process."
           if m["device"].startswith("cuda") else "in a fresh process."),
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "|".join("---" if i == 0 else "---:" for i in range(len(COLUMNS))) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows(report["cases"])]
    return "\n".join(lines) + "\n"


def write(report: dict, json_path: Path | None, markdown_path: Path | None) -> None:
    if json_path is not None:
        _write_text(json_path, json.dumps(report, indent=2) + "\n")
    if markdown_path is not None:
        _write_text(markdown_path, markdown(report))


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _count(n: int) -> str:
    return f"{n / 1e6:.1f}M" if n >= 100_000 else str(n)


def _time(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds >= 1 else f"{seconds * 1000:.1f} ms"


def _bytes(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"
