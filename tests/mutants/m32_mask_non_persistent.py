"""`<name>_mask` is registered as a non-persistent buffer: the state_dict lacks it.

Must be caught by REPARAM-4 (REPARAM).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'REPARAM', 'REPARAM-4'
FILE = 'base.py'
OLD = '        module.register_buffer(name + "_mask", plan.mask)\n'
NEW = '        module.register_buffer(name + "_mask", plan.mask, persistent=False)\n'

globals().update(export(__file__, FILE, OLD, NEW))
