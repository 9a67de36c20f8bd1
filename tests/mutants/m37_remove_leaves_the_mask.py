"""`remove` leaves the `<name>_mask` buffer behind.

Must be caught by REMOVE-2 (REMOVE).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'REMOVE', 'REMOVE-2'
FILE = 'base.py'
OLD = '        del module._buffers[name + "_mask"]\n'
NEW = '        pass  # the mask buffer stays\n'

globals().update(export(__file__, FILE, OLD, NEW))
