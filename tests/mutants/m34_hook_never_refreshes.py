"""The forward pre-hook sets `module.<name>` only when it is missing, so changes to `<name>_orig`
or `<name>_mask` never reach the forward.

Must be caught by HOOK-2 (HOOK).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'HOOK', 'HOOK-2'
FILE = 'base.py'
OLD = '        setattr(module, self._applied_name(), self.apply_mask(module))\n'
NEW = (
    '        module.__dict__.setdefault(self._applied_name(), sel'
    'f.apply_mask(module))\n'
)

globals().update(export(__file__, FILE, OLD, NEW))
