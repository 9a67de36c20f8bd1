"""L1 ranks entries by their signed value instead of their magnitude: large negative entries are
pruned first.

Must be caught by SELECT-1 (SELECT).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'SELECT', 'SELECT-1'
FILE = 'selection.py'
OLD = 'return t.detach().abs().reshape(-1)'
NEW = 'return t.detach().reshape(-1)'

globals().update(export(__file__, FILE, OLD, NEW))
