"""`remove` of a tensor that is not pruned returns silently instead of raising ValueError.

Must be caught by REMOVE-5 (REMOVE).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'REMOVE', 'REMOVE-5'
FILE = 'prune.py'
OLD = '    if hook is None:\n        raise ValueError('
NEW = '    if hook is None:\n        return module\n        raise ValueError('

globals().update(export(__file__, FILE, OLD, NEW))
