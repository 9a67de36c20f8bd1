"""The pruned tensor has no `__deepcopy__` of its own: `copy.deepcopy` of a pruned module raises,
as in torch (pytorch#37322).

Must be caught by SERIAL-3 (SERIAL).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'SERIAL', 'SERIAL-3'
FILE = 'serial.py'
OLD = '    pruned.__deepcopy__ = _RebuildFromCopies(orig, mask)\n'
NEW = ''

globals().update(export(__file__, FILE, OLD, NEW))
