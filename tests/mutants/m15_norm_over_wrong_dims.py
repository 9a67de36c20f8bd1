"""Channel norms are taken over every dim but 0 whatever `dim` is: for dim != 0 the channels are
ranked by the norms of the wrong slices.

Must be caught by STRUCT-1 (STRUCT).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'STRUCT', 'STRUCT-1'
FILE = 'selection.py'
OLD = '    others = [d for d in range(t.dim()) if d != dim]\n    scores = t.detach()'
NEW = '    others = [d for d in range(t.dim()) if d != 0]\n    scores = t.detach()'

globals().update(export(__file__, FILE, OLD, NEW))
