"""`<name>_mask` is registered as a trainable Parameter instead of a buffer: an optimizer step
moves the mask and revives pruned entries.

Must be caught by AUTOGRAD-2 (AUTOGRAD).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'AUTOGRAD', 'AUTOGRAD-2'
FILE = 'base.py'
OLD = '        module.register_buffer(name + "_mask", plan.mask)\n'
NEW = '        module.register_parameter(name + "_mask", nn.Parameter(plan.mask))\n'

globals().update(export(__file__, FILE, OLD, NEW))
