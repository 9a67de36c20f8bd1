"""`PruningContainer.compute_mask` applies its first method instead of its last.

Must be caught by COMPOSE-5 (COMPOSE).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'COMPOSE', 'COMPOSE-5'
FILE = 'base.py'
OLD = 'combine_masks(self._pruning_methods[-1], t, '
NEW = 'combine_masks(self._pruning_methods[0], t, '

globals().update(export(__file__, FILE, OLD, NEW))
