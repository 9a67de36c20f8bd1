"""mutmut's verdicts kept between runs, so that a full run may span several sessions.

mutmut keeps each mutant's verdict in ./mutants/reference/<file>.py.meta (gitignored) beside a
hash of every function; on the next `mutmut run` it keeps the verdicts of the functions whose
hash is unchanged and tests only the others. scripts/mutation saves those files here after a
run and restores them into a fresh ./mutants/ before the next one.

    python scripts/mutationlib/state.py restore|save
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAVED = ROOT / "docs" / "mutation-state"
LIVE = ROOT / "mutants" / "reference"
SUFFIX = ".py.meta"


def restore(saved: Path = SAVED, live: Path = LIVE) -> list[str]:
    """Copy the saved verdict files into `live` where it has none; the names copied."""
    copied = []
    for meta in sorted(saved.glob(f"*{SUFFIX}")):
        if not (live / meta.name).exists():
            live.mkdir(parents=True, exist_ok=True)
            shutil.copy2(meta, live / meta.name)
            copied.append(meta.name)
    return copied


def save(live: Path = LIVE, saved: Path = SAVED) -> list[str]:
    """Replace the saved verdict files by mutmut's current ones; the names saved."""
    metas = sorted(live.glob(f"*{SUFFIX}"))
    if not metas:
        return []
    saved.mkdir(parents=True, exist_ok=True)
    for stale in saved.glob(f"*{SUFFIX}"):
        stale.unlink()
    for meta in metas:
        shutil.copy2(meta, saved / meta.name)
    return [meta.name for meta in metas]


def main(argv: list[str]) -> int:
    if argv not in (["restore"], ["save"]):
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    done = restore() if argv == ["restore"] else save()
    print(f"{argv[0]}d {len(done)} verdict files ({SAVED.relative_to(ROOT)} <-> "
          f"{LIVE.relative_to(ROOT)})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
