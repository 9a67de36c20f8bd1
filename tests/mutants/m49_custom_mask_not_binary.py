"""Custom_from_mask stores the given mask values (times the old mask) instead of 0 where the mask
is 0 and 1 elsewhere: 0.5 scales an entry (torch's behaviour).

Must be caught by CUSTOM-4 (CUSTOM).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'CUSTOM', 'CUSTOM-4'
FILE = 'methods.py'
OLD = 'return (default_mask * (self.mask != 0)).contiguous()'
NEW = 'return (default_mask * self.mask).contiguous()'

globals().update(export(__file__, FILE, OLD, NEW))
