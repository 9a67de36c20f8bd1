"""On a tensor already pruned, a float amount counts k over all entries instead of the remaining
ones (it still prunes only remaining entries): 0.5 then 0.5 prunes everything.

Must be caught by AMOUNT-3 (AMOUNT).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'AMOUNT', 'AMOUNT-3'
FILE = 'methods.py'
OLD = (
    '    k = units_to_prune(amount, int(torch.count_nonzero('
    'remaining)))\n'
    '    return _without_smallest_entries(mask, k, scores, r'
    'emaining)\n'
)
NEW = (
    '    k = units_to_prune(amount, remaining.numel())\n'
    '    return _without_smallest_entries(mask, k, scores, r'
    'emaining)\n'
)

globals().update(export(__file__, FILE, OLD, NEW))
