"""`remove` puts back the original values instead of `orig * mask`: pruning is undone, not made
permanent.

Must be caught by REMOVE-3 (REMOVE).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'REMOVE', 'REMOVE-3'
FILE = 'base.py'
OLD = 'orig.mul_(mask.to(device=orig.device, dtype=orig.dtype))'
NEW = 'orig.mul_(torch.ones_like(orig))'

globals().update(export(__file__, FILE, OLD, NEW))
