"""Which implementation is under test: torch's module, the reference, or a user's module."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import sys
import types
from dataclasses import dataclass
from pathlib import Path

import torch

# The public surface of torch.nn.utils.prune (API-1).
PUBLIC_NAMES = (
    "BasePruningMethod", "PruningContainer", "Identity", "RandomUnstructured", "L1Unstructured",
    "RandomStructured", "LnStructured", "CustomFromMask", "identity", "random_unstructured",
    "l1_unstructured", "random_structured", "ln_structured", "global_unstructured",
    "custom_from_mask", "remove", "is_pruned",
)

ALIASES = {"torch": "torch.nn.utils.prune", "reference": "reference.prune"}
ENV_VAR = "PRUNE_IMPL"  # the implementation when none is given (conformance.config)


class UsageError(Exception):
    """A mistake in what the user named (an implementation that does not load, a bad device,
    profile or expected-failures source): one line, exit 2, and no run. The kit's one usage
    error; the CLI, the plugin and the method check all raise and catch this one."""


class MissingName(AssertionError):
    """Raised by a property that needs a public name the implementation lacks."""


@dataclass(frozen=True)
class Implementation:
    """A loaded implementation: its spelling, its module and what the report header says of it."""

    spec: str
    module: types.ModuleType

    @property
    def name(self) -> str:
        return self.spec if self.spec in ALIASES else self.module.__name__

    @property
    def version(self) -> str:
        if self.module.__name__.startswith("torch."):
            return f"torch {torch.__version__}"
        root = sys.modules.get(self.module.__name__.partition(".")[0])
        return str(getattr(self.module, "__version__", getattr(root, "__version__", "unversioned")))

    @property
    def file(self) -> str:
        return str(getattr(self.module, "__file__", "<no file>"))

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(name for name in PUBLIC_NAMES if not hasattr(self.module, name))

    def namespace(self) -> ImplementationNamespace:
        return ImplementationNamespace(self)


class ImplementationNamespace:
    """What properties call `prune`: the module's attributes, where a missing one fails the
    property that needs it with API-1 instead of breaking collection."""

    def __init__(self, impl: Implementation) -> None:
        self._impl = impl

    def __getattr__(self, name: str) -> object:
        try:
            return getattr(self._impl.module, name)
        except AttributeError:
            if name not in PUBLIC_NAMES:
                raise
            raise MissingName(
                f"API-1: implementation {self._impl.name} ({self._impl.file}) has no {name!r}"
            ) from None

    def __repr__(self) -> str:
        return f"<implementation {self._impl.name}>"


def is_file_spec(spec: str) -> bool:
    """Whether the user named a .py file (a path) rather than an alias or a dotted module."""
    return spec.endswith(".py") or os.sep in spec or "/" in spec


def load(spec: str) -> Implementation:
    """Load `torch`, `reference`, a dotted module path or a path to a .py file."""
    return Implementation(spec, load_module(ALIASES.get(spec, spec), "implementation"))


def load_module(spec: str, what: str) -> types.ModuleType:
    """A dotted module, or a .py file run as a module of a name stable across processes; a
    failure is a UsageError that calls it `what` and says why."""
    if is_file_spec(spec):
        return _load_file(Path(spec), what)
    try:
        return importlib.import_module(spec)
    except ModuleNotFoundError as exc:
        if exc.name and spec.startswith(exc.name):
            forms = "torch, reference, " if what == "implementation" else ""
            raise UsageError(f"unknown {what} {spec!r}: no module named {exc.name!r} "
                             f"(expected {forms}a dotted module path or a .py file)") from None
        raise UsageError(f"{what} {spec!r} failed to import: {exc!r}") from None
    except Exception as exc:
        raise UsageError(f"{what} {spec!r} failed to import: {exc!r}") from None


def _load_file(path: Path, what: str) -> types.ModuleType:
    if not path.is_file():
        raise UsageError(f"{what} file {str(path)!r} does not exist")
    # A name stable across processes, so that xdist workers agree on pickled class paths.
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:10]
    name = f"prune_impl_{path.stem}_{digest}"
    if name in sys.modules:  # loaded before in this process (the CLI, then pytest)
        return sys.modules[name]
    loader_spec = importlib.util.spec_from_file_location(name, path)
    if loader_spec is None or loader_spec.loader is None:
        raise UsageError(f"{what} file {str(path)!r} is not a Python module")
    module = importlib.util.module_from_spec(loader_spec)
    # Registered before execution so that pickling classes defined in the file works (SERIAL-2).
    sys.modules[name] = module
    try:
        loader_spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise UsageError(f"{what} file {str(path)!r} failed to import: {exc!r}") from None
    return module
