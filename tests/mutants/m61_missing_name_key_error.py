"""A name the module does not have is rejected with KeyError instead of AttributeError.

Must be caught by ERRORS-1 (ERRORS).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'ERRORS', 'ERRORS-1'
FILE = 'base.py'
OLD = (
    '        raise AttributeError(\n'
    '            f"{type(module).__name__} has no parameter'
)
NEW = (
    '        raise KeyError(\n'
    '            f"{type(module).__name__} has no parameter'
)

globals().update(export(__file__, FILE, OLD, NEW))
