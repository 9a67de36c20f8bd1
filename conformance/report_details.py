"""What the process that ran a property knows of its failure: the message, the clause it
violated, Hypothesis' failing example and the repro snippets attached to it
(`failure_details`), taken from the first failure where Hypothesis reports several together.

A property may attach a direct reproduction of its own, written against `torch`, `nn` and
`prune`: a Hypothesis note whose first line starts with `# repro`, or a `repro` attribute (str)
on the exception it raises; the report uses it where no standalone snippet was made.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from conformance import repro, spec

try:
    from builtins import BaseExceptionGroup  # Python 3.11+
except ImportError:  # Python 3.10: Hypothesis depends on the backport
    from exceptiongroup import BaseExceptionGroup

REPRO_NOTE = "# repro"
REPRO_ATTRIBUTE = "repro"

_CLAUSE_PREFIX = re.compile(r"^\s*(?:\[XPASS\(strict\)\]\s*)?(?P<clause>[A-Z]+-\d+):")
_BLOB = re.compile(r"@reproduce_failure\((?P<args>'[^']*', b'[^']*')\)")


def failure_details(exc: BaseException) -> dict[str, str]:
    """The message, violated clause, Hypothesis example and repro of a failure: of its first
    failure where Hypothesis reports several (see the module docstring)."""
    first = next(leaves(exc), exc)
    examples, repros, blob, standalone = [], [], "", ""
    for note in getattr(first, "__notes__", ()):
        text = str(note).strip("\n")
        found = _BLOB.search(text)
        if found:
            blob = f"@reproduce_failure({found['args']})"
        elif text.startswith(repro.STANDALONE):
            standalone = text.strip() + "\n"
        elif text.lstrip().startswith(REPRO_NOTE):
            repros.append(text.strip())
        else:
            examples.append(text)
    attached = getattr(first, REPRO_ATTRIBUTE, None)
    if isinstance(attached, str) and attached.strip():
        repros.append(attached.strip())
    message = _message(first)
    others = sum(1 for _ in leaves(exc)) - 1
    if others:
        message += (f"\n\n(and {others} other distinct failure{'s' * (others > 1)} of this "
                    "property, not shown: fix this one and run again)")
    clause = getattr(first, "clause", None) or clause_of(message)
    where = "" if _speaks_the_spec(first) else _origin(first)
    details = {"message": message, "example": "\n".join(examples).strip(),
               "reproduce_failure": blob, "repro": "\n\n".join(repros),
               "standalone": standalone}
    if clause:
        details["clause"] = clause
    if where:
        details["where"] = where
    return details


def leaves(exc: BaseException) -> Iterator[BaseException]:
    """The exceptions of an exception group (Hypothesis reports distinct bugs as one), else exc."""
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            yield from leaves(inner)
    else:
        yield exc


def _speaks_the_spec(exc: BaseException) -> bool:
    return clause_of(str(exc)) is not None


def _message(exc: BaseException) -> str:
    text = str(exc)
    # A check's message already starts with its clause; anything else is named by its type.
    return text if _speaks_the_spec(exc) else f"{type(exc).__name__}: {text}".rstrip(": ")


def _origin(exc: BaseException) -> str:
    """Where an exception that is not a spec violation was raised: `file:line in function`."""
    tb = exc.__traceback__
    if tb is None:
        return ""
    while tb.tb_next is not None:
        tb = tb.tb_next
    code = tb.tb_frame.f_code
    return f"{code.co_filename}:{tb.tb_lineno} in {code.co_name}"


def clause_of(text: str) -> str | None:
    """The clause a message or xfail reason starts with (`AMOUNT-2: ...`), if SPEC.md has it."""
    found = _CLAUSE_PREFIX.match(text or "")
    if found and found["clause"] in spec.clauses():
        return found["clause"]
    return None

