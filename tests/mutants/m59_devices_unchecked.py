"""Importance scores on another device than the parameter are not rejected with ValueError: the
call fails later (or not at all) in a mixed-device operation.

Must be caught by DEVICE-6 (DEVICE).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'DEVICE', 'DEVICE-6'
FILE = 'base.py'
OLD = '    check_same_device(scores, tensor, "importance_scores", of)\n'
NEW = ''

globals().update(export(__file__, FILE, OLD, NEW))
