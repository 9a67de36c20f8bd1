"""`importance_scores` are validated but not used: l1/ln rank the tensor's own values.

Must be caught by SELECT-5 (SELECT).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'SELECT', 'SELECT-5'
FILE = 'base.py'
OLD = (
    '        scores = checked_scores(importance_scores, orig, f"p'
    'arameter {name!r}")\n'
)
NEW = (
    '        checked_scores(importance_scores, orig, f"parameter {name!r}")\n'
    '        scores = orig\n'
)

globals().update(export(__file__, FILE, OLD, NEW))
