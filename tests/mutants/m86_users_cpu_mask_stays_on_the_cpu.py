"""The mask a method returns is stored on its own device: a user's method that builds it with
torch.ones(t.shape) leaves <name>_mask on the CPU beside a parameter elsewhere (DEVICE-1).

Must be caught by DEVICE-1 (DEVICE).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'DEVICE', 'DEVICE-1'
FILE = 'base.py'
OLD = '    return mask.detach().to(device=orig.device, dtype=orig.dtype)'
NEW = '    return mask.detach().to(dtype=orig.dtype)'

globals().update(export(__file__, FILE, OLD, NEW))
