"""The norm order 0 (the number of nonzero entries) is read as 1 (`float(n) or 1.0`): channels are
ranked by their L1 norm instead.

Must be caught by STRUCT-2 (STRUCT).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'STRUCT', 'STRUCT-2'
FILE = 'selection.py'
OLD = 'return 2.0 if n == "fro" else float(n)'
NEW = 'return 2.0 if n == "fro" else float(n) or 1.0'

globals().update(export(__file__, FILE, OLD, NEW))
