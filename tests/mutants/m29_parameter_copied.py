"""`<name>_orig` is a new Parameter holding a copy of the values instead of the very Parameter
object that `<name>` was: an optimizer built before pruning trains a tensor nobody reads.

Must be caught by REPARAM-1 (REPARAM).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'REPARAM', 'REPARAM-1'
FILE = 'base.py'
OLD = 'module.register_parameter(name + "_orig", plan.orig)'
NEW = (
    'module.register_parameter(name + "_orig", nn.Parameter(plan.'
    'orig.detach().clone()))'
)

globals().update(export(__file__, FILE, OLD, NEW))
