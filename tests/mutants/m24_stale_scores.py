"""A later call scores the attribute `module.<name>` as the last forward left it (torch's
behaviour) instead of `<name>_orig * <name>_mask` now: an optimizer step since is not seen.

Must be caught by COMPOSE-3 (COMPOSE).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'COMPOSE', 'COMPOSE-3'
FILE = 'base.py'
OLD = '    else:\n        scores = orig\n'
NEW = '    else:\n        scores = getattr(module, name)\n'

globals().update(export(__file__, FILE, OLD, NEW))
