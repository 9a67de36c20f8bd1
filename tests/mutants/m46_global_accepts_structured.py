"""Global_unstructured lets a structured method through (it then fails with ValueError on the flat
scores) instead of rejecting it with TypeError.

Must be caught by GLOBAL-6 (GLOBAL).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'GLOBAL', 'GLOBAL-6'
FILE = 'prune.py'
OLD = 'if kind != "unstructured":'
NEW = 'if kind not in ("unstructured", "structured"):'

globals().update(export(__file__, FILE, OLD, NEW))
