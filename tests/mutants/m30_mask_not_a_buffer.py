"""`<name>_mask` is a plain attribute instead of a registered buffer (missing from the state_dict
and from `module.buffers()`).

Must be caught by REPARAM-2 (REPARAM).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'REPARAM', 'REPARAM-2'
FILE = 'base.py'
OLD = '        module.register_buffer(name + "_mask", plan.mask)\n'
NEW = '        object.__setattr__(module, name + "_mask", plan.mask)\n'

globals().update(export(__file__, FILE, OLD, NEW))
