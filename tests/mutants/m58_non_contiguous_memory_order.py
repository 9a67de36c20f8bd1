"""Only for non-contiguous scores: l1 reads the magnitudes in memory order instead of row-major
order of the logical shape, so a transposed or channels_last tensor prunes the wrong entries.

Must be caught by DEVICE-8 (DEVICE).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'DEVICE', 'DEVICE-8'
FILE = 'selection.py'
OLD = 'return t.detach().abs().reshape(-1)'
NEW = (
    'scores = t.detach().abs()\n'
    '    return scores.reshape(-1) if scores.is_contiguous() else'
    ' scores.as_strided((scores.numel(),), (1,))'
)

globals().update(export(__file__, FILE, OLD, NEW))
