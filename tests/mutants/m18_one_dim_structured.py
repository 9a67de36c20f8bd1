"""Structured pruning of a 1-d tensor is accepted (each entry a channel) instead of raising
ValueError.

Must be caught by STRUCT-4 (STRUCT).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'STRUCT', 'STRUCT-4'
FILE = 'selection.py'
OLD = '    if t.dim() < 2:\n'
NEW = '    if t.dim() < 1:\n'

globals().update(export(__file__, FILE, OLD, NEW))
