"""Global_unstructured ignores the existing masks: entries pruned earlier count as remaining, with
their original values as scores.

Must be caught by GLOBAL-3 (GLOBAL).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'GLOBAL', 'GLOBAL-3'
FILE = 'prune.py'
OLD = '        masks.append(_current_mask(module, name))\n'
NEW = '        masks.append(None)\n'

globals().update(export(__file__, FILE, OLD, NEW))
