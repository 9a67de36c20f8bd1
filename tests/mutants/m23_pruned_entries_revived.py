"""An unstructured call on a pruned tensor starts from a mask of ones instead of the old mask:
entries pruned earlier come back.

Must be caught by COMPOSE-1 (COMPOSE).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'COMPOSE', 'COMPOSE-1'
FILE = 'base.py'
OLD = (
    'return mask.clone(memory_format=torch.contiguous_format).mas'
    'ked_scatter_(remaining, partial)'
)
NEW = (
    'return torch.ones_like(mask, memory_format=torch.contiguous_'
    'format).masked_scatter_(remaining, partial)'
)

globals().update(export(__file__, FILE, OLD, NEW))
