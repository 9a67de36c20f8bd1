"""The stored mask is always float32 instead of the parameter's dtype.

Must be caught by REPARAM-2 (REPARAM).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'REPARAM', 'REPARAM-2'
FILE = 'base.py'
OLD = 'return mask.detach().to(device=orig.device, dtype=orig.dtype)'
NEW = 'return mask.detach().to(device=orig.device, dtype=torch.float32)'

globals().update(export(__file__, FILE, OLD, NEW))
