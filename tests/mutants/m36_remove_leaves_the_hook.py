"""`remove` makes the parameter permanent but leaves the tensor's forward pre-hook registered.

Must be caught by REMOVE-2 (REMOVE).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'REMOVE', 'REMOVE-2'
FILE = 'prune.py'
OLD = '    hook.remove(module)\n    del module._forward_pre_hooks[key]\n'
NEW = '    hook.remove(module)\n'

globals().update(export(__file__, FILE, OLD, NEW))
