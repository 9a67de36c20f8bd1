"""A (module, name) pair given twice to global_unstructured is counted twice instead of rejected.

Must be caught by GLOBAL-8 (GLOBAL).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'GLOBAL', 'GLOBAL-8'
FILE = 'prune.py'
OLD = '        if (id(module), name) in seen:\n'
NEW = '        if False:\n'

globals().update(export(__file__, FILE, OLD, NEW))
