"""A float amount is floored instead of rounded half to even: 0.3 of 5 prunes 1, not 2; 0.5 of 7
prunes 3, not 4.

Must be caught by AMOUNT-2 (AMOUNT).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'AMOUNT', 'AMOUNT-2'
FILE = 'amount.py'
OLD = 'return round(amount * remaining)'
NEW = 'return math.floor(amount * remaining)'

globals().update(export(__file__, FILE, OLD, NEW))
