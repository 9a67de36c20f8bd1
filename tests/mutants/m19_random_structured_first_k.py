"""Random_structured is not uniform: its random channel scores are sorted, so it always prunes the
k remaining channels of lowest index.

Must be caught by STRUCT-5 (STRUCT).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'STRUCT', 'STRUCT-5'
FILE = 'methods.py'
OLD = 'lambda: random_scores(t.shape[dim], t.device)'
NEW = 'lambda: random_scores(t.shape[dim], t.device).sort().values'

globals().update(export(__file__, FILE, OLD, NEW))
