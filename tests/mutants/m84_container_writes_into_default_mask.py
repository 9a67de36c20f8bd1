"""PruningContainer.compute_mask starts from the default mask it was given instead of a copy (as
torch does): a structured user method's channels are written into the caller's default_mask
(API-6).

Must be caught by API-6 (API).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'API', 'API-6'
FILE = 'base.py'
OLD = '    combined = mask.clone(memory_format=torch.contiguous_format)\n'
NEW = '    combined = mask\n'

globals().update(export(__file__, FILE, OLD, NEW))
