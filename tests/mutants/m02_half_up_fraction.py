"""A float amount is rounded half up instead of half to even: 0.5 of 5 prunes 3, not 2 (right
everywhere but at exact halves).

Must be caught by AMOUNT-2 (AMOUNT).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'AMOUNT', 'AMOUNT-2'
FILE = 'amount.py'
OLD = 'return round(amount * remaining)'
NEW = 'return math.floor(amount * remaining + 0.5)'

globals().update(export(__file__, FILE, OLD, NEW))
