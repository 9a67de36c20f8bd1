"""A later call scores `<name>_orig` without zeroing what the mask pruned, so the original values
of entries pruned earlier still count in a channel's norm (only on the second call, only for
structured methods).

Must be caught by COMPOSE-3 (COMPOSE).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'COMPOSE', 'COMPOSE-3'
FILE = 'base.py'
OLD = '        t = t * mask.to(t.dtype)\n'
NEW = '        t = t  # the entries pruned earlier keep their values\n'

globals().update(export(__file__, FILE, OLD, NEW))
