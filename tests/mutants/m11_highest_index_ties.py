"""Among equal scores at the threshold the highest flat indices are pruned first instead of the
lowest (the count and SELECT-1 still hold).

Must be caught by SELECT-3 (SELECT).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'SELECT', 'SELECT-3'
FILE = 'selection.py'
OLD = 'given_back = ties.nonzero().squeeze(1)[-surplus:]'
NEW = 'given_back = ties.nonzero().squeeze(1)[:surplus]'

globals().update(export(__file__, FILE, OLD, NEW))
