"""Global_unstructured reads `parameters` twice (torch reads it three times): a generator is empty
the second time.

Must be caught by GLOBAL-7 (GLOBAL).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'GLOBAL', 'GLOBAL-7'
FILE = 'prune.py'
OLD = '    pairs = _collect_pairs(parameters)\n'
NEW = '    pairs = _collect_pairs(parameters) and _collect_pairs(parameters)\n'

globals().update(export(__file__, FILE, OLD, NEW))
