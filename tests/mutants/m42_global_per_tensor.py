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
OLD = '    pruned = smallest_k_of_pieces(magnitudes, k, remaining, nan_outside=nan_outside)\n'
NEW = (
    '    pruned = [smallest_k_of_pieces([m], units_to_prune('
    'amount, m.numel() if left is None else int(left.sum()))'
    ', [left])[0] for m, left in zip(magnitudes, remaining)]'
    '\n'
)

globals().update(export(__file__, FILE, OLD, NEW))
