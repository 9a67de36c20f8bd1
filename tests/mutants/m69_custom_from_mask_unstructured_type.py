"""`CustomFromMask.PRUNING_TYPE` is 'unstructured' instead of 'global'.

Must be caught by API-3 (API).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'API', 'API-3'
FILE = 'methods.py'
OLD = '    PRUNING_TYPE = "global"\n'
NEW = '    PRUNING_TYPE = "unstructured"\n'

globals().update(export(__file__, FILE, OLD, NEW))
