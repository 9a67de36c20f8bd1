"""The pruned tensor's `__deepcopy__` is a closure: deepcopy works but pickle and torch.save of the
module fail.

Must be caught by SERIAL-2 (SERIAL).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'SERIAL', 'SERIAL-2'
FILE = 'serial.py'
OLD = '    pruned.__deepcopy__ = _RebuildFromCopies(orig, mask)\n'
NEW = (
    '    pruned.__deepcopy__ = lambda memo: pruned_tensor(\n'
    '        copy.deepcopy(orig, memo), copy.deepcopy(mask, memo))\n'
)

globals().update(export(__file__, FILE, OLD, NEW))
