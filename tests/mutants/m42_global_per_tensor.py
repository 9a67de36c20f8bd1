"""Global_unstructured prunes each tensor by the amount on its own instead of with one threshold
across all tensors.

Must be caught by GLOBAL-2 (GLOBAL).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'GLOBAL', 'GLOBAL-2'
FILE = 'prune.py'
OLD = '    pruned = smallest_k_of_pieces(candidates, k)\n'
NEW = (
    '    pruned = [smallest_k_of_pieces([c], units_to_prune(amoun'
    't, c.numel()))[0] for c in candidates]\n'
)

globals().update(export(__file__, FILE, OLD, NEW))
