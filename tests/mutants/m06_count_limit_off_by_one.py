"""An int amount one larger than the remaining units is accepted (and prunes all of them) instead
of raising ValueError.

Must be caught by AMOUNT-6 (AMOUNT).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'AMOUNT', 'AMOUNT-6'
FILE = 'amount.py'
OLD = 'if is_count(amount) and count > remaining:'
NEW = 'if is_count(amount) and count > remaining + 1:'

globals().update(export(__file__, FILE, OLD, NEW))
