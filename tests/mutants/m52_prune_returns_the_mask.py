"""`method.prune(t)` returns the mask instead of `t * mask`.

Must be caught by CUSTOM-2 (CUSTOM).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'CUSTOM', 'CUSTOM-2'
FILE = 'base.py'
OLD = 'return t * self.compute_mask(scores, default_mask=default_mask)'
NEW = 'return self.compute_mask(scores, default_mask=default_mask)'

globals().update(export(__file__, FILE, OLD, NEW))
