"""Global L1 pruning takes the scores of every pruned tensor as NaN outside its remaining
entries, but integer scores cannot be NaN: with integer importance scores the entries pruned
earlier are ranked again, and k of the new pruning lands on them (fewer new entries pruned).

Must be caught by GLOBAL-4 (GLOBAL).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'GLOBAL', 'GLOBAL-4'
FILE = 'prune.py'
OLD = '        rank_outside_last(m, left) or left is None\n'
NEW = '        rank_outside_last(m, left) or left is not None\n'

globals().update(export(__file__, FILE, OLD, NEW))
