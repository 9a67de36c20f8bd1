"""`RandomStructured(amount)` defaults to dim 0 instead of the last dim.

Must be caught by STRUCT-7 (STRUCT).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'STRUCT', 'STRUCT-7'
FILE = 'methods.py'
OLD = '    def __init__(self, amount: int | float, dim: int = -1) -> None:'
NEW = '    def __init__(self, amount: int | float, dim: int = 0) -> None:'

globals().update(export(__file__, FILE, OLD, NEW))
