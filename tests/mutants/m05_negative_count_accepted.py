"""A negative int amount is not rejected: it silently prunes nothing.

Must be caught by AMOUNT-5 (AMOUNT).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'AMOUNT', 'AMOUNT-5'
FILE = 'amount.py'
OLD = '        if amount < 0:\n'
NEW = '        if amount < -(2**62):\n'

globals().update(export(__file__, FILE, OLD, NEW))
