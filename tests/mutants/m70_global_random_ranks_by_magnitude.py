"""Global pruning takes its fast L1 path for every method but L1Unstructured: with
RandomUnstructured it silently prunes the smallest magnitudes instead of a random subset.

Must be caught by GLOBAL-9 (GLOBAL).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'GLOBAL', 'GLOBAL-9'
FILE = 'prune.py'
OLD = '    if type(method) is L1Unstructured:\n'
NEW = '    if type(method) is not L1Unstructured:\n'

globals().update(export(__file__, FILE, OLD, NEW))
