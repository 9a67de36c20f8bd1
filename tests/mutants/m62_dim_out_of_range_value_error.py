"""A dim out of range is rejected with ValueError instead of IndexError.

Must be caught by ERRORS-2 (ERRORS).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'ERRORS', 'ERRORS-2'
FILE = 'selection.py'
OLD = '        raise IndexError(\n'
NEW = '        raise ValueError(\n'

globals().update(export(__file__, FILE, OLD, NEW))
