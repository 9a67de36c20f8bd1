"""`is_pruned` is True for any forward pre-hook, not only pruning hooks.

Must be caught by PRUNED-1 (PRUNED).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'PRUNED', 'PRUNED-1'
FILE = 'prune.py'
OLD = 'return any(_pruned_names(submodule) for submodule in module.modules())'
NEW = 'return any(submodule._forward_pre_hooks for submodule in module.modules())'

globals().update(export(__file__, FILE, OLD, NEW))
