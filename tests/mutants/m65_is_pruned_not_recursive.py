"""`is_pruned` looks at the module itself only, not its submodules.

Must be caught by PRUNED-1 (PRUNED).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'PRUNED', 'PRUNED-1'
FILE = 'prune.py'
OLD = 'for submodule in module.modules())'
NEW = 'for submodule in [module])'

globals().update(export(__file__, FILE, OLD, NEW))
