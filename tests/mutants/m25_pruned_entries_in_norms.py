"""A later call scores `<name>_orig` without the mask, so the original values of entries pruned
earlier still count in a channel's norm (only on the second call, only for structured methods).

Must be caught by COMPOSE-3 (COMPOSE).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'COMPOSE', 'COMPOSE-3'
FILE = 'base.py'
OLD = '        scores = orig.detach() * default_mask.to(orig.dtype)\n'
NEW = '        scores = orig.detach()\n'

globals().update(export(__file__, FILE, OLD, NEW))
