"""Custom_from_mask does not check the mask's shape: a mask that broadcasts is accepted.

Must be caught by CUSTOM-5 (CUSTOM).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'CUSTOM', 'CUSTOM-5'
FILE = 'methods.py'
OLD = '        check_same_shape(self.mask, default_mask, "mask", "the parameter")\n'
NEW = ''

globals().update(export(__file__, FILE, OLD, NEW))
