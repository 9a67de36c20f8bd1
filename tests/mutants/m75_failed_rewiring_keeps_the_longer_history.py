"""A re-prune whose rewiring fails (a user's registration hook raises) restores the module's
parameters, buffers and hooks but not the container's history, which keeps the failed method
(ATOMIC-3).

Must be caught by ATOMIC-3 (ATOMIC).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'ATOMIC', 'ATOMIC-3'
FILE = 'base.py'
OLD = '            self.hook._pruning_methods = self.history'
NEW = '            self.hook._pruning_methods = self.hook._pruning_methods'

globals().update(export(__file__, FILE, OLD, NEW))
