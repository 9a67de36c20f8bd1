"""A call whose user-defined method raises while the tensor is being rewired (in `apply_mask`) is
not rolled back: the exception propagates, but `<name>_orig` and `<name>_mask` stay registered and
`<name>` is gone as a parameter.

Must be caught by ATOMIC-1 (ATOMIC).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'ATOMIC', 'ATOMIC-1'
FILE = 'base.py'
OLD = '        undo.restore()\n        raise\n    return plan.hook'
NEW = '        raise\n    return plan.hook'

globals().update(export(__file__, FILE, OLD, NEW))
