"""A re-pruned tensor keeps its old hook beside the new container instead of replacing it: two
forward pre-hooks for one tensor (only from the second call).

Must be caught by HOOK-1 (HOOK).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'HOOK', 'HOOK-1'
FILE = 'base.py'
OLD = '            del module._forward_pre_hooks[plan.old_key]\n'
NEW = '            pass  # the old hook stays registered\n'

globals().update(export(__file__, FILE, OLD, NEW))
