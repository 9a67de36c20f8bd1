"""A negative finite norm order is accepted (torch.linalg.vector_norm computes something for it)
instead of raising ValueError.

Must be caught by STRUCT-6 (STRUCT).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'STRUCT', 'STRUCT-6'
FILE = 'selection.py'
OLD = 'if not is_real or math.isnan(n) or (math.isfinite(n) and n < 0):'
NEW = 'if not is_real or math.isnan(n):'

globals().update(export(__file__, FILE, OLD, NEW))
