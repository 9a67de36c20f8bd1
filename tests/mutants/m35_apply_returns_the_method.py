"""`Cls.apply` returns the new method instead of the registered hook (the container after a re-
prune).

Must be caught by HOOK-3 (HOOK).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'HOOK', 'HOOK-3'
FILE = 'base.py'
OLD = '        raise\n    return plan.hook\n'
NEW = '        raise\n    return plan.method\n'

globals().update(export(__file__, FILE, OLD, NEW))
