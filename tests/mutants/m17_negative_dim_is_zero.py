"""A negative dim is clamped to 0 instead of counting from the end: dim=-1 prunes rows, not the
channels along the last dim.

Must be caught by STRUCT-3 (STRUCT).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'STRUCT', 'STRUCT-3'
FILE = 'selection.py'
OLD = '    return dim % ndim\n'
NEW = '    return max(dim, 0)\n'

globals().update(export(__file__, FILE, OLD, NEW))
