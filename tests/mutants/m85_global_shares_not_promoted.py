"""Global L1 pruning builds each tensor's share in that tensor's own dtype instead of the dtype
torch.cat gives all the masks: the CustomFromMask recorded for a float16 tensor beside a float32
one holds a float16 share (GLOBAL-5).

Must be caught by GLOBAL-5 (GLOBAL).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'GLOBAL', 'GLOBAL-5'
FILE = 'prune.py'
OLD = '_mask_or_ones(mask, s, mask_dtype).masked_fill_'
NEW = '_mask_or_ones(mask, s, s.dtype).masked_fill_'

globals().update(export(__file__, FILE, OLD, NEW))
