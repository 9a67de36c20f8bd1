"""Global L1 pruning fills the chosen zeros into the masks it read from the modules instead of
copies: a <name>_mask tensor the user held from before the call (to compare masks) changes
(REPARAM-5).

Must be caught by REPARAM-5 (REPARAM).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'REPARAM', 'REPARAM-5'
FILE = 'prune.py'
OLD = 'mask.to(dtype=dtype, memory_format=torch.contiguous_format, copy=True)'
NEW = 'mask.to(dtype=dtype, memory_format=torch.contiguous_format, copy=False)'

globals().update(export(__file__, FILE, OLD, NEW))
