"""The pytest plugin: `pytest --pyargs conformance --impl IMPL [--device DEV] [-n auto]`.

Registered through the `pytest11` entry point, so it is active wherever the kit is installed. It
only acts on the properties inside `conformance/properties/`; other test suites see its options and
Hypothesis profiles, nothing else.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import torch
from hypothesis import settings

from conformance import capabilities, checks, expected, impl, recording, spec
from conformance import config as run_config
from conformance.config import SHRINK_BUDGET, RunConfig, UsageError, fresh_seed
from conformance.inventory import is_property, property_id
from conformance.strategies import VERDICT_PHASES, limits

# Records each property's calls and attaches a standalone repro snippet to its failure.
pytest_plugins = ("conformance.repro",)


@dataclass
class _RunState:
    """What the plugin learns as the run goes, per process (the configuration stays frozen)."""

    shrink_left: float | None
    collected: set[str] = field(default_factory=set)
    unmatched: list[str] = field(default_factory=list)


_STATE = pytest.StashKey[_RunState]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("prune-conformance")
    group.addoption("--impl", default=None,
                    help="implementation under test: torch, reference, a dotted module or a .py "
                         f"file (default: ${impl.ENV_VAR}, else torch)")
    group.addoption("--device", default="cpu", help="torch device string (default: cpu)")
    group.addoption("--expected-failures", default=None, metavar="SOURCES|none",
                    help="known departures: files or names of shipped lists, comma-separated "
                         "(torch,mine.txt: a wrapper of torch inherits torch's); default: the "
                         "shipped list of a named implementation (torch), none otherwise")
    group.addoption("--max-numel", type=int, default=limits.max_numel,
                    help=f"largest tensor the properties draw (default {limits.max_numel})")
    group.addoption("--shrink-budget", type=float, default=None, metavar="SECONDS",
                    help=f"seconds each worker may spend on failing properties before later "
                         f"failures are reported unshrunk (default {SHRINK_BUDGET:g}; none "
                         f"under the thorough profile; -1: no limit)")


_SEED = "prune_conformance_seed"


def _choose_seed(config: pytest.Config) -> None:
    """A run without --hypothesis-seed under a random profile gets one seed, chosen here and given
    to Hypothesis as if typed, so that the header can name it and `--hypothesis-seed N` replays
    the run. An xdist worker takes the controller's (pytest_configure_node)."""
    if not hasattr(config.option, "hypothesis_seed") or config.option.hypothesis_seed is not None:
        return
    worker = getattr(config, "workerinput", None)
    if worker is not None:
        config.option.hypothesis_seed = worker.get(_SEED)
        return
    config.option.hypothesis_seed = fresh_seed(
        config.getoption("hypothesis_profile", None) or "default")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist's controller: every worker gets the run's seed."""
    node.workerinput[_SEED] = node.config.option.hypothesis_seed


@pytest.hookimpl(tryfirst=True)  # before Hypothesis' own plugin reads --hypothesis-seed
def pytest_configure(config: pytest.Config) -> None:
    _choose_seed(config)
    config.addinivalue_line("markers", "clause(*ids): the SPEC.md clauses a property checks")
    config.addinivalue_line("markers", "slow: heavy checks, off by default")
    if not config.getoption("hypothesis_profile", None):
        settings.load_profile("default")
    try:
        configured = run_config.from_pytest(config)
    except UsageError as exc:
        raise pytest.UsageError(str(exc)) from None
    limits.set_max_numel(configured.max_numel)
    _share_threads(config)
    run_config.install(config, configured)
    config.stash[_STATE] = _RunState(shrink_left=configured.shrink_budget)
    config.pluginmanager.register(_SlowProperties(), "prune-conformance-slow")


def _share_threads(config: pytest.Config) -> None:
    """In an xdist worker, torch's intra-op threads are the worker's share of the CPUs: each
    worker starting a thread per CPU oversubscribes them and the workers slow each other down."""
    workers = getattr(config, "workerinput", {}).get("workercount")
    if workers:
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // int(workers)))


class _SlowProperties:
    """Deselects properties marked `slow` (DEVICE-7's large tensors) unless `-m` selects by marker,
    e.g. `-m slow`. Runs last, so that the kit's inventory still sees every property and the
    clauses they cite."""

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item],
                                      ) -> None:
        if config.getoption("markexpr", ""):
            return
        slow = [i for i in items if is_property(i) and i.get_closest_marker("slow")]
        if slow:
            config.hook.pytest_deselected(items=slow)
            chosen = {id(i) for i in slow}
            items[:] = [i for i in items if id(i) not in chosen]


def state_of(config: pytest.Config) -> _RunState:
    return config.stash[_STATE]


def pytest_report_header(config: pytest.Config) -> list[str]:
    configured = run_config.of(config)
    implementation = configured.implementation
    seed = config.getoption("hypothesis_seed", None)
    profile = settings.get_current_profile_name()
    lines = [
        f"prune-conformance: implementation {implementation.name} "
        f"({implementation.version}, {implementation.file})",
        f"prune-conformance: torch {torch.__version__}, device {configured.device}"
        + (f" (skipped: {configured.device_problem})" if configured.device_problem else ""),
        f"prune-conformance: hypothesis profile {profile!r}, seed "
        + (str(seed) if seed is not None else
           "derandomized" if settings.default.derandomize else "random (see --hypothesis-seed)"),
        "prune-conformance: expected failures "
        f"{configured.expected_sources or 'none'}"
        + (f" ({len(configured.expected)} entries)" if configured.expected else ""),
    ]
    if not configured.device_problem:
        lines += [f"prune-conformance: {problem}; properties draw the other dtypes"
                  for problem in capabilities.dtype_problems(configured.device)]
    if implementation.missing:
        lines.append(f"prune-conformance: implementation lacks {', '.join(implementation.missing)}")
    return lines


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Check every property cites known clauses, and mark the known departures."""
    configured, state = run_config.of(config), state_of(config)
    known = spec.clauses()
    for item in items:
        if not is_property(item):
            continue
        cited = [c for mark in item.iter_markers("clause") for c in mark.args]
        if not cited:
            raise pytest.UsageError(f"property {property_id(item)} cites no SPEC.md clause")
        unknown = [c for c in cited if c not in known]
        if unknown:
            raise pytest.UsageError(f"property {property_id(item)} cites unknown clauses {unknown}")
        departure = expected.lookup(configured.expected, property_id(item))
        if departure is not None:
            # A departure that states how it fails is expected only as StatedDeparture, which
            # pytest_runtest_call raises when the failure is the stated one.
            raises = {"raises": StatedDeparture} if departure.states_how else {}
            item.add_marker(pytest.mark.xfail(reason=departure.xfail_reason(),
                                              strict=not departure.sometimes, **raises))
            item.stash[_KNOWN] = departure
            item.repr_failure = _brief_failure  # type: ignore[method-assign]
    state.collected = {property_id(i) for i in items if is_property(i)}
    state.unmatched = [f"{d.where}: {d.test_id} matches no property"
                       for d in expected.unmatched(configured.expected_entries, state.collected)]
    if hasattr(config, "workeroutput"):  # an xdist worker: the controller reports them
        config.workeroutput[_UNMATCHED] = state.unmatched


_UNMATCHED = "prune_conformance_unmatched"


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """xdist's controller: the unmatched entries a worker found (all workers collect alike)."""
    state = state_of(node.config)
    for line in getattr(node, "workeroutput", {}).get(_UNMATCHED, ()):
        if line not in state.unmatched:
            state.unmatched.append(line)


def unmatched_entries(config: pytest.Config) -> list[str]:
    """Expected-failure entries that named no collected property, as `file:line: id ...`."""
    return list(state_of(config).unmatched)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    for line in unmatched_entries(config):
        terminalreporter.write_line(f"prune-conformance: warning: expected failure {line}",
                                    yellow=True)


class StatedDeparture(AssertionError):
    """A known departure failed the way its entry states (raises=, match=)."""


def _brief_failure(excinfo: pytest.ExceptionInfo[BaseException], style: str | None = None,
                   ) -> str:
    """The failure report of a known departure: its exception alone. The full report re-parses
    the source file of every traceback entry, and Hypothesis formats each failing example that
    way too: about a second per departure, for a failure the expected-failures file explains."""
    return f"{excinfo.typename}: {excinfo.value}"


_KNOWN = pytest.StashKey[expected.Departure]()


def departure_of(item: pytest.Item) -> expected.Departure | None:
    """The expected-failures entry in force for a property, if any."""
    return item.stash.get(_KNOWN, None)


@contextmanager
def without_shrinking(item: pytest.Item) -> Iterator[None]:
    """Inside the block the item's Hypothesis property runs without its shrink phase (a verdict
    is all that is wanted); its own settings are restored afterwards."""
    function = getattr(item, "obj", None)
    inner = getattr(function, "__func__", function)
    own = getattr(inner, "_hypothesis_internal_use_settings", None)
    if own is None:
        yield
        return
    inner._hypothesis_internal_use_settings = settings(own, phases=VERDICT_PHASES)
    try:
        yield
    finally:
        inner._hypothesis_internal_use_settings = own


_UNSHRUNK = pytest.StashKey[bool]()


def ran_unshrunk(item: pytest.Item) -> bool:
    """Whether a property ran without its shrink phase (a known departure, or the run's shrink
    budget was spent): a failure then shows the first failing example found."""
    return item.stash.get(_UNSHRUNK, False)


def _within_shrink_budget(item: pytest.Item) -> Iterator[None]:
    state = state_of(item.config)
    if state.shrink_left is not None and state.shrink_left <= 0:
        item.stash[_UNSHRUNK] = True
        with without_shrinking(item):
            return (yield)
    started = time.monotonic()
    try:
        return (yield)
    except Exception:  # a failure; a skip (pytest's outcomes are BaseExceptions) costs nothing
        if state.shrink_left is not None:
            state.shrink_left -= time.monotonic() - started
        raise


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Run a known departure without shrinking, and hold it to how its entry says it fails; run
    any other property within the run's shrink budget."""
    departure = item.stash.get(_KNOWN, None)
    if departure is None:
        if not is_property(item):
            return (yield)
        return (yield from _within_shrink_budget(item))
    item.stash[_UNSHRUNK] = True
    with without_shrinking(item):
        try:
            return (yield)
        except Exception as exc:
            if not departure.states_how:
                raise
            from conformance.report import leaves

            failures = list(leaves(exc))
            if departure.fails_as_stated(failures):
                raise StatedDeparture(str(exc)) from None
            seen = "; ".join(f"{type(f).__name__}: {str(f).splitlines()[0] if str(f) else ''}"
                             for f in failures)
            raise checks.SpecViolation(
                departure.clause, f"a known departure ({departure.where}) stated to fail with "
                                  f"{departure.how()} failed otherwise: {seen}") from None


# --- fixtures the properties use ------------------------------------------------------------

@pytest.fixture(scope="session")
def run_configuration(request: pytest.FixtureRequest) -> RunConfig:
    """The run's configuration (conformance.config): --impl, --device, profile, departures."""
    return run_config.of(request.config)


@pytest.fixture(scope="session")
def implementation(run_configuration: RunConfig) -> impl.Implementation:
    """The implementation under test, as loaded once from --impl (conformance.config.build)."""
    return run_configuration.implementation


@pytest.fixture(scope="session")
def prune(implementation: impl.Implementation) -> recording.Recorder:
    """The module under test, spelled like user code: `prune.l1_unstructured(...)`; its calls
    are recorded for the repro snippets (conformance.repro)."""
    return recording.Recorder(implementation.namespace())


@pytest.fixture(scope="session")
def device(run_configuration: RunConfig) -> torch.device:
    """The --device; properties that need it skip with one reason where it is absent."""
    if run_configuration.device_problem:
        pytest.skip(run_configuration.device_problem)
    return run_configuration.device


@pytest.fixture(scope="session")
def expected_departures(run_configuration: RunConfig) -> dict[str, expected.Departure | None]:
    return run_configuration.expected


@pytest.fixture(scope="session")
def collected_properties(request: pytest.FixtureRequest) -> set[str]:
    return state_of(request.config).collected
