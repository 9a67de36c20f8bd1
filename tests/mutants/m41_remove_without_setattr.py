"""`remove` writes `_parameters[name]` directly instead of going through setattr, so an LSTM's
`_flat_weights` keeps the pruned tensor of the last forward (pytorch#33618).

Must be caught by REMOVE-6 (REMOVE).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'REMOVE', 'REMOVE-6'
FILE = 'base.py'
OLD = '        setattr(module, name, orig)\n'
NEW = '        module._parameters[name] = orig\n'

globals().update(export(__file__, FILE, OLD, NEW))
