"""NaN scores rank as 0 instead of above +inf: entries with a NaN score are pruned first.

Must be caught by SELECT-4 (SELECT).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'SELECT', 'SELECT-4'
FILE = 'selection.py'
OLD = 'return t.detach().abs().reshape(-1)'
NEW = 'return t.detach().abs().nan_to_num(0.0).reshape(-1)'

globals().update(export(__file__, FILE, OLD, NEW))
