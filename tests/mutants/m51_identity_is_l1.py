"""`identity` prunes with `L1Unstructured(amount=0)`: the mask is right but the hook is not an
Identity.

Must be caught by CUSTOM-3 (CUSTOM).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'CUSTOM', 'CUSTOM-3'
FILE = 'prune.py'
OLD = '    Identity.apply(module, name)\n'
NEW = '    L1Unstructured.apply(module, name, amount=0)\n'

globals().update(export(__file__, FILE, OLD, NEW))
