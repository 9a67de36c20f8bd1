"""Global_unstructured ignores `importance_scores`: every tensor is scored by its own values.

Must be caught by GLOBAL-4 (GLOBAL).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'GLOBAL', 'GLOBAL-4'
FILE = 'prune.py'
OLD = '        given = importance_scores.get((module, name))\n'
NEW = '        given = None\n'

globals().update(export(__file__, FILE, OLD, NEW))
