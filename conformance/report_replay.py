"""The repro snippet and replay command of each unexpected result of a run (`finish`).

A failure's snippet is its standalone one (`conformance.repro`, or a session's own) when one was
made; otherwise a snippet that replays the kit's property (`pytest.main([...])` with the run's seed
and profile, every path absolute) after the property's own reproduction, if it attached one. A
standalone snippet names that replay as a comment; `command` holds it as a shell line.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from conformance.impl import is_file_spec
from conformance.report_results import PropertyResult, RunReport
from conformance.source import import_line


def replay_args(result: PropertyResult, run: RunReport) -> list[str]:
    """pytest arguments that run exactly this property again, with the run's seed and profile."""
    module, _, name = result.id.partition("::")
    dotted = "conformance.properties." + module.removesuffix(".py").replace("/", ".")
    impl_spec = run.implementation["spec"]
    if is_file_spec(impl_spec):
        impl_spec = str(Path(impl_spec).resolve())
    args = ["--pyargs", f"{dotted}::{name}", "--impl", impl_spec,
            "--hypothesis-profile", run.profile]
    if isinstance(run.seed, int):
        args.append(f"--hypothesis-seed={run.seed}")
    if run.device != "cpu":
        args += ["--device", run.device]
    args += ["--expected-failures", _absolute_sources(run.expected_failures),
             "-p", "no:cacheprovider"]
    return args


def _absolute_sources(option: str | None) -> str:
    """--expected-failures with every file as an absolute path (the replay may run anywhere);
    names of shipped lists stay names."""
    words = [w.strip() for w in (option or "none").split(",") if w.strip()]
    return ",".join(str(Path(w).resolve()) if Path(w).is_file() else w for w in words)


def replay_command(result: PropertyResult, run: RunReport) -> str:
    return shlex.join(["pytest", *replay_args(result, run)])


def repro_snippet(result: PropertyResult, run: RunReport) -> str:
    """The runnable Python snippet of a failure (see the module docstring)."""
    replay = f"pytest.main({replay_args(result, run)!r})"
    if result.standalone:
        return (result.standalone.rstrip("\n") + "\n\n# The same example through the kit's "
                f"property (needs the kit installed):\n#   import pytest; {replay}\n")
    lines = [f"# Repro of {result.id}" + (f" ({result.clause})" if result.clause else "")
             + f" against {run.implementation['spec']}",
             "import torch",
             "from torch import nn",
             import_line(run.implementation["spec"])]
    if run.device != "cpu":
        lines.append(f"device = torch.device({run.device!r})")
    if result.property_repro:
        lines += ["", result.property_repro]
    lines += ["", "# Replay exactly this example (same seed and profile: same shrunk case):"]
    if result.property_repro:
        lines.append(f"#   import pytest; {replay}")
    else:
        lines += ["import pytest", "", f"raise SystemExit({replay})"]
    if result.reproduce_failure:
        lines.append(f"# or decorate the property with {result.reproduce_failure}")
    return "\n".join(lines) + "\n"


def finish(run: RunReport) -> None:
    """Fill each unexpected result's replay command and snippet."""
    for result in run.properties:
        if result.unexpected:
            result.command = replay_command(result, run)
            if result.outcome == "failed":
                result.repro = repro_snippet(result, run)

