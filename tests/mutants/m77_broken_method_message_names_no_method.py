"""The error for a mask of the wrong shape or type returned by a user's method names the mask but
not the method that computed it (CUSTOM-7 asks for the method's class, ERRORS-4 for the value).

Must be caught by ERRORS-4 (ERRORS).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _derive import export

AREA, CLAUSE = 'ERRORS', 'ERRORS-4'
FILE = 'base.py'
OLD = 'what = f"the mask computed by {type(method).__name__} for {name!r}"'
NEW = 'what = f"the mask for {name!r}"'

globals().update(export(__file__, FILE, OLD, NEW))
