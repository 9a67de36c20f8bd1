"""`RandomStructured` draws its channel scores on the default device instead of the parameter's,
as torch does: under another default device (meta beside the CPU) the draws differ (DEVICE-9).

Must be caught by DEVICE-9 (DEVICE).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'DEVICE', 'DEVICE-9'
FILE = 'methods.py'
OLD = 'random_scores(t.shape[dim], t.device)'
NEW = 'random_scores(t.shape[dim], None)'

globals().update(export(__file__, FILE, OLD, NEW))
