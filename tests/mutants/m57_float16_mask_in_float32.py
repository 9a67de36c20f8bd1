"""Only for float16 parameters: the mask is stored in float32 instead of the parameter's dtype.

Must be caught by DEVICE-2 (DEVICE).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'DEVICE', 'DEVICE-2'
FILE = 'base.py'
OLD = 'return mask.detach().to(device=orig.device, dtype=orig.dtype)'
NEW = (
    'return mask.detach().to(device=orig.device, dtype=torch.floa'
    't32 if orig.dtype == torch.float16 else orig.dtype)'
)

globals().update(export(__file__, FILE, OLD, NEW))
