"""The radix select's guard lets integer scores through: over 2**20 of them, their dtype has no
float key type and the selection fails with KeyError, where torch prunes them (SELECT-5 asks for
integer scores ranked exactly at every size).

Must be caught by SELECT-5 (SELECT).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'SELECT', 'SELECT-5'
FILE = 'selection.py'
OLD = '        or dtype not in KEY_DTYPE\n'
NEW = '        or dtype is None\n'

globals().update(export(__file__, FILE, OLD, NEW))
