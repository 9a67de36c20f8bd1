"""`identity(module, name)` returns the hook instead of the module.

Must be caught by API-2 (API).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'API', 'API-2'
FILE = 'prune.py'
OLD = '    Identity.apply(module, name)\n    return module\n'
NEW = '    return Identity.apply(module, name)\n'

globals().update(export(__file__, FILE, OLD, NEW))
