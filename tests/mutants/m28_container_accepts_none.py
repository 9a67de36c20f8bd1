"""`PruningContainer.add_pruning_method(None)` is not rejected with TypeError (torch's check is
`method is not None`): it fails later reading None's tensor name.

Must be caught by COMPOSE-6 (COMPOSE).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'COMPOSE', 'COMPOSE-6'
FILE = 'base.py'
OLD = '        if not isinstance(method, BasePruningMethod):\n'
NEW = '        if not isinstance(method, BasePruningMethod) and method is not None:\n'

globals().update(export(__file__, FILE, OLD, NEW))
