"""Entries are ranked (and random scores drawn) even when the count to prune is 0: the masks are
the same, but a random method with an amount of 0 consumes the generator of the device, so the
next random call of the user's program draws other numbers (AMOUNT-4).

Must be caught by AMOUNT-4 (AMOUNT).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'AMOUNT', 'AMOUNT-4'
FILE = 'methods.py'
OLD = '    pruned = None\n    if k > 0:\n        ranked = scores()\n        pruned = smallest_k('
NEW = '    pruned = None\n    if k >= 0:\n        ranked = scores()\n        pruned = smallest_k('

globals().update(export(__file__, FILE, OLD, NEW))
