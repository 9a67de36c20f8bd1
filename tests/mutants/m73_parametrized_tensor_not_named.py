"""Pruning a tensor computed by an `nn.utils.parametrize` parametrization is refused only as a
tensor that is not a registered Parameter: the message does not say that it is parametrized, nor
which Parameter to prune instead.

Must be caught by WORKFLOW-9 (WORKFLOW).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'WORKFLOW', 'WORKFLOW-9'
FILE = 'base.py'
OLD = '    if parametrize.is_parametrized(module, name):\n'
NEW = '    if False:\n'

globals().update(export(__file__, FILE, OLD, NEW))
