"""The default mask of a fresh tensor is `torch.ones_like(orig)`, which keeps a transposed or
channels_last layout, so a user's method that views it flat (the tutorial's `mask.view(-1)`)
fails. CUSTOM-6 asks for a contiguous default mask.

Must be caught by CUSTOM-6 (CUSTOM).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'CUSTOM', 'CUSTOM-6'
FILE = 'base.py'
OLD = 'default_mask = torch.ones_like(orig.detach(), memory_format=torch.contiguous_format)'
NEW = 'default_mask = torch.ones_like(orig.detach())'

globals().update(export(__file__, FILE, OLD, NEW))
