"""The pruned tensor is computed from a detached `<name>_orig`: no gradient reaches it.

Must be caught by AUTOGRAD-1 (AUTOGRAD).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'AUTOGRAD', 'AUTOGRAD-1'
FILE = 'serial.py'
OLD = 'pruned = orig * mask.to(device=orig.device, dtype=orig.dtype)'
NEW = 'pruned = orig.detach() * mask.to(device=orig.device, dtype=orig.dtype)'

globals().update(export(__file__, FILE, OLD, NEW))
