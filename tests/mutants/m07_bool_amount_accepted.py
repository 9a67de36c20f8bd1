"""`bool` passes validation as a real number: `True` is taken as the fraction 1.0 and prunes
everything instead of raising TypeError.

Must be caught by AMOUNT-8 (AMOUNT).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'AMOUNT', 'AMOUNT-8'
FILE = 'amount.py'
OLD = 'if isinstance(amount, bool) or not isinstance(amount, numbers.Real):'
NEW = 'if not isinstance(amount, numbers.Real):'

globals().update(export(__file__, FILE, OLD, NEW))
