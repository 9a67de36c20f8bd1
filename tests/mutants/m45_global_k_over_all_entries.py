"""Global_unstructured counts k over all entries of the tensors instead of the remaining ones.

Must be caught by GLOBAL-1 (GLOBAL).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'GLOBAL', 'GLOBAL-1'
FILE = 'prune.py'
OLD = '    k = units_to_prune(amount, _count_remaining(scores, remaining))\n'
NEW = '    k = units_to_prune(amount, sum(s.numel() for s in scores))\n'

globals().update(export(__file__, FILE, OLD, NEW))
