"""A re-prune whose rewiring fails (a user's registration hook raises) restores parameters,
buffers and hooks, but sets the pruned attribute `module.<name>` to None instead of the tensor it
held: the module is broken until its next forward (ATOMIC-3).

Must be caught by ATOMIC-3 (ATOMIC).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'ATOMIC', 'ATOMIC-3'
FILE = 'base.py'
OLD = 'value = self.parameters.get(self.name, self.attribute)'
NEW = 'value = self.parameters.get(self.name, None)'

globals().update(export(__file__, FILE, OLD, NEW))
