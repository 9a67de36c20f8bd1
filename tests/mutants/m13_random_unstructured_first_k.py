"""Random_unstructured is not uniform: its random scores are sorted, so it always prunes the k
remaining entries of lowest flat index.

Must be caught by SELECT-6 (SELECT).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'SELECT', 'SELECT-6'
FILE = 'methods.py'
OLD = 'lambda: random_scores(t.numel(), t.device)'
NEW = 'lambda: random_scores(t.numel(), t.device).sort().values'

globals().update(export(__file__, FILE, OLD, NEW))
