"""Iterating a PruningContainer yields its methods newest first instead of in the order applied.

Must be caught by COMPOSE-4 (COMPOSE).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'COMPOSE', 'COMPOSE-4'
FILE = 'base.py'
OLD = 'return iter(self._pruning_methods)'
NEW = 'return reversed(self._pruning_methods)'

globals().update(export(__file__, FILE, OLD, NEW))
