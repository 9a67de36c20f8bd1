"""An unstructured call on a pruned tensor starts from a mask of ones instead of the old mask:
entries pruned earlier come back.

Must be caught by COMPOSE-1 (COMPOSE).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'COMPOSE', 'COMPOSE-1'
FILE = 'methods.py'
OLD = '    return _without_smallest_entries(mask, k, scores, remaining)\n'
NEW = '    return _without_smallest_entries(torch.ones_like(mask), k, scores, remaining)\n'

globals().update(export(__file__, FILE, OLD, NEW))
