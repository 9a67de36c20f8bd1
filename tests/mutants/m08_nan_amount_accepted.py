"""A NaN amount passes validation: the range check is written with `<` and `>`, which NaN never
satisfies, and there is no NaN check, so the call fails later inside round(), as torch does.

Must be caught by AMOUNT-9 (AMOUNT).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'AMOUNT', 'AMOUNT-9'
FILE = 'amount.py'
OLD = (
    "    if math.isnan(amount):\n"
    '        raise ValueError(f"amount={amount!r} is NaN: expected a float fraction in [0, 1]")\n'
    "    if not 0.0 <= amount <= 1.0:\n"
)
NEW = "    if amount < 0.0 or amount > 1.0:\n"

globals().update(export(__file__, FILE, OLD, NEW))
