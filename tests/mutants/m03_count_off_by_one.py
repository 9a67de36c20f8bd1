"""An int amount prunes one unit fewer than it counts (`amount=3` prunes 2; 0 still prunes none).

Must be caught by AMOUNT-1 (AMOUNT).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'AMOUNT', 'AMOUNT-1'
FILE = 'amount.py'
OLD = '        return int(amount)\n'
NEW = '        return int(amount) - 1\n'

globals().update(export(__file__, FILE, OLD, NEW))
