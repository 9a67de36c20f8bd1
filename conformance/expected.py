"""Known departures as data: one line per property, with its clause, the reason, and optionally
where it is expected and how it fails.

File format (`conformance/expected/torch.txt` is the example)::

    # comment
    test_amount.py::test_bad_amount_is_rejected[l1_unstructured-False] | AMOUNT-8 | False is 0
    test_device.py::test_ties_give_identical_masks_on_every_device | DEVICE-4 | y | device=cuda
    test_struct.py::test_invalid_norm_order_is_rejected | STRUCT-6 | y | torch<2.14 raises=KeyError

The id is the property's path inside `conformance/properties/` and its name, optionally with a
parametrization (`test_x[l1_unstructured]`); without one it covers every parametrization. A `*` in
the id matches any text (`test_*.py::*`): one upstream bug that any property may meet is one line.
The most specific entry decides: the exact id, then the property function, then a pattern.

The optional fourth field holds words (shell-quoted where they contain spaces):

- `device=cuda` or `device=cuda,xpu`: expected only on those device types (default: every device);
- `torch>=2.12`, `torch<2.6` or `torch>=2.5,<2.14`: expected only for those torch releases (local
  version suffixes such as `+cpu` or `+cu130` are ignored, and a nightly `2.15.0.dev...` counts as
  2.15.0; default: every release);
- `raises=IndexError`: the property must fail through that exception, raised in it or reported by
  the kit as "raised IndexError";
- `match='text'`: the failure's message must contain that regular expression;
- `sometimes`: the departure shows only in some drawn examples (a 0-d parameter, say), so a run
  whose examples miss it passes without an XPASS; allowed only with `raises=` or `match=`, so that
  a failure must still be the stated one.

An entry whose scope leaves out the run is not in force: its property is held to the spec there.
One id may be listed several times with scopes that never both hold for one run.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from conformance import spec
from conformance.impl import UsageError

EXPECTED_DIR = Path(__file__).resolve().parent / "expected"


class ExpectedFailuresError(UsageError, ValueError):
    """The expected-failures file is malformed, or ambiguous for a run (a usage error)."""


def release(version: str) -> Version:
    """The release a torch version belongs to, without local suffix or pre-release tags:
    '2.11.0+cu130' -> 2.11.0, a nightly '2.15.0.dev20261130+cpu' -> 2.15.0."""
    return Version(Version(str(version)).base_version)


@dataclass(frozen=True)
class Scope:
    """Where an entry is expected: device types and a range of torch releases (empty: all)."""

    devices: frozenset[str] = frozenset()
    torch: str = ""  # a specifier set such as ">=2.5,<2.14"

    def holds(self, device_type: str, torch_version: str) -> bool:
        if self.devices and device_type not in self.devices:
            return False
        if self.torch:
            return SpecifierSet(self.torch).contains(release(torch_version))
        return True

    @property
    def everywhere(self) -> bool:
        return not self.devices and not self.torch

    def __str__(self) -> str:
        words = [f"device={','.join(sorted(self.devices))}"] if self.devices else []
        words += [f"torch{self.torch}"] if self.torch else []
        return " ".join(words) or "everywhere"


@dataclass(frozen=True)
class Departure:
    test_id: str
    clause: str
    reason: str
    line: int
    scope: Scope = field(default_factory=Scope)
    raises: str = ""  # the exception type the failure must show, if stated
    match: str = ""  # a regular expression the failure's message must contain, if stated
    sometimes: bool = False  # shows only in some examples: a pass is no XPASS
    source: str = ""  # the file it came from

    @property
    def where(self) -> str:
        """`file:line`, for messages."""
        return f"{self.source or '<text>'}:{self.line}"

    @property
    def states_how(self) -> bool:
        return bool(self.raises or self.match)

    def how(self) -> str:
        words = [f"raises={self.raises}"] if self.raises else []
        words += [f"match={self.match!r}"] if self.match else []
        return " ".join(words + (["sometimes"] if self.sometimes else []))

    def xfail_reason(self) -> str:
        """The reason pytest shows; the report reads the clause from its start."""
        scope = "" if self.scope.everywhere else f" [expected where {self.scope}]"
        return f"{self.clause}: {self.reason}{scope}" + (" [sometimes]" if self.sometimes else "")

    def fails_as_stated(self, failures: Sequence[BaseException]) -> bool:
        """Whether a failure (its leaf exceptions) is the one this entry states."""
        text = "\n".join(str(f) for f in failures)
        if self.raises:
            raised = re.compile(rf"\braised {re.escape(self.raises)}\b")
            named = any(self.raises in {k.__name__ for k in type(f).__mro__} for f in failures)
            if not named and not raised.search(text):
                return False
        return not self.match or re.search(self.match, text) is not None


_DEVICE = re.compile(r"^device=(?P<types>[a-z_0-9]+(?:,[a-z_0-9]+)*)$")
_TORCH = re.compile(r"^torch(?P<spec>[<>=!~].*)$")
_HOW = re.compile(r"^(?P<key>raises|match)=(?P<value>.+)$", re.DOTALL)


def _scope_and_how(text: str, where: str) -> tuple[Scope, dict[str, Any]]:
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise ExpectedFailuresError(f"{where}: cannot read {text!r}: {exc}") from None
    devices: set[str] = set()
    torch_spec, how = "", {}
    for word in words:
        if word == "sometimes":
            how["sometimes"] = True
        elif found := _DEVICE.match(word):
            devices.update(found["types"].split(","))
        elif found := _TORCH.match(word):
            try:
                SpecifierSet(found["spec"])
            except InvalidSpecifier:
                raise ExpectedFailuresError(
                    f"{where}: bad torch release range {word!r} (e.g. torch>=2.5,<2.14)") from None
            torch_spec = ",".join(filter(None, [torch_spec, found["spec"]]))
        elif found := _HOW.match(word):
            if found["key"] == "match":
                try:
                    re.compile(found["value"])
                except re.error as exc:
                    raise ExpectedFailuresError(f"{where}: bad match {word!r}: {exc}") from None
            how[found["key"]] = found["value"]
        else:
            raise ExpectedFailuresError(
                f"{where}: unknown word {word!r} (expected device=TYPE[,TYPE], torch<range>, "
                f"raises=EXCEPTION, match=TEXT or sometimes)")
    if how.get("sometimes") and not (how.get("raises") or how.get("match")):
        raise ExpectedFailuresError(
            f"{where}: 'sometimes' needs raises= or match=: a property that may pass must still "
            f"fail only the stated way")
    return Scope(frozenset(devices), torch_spec), how


def parse(text: str, source: str = "<text>") -> list[Departure]:
    entries: list[Departure] = []
    seen: dict[tuple[str, Scope], int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{source}:{number}"
        parts = [p.strip() for p in line.split("|", 3)]
        if len(parts) not in (3, 4) or not all(parts):
            raise ExpectedFailuresError(
                f"{where}: expected 'test_file.py::test_name | CLAUSE | reason [| scope]', "
                f"got {raw!r}")
        test_id, clause, reason = parts[:3]
        if clause not in spec.clauses():
            raise ExpectedFailuresError(f"{where}: unknown clause {clause!r}")
        scope, how = _scope_and_how(parts[3], where) if len(parts) == 4 else (Scope(), {})
        if (test_id, scope) in seen:
            raise ExpectedFailuresError(
                f"{where}: {test_id} is listed twice for {scope} (line {seen[test_id, scope]})")
        seen[test_id, scope] = number
        entries.append(Departure(test_id, clause, reason, number, scope, source=source, **how))
    return entries


def default_file(impl_spec: str) -> Path | None:
    """The file shipped for a named implementation (`torch`), if any."""
    path = EXPECTED_DIR / f"{impl_spec}.txt"
    return path if path.is_file() else None


def shipped() -> list[str]:
    """The names of the shipped lists (`torch`), for `--expected-failures NAME`."""
    return sorted(p.stem for p in EXPECTED_DIR.glob("*.txt"))


def resolve(word: str) -> Path:
    """One source of departures: a file, else the name of a shipped list (`torch`)."""
    path = Path(word)
    if path.is_file():
        return path
    if "/" not in word and (EXPECTED_DIR / f"{word}.txt").is_file():
        return EXPECTED_DIR / f"{word}.txt"
    raise ExpectedFailuresError(
        f"expected failures {word!r}: no such file, and no shipped list of that name "
        f"(shipped: {', '.join(shipped())})")


def load(option: str | None, impl_spec: str) -> tuple[list[Path], list[Departure]]:
    """`option` is 'none', None (the shipped list of a named implementation such as `torch`,
    else none), or comma-separated sources: files or names of shipped lists, so that a wrapper
    of torch inherits torch's departures with `torch,mine.txt`. Returns the files and their
    entries; the same id and scope in two files is an error naming both."""
    if option is not None and option.lower() == "none":
        return [], []
    if option:
        paths = [resolve(word.strip()) for word in option.split(",") if word.strip()]
    else:
        default = default_file(impl_spec)
        paths = [default] if default else []
    entries: list[Departure] = []
    seen: dict[tuple[str, Scope], Departure] = {}
    for path in dict.fromkeys(paths):
        for entry in parse(path.read_text(encoding="utf-8"), str(path)):
            other = seen.get((entry.test_id, entry.scope))
            if other is not None:
                raise ExpectedFailuresError(
                    f"{entry.where}: {entry.test_id} is listed for {entry.scope} in "
                    f"{other.where} too")
            seen[entry.test_id, entry.scope] = entry
            entries.append(entry)
    return list(dict.fromkeys(paths)), entries


def describe(paths: Sequence[Path]) -> str | None:
    """The sources of a run's departures for headers and reports, or None."""
    return ", ".join(str(p) for p in paths) or None


def in_force(entries: Iterable[Departure], device_type: str, torch_version: str,
             ) -> dict[str, Departure | None]:
    """The entries whose scope holds for a run on `device_type` with `torch_version`, by id.

    An id listed only with scopes that leave the run out maps to None: its property is held to
    the spec in this run, and an entry for the whole property function does not stand in for it
    (the most specific id listed decides, its scope says where).
    """
    chosen: dict[str, Departure | None] = {}
    try:
        release(torch_version)
    except InvalidVersion:
        raise ExpectedFailuresError(f"cannot read torch version {torch_version!r}") from None
    for entry in entries:
        if not entry.scope.holds(device_type, torch_version):
            chosen.setdefault(entry.test_id, None)
            continue
        other = chosen.get(entry.test_id)
        if other is not None:
            raise ExpectedFailuresError(
                f"{entry.where}: {entry.test_id} is also listed at {other.where}; both scopes "
                f"({entry.scope}, {other.scope}) hold for torch {torch_version} on "
                f"{device_type}")
        chosen[entry.test_id] = entry
    return chosen


def _pattern(test_id: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in test_id.split("*")))


def matches(entry_id: str, test_id: str) -> bool:
    """Whether an entry's id names the property `test_id` (exactly, as its function, or as a
    pattern with `*`)."""
    if "*" in entry_id:
        return _pattern(entry_id).fullmatch(test_id) is not None
    return entry_id in (test_id, test_id.partition("[")[0])


def lookup(entries: Mapping[str, Departure | None], test_id: str) -> Departure | None:
    """The entry in force for a property (`in_force`): its exact id if listed, else the id
    without its parametrization, else the first pattern that matches it."""
    for key in (test_id, test_id.partition("[")[0]):
        if key in entries:
            return entries[key]
    return next((d for key, d in entries.items() if "*" in key and d is not None
                 and matches(key, test_id)), None)


def unmatched(entries: Iterable[Departure], property_ids: Iterable[str]) -> list[Departure]:
    """Entries that name no property among `property_ids`, limited to the property files those
    ids come from (a run of one file says nothing of another file's entries)."""
    ids = set(property_ids)
    functions = {i.partition("[")[0] for i in ids}
    files = {i.partition("::")[0] for i in ids}
    return [e for e in entries
            if ("*" in e.test_id and ids and not any(matches(e.test_id, i) for i in ids))
            or ("*" not in e.test_id and e.test_id.partition("::")[0] in files
                and e.test_id not in ids and e.test_id not in functions)]
