"""A call on a pruned tensor drops the attribute `module.<name>` before validating its arguments:
when the call is rejected, the module has lost that attribute.

Must be caught by ATOMIC-1 (ATOMIC).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'ATOMIC', 'ATOMIC-1'
FILE = 'base.py'
OLD = '        method = cls(*args, **kwargs)\n        return commit('
NEW = (
    '        module.__dict__.pop(name, None)\n'
    '        method = cls(*args, **kwargs)\n'
    '        return commit('
)

globals().update(export(__file__, FILE, OLD, NEW))
