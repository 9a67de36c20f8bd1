"""`global_unstructured` whose rewiring fails in a later module (a user's registration hook
raises) restores that module only: the modules rewired before it stay pruned (ATOMIC-3).

Must be caught by ATOMIC-3 (ATOMIC).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'ATOMIC', 'ATOMIC-3'
FILE = 'base.py'
OLD = '            done.append(undo)\n'
NEW = '            pass\n'

globals().update(export(__file__, FILE, OLD, NEW))
