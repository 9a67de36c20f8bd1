"""The pytest plugin: `pytest --pyargs conformance --impl IMPL [--device DEV] [-n auto]`.

Registered through the `pytest11` entry point, so it is active wherever the kit is installed. It
only acts on the properties inside `conformance/properties/`; other test suites see its options and
Hypothesis profiles, nothing else.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import torch
from hypothesis import HealthCheck, settings

from conformance import capabilities, checks, expected, impl, recording, spec
from conformance.strategies import VERDICT_PHASES, limits

# Records each property's calls and attaches a standalone repro snippet to its failure.
pytest_plugins = ("conformance.repro",)

PROPERTIES_DIR = Path(__file__).resolve().parent / "properties"

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
}
for _name, _values in PROFILES.items():
    settings.register_profile(_name, **_values)


_STATE = pytest.StashKey[dict]()

# A failing property's time is almost all shrinking: once a worker has spent this long on failing
# properties, later failures are reported as first found. A run with hundreds of failures then ends
# in about the time of a clean run plus the budget, not hours.
SHRINK_BUDGET = 60.0
UNLIMITED_PROFILES = ("thorough",)


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


def is_property(item: pytest.Item) -> bool:
    return PROPERTIES_DIR in Path(str(item.path)).resolve().parents


def property_id(item: pytest.Item) -> str:
    """The id of a property inside the properties package: `test_file.py::test_name[params]`."""
    relative = Path(str(item.path)).resolve().relative_to(PROPERTIES_DIR).as_posix()
    return f"{relative}::{item.name}"


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


def fresh_seed(profile: str) -> int | None:
    """A new Hypothesis seed for a run under `profile`; None where the profile is derandomized.
    The plugin and the CLI draw every run's seed here."""
    if PROFILES.get(profile, {}).get("derandomize"):
        return None
    return random.SystemRandom().randrange(1, 2**31)


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
        limits.set_max_numel(config.getoption("max_numel"))
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    _share_threads(config)
    state: dict[str, Any] = {}
    config.stash[_STATE] = state
    try:
        chosen = impl.resolve(config.getoption("impl"))
        state["impl"] = impl.load(chosen)
        state["device"] = torch.device(config.getoption("device"))
        state["expected_files"], state["expected_all"] = expected.load(
            config.getoption("expected_failures"), chosen)
        state["expected"] = expected.in_force(state["expected_all"], state["device"].type,
                                              torch.__version__)
    except (impl.ImplementationError, expected.ExpectedFailuresError) as exc:
        raise pytest.UsageError(str(exc)) from None
    except RuntimeError as exc:  # torch.device of a bad string
        raise pytest.UsageError(f"bad --device {config.getoption('device')!r}: {exc}") from None
    state["device_problem"] = device_problem(state["device"])
    budget = config.getoption("shrink_budget")
    if budget is None:
        profile = config.getoption("hypothesis_profile", None) or "default"
        budget = -1.0 if profile in UNLIMITED_PROFILES else SHRINK_BUDGET
    state["shrink_left"] = None if budget < 0 else budget
    state["unmatched"] = []
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


def device_problem(device: torch.device) -> str | None:
    """Why the device cannot be used here, or None."""
    try:
        torch.empty(1, device=device)
    except Exception as exc:
        return f"device {str(device)!r} is not available on this machine ({type(exc).__name__})"
    return None


def state_of(config: pytest.Config) -> dict[str, Any]:
    return config.stash[_STATE]


def pytest_report_header(config: pytest.Config) -> list[str]:
    state = state_of(config)
    implementation: impl.Implementation = state["impl"]
    seed = config.getoption("hypothesis_seed", None)
    profile = settings.get_current_profile_name()
    lines = [
        f"prune-conformance: implementation {implementation.name} "
        f"({implementation.version}, {implementation.file})",
        f"prune-conformance: torch {torch.__version__}, device {state['device']}"
        + (f" (skipped: {state['device_problem']})" if state["device_problem"] else ""),
        f"prune-conformance: hypothesis profile {profile!r}, seed "
        + (str(seed) if seed is not None else
           "derandomized" if settings.default.derandomize else "random (see --hypothesis-seed)"),
        "prune-conformance: expected failures "
        f"{expected.describe(state['expected_files']) or 'none'}"
        + (f" ({len(state['expected'])} entries)" if state["expected"] else ""),
    ]
    if not state["device_problem"]:
        lines += [f"prune-conformance: {problem}; properties draw the other dtypes"
                  for problem in capabilities.dtype_problems(state["device"])]
    if implementation.missing:
        lines.append(f"prune-conformance: implementation lacks {', '.join(implementation.missing)}")
    return lines


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Check every property cites known clauses, and mark the known departures."""
    state = state_of(config)
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
        departure = expected.lookup(state["expected"], property_id(item))
        if departure is not None:
            # A departure that states how it fails is expected only as StatedDeparture, which
            # pytest_runtest_call raises when the failure is the stated one.
            raises = {"raises": StatedDeparture} if departure.states_how else {}
            item.add_marker(pytest.mark.xfail(reason=departure.xfail_reason(),
                                              strict=not departure.sometimes, **raises))
            item.stash[_KNOWN] = departure
            item.repr_failure = _brief_failure  # type: ignore[method-assign]
    state["collected"] = {property_id(i) for i in items if is_property(i)}
    state["unmatched"] = [f"{d.where}: {d.test_id} matches no property"
                          for d in expected.unmatched(state["expected_all"], state["collected"])]
    if hasattr(config, "workeroutput"):  # an xdist worker: the controller reports them
        config.workeroutput[_UNMATCHED] = state["unmatched"]


_UNMATCHED = "prune_conformance_unmatched"


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """xdist's controller: the unmatched entries a worker found (all workers collect alike)."""
    state = state_of(node.config)
    for line in getattr(node, "workeroutput", {}).get(_UNMATCHED, ()):
        if line not in state["unmatched"]:
            state["unmatched"].append(line)


def unmatched_entries(config: pytest.Config) -> list[str]:
    """Expected-failure entries that named no collected property, as `file:line: id ...`."""
    return list(state_of(config)["unmatched"])


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
    if state["shrink_left"] is not None and state["shrink_left"] <= 0:
        item.stash[_UNSHRUNK] = True
        with without_shrinking(item):
            return (yield)
    started = time.monotonic()
    try:
        return (yield)
    except Exception:  # a failure; a skip (pytest's outcomes are BaseExceptions) costs nothing
        if state["shrink_left"] is not None:
            state["shrink_left"] -= time.monotonic() - started
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
def implementation(request: pytest.FixtureRequest) -> impl.Implementation:
    """The implementation under test, as loaded from --impl."""
    return state_of(request.config)["impl"]


@pytest.fixture(scope="session")
def prune(implementation: impl.Implementation) -> recording.Recorder:
    """The module under test, spelled like user code: `prune.l1_unstructured(...)`; its calls
    are recorded for the repro snippets (conformance.repro)."""
    return recording.Recorder(implementation.namespace())


@pytest.fixture(scope="session")
def device(request: pytest.FixtureRequest) -> torch.device:
    """The --device; properties that need it skip with one reason where it is absent."""
    state = state_of(request.config)
    if state["device_problem"]:
        pytest.skip(state["device_problem"])
    return state["device"]


@pytest.fixture(scope="session")
def expected_departures(request: pytest.FixtureRequest) -> dict[str, expected.Departure]:
    return state_of(request.config)["expected"]


@pytest.fixture(scope="session")
def collected_properties(request: pytest.FixtureRequest) -> set[str]:
    return state_of(request.config)["collected"]
