"""`dim == ndim` is accepted (and wraps to dim 0) instead of raising IndexError: the range check is
off by one on the upper side.

Must be caught by ERRORS-2 (ERRORS).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'ERRORS', 'ERRORS-2'
FILE = 'selection.py'
OLD = 'if not -ndim <= dim < ndim:'
NEW = 'if not -ndim <= dim <= ndim:'

globals().update(export(__file__, FILE, OLD, NEW))
