"""One run's configuration, built and validated once: which implementation, on which device, under
which Hypothesis profile and seed, with which limits and known departures.

How `--impl` travels, start to end:

1. `prune-conformance run IMPL ...` (cli.cmd_run) calls `build(IMPL, device=..., ...)`; a plain
   `pytest --pyargs conformance --impl IMPL` reaches `build` through `from_pytest` instead.
2. `build` picks the implementation (`IMPL`, else $PRUNE_IMPL, else torch: DEFAULT_IMPL, the
   same for every entry point that takes one: run, method, tutorial, the pytest plugin; compare
   names each), loads it once with
   `impl.load`, checks the device, profile, limits and expected-failure sources, and returns a
   frozen `RunConfig`, or raises `UsageError` naming the bad value.
3. The CLI hands that `RunConfig` to pytest as a plugin (`Handed`); the conformance plugin's
   `pytest_configure` stashes it with `install` (an xdist worker, or a plain pytest run, builds
   its own from the same options with `from_pytest`).
4. The fixtures read it back with `of(config)`: `prune` is `of(config).implementation.namespace()`.
"""

from __future__ import annotations

import argparse
import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import torch
from hypothesis import HealthCheck, settings

from conformance import expected, impl
from conformance.impl import UsageError
from conformance.strategies import VERDICT_PHASES, limits

# The implementation of every entry point that is given none (and no $PRUNE_IMPL).
DEFAULT_IMPL = "torch"
PROG = "prune-conformance"
# The exit status of every command (cli, method, tutorial): 0 no unexpected result; 1 departs
# from SPEC.md; 2 usage error (UsageError); 3 the kit itself failed; 130 interrupted.
EXIT_OK, EXIT_DEPARTS, EXIT_USAGE, EXIT_KIT, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

_COMMON = dict(deadline=None, print_blob=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
# The profiles of the kit, selectable with Hypothesis's own --hypothesis-profile.
PROFILES: dict[str, dict[str, Any]] = {
    "default": dict(_COMMON, max_examples=20, stateful_step_count=12),
    "ci": dict(_COMMON, max_examples=20, stateful_step_count=12, derandomize=True, database=None),
    "thorough": dict(_COMMON, max_examples=400, stateful_step_count=50),
    # scripts/gpu-check and scripts/release-check: default's examples, failures reported as first
    # found (shrinking costs minutes per failure on a device, and on a release with many).
    "unshrunk": dict(_COMMON, max_examples=20, stateful_step_count=12, phases=VERDICT_PHASES),
    # scripts/mutation, the suite as mutmut's tests: ci without health checks and unshrunk. A
    # mutant can make drawing slow or filter much (strategies prune with the implementation to
    # build pruned subjects): a failing health check would be a kill no property made, and a kill
    # needs the verdict only (shrinking took most of each killed mutant's time).
    "mutation": dict(_COMMON, max_examples=20, stateful_step_count=12, derandomize=True,
                     database=None, suppress_health_check=list(HealthCheck),
                     phases=VERDICT_PHASES),
}
for _name, _values in PROFILES.items():
    settings.register_profile(_name, **_values)

# A failing property's time is almost all shrinking: once a worker has spent this long on failing
# properties, later failures are reported as first found. A run with hundreds of failures then ends
# in about the time of a clean run plus the budget, not hours.
SHRINK_BUDGET = 60.0
UNLIMITED_PROFILES = ("thorough",)
DERANDOMIZED = "derandomized"


@dataclass(frozen=True)
class RunConfig:
    """Everything a run was asked for, checked. `seed` is an int, or DERANDOMIZED for a
    derandomized profile; `shrink_budget` is seconds per worker, None for no limit."""

    implementation: impl.Implementation
    device: torch.device
    device_problem: str | None
    profile: str
    seed: int | str
    max_numel: int
    shrink_budget: float | None
    expected_option: str | None
    expected_files: tuple[Path, ...]
    expected_entries: tuple[expected.Departure, ...]
    expected: dict[str, expected.Departure | None]

    @property
    def spec(self) -> str:
        """The implementation as the user spelled it (`torch`, `mypkg.prune`, `./mine.py`)."""
        return self.implementation.spec

    @property
    def expected_sources(self) -> str | None:
        return expected.describe(self.expected_files)


def chosen_impl(given: str | None) -> str:
    """The implementation to test: the given spelling, else $PRUNE_IMPL, else DEFAULT_IMPL."""
    return given or os.environ.get(impl.ENV_VAR) or DEFAULT_IMPL


def parse_device(text: str) -> torch.device:
    try:
        return torch.device(text)
    except RuntimeError as exc:
        raise UsageError(f"bad --device {text!r}: {exc}") from None


def usable_device(text: str) -> torch.device:
    """The device of a command that cannot skip what it cannot run (method, tutorial): one
    that is absent here is a UsageError."""
    try:
        device = torch.device(text)
        torch.empty(1, device=device)
    except Exception as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UsageError(f"device {text!r} cannot be used here: {reason}") from None
    return device


def device_problem(device: torch.device) -> str | None:
    """Why the device cannot be used here, or None."""
    try:
        torch.empty(1, device=device)
    except Exception as exc:
        return f"device {str(device)!r} is not available on this machine ({type(exc).__name__})"
    return None


def fresh_seed(profile: str) -> int | None:
    """A new Hypothesis seed for a run under `profile`; None where the profile is derandomized.
    Every run's seed is drawn here."""
    if PROFILES.get(profile, {}).get("derandomize"):
        return None
    return random.SystemRandom().randrange(1, 2**31)


def choose_seed(profile: str, given: int | str | None) -> int | str:
    """The seed every run has, so that its report can replay it: DERANDOMIZED for a derandomized
    profile, else the given one, else a fresh random one."""
    seed = fresh_seed(profile)
    if seed is None:
        return DERANDOMIZED
    return given if given is not None else seed


def build(impl_spec: str | None, *, device: str = "cpu", profile: str = "default",
          seed: int | str | None = None, max_numel: int | None = None,
          shrink_budget: float | None = None, expected_option: str | None = None) -> RunConfig:
    """Check everything the user named and load the implementation once; a mistake is one
    UsageError naming the bad value. `shrink_budget` None is the profile's (SHRINK_BUDGET, none
    under thorough), a negative one no limit."""
    if profile not in PROFILES:
        raise UsageError(f"unknown profile {profile!r} (profiles: {', '.join(PROFILES)})")
    numel = limits.max_numel if max_numel is None else max_numel
    try:
        limits.check_max_numel(numel)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    spec = chosen_impl(impl_spec)
    implementation = impl.load(spec)
    torch_device = parse_device(device)
    files, entries = expected.load(expected_option, spec)
    in_force = expected.in_force(entries, torch_device.type, torch.__version__)
    if shrink_budget is None:
        shrink_budget = -1.0 if profile in UNLIMITED_PROFILES else SHRINK_BUDGET
    return RunConfig(
        implementation=implementation, device=torch_device,
        device_problem=device_problem(torch_device), profile=profile,
        seed=choose_seed(profile, seed), max_numel=numel,
        shrink_budget=None if shrink_budget < 0 else shrink_budget,
        expected_option=expected_option, expected_files=tuple(files),
        expected_entries=tuple(entries), expected=in_force)


@dataclass(frozen=True)
class RunOptions:
    """What a run selects and how it reports, shared by run and compare and forwarded by
    gpu-check and release-check: one place that knows each option's words."""

    workers: str | None = None
    keyword: str | None = None
    slow: bool = False
    max_numel: int | None = None
    shrink_budget: float | None = None  # seconds of shrinking per worker; None: the profile's
    maxfail: int | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> RunOptions:
        return cls(**{name: getattr(args, name) for name in cls.__dataclass_fields__
                      if hasattr(args, name)})

    def words(self) -> list[str]:
        """As `prune-conformance` words, for a command line that repeats or forwards a run."""
        words = ["-n", self.workers] if self.workers is not None else []
        words += ["-k", self.keyword] if self.keyword else []
        words += ["--slow"] if self.slow else []
        words += ["--max-numel", str(self.max_numel)] if self.max_numel is not None else []
        words += ["--shrink-budget", f"{self.shrink_budget:g}"] if (
            self.shrink_budget is not None) else []
        return words + (["--maxfail", str(self.maxfail)] if self.maxfail is not None else [])

    def pytest_words(self) -> list[str]:
        words = ["-n", self.workers] if self.workers is not None else []
        words += ["-k", self.keyword] if self.keyword else []
        # the plugin deselects `slow` properties unless -m selects by marker
        words += ["-m", "slow or not slow"] if self.slow else []
        words += [f"--max-numel={self.max_numel}"] if self.max_numel is not None else []
        words += [f"--shrink-budget={self.shrink_budget:g}"] if (
            self.shrink_budget is not None) else []
        return words + ([f"--maxfail={self.maxfail}"] if self.maxfail is not None else [])


# --- the configuration inside pytest --------------------------------------------------------

_CONFIG = pytest.StashKey[RunConfig]()


class Handed:
    """A configuration built before pytest started (by the CLI), given to pytest.main as a plugin
    so that the run does not load the implementation a second time."""

    def __init__(self, run_config: RunConfig) -> None:
        self.run_config = run_config


def from_pytest(config: pytest.Config) -> RunConfig:
    """The run's configuration from pytest's options (--impl, --device, ...), or the one the CLI
    handed over; raises UsageError."""
    handed = [p for p in config.pluginmanager.get_plugins() if isinstance(p, Handed)]
    if handed and not hasattr(config, "workerinput"):
        return handed[0].run_config
    seed = config.getoption("hypothesis_seed", None)
    return build(config.getoption("impl"), device=config.getoption("device"),
                 profile=config.getoption("hypothesis_profile", None) or "default",
                 seed=int(seed) if str(seed).isdigit() else seed,
                 max_numel=config.getoption("max_numel"),
                 shrink_budget=config.getoption("shrink_budget"),
                 expected_option=config.getoption("expected_failures"))


def install(config: pytest.Config, run_config: RunConfig) -> None:
    config.stash[_CONFIG] = run_config


def of(config: pytest.Config) -> RunConfig:
    """The configuration of the run `config` belongs to (after pytest_configure)."""
    return config.stash[_CONFIG]
