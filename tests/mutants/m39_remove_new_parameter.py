"""`remove` registers a new Parameter holding `orig * mask` instead of the very Parameter that
`<name>_orig` was.

Must be caught by REMOVE-1 (REMOVE).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'REMOVE', 'REMOVE-1'
FILE = 'base.py'
OLD = '        setattr(module, name, orig)\n'
NEW = (
    '        setattr(module, name, nn.Parameter(orig.detach().clo'
    'ne(), orig.requires_grad))\n'
)

globals().update(export(__file__, FILE, OLD, NEW))
